package pipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/finetune"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/report"
	"github.com/deepcompress/deepcompress/settings"
)

// The settings search of the layer-chain models (LeNet-300-100, LeNet-5):
// the smallest file whose held-out error stays within a bound, found from
// a base recipe (a preset or a config file) by scaling its kept fractions
// and shifting its fully connected bit widths.
//
// Held-out images are the last ones of the training set, which no
// retraining sees; the test set is never used for choosing. The ladder of
// SearchSpace is the scale of the base's kept fractions, falling (fewer
// weights kept, a smaller file, a higher error at each step: the
// monotony the bisection needs); its options are bit sets. Each candidate
// is measured cheaply (one-shot pruning and a brief retraining instead of
// the base's schedule) and the best ones get the base's full recipe
// (Runner), chosen by Refine.

// ChainSearch sets up SearchChain: the goal (exactly one of MaxError and
// MaxDrop) and how candidates are tried.
type ChainSearch struct {
	// MaxError bounds the held-out error of the file, in percent.
	MaxError float64 `json:"max_error,omitempty"`
	// MaxDrop bounds the held-out accuracy lost against the input model,
	// in points (percent of the held-out images).
	MaxDrop float64 `json:"max_drop,omitempty"`
	// Scales multiply the base's kept fractions (clipped to 1), one
	// ladder step each, falling.
	Scales []float64 `json:"scales"`
	// BitSteps are the options: each adds its value to the base's bits of
	// every fully connected weight (clipped to 2..8); conv bits stay.
	BitSteps []int `json:"bit_steps"`
	// Retrain is the brief retraining of each candidate after pruning at
	// once, on the first RetrainSamples training images; the codebooks
	// are then fine-tuned as the base does, for Retrain.Epochs epochs.
	Retrain        Recipe `json:"retrain"`
	RetrainSamples int    `json:"retrain_samples"`
	// HeldOut is the number of training images, the last ones, kept
	// aside to measure the error.
	HeldOut int `json:"held_out"`
	// Slack: the first full run is of the smallest candidate whose brief
	// error is within Slack times the allowed loss (the bound less the
	// input model's held-out error); the full recipe recovers more than
	// the brief retraining. Full runs are checked against the bound itself.
	Slack float64 `json:"slack"`
	// Retries bounds the full runs after the first (see Refine).
	Retries int `json:"retries"`
}

// DefaultChainSearch is the search `compress --max-error/--max-drop` runs
// on the chain model m: kept fractions from 2^(5/4) = 2.38 down to
// 2^(-5/4) = 0.42 times the base's, a ratio 2^(1/4) apart (11 steps, the
// base itself in the middle); the base's bits and its fc bits one more
// and one fewer; two full runs. Each candidate is retrained two epochs
// on 20,000 images (on LeNet-300-100 at the max recipe's settings its
// held-out error, 1.3 to 2.4 %, is about 2.5 times the full recipe's:
// the slack), or, when m has convolutions, one epoch on 10,000: a
// LeNet-5 candidate then takes about 20 s on 2 busy cores instead of a
// minute, the cheap phase a few minutes.
func DefaultChainSearch(m *nn.Model) ChainSearch {
	var scales []float64
	for k := 5; k >= -5; k-- {
		scales = append(scales, math.Round(1e4*math.Pow(2, float64(k)/4))/1e4)
	}
	s := ChainSearch{
		Scales:         scales,
		BitSteps:       []int{0, 1, -1},
		Retrain:        Recipe{Epochs: 2, LR: 0.02, Momentum: 0.9, Distill: 0.9, Temperature: 2},
		RetrainSamples: 20000,
		HeldOut:        10000,
		Slack:          2.5,
		Retries:        1,
	}
	for _, p := range m.Weights() {
		if m.IsConv(p.Name) {
			s.Retrain.Epochs, s.RetrainSamples = 1, 10000
			break
		}
	}
	return s
}

