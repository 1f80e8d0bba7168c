package engine

// LayerNormalization (opset 17) normalises x over its dimensions from axis
// on (axis default -1): viewing x as rows of D = Π dims from axis values,
// with μ and σ² each row's mean and (biased) variance,
//
//	x̂ = (x - μ) / √(σ² + ε),   y = x̂ * scale + bias
//
// (scale and the optional bias have the normalised shape; ε default 1e-5).
// The backward pass, with g = dL/dy * scale and r = 1/√(σ² + ε):
//
//	dL/dx = r (g - mean(g) - x̂ mean(g x̂)),
//	dL/dscale = Σ_rows dL/dy x̂,   dL/dbias = Σ_rows dL/dy.
//
// Statistics are computed in float64. Only the first output (Y) is
// supported: a node that asks for Mean or InvStdDev is rejected.

import (
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildLayerNorm, "LayerNormalization")
}

func buildLayerNorm(b *Build) (Kernel, error) {
	x, err := b.InShape(0)
	if err != nil {
		return nil, err
	}
	if len(b.In) < 2 || b.In[1] == nil || len(b.In) > 3 {
		return nil, fmt.Errorf("LayerNormalization takes X, Scale and an optional B, the node has %d inputs", len(b.In))
	}
	for i, m := range b.In {
		if m != nil && m.DType != graph.Float32 {
			return nil, fmt.Errorf("input %d is %v, want float32", i, m.DType)
		}
	}
	if len(b.Out) < 1 || len(b.Out) > 3 {
		return nil, fmt.Errorf("LayerNormalization has 1 to 3 outputs, the node lists %d", len(b.Out))
	}
	for j := 1; j < len(b.Out); j++ {
		if b.Node.Outputs[j] != "" {
			return nil, fmt.Errorf("output %d (%s, the saved %s) is not supported: only Y is",
				j, graph.Short(b.Node.Outputs[j]), []string{"", "Mean", "InvStdDev"}[j])
		}
	}
	axis, err := b.Node.AttrInt("axis", -1)
	if err != nil {
		return nil, err
	}
	r := int64(len(x))
	if axis < -r || axis >= r {
		return nil, fmt.Errorf("axis %d is out of range for shape %s", axis, ShapeString(x))
	}
	if axis < 0 {
		axis += r
	}
	eps, err := b.Node.AttrFloat("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if !(eps >= 0) {
		return nil, fmt.Errorf("epsilon is %g, want a non-negative number", eps)
	}
	norm := x[axis:]
	k := &layerNormKernel{eps: float64(eps), rows: numel(x[:axis]), d: numel(norm)}
	for i := 1; i < len(b.In); i++ {
		m := b.In[i]
		if m == nil {
			continue
		}
		if !slices.Equal(lnTrim(m.Shape), lnTrim(norm)) {
			return nil, fmt.Errorf("%s has shape %s, want the normalised shape %s", []string{"", "Scale", "B"}[i], ShapeString(m.Shape), ShapeString(norm))
		}
	}
	b.Out[0].Shape = x
	stat := slices.Clone(x)
	for i := axis; i < r; i++ {
		stat[i] = 1
	}
	for j := 1; j < len(b.Out); j++ {
		b.Out[j].Shape = stat
	}
	k.mean = make([]float64, k.rows)
	k.rstd = make([]float64, k.rows)
	k.fwdFn, k.bwdFn = k.forward, k.backward
	return k, nil
}

// layerNormKernel normalises rows of d values; mean and rstd keep each
// row's μ and 1/√(σ²+ε) from Forward for Backward.
type layerNormKernel struct {
	eps        float64
	rows, d    int
	mean, rstd []float64
	// Backward: per-part partial sums of dL/dscale and dL/dbias.
	parts        int
	dscale, dbia []float32

	x, scale, bias, y []float32
	dy, dx, ds, db    []float32

	fwdFn, bwdFn func(lo, hi int)
}

