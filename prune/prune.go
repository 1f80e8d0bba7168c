// Package prune implements magnitude pruning, the first stage of Deep
// Compression (Han, Mao, Dally, ICLR 2016), as introduced in "Learning both
// Weights and Connections for Efficient Neural Networks" (Han, Pool, Tran,
// Dally, NIPS 2015): every weight whose magnitude is below a per-layer
// threshold is removed, and the survivors are retrained with the removed
// ones held at zero (see nn.Param.Mask).
//
// A layer's threshold is either quality x std(W) (the NIPS paper's rule),
// or the magnitude that keeps a given fraction of the layer's weights, or
// one magnitude shared by all layers chosen to keep a global fraction.
// Biases are never pruned.
package prune

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/settings"
)

// Rule says how much of one layer to prune: the pruning part of the
// per-tensor setting. Exactly one of Quality and Keep is set.
type Rule = settings.Pruning

// validateRule checks that r prunes, and by a valid amount.
func validateRule(layer string, r Rule) error {
	if r.IsZero() {
		return fmt.Errorf("prune: layer %s: a rule needs quality > 0 or keep in (0, 1]", layer)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("prune: layer %s: %w", layer, err)
	}
	return nil
}

// Config chooses the rule for each weight tensor.
type Config struct {
	// Layers maps a layer name ("fc1"), a weight name ("fc1.weight") or a
	// pattern ("conv*") to its rule (see settings.Lookup). Names that
	// match no weight of the model are an error.
	Layers map[string]Rule `json:"layers,omitempty"`
	// Default applies to weights not named in Layers; if it is zero they
	// are left alone.
	Default Rule `json:"default,omitzero"`
	// GlobalKeep, when set, ignores Layers and Default and prunes all
	// weights with one magnitude threshold that keeps this fraction overall.
	GlobalKeep float64 `json:"global_keep,omitempty"`
}

// Validate checks the config against the model's weight names.
func (c Config) Validate(m *nn.Model) error {
	if c.GlobalKeep != 0 {
		if c.GlobalKeep < 0 || c.GlobalKeep > 1 || math.IsNaN(c.GlobalKeep) {
			return fmt.Errorf("prune: global keep %v outside (0, 1]", c.GlobalKeep)
		}
		return nil
	}
	if err := settings.Check(c.Layers, weightNames(m)); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Layers)) {
		if err := validateRule(name, c.Layers[name]); err != nil {
			return err
		}
	}
	if !c.Default.IsZero() {
		return validateRule("default", c.Default)
	}
	return nil
}

// ruleFor returns the rule of weight p and whether one applies.
func (c Config) ruleFor(p *nn.Param) (Rule, bool) {
	if r, ok := settings.Lookup(c.Layers, p.Name); ok {
		return r, true
	}
	return c.Default, !c.Default.IsZero()
}

var layerName = settings.LayerName

func weightNames(m *nn.Model) []string {
	var names []string
	for _, p := range m.Weights() {
		names = append(names, p.Name)
	}
	return names
}

// Threshold is the magnitude below which rule r prunes the weights w:
// q*std(w) for a quality rule, or the magnitude that keeps the fraction
// Keep of w. Weights whose magnitude is strictly below it are pruned.
func Threshold(w []float32, r Rule) float32 {
	if r.Quality > 0 {
		return float32(r.Quality * stddev(w))
	}
	return keepThreshold(magnitudes(w), r.Keep)
}

// stddev is the population standard deviation of w.
func stddev(w []float32) float64 {
	if len(w) == 0 {
		return 0
	}
	var sum, sq float64
	for _, v := range w {
		sum += float64(v)
	}
	mean := sum / float64(len(w))
	for _, v := range w {
		d := float64(v) - mean
		sq += d * d
	}
	return math.Sqrt(sq / float64(len(w)))
}

func magnitudes(w []float32) []float32 {
	a := make([]float32, len(w))
	for i, v := range w {
		a[i] = float32(math.Abs(float64(v)))
	}
	return a
}

// keepThreshold returns the magnitude t such that keeping |w| >= t keeps
// round(keep*len(a)) values (ties may keep a few more).
func keepThreshold(a []float32, keep float64) float32 {
	n := len(a)
	k := int(math.Round(keep * float64(n)))
	if k >= n || n == 0 {
		return 0
	}
	if k <= 0 {
		return float32(math.Inf(1))
	}
	slices.Sort(a)
	return a[n-k]
}

// Apply prunes the model's weights by cfg: each weight tensor gets the mask
// |w| >= threshold, combined with any mask it already has (a pruned weight
// never comes back).
func Apply(m *nn.Model, cfg Config) error {
	if err := cfg.Validate(m); err != nil {
		return err
	}
	if cfg.GlobalKeep != 0 {
		t := globalThreshold(m.Weights(), cfg.GlobalKeep)
		for _, p := range m.Weights() {
			maskBelow(p, t)
		}
		return nil
	}
	for _, p := range m.Weights() {
		if r, ok := cfg.ruleFor(p); ok {
			maskBelow(p, Threshold(live(p), r))
		}
	}
	return nil
}

// live returns the layer's surviving weights: thresholds are computed over
// them, so that a second round prunes a fraction of what is left.
func live(p *nn.Param) []float32 {
	if p.Mask == nil {
		return p.Data
	}
	var w []float32
	for i, v := range p.Data {
		if p.Mask[i] != 0 {
			w = append(w, v)
		}
	}
	return w
}

func globalThreshold(ps []*nn.Param, keep float64) float32 {
	var all []float32
	for _, p := range ps {
		all = append(all, magnitudes(live(p))...)
	}
	// Keep is a fraction of all weights, pruned ones included.
	total := 0
	for _, p := range ps {
		total += len(p.Data)
	}
	return keepThreshold(all, keep*float64(total)/float64(max(len(all), 1)))
}

func maskBelow(p *nn.Param, t float32) {
	mask := make([]float32, len(p.Data))
	for i, v := range p.Data {
		if float32(math.Abs(float64(v))) >= t && (p.Mask == nil || p.Mask[i] != 0) {
			mask[i] = 1
		}
	}
	p.SetMask(mask)
}

// LayerStat is one row of the pruning table.
type LayerStat struct {
	Name    string  `json:"name"`
	Weights int     `json:"weights"`
	Kept    int     `json:"kept"`
	KeptPct float64 `json:"kept_pct"`
}

// Stats lists each weight tensor's size and surviving count, and the total.
func Stats(m *nn.Model) (layers []LayerStat, total LayerStat) {
	total.Name = "total"
	for _, p := range m.Weights() {
		s := LayerStat{Name: layerName(p.Name), Weights: len(p.Data), Kept: p.Kept()}
		s.KeptPct = 100 * float64(s.Kept) / float64(max(s.Weights, 1))
		layers = append(layers, s)
		total.Weights += s.Weights
		total.Kept += s.Kept
	}
	total.KeptPct = 100 * float64(total.Kept) / float64(max(total.Weights, 1))
	return layers, total
}