// Validate rejects a search that cannot run.
func (s ChainSearch) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(s.MaxError) || !finite(s.MaxDrop) || s.MaxError < 0 || s.MaxDrop < 0:
		return fmt.Errorf("pipeline: max error %v and max drop %v must be finite and positive", s.MaxError, s.MaxDrop)
	case (s.MaxError > 0) == (s.MaxDrop > 0):
		return errors.New("pipeline: the search needs exactly one of max error and max drop (held-out percent, > 0)")
	case s.MaxError >= 100 || s.MaxDrop >= 100:
		return fmt.Errorf("pipeline: max error %v or max drop %v is not below 100 percent", s.MaxError, s.MaxDrop)
	case len(s.Scales) == 0 || len(s.BitSteps) == 0:
		return errors.New("pipeline: the search needs scales and bit steps to try")
	case !(s.Slack >= 1):
		return fmt.Errorf("pipeline: search slack %v must be at least 1", s.Slack)
	case s.Retries < 0 || s.RetrainSamples < 0 || s.HeldOut < 1:
		return errors.New("pipeline: search retries and retrain samples must not be negative, held-out images positive")
	}
	for i, f := range s.Scales {
		if !(f > 0) || math.IsInf(f, 0) || i > 0 && f >= s.Scales[i-1] {
			return fmt.Errorf("pipeline: search scales %v must be positive and falling", s.Scales)
		}
	}
	return s.Retrain.TrainConfig(1).Validate()
}

// SplitHeldOut keeps the last n samples of d aside: fit is the rest.
func SplitHeldOut(d nn.Dataset, n int) (fit, held nn.Dataset, err error) {
	total := d.Len()
	if n < 1 || n >= total {
		return fit, held, fmt.Errorf("pipeline: %d held-out images out of %d training images: want at least 1 and fewer than all", n, total)
	}
	k := total - n
	fit, held = d, d
	fit.X, held.X = d.X[:k*d.Dim], d.X[k*d.Dim:]
	fit.Labels, held.Labels = d.Labels[:k], d.Labels[k:]
	if d.Teacher != nil {
		c := len(d.Teacher) / total
		fit.Teacher, held.Teacher = d.Teacher[:k*c], d.Teacher[k*c:]
	}
	return fit, held, nil
}

// ChainTrial is one candidate: its kept-fraction scale and bits, and its
// measured size and held-out error.
type ChainTrial struct {
	Scale        float64 `json:"scale"`
	Bits         string  `json:"bits"` // per weight in model order, "3/4/4"
	Bytes        int64   `json:"bytes"`
	Ratio        float64 `json:"ratio"`
	HeldOutError float64 `json:"held_out_error"`
}

// ChainRun is one full run: the base's recipe at a candidate's settings,
// with the test error of its file (reported, never used to choose).
type ChainRun struct {
	ChainTrial
	TestError float64 `json:"test_error"`
	Met       bool    `json:"met"`
	Seconds   float64 `json:"seconds"`
}

// ChainSearchReport is what SearchChain tried and kept. Chosen indexes
// Runs: the least cautious run that met the goal, or the nearest miss
// when none did (Met false).
type ChainSearchReport struct {
	Goal string `json:"goal"`
	// The input model's errors, percent.
	OriginalHeldOutError float64      `json:"original_held_out_error"`
	OriginalTestError    float64      `json:"original_test_error"`
	Trials               []ChainTrial `json:"candidates"`
	Runs                 []ChainRun   `json:"full_runs"`
	Chosen               int          `json:"chosen"`
	Met                  bool         `json:"met"`
	// Config is the chosen run's recipe (compress --config repeats it).
	Config Config `json:"config"`
	// Result is the chosen run's, its file written to the output.
	Result *Result `json:"-"`
}

// ChainSearcher compresses a chain model with settings it searches for.
// Train is the whole training set (its last Search.HeldOut images are
// held out), Test the test set, measured for the report only.
type ChainSearcher struct {
	Base    Config
	Search  ChainSearch
	Train   nn.Dataset
	Test    nn.Dataset
	WorkDir string
	// Log receives one line per step (nil: discard).
	Log io.Writer
	// Progress, if non-nil, returns the training reporter of a full run's
	// step.
	Progress func(step string) func(nn.Progress)
}

