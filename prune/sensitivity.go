package prune

import (
	"context"
	"fmt"

	"github.com/deepcompress/deepcompress/nn"
)

// DefaultSparsities are the levels of the sensitivity analysis.
var DefaultSparsities = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99}

// Curve is one layer's test accuracy when it alone is pruned to each
// sparsity, without retraining.
type Curve struct {
	Layer      string    `json:"layer"`
	Sparsities []float64 `json:"sparsities"`
	Accuracy   []float64 `json:"accuracy"`
}

// Sensitivity prunes each weight layer alone to each sparsity (fraction
// removed, by magnitude), measures accuracy on test, and restores it.
// progress, if non-nil, is called after each evaluation. Once ctx is done
// it stops before the next evaluation, the model restored, and returns an
// error wrapping ctx.Err().
func Sensitivity(ctx context.Context, m *nn.Model, test nn.Dataset, sparsities []float64, progress func()) ([]Curve, error) {
	var curves []Curve
	for _, p := range m.Weights() {
		c, err := layerCurve(ctx, m, p, test, sparsities, progress)
		if err != nil {
			return nil, err
		}
		curves = append(curves, c)
	}
	return curves, nil
}

// layerCurve is Sensitivity for the weight p alone; p is restored on
// return, whatever happened.
func layerCurve(ctx context.Context, m *nn.Model, p *nn.Param, test nn.Dataset, sparsities []float64, progress func()) (Curve, error) {
	saved := append([]float32(nil), p.Data...)
	savedMask := p.Mask
	defer func() {
		copy(p.Data, saved)
		p.Mask = savedMask
	}()
	c := Curve{Layer: layerName(p.Name), Sparsities: sparsities}
	for _, s := range sparsities {
		if err := ctx.Err(); err != nil {
			return Curve{}, fmt.Errorf("prune: sensitivity stopped at layer %s: %w", c.Layer, err)
		}
		copy(p.Data, saved)
		p.Mask = savedMask
		if s > 0 {
			maskBelow(p, Threshold(live(p), Rule{Keep: 1 - s}))
		}
		correct, err := nn.Evaluate(m, test, 1000)
		if err != nil {
			return Curve{}, err
		}
		c.Accuracy = append(c.Accuracy, float64(correct)/float64(test.Len()))
		if progress != nil {
			progress()
		}
	}
	return c, nil
}

// Suggest returns, per layer, the largest sparsity whose accuracy is within
// maxDrop (a fraction, e.g. 0.005 for half a point) of the unpruned
// accuracy: a starting point for per-layer keep fractions before retraining.
func Suggest(curves []Curve, baseline, maxDrop float64) map[string]Rule {
	out := map[string]Rule{}
	for _, c := range curves {
		best := 0.0
		for i, s := range c.Sparsities {
			if c.Accuracy[i] >= baseline-maxDrop && s > best {
				best = s
			}
		}
		out[c.Layer] = Rule{Keep: 1 - best}
	}
	return out
}