// Forward computes y.
func (k *layerNormKernel) Forward(in, out []*graph.Tensor) {
	k.x, k.scale, k.y = in[0].F, in[1].F, out[0].F
	k.bias = nil
	if len(in) > 2 && in[2] != nil {
		k.bias = in[2].F
	}
	if k.d > 0 {
		parallel.For(k.rows, max(1, bcastGrain/k.d), k.fwdFn)
	}
	k.x, k.scale, k.bias, k.y = nil, nil, nil, nil
}

func (k *layerNormKernel) forward(lo, hi int) {
	d := k.d
	scale := k.scale[:d]
	for r := lo; r < hi; r++ {
		x, y := k.x[r*d:(r+1)*d], k.y[r*d:(r+1)*d]
		var s float64
		for _, v := range x {
			s += float64(v)
		}
		mu := s / float64(d)
		var q float64
		for _, v := range x {
			c := float64(v) - mu
			q += c * c
		}
		rs := 1 / math.Sqrt(q/float64(d)+k.eps)
		k.mean[r], k.rstd[r] = mu, rs
		// float64 arithmetic (no slower than float32 in scalar code)
		// keeps y within an ulp or two even when the bias cancels.
		if k.bias != nil {
			bias := k.bias[:d]
			for i, v := range x {
				y[i] = float32((float64(v)-mu)*rs*float64(scale[i]) + float64(bias[i]))
			}
		} else {
			for i, v := range x {
				y[i] = float32((float64(v) - mu) * rs * float64(scale[i]))
			}
		}
	}
}

// Backward adds dL/dx, dL/dscale and dL/dbias.
func (k *layerNormKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if k.d == 0 || k.rows == 0 {
		return
	}
	k.x, k.scale, k.dy = in[0].F, in[1].F, dout[0].F
	k.dx, k.ds, k.db = nil, nil, nil
	if din[0] != nil {
		k.dx = din[0].F
	}
	if din[1] != nil {
		k.ds = din[1].F
	}
	if len(din) > 2 && din[2] != nil {
		k.db = din[2].F
	}
	parts := min(runtime.GOMAXPROCS(0), max(1, k.rows*k.d/bcastGrain), k.rows)
	if k.parts != parts {
		k.parts = parts
		k.dscale = make([]float32, parts*k.d)
		k.dbia = make([]float32, parts*k.d)
	}
	clear(k.dscale)
	clear(k.dbia)
	parallel.For(parts, 1, k.bwdFn)
	for p := range parts {
		if k.ds != nil {
			for i, v := range k.dscale[p*k.d : (p+1)*k.d] {
				k.ds[i] += v
			}
		}
		if k.db != nil {
			for i, v := range k.dbia[p*k.d : (p+1)*k.d] {
				k.db[i] += v
			}
		}
	}
	k.x, k.scale, k.dy, k.dx, k.ds, k.db = nil, nil, nil, nil, nil, nil
}

// backward handles parts [plo, phi) of the rows.
func (k *layerNormKernel) backward(plo, phi int) {
	d := k.d
	scale := k.scale[:d]
	for p := plo; p < phi; p++ {
		ds, db := k.dscale[p*d:(p+1)*d], k.dbia[p*d:(p+1)*d]
		for r := p * k.rows / k.parts; r < (p+1)*k.rows/k.parts; r++ {
			x, dy := k.x[r*d:(r+1)*d], k.dy[r*d:(r+1)*d]
			m, f := float32(k.mean[r]), float32(k.rstd[r])
			var sg, sgx float64
			for i, v := range x {
				xh := (v - m) * f
				g := dy[i]
				ds[i] += g * xh
				db[i] += g
				g *= scale[i]
				sg += float64(g)
				sgx += float64(g * xh)
			}
			if k.dx == nil {
				continue
			}
			dx := k.dx[r*d : (r+1)*d]
			mg, mgx := float32(sg/float64(d)), float32(sgx/float64(d))
			for i, v := range x {
				xh := (v - m) * f
				dx[i] += f * (dy[i]*scale[i] - mg - xh*mgx)
			}
		}
	}
}

// lnTrim drops a shape's leading 1s.
func lnTrim(s []int) []int {
	for len(s) > 0 && s[0] == 1 {
		s = s[1:]
	}
	return s
}