func (c *ChainSearcher) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run searches the settings for m (left unchanged) and writes the best
// full run's file to out. The cheap candidates are searched for the
// smallest within the slackened bound (Search), then full runs of the
// chosen bits bisect the ladder (Refine): 1 + Retries runs at most, as
// many steps past the cheap choice at most. A missed goal is not an
// error: the report says so. Each full run keeps its checkpoints in
// WorkDir, in a folder named by its config, so a rerun after an
// interruption resumes there.
func (c *ChainSearcher) Run(ctx context.Context, m *nn.Model, out string) (*ChainSearchReport, error) {
	space, rep, err := c.begin(m)
	if err != nil {
		return nil, err
	}
	goal, cheap := c.goals(space.origError, rep)
	c.logf("search: %s; the input model's held-out error %.2f %% (%d images; its training saw them), test error %.2f %%",
		rep.Goal, space.origError, space.held.Len(), rep.OriginalTestError)
	c.logf("search: %d scales x %d bit sets, each pruned at once and retrained %d epoch(s) on %d images; candidates within %.2f %%",
		space.Steps(), space.Options(), c.Search.Retrain.Epochs, space.sub.Len(), cheap.MaxMetric)
	start := time.Now()
	searcher := NewSearcher(space, func(t SearchTrial) {
		ct := space.trial(t)
		rep.Trials = append(rep.Trials, ct)
		c.logf("search: %s  at %s", describeChain(ct), time.Since(start).Round(time.Second))
	})
	found, err := searcher.Search(ctx, cheap)
	if err != nil {
		return nil, err
	}
	safe := found.Best.Step
	if !found.Feasible {
		c.logf("search: no candidate within %.2f %%; starting from the nearest", cheap.MaxMetric)
	} else if cheap != goal {
		// The smallest candidate within the bound itself: where a miss
		// of the first full run bisects back to.
		t, ok, err := searcher.Boundary(ctx, goal, found.Best.Option)
		if err != nil {
			return nil, err
		}
		safe = map[bool]int{true: t.Step, false: 0}[ok]
	}
	return c.refine(ctx, m, space, goal, found.Best.SearchPoint, safe, out, rep)
}

// begin checks the search and sets up its space and report.
func (c *ChainSearcher) begin(m *nn.Model) (*chainSpace, *ChainSearchReport, error) {
	if err := c.Search.Validate(); err != nil {
		return nil, nil, err
	}
	if err := c.Base.Validate(m); err != nil {
		return nil, nil, err
	}
	if c.Base.Prune.Rounds == 0 {
		return nil, nil, errors.New("pipeline: the search scales the base's kept fractions, and the base prunes nothing (prune.rounds 0)")
	}
	fit, held, err := SplitHeldOut(c.Train, c.Search.HeldOut)
	if err != nil {
		return nil, nil, err
	}
	space, err := newChainSpace(m, c.Base, c.Search, fit, held)
	if err != nil {
		return nil, nil, err
	}
	rep := &ChainSearchReport{OriginalHeldOutError: space.origError}
	rep.OriginalTestError, err = errorPercent(m, c.Test)
	return space, rep, err
}

// goals are the bound on the held-out error in percent (goal) and the
// slackened one the cheap candidates are held to (cheap): the input
// model's error plus Slack times the loss the bound allows. It names the
// goal in rep.
func (c *ChainSearcher) goals(origError float64, rep *ChainSearchReport) (goal, cheap SearchGoal) {
	s := c.Search
	bound := s.MaxError
	rep.Goal = fmt.Sprintf("held-out error at most %g %%", bound)
	if s.MaxDrop > 0 {
		bound = origError + s.MaxDrop
		rep.Goal = fmt.Sprintf("held-out accuracy at most %g points below the input model's (error at most %.2f %%)", s.MaxDrop, bound)
	}
	goal = SearchGoal{MaxMetric: bound}
	if bound <= origError {
		return goal, goal
	}
	return goal, SearchGoal{MaxMetric: origError + s.Slack*(bound-origError)}
}

