package engine

// Softmax and LogSoftmax along one axis. With m = max_i x_i for numerical
// stability and s = Σ_i exp(x_i - m):
//
//	Softmax:    y_i = exp(x_i - m) / s       dL/dx_i = y_i (g_i - Σ_j g_j y_j)
//	LogSoftmax: y_i = x_i - m - ln s         dL/dx_i = g_i - exp(y_i) Σ_j g_j
//
// where g = dL/dy. Before opset 13 the input is coerced to a matrix
// [Π dims before axis, Π dims from axis] and the operator runs along its
// rows (axis default 1); from opset 13 it runs along the single axis
// (default -1).

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildSoftmax, "Softmax", "LogSoftmax")
}

func buildSoftmax(b *Build) (Kernel, error) {
	x, err := b.InShape(0)
	if err != nil {
		return nil, err
	}
	if len(b.In) != 1 || len(b.Out) != 1 {
		return nil, fmt.Errorf("%s takes 1 input and has 1 output, the node has %d and %d", b.Node.Op, len(b.In), len(b.Out))
	}
	if b.In[0].DType != graph.Float32 {
		return nil, fmt.Errorf("%s of %v values is not supported", b.Node.Op, b.In[0].DType)
	}
	def := int64(-1)
	if b.Opset < 13 {
		def = 1
	}
	axis, err := b.Node.AttrInt("axis", def)
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
	k := &softmaxKernel{log: b.Node.Op == "LogSoftmax", outer: 1, n: 1, inner: 1}
	for i, d := range x {
		switch {
		case int64(i) < axis:
			k.outer *= d
		case int64(i) == axis || b.Opset < 13:
			k.n *= d
		default:
			k.inner *= d
		}
	}
	if k.inner > 1 {
		k.scratch = make([]float32, k.outer*k.inner)
		k.sums = make([]float64, k.outer*k.inner)
	}
	b.Out[0].Shape = x
	k.fwdFn, k.bwdFn = k.forward, k.backward
	return k, nil
}

// softmaxKernel views x as [outer, n, inner] and works along n.
type softmaxKernel struct {
	log             bool
	outer, n, inner int
	scratch         []float32 // per (outer, inner): max, or Σ g y
	sums            []float64 // per (outer, inner): Σ exp
	x, y, dy, dx    []float32
	fwdFn, bwdFn    func(lo, hi int)
}

func (k *softmaxKernel) grain() int { return max(1, bcastGrain/max(1, k.n*k.inner)) }

// Forward computes y.
func (k *softmaxKernel) Forward(in, out []*graph.Tensor) {
	k.x, k.y = in[0].F, out[0].F
	if k.n > 0 && k.inner > 0 {
		parallel.For(k.outer, k.grain(), k.fwdFn)
	}
	k.x, k.y = nil, nil
}

func (k *softmaxKernel) forward(lo, hi int) {
	n, in := k.n, k.inner
	for o := lo; o < hi; o++ {
		x := k.x[o*n*in : (o+1)*n*in]
		y := k.y[o*n*in : (o+1)*n*in]
		if in == 1 {
			softmaxRow(x, y, k.log)
			continue
		}
		m := k.scratch[o*in : (o+1)*in]
		s := k.sums[o*in : (o+1)*in]
		copy(m, x[:in])
		for i := 1; i < n; i++ {
			for j, v := range x[i*in : (i+1)*in] {
				if v > m[j] {
					m[j] = v
				}
			}
		}
		clear(s)
		for i := range n {
			yr := y[i*in : (i+1)*in]
			for j, v := range x[i*in : (i+1)*in] {
				e := math.Exp(float64(v - m[j]))
				s[j] += e
				if !k.log {
					yr[j] = float32(e)
				}
			}
		}
		for i := range n {
			yr := y[i*in : (i+1)*in]
			if k.log {
				for j, v := range x[i*in : (i+1)*in] {
					yr[j] = float32(float64(v) - float64(m[j]) - math.Log(s[j]))
				}
			} else {
				for j := range yr {
					yr[j] = float32(float64(yr[j]) / s[j])
				}
			}
		}
	}
}

// softmaxRow computes one contiguous row.
func softmaxRow(x, y []float32, log bool) {
	y = y[:len(x)]
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	var s float64
	if log {
		for _, v := range x {
			s += math.Exp(float64(v - m))
		}
		c := float64(m) + math.Log(s)
		for i, v := range x {
			y[i] = float32(float64(v) - c)
		}
		return
	}
	for i, v := range x {
		e := math.Exp(float64(v - m))
		s += e
		y[i] = float32(e)
	}
	r := 1 / s
	for i, v := range y {
		y[i] = float32(float64(v) * r)
	}
}

// Backward adds dL/dx.
func (k *softmaxKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil || k.n == 0 || k.inner == 0 {
		return
	}
	k.y, k.dy, k.dx = out[0].F, dout[0].F, din[0].F
	parallel.For(k.outer, k.grain(), k.bwdFn)
	k.y, k.dy, k.dx = nil, nil, nil
}

func (k *softmaxKernel) backward(lo, hi int) {
	n, in := k.n, k.inner
	for o := lo; o < hi; o++ {
		y := k.y[o*n*in : (o+1)*n*in]
		dy := k.dy[o*n*in : (o+1)*n*in]
		dx := k.dx[o*n*in : (o+1)*n*in]
		if in == 1 {
			var s float64
			if k.log {
				for _, g := range dy {
					s += float64(g)
				}
				c := float32(s)
				for i, v := range y {
					dx[i] += dy[i] - float32(math.Exp(float64(v)))*c
				}
			} else {
				for i, g := range dy {
					s += float64(g) * float64(y[i])
				}
				c := float32(s)
				for i, v := range y {
					dx[i] += v * (dy[i] - c)
				}
			}
			continue
		}
		s := k.sums[o*in : (o+1)*in]
		clear(s)
		for i := range n {
			yr, gr := y[i*in:(i+1)*in], dy[i*in:(i+1)*in]
			for j, g := range gr {
				if k.log {
					s[j] += float64(g)
				} else {
					s[j] += float64(g) * float64(yr[j])
				}
			}
		}
		for i := range n {
			yr, gr, xr := y[i*in:(i+1)*in], dy[i*in:(i+1)*in], dx[i*in:(i+1)*in]
			for j, v := range yr {
				if k.log {
					xr[j] += gr[j] - float32(math.Exp(float64(v))*s[j])
				} else {
					xr[j] += v * (gr[j] - float32(s[j]))
				}
			}
		}
	}
}
