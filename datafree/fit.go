package datafree

import (
	"fmt"
	"io"
	"math"
	"regexp"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
)

// FitChoice is one way to store one weight tensor, measured.
type FitChoice struct {
	Raw   bool   `json:"raw,omitempty"`
	Bits  int    `json:"bits,omitempty"`
	Grid  string `json:"grid,omitempty"`
	Bytes int    `json:"bytes"` // section bytes
	// RelError is sum (w - shared(w))^2 / sum w^2 over the tensor.
	RelError float64 `json:"rel_error"`
}

// FitBits lists the weight bits FitGraph tries.
var FitBits = []int{4, 5, 6, 7, 8, 9, 10}

// FitGraph chooses, without data, how to store each weight of g so that
// the graph file CompressGraph writes is at most maxBytes long: every
// weight tensor is shared at each of FitBits with both grids (k-means and
// uniform, nothing pruned) and its section measured, float32 being one
// more choice, and the choices minimise the sum over the weights of their
// relative squared error (each layer counted alike, as a layer's output
// error follows its weights' relative error) under the size, by a
// Lagrangian search over the convex hull of each tensor's choices. Index
// bits and everything else come from base.Config's default setting; with
// base.HalfCodebooks and HalfRaw the sections are measured with the
// float16 storage CompressGraph will give them. It
// returns a Config naming every weight (CompressGraph with it gives the
// file measured) and the choice per weight, or an error when even the
// smallest choices do not fit.
func FitGraph(g *graph.Graph, base Options, maxBytes int64) (Config, map[string]FitChoice, error) {
	if maxBytes <= 0 {
		return Config{}, nil, fmt.Errorf("datafree: fit to %d bytes", maxBytes)
	}
	_, all, err := CompressGraph(g, Options{Config: Config{MinSize: math.MaxInt}, Workers: base.Workers, HalfRaw: base.HalfRaw})
	if err != nil {
		return Config{}, nil, err
	}
	enc, err := dcz.NewGraphEncoder(io.Discard, g, dcz.Ancillary{})
	if err != nil {
		return Config{}, nil, err
	}
	workers := base.workers()
	fixed := all.OutBytes
	var names []string
	choices := map[string][]FitChoice{}
	for _, w := range g.Weights() {
		t := g.Params[w.Param]
		if len(t.F) == 0 {
			continue
		}
		var norm float64
		for _, v := range t.F {
			norm += float64(v) * float64(v)
		}
		for _, s := range all.Tensors {
			if s.Name == w.Param {
				fixed -= int64(s.Bytes)
				choices[w.Param] = []FitChoice{{Raw: true, Bytes: s.Bytes}}
			}
		}
		names = append(names, w.Param)
		if norm == 0 {
			continue
		}
		for _, bits := range FitBits {
			for _, grid := range []string{GridKMeans, GridUniform} {
				st := fill(Setting{Keep: 1, Bits: bits, Grid: grid, IndexBits: base.Config.Default.IndexBits}, Setting{}, t.Shape)
				l, _, err := shareTensor(floatSource(w.Param, t.F), st, t.Shape, workers)
				if err != nil {
					return Config{}, nil, err
				}
				l.Kind = arch.Dense
				if w.Conv {
					l.Kind = arch.Conv2D
				}
				if base.HalfCodebooks {
					halfIfLossless(&l.Layer, t.F, grid)
				}
				frame, err := enc.EncodeLayer(&l.Layer)
				if err != nil {
					return Config{}, nil, err
				}
				dense := l.Layer.Layer.Dense()
				var e float64
				for i, v := range t.F {
					d := float64(v) - float64(dense[i])
					e += d * d
				}
				choices[w.Param] = append(choices[w.Param], FitChoice{Bits: bits, Grid: grid, Bytes: len(frame), RelError: e / norm})
			}
		}
	}
	pick := func(lambda float64) (map[string]FitChoice, int64, float64) {
		out := map[string]FitChoice{}
		total, errSum := fixed, 0.0
		for _, name := range names {
			best := choices[name][0]
			for _, c := range choices[name][1:] {
				cost, bestCost := c.RelError+lambda*float64(c.Bytes), best.RelError+lambda*float64(best.Bytes)
				if cost < bestCost || cost == bestCost && c.Bytes < best.Bytes {
					best = c
				}
			}
			out[name] = best
			total += int64(best.Bytes)
			errSum += best.RelError
		}
		return out, total, errSum
	}
	// The error falls as lambda falls: find the smallest lambda that fits.
	lo, hi := -40.0, 10.0 // log10 lambda
	chosen, total, _ := pick(math.Pow(10, hi))
	if total > maxBytes {
		return Config{}, nil, fmt.Errorf("datafree: the smallest choices make %d bytes, over %d", total, maxBytes)
	}
	for range 100 {
		mid := (lo + hi) / 2
		if c, n, _ := pick(math.Pow(10, mid)); n <= maxBytes {
			hi, chosen = mid, c
		} else {
			lo = mid
		}
	}
	cfg := Config{Default: base.Config.Default}
	yes, no := true, false
	for _, name := range names {
		c := chosen[name]
		r := Rule{Match: "re:" + regexp.QuoteMeta(name), Dense: &no}
		if c.Raw {
			r.Dense = &yes
		} else {
			r.Setting = Setting{Keep: 1, Bits: c.Bits, Grid: c.Grid, IndexBits: base.Config.Default.IndexBits}
		}
		cfg.Rules = append(cfg.Rules, r)
	}
	return cfg, chosen, cfg.Validate()
}