// refine runs the full recipe on the points Refine picks and writes the
// chosen run's file to out and its recipe into the report.
func (c *ChainSearcher) refine(ctx context.Context, m *nn.Model, space *chainSpace, goal SearchGoal, from SearchPoint, safe int, out string, rep *ChainSearchReport) (*ChainSearchReport, error) {
	budget := 1 + c.Search.Retries
	var results []*Result
	var files []string
	var configs []Config
	full := func(ctx context.Context, p SearchPoint) (SearchMeasure, error) {
		cfg := space.config(p)
		c.logf("search: full run %d of at most %d: scale %g, bits %s", len(results)+1, budget, space.scales[p.Step], space.bitsText(p.Option))
		begin := time.Now()
		res, file, heldErr, err := c.fullRun(ctx, m, cfg, space.fit, space.held)
		if err != nil {
			return SearchMeasure{}, err
		}
		results, files, configs = append(results, res), append(files, file), append(configs, cfg)
		last := res.Stages[len(res.Stages)-1]
		meas := SearchMeasure{Bytes: last.Bytes, Metric: heldErr}
		run := ChainRun{ChainTrial: space.trial(SearchTrial{p, meas}), TestError: 100 * (1 - last.Accuracy),
			Met: goal.Meets(meas), Seconds: time.Since(begin).Seconds()}
		rep.Runs = append(rep.Runs, run)
		c.logf("search: full run %d: %s, test error %.2f %%, %s, in %s", len(results), describeChain(run.ChainTrial), run.TestError,
			map[bool]string{true: "goal met", false: "goal missed"}[run.Met], time.Since(begin).Round(time.Second))
		return meas, nil
	}
	// The brief measure's slack is calibrated, so the boundary lies near
	// from: a full run that met bisects on at most budget steps further,
	// not to the ladder's end (with 2 runs: from, then the next step).
	steps := min(space.Steps(), from.Step+budget+1)
	best, met, err := refineKeep(ctx, goal, steps, from, safe, budget, full)
	if err != nil {
		return nil, err
	}
	rep.Met = met
	rep.Chosen, rep.Config, rep.Result = best, configs[best], results[best]
	data, err := os.ReadFile(files[best])
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteBytes(out, data); err != nil {
		return nil, err
	}
	rep.Result.Out = out
	return rep, nil
}

// fullRun runs cfg with the Runner on a copy of m, training on fit (the
// held-out images aside) and reporting the test set; it returns the run,
// its file (in the work directory) and the file's held-out error.
func (c *ChainSearcher) fullRun(ctx context.Context, m *nn.Model, cfg Config, fit, held nn.Dataset) (*Result, string, float64, error) {
	student, err := copyModel(m)
	if err != nil {
		return nil, "", 0, err
	}
	name := "full-" + configID(cfg)
	file := filepath.Join(c.WorkDir, name+".dcz")
	r := &Runner{Config: cfg, WorkDir: filepath.Join(c.WorkDir, name), Train: fit, Test: c.Test, Log: c.Log, Progress: c.Progress}
	res, err := r.Run(ctx, student, file)
	if err != nil {
		return nil, "", 0, err
	}
	back, err := modelfile.Load(file, modelfile.Options{})
	if err != nil {
		return nil, "", 0, fmt.Errorf("pipeline: reading back %s: %w", file, err)
	}
	heldErr, err := errorPercent(back, held)
	return res, file, heldErr, err
}

