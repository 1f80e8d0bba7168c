package prune

import (
	"context"
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/nn"
)

// RoundConfig is the rule set to apply in round r (1-based) of n of
// iterative pruning: keep fractions shrink geometrically, keep^(r/n), so
// every round removes the same share of what is left; quality factors
// grow linearly, q*r/n.
func (c Config) RoundConfig(r, n int) Config {
	scale := func(rule Rule) Rule {
		if rule.Keep > 0 {
			// The threshold is taken over the live weights, so each round
			// keeps keep^(1/n) of them.
			rule.Keep = math.Pow(rule.Keep, 1/float64(n))
		} else {
			rule.Quality *= float64(r) / float64(n)
		}
		return rule
	}
	out := Config{Layers: map[string]Rule{}}
	for name, rule := range c.Layers {
		out.Layers[name] = scale(rule)
	}
	if c.Default != (Rule{}) {
		out.Default = scale(c.Default)
	}
	if c.GlobalKeep > 0 {
		// GlobalKeep counts pruned weights too: aim at the round's total.
		out.GlobalKeep = math.Pow(c.GlobalKeep, float64(r)/float64(n))
	}
	return out
}

// Iterative prunes in rounds, retraining after each with retrain (its
// epochs per round). after, if non-nil, is called when a round's
// retraining is done.
func Iterative(ctx context.Context, m *nn.Model, train nn.Dataset, cfg Config, rounds int, retrain nn.TrainConfig,
	report func(nn.Progress), after func(round int) error) error {
	if rounds < 1 {
		return fmt.Errorf("prune: %d rounds; need at least 1", rounds)
	}
	if err := cfg.Validate(m); err != nil {
		return err
	}
	for r := 1; r <= rounds; r++ {
		if err := Round(ctx, m, train, cfg, r, rounds, retrain, report); err != nil {
			return err
		}
		if after != nil {
			if err := after(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// Round is round r (1-based) of n of iterative pruning: prune by
// cfg.RoundConfig(r, n), scale the dropout to the sparser network, and
// retrain with retrain, its seed plus r. Momentum is reset first, since
// the pruned network is a new starting point. A run that stopped after
// round r-1 resumes by calling Round from r on the model it saved then;
// one that stopped within round r calls it with retrain.Start set and m
// as it was then (pruned already, its momentum kept).
func Round(ctx context.Context, m *nn.Model, train nn.Dataset, cfg Config, r, n int, retrain nn.TrainConfig,
	report func(nn.Progress)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if retrain.Start == nil {
		if err := Apply(m, cfg.RoundConfig(r, n)); err != nil {
			return err
		}
		for _, p := range m.Params() {
			p.ResetMomentum()
		}
	}
	ScaleDropout(m)
	retrain.Seed += uint64(r)
	return nn.TrainContext(ctx, m, train, retrain, nil, report)
}

// ScaleDropout sets the rate of each dropout layer that follows a pruned
// layer to D_r = D_o * sqrt(C_r / C_o) (Han et al. 2015, eq. 2), C being
// the layer's connections before (o) and after (r) pruning.
func ScaleDropout(m *nn.Model) {
	m.ScaleDropout(func(p *nn.Param) float64 {
		return math.Sqrt(float64(p.Kept()) / float64(len(p.Data)))
	})
}

// Gradual is an optimizer that prunes while it trains, following the
// polynomial schedule of Zhu and Gupta ("To prune, or not to prune", 2017):
// at step t in [Start, End] the kept fraction of each weight tensor is
//
//	k_t = k_f + (1 - k_f) * (1 - (t - Start)/(End - Start))^3
//
// recomputed every Every steps, k_f being the layer's final Keep. Only
// Keep rules (or GlobalKeep) make sense here.
type Gradual struct {
	Inner             nn.Optimizer
	Model             *nn.Model
	Final             Config
	Start, End, Every int

	step int
}

// Step applies the inner optimizer, then prunes if the schedule says so.
func (g *Gradual) Step(lr float32) {
	g.Inner.Step(lr)
	g.step++
	t := g.step
	if t < g.Start || t > g.End || (t-g.Start)%max(g.Every, 1) != 0 {
		return
	}
	frac := 1 - float64(t-g.Start)/float64(max(g.End-g.Start, 1))
	cubic := frac * frac * frac
	at := func(final float64) float64 { return final + (1-final)*cubic }
	if g.Final.GlobalKeep > 0 {
		Apply(g.Model, Config{GlobalKeep: at(g.Final.GlobalKeep)})
		return
	}
	for _, p := range g.Model.Weights() {
		r, ok := g.Final.ruleFor(p)
		if !ok || r.Keep == 0 {
			continue
		}
		// Apply's threshold is over live weights: convert the target share
		// of the whole tensor into a share of the survivors.
		ofLive := at(r.Keep) * float64(len(p.Data)) / float64(max(p.Kept(), 1))
		maskBelow(p, Threshold(live(p), Rule{Keep: math.Min(ofLive, 1)}))
	}
}

// ValidateGradual checks that every rule in cfg is a Keep rule.
func ValidateGradual(m *nn.Model, cfg Config) error {
	if err := cfg.Validate(m); err != nil {
		return err
	}
	for name, r := range cfg.Layers {
		if r.Keep == 0 {
			return fmt.Errorf("prune: gradual pruning needs keep fractions, layer %s has a quality rule", name)
		}
	}
	if cfg.Default.Quality != 0 {
		return fmt.Errorf("prune: gradual pruning needs keep fractions, the default has a quality rule")
	}
	return nil
}

// TrainGradually trains retrain.Epochs epochs while a Gradual optimizer
// prunes towards cfg's kept fractions, every 100 steps over the first 80 %
// of the run; the last 20 % fine-tune the final sparse network. It stops
// at the next batch once ctx is done (the error wraps ctx.Err()).
func TrainGradually(ctx context.Context, m *nn.Model, train nn.Dataset, cfg Config, retrain nn.TrainConfig, report func(nn.Progress)) error {
	return TrainGraduallyUntil(ctx, m, train, cfg, retrain, 0.8, report)
}

// TrainGraduallyUntil is TrainGradually with the pruning phase ending at
// the fraction until of the run (0 < until <= 1). A run resumed by
// retrain.Start continues the schedule from that epoch (the masks come
// with the model).
func TrainGraduallyUntil(ctx context.Context, m *nn.Model, train nn.Dataset, cfg Config, retrain nn.TrainConfig, until float64, report func(nn.Progress)) error {
	if !(until > 0 && until <= 1) {
		return fmt.Errorf("prune: the pruning phase must end within the run, got %v", until)
	}
	if err := ValidateGradual(m, cfg); err != nil {
		return err
	}
	if err := retrain.Validate(); err != nil {
		return err
	}
	perEpoch := (train.Len() + retrain.Batch - 1) / retrain.Batch
	steps := retrain.Epochs * perEpoch
	g := &Gradual{Inner: &nn.SGD{Params: m.Params(), Momentum: retrain.Momentum, L2: retrain.L2, L1: retrain.L1},
		Model: m, Final: cfg, End: int(float64(steps) * until), Every: 100}
	if retrain.Start != nil { // resumed: the schedule continues where it was
		g.step = retrain.Start.Epoch * perEpoch
	}
	return nn.TrainContext(ctx, m, train, retrain, g, report)
}