// configID names a full run's work by its config.
func configID(cfg Config) string {
	b, _ := json.Marshal(cfg)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

// copyModel is a fresh model of m's architecture with m's parameters.
func copyModel(m *nn.Model) (*nn.Model, error) {
	c, err := nn.New(m.Spec, 0)
	if err == nil {
		err = c.SetWeights(m.WeightMap())
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: copying the input model: %w", err)
	}
	return c, nil
}

// errorPercent is m's top-1 error on d, in percent.
func errorPercent(m *nn.Model, d nn.Dataset) (float64, error) {
	correct, err := nn.Evaluate(m, d, 500)
	if err != nil {
		return 0, err
	}
	return 100 * (1 - float64(correct)/float64(max(d.Len(), 1))), nil
}

// chainSpace is the SearchSpace of a chain model: steps are the scales of
// the base's kept fractions, options the bit sets.
type chainSpace struct {
	m      *nn.Model // a copy of the input model, restored after each candidate
	orig   nn.Snapshot
	base   Config
	s      ChainSearch
	scales []float64
	bits   []map[string]int // by layer name, one per option
	// sub: the first RetrainSamples of fit, which the full runs train on.
	fit, sub, held nn.Dataset
	origError      float64
	dense          int64
}

func newChainSpace(m *nn.Model, base Config, s ChainSearch, fit, held nn.Dataset) (*chainSpace, error) {
	work, err := copyModel(m)
	if err != nil {
		return nil, err
	}
	sp := &chainSpace{m: work, orig: work.Snapshot(), base: base, s: s, scales: s.Scales, fit: fit, held: held, dense: denseBytes(m)}
	sp.bits = bitOptions(work, base.Quantize, s.BitSteps)
	n := fit.Len()
	if s.RetrainSamples > 0 {
		n = min(n, s.RetrainSamples)
	}
	sp.sub = nn.Dataset{X: fit.X[:n*fit.Dim], Labels: fit.Labels[:n], Dim: fit.Dim}
	if s.Retrain.Distill > 0 {
		if sp.sub, err = sp.sub.WithTeacher(work); err != nil {
			return nil, err
		}
	}
	if sp.origError, err = errorPercent(work, held); err != nil {
		return nil, err
	}
	return sp, nil
}

// bitOptions is one bit set per step (by layer name): the base's bits
// (or the paper's for the layer's kind) with step added to those of the
// fully connected weights, clipped to 2..8; duplicates are dropped, and a
// base that skips quantization has the one option.
func bitOptions(m *nn.Model, q QuantizeConfig, steps []int) []map[string]int {
	if q.Skip {
		steps = steps[:1]
	}
	var out []map[string]int
	for _, step := range steps {
		bits := map[string]int{}
		for _, p := range m.Weights() {
			b, ok := settings.Lookup(q.Bits, p.Name)
			if !ok {
				b = settings.PaperBits(m.WeightKind(p.Name))
			}
			if !m.IsConv(p.Name) && step != 0 {
				b = min(max(b+step, 2), 8)
			}
			bits[settings.LayerName(p.Name)] = b
		}
		dup := false
		for _, o := range out {
			dup = dup || maps.Equal(o, bits)
		}
		if !dup {
			out = append(out, bits)
		}
	}
	return out
}

func (sp *chainSpace) Options() int { return len(sp.bits) }
func (sp *chainSpace) Steps() int   { return len(sp.scales) }

// config is the base recipe at p: kept fractions scaled, p's bits.
func (sp *chainSpace) config(p SearchPoint) Config {
	c := sp.base
	c.Prune.Config = scaleRules(sp.m, sp.base.Prune.Config, sp.scales[p.Step])
	if !c.Quantize.Skip {
		c.Quantize.Bits = maps.Clone(sp.bits[p.Option])
	}
	return c
}

// scaleRules is cfg with every weight's rule made explicit (by layer
// name) and scaled by f: kept fractions times f (at most 1, rounded to
// 1e-4), quality thresholds divided by f; a global keep scaled likewise.
func scaleRules(m *nn.Model, cfg prune.Config, f float64) prune.Config {
	keep := func(k float64) float64 { return min(1, math.Round(1e4*k*f)/1e4) }
	if cfg.GlobalKeep != 0 {
		return prune.Config{GlobalKeep: keep(cfg.GlobalKeep)}
	}
	out := prune.Config{Layers: map[string]prune.Rule{}}
	for _, p := range m.Weights() {
		r, ok := settings.Lookup(cfg.Layers, p.Name)
		if !ok {
			r = cfg.Default
		}
		switch {
		case r.Keep > 0:
			r.Keep = max(keep(r.Keep), 1e-4)
		case r.Quality > 0:
			r.Quality /= f
		default:
			continue
		}
		out.Layers[settings.LayerName(p.Name)] = r
	}
	return out
}

// Evaluate prunes the input model to p's fractions at once, retrains it
// briefly when the metric is wanted, shares its weights with p's bits
// (as the Runner's quantize stage does, codebooks fine-tuned as briefly)
// and codes it with the base's encode settings: the exact size of the
// file a run would write, and the held-out error in percent. The model
// is restored after.
func (sp *chainSpace) Evaluate(ctx context.Context, p SearchPoint, withMetric bool) (SearchMeasure, error) {
	m, cfg := sp.m, sp.config(p)
	defer m.Restore(sp.orig)
	if err := prune.Apply(m, cfg.Prune.Config); err != nil {
		return SearchMeasure{}, err
	}
	brief := sp.s.Retrain
	if withMetric && brief.Epochs > 0 {
		if err := nn.TrainContext(ctx, m, sp.sub, brief.TrainConfig(cfg.Seed+1), nil, nil); err != nil {
			return SearchMeasure{}, err
		}
	}
	var layers []*quantize.Layer
	if q := cfg.Quantize; !q.Skip {
		var err error
		if layers, err = finetune.QuantizeRate(m, q.Bits, q.Lambda, quantize.Options{Init: q.Init, Optimal: q.Optimal, Seed: int64(cfg.Seed)}); err != nil {
			return SearchMeasure{}, err
		}
		ft := q.FineTune
		if ft.Epochs > 0 && withMetric {
			ft.Epochs = brief.Epochs
		} else {
			ft.Epochs = 0
		}
		ft.Shift = 0
		if err := finetune.Tune(ctx, m, layers, sp.sub, ft.TrainConfig(cfg.Seed+1000), nil); err != nil {
			return SearchMeasure{}, err
		}
	}
	file, err := modelfile.Pack(m, layers, cfg.Encode.IndexBits)
	if err != nil {
		return SearchMeasure{}, err
	}
	if err := halveFile(m, file, cfg.Encode.HalfCodebooks, cfg.Encode.HalfRaw, func(string, ...any) {}); err != nil {
		return SearchMeasure{}, err
	}
	file.SetCoder(cfg.Encode.Coder)
	var n countWriter
	if err := dcz.Write(&n, file); err != nil {
		return SearchMeasure{}, err
	}
	meas := SearchMeasure{Bytes: int64(n), Metric: math.NaN()}
	if withMetric {
		if meas.Metric, err = errorPercent(m, sp.held); err != nil {
			return SearchMeasure{}, err
		}
	}
	return meas, nil
}

// bitsText is option o's bits per weight in model order, "3/4/4".
func (sp *chainSpace) bitsText(o int) string {
	var parts []string
	for _, p := range sp.m.Weights() {
		parts = append(parts, fmt.Sprint(sp.bits[o][settings.LayerName(p.Name)]))
	}
	return strings.Join(parts, "/")
}

// trial is the chain form of a measured candidate.
func (sp *chainSpace) trial(t SearchTrial) ChainTrial {
	return ChainTrial{Scale: sp.scales[t.Step], Bits: sp.bitsText(t.Option), Bytes: t.Bytes,
		Ratio: float64(sp.dense) / float64(max(t.Bytes, 1)), HeldOutError: t.Metric}
}

func describeChain(t ChainTrial) string {
	return fmt.Sprintf("scale %g, bits %s: %d bytes (%.1fx), held-out error %.2f %%", t.Scale, t.Bits, t.Bytes, t.Ratio, t.HeldOutError)
}

// ChainSearchTable is the search's table: every candidate measured (by
// bits, then by falling scale), then every full run with its test error (reported, not used to choose).
func ChainSearchTable(rep *ChainSearchReport) report.Table {
	t := report.Table{Header: []string{"run", "scale", "bits", "bytes", "ratio", "held-out error", "test error"}}
	row := func(kind string, c ChainTrial, test string) {
		t.Rows = append(t.Rows, []string{kind, fmt.Sprint(c.Scale), c.Bits, fmt.Sprint(c.Bytes),
			fmt.Sprintf("%.1fx", c.Ratio), fmt.Sprintf("%.2f %%", c.HeldOutError), test})
	}
	trials := slices.Clone(rep.Trials)
	slices.SortStableFunc(trials, func(a, b ChainTrial) int {
		return cmp.Or(strings.Compare(a.Bits, b.Bits), cmp.Compare(b.Scale, a.Scale))
	})
	for _, c := range trials {
		row("candidate", c, "-")
	}
	for i, r := range rep.Runs {
		kind := fmt.Sprintf("full %d (%s)", i+1, map[bool]string{true: "met", false: "missed"}[r.Met])
		if i == rep.Chosen {
			kind += ", kept"
		}
		row(kind, r.ChainTrial, fmt.Sprintf("%.2f %%", r.TestError))
	}
	return t
}
