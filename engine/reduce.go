package engine

// Reductions over a set of axes A of x (all axes when none are given,
// unless noop_with_empty_axes asks for the identity):
//
//	ReduceSum:  y = Σ_A x                dL/dx = dL/dy (broadcast back)
//	ReduceMean: y = (1/n) Σ_A x          dL/dx = dL/dy / n,   n = Π_{a∈A} dim a
//	ReduceMax:  y = max_A x              dL/dx = dL/dy / m where x = y (m ties), else 0
//	ReduceMin:  y = min_A x              likewise
//
// The reduced axes are kept as size 1 when keepdims is 1 (the default) and
// dropped otherwise. The axes are an attribute before opset 13 (ReduceSum)
// or 18 (the others) and an optional constant input after. Sums accumulate
// in float64.

import (
	"fmt"
	"math"
	"slices"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

type reduceOp uint8

const (
	redSum reduceOp = iota
	redMean
	redMax
	redMin
)

func init() {
	register(buildReduce, "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin")
}

func buildReduce(b *Build) (Kernel, error) {
	op := map[string]reduceOp{"ReduceSum": redSum, "ReduceMean": redMean, "ReduceMax": redMax, "ReduceMin": redMin}[b.Node.Op]
	x, err := b.InShape(0)
	if err != nil {
		return nil, err
	}
	if len(b.In) > 2 {
		return nil, fmt.Errorf("%s takes at most 2 inputs, the node has %d", b.Node.Op, len(b.In))
	}
	if len(b.Out) != 1 {
		return nil, fmt.Errorf("%s has 1 output, the node lists %d", b.Node.Op, len(b.Out))
	}
	if b.In[0].DType != graph.Float32 {
		return nil, fmt.Errorf("%s of %v values is not supported", b.Node.Op, b.In[0].DType)
	}
	n := b.Node
	keep, err := n.AttrInt("keepdims", 1)
	if err != nil {
		return nil, err
	}
	noop, err := n.AttrInt("noop_with_empty_axes", 0)
	if err != nil {
		return nil, err
	}
	if keep != 0 && keep != 1 || noop != 0 && noop != 1 {
		return nil, fmt.Errorf("keepdims and noop_with_empty_axes must be 0 or 1")
	}
	axes, err := n.AttrInts("axes", nil)
	if err != nil {
		return nil, err
	}
	if v, ok, err := b.ConstInts(1); err != nil {
		return nil, fmt.Errorf("axes: %w", err)
	} else if ok {
		if n.Has("axes") {
			return nil, fmt.Errorf("axes are given both as an attribute and as an input")
		}
		if len(b.In[1].Shape) > 1 {
			return nil, fmt.Errorf("axes must be a list, has shape %s", ShapeString(b.In[1].Shape))
		}
		b.NoGrad[1] = true
		axes = v
	}
	red := make([]bool, len(x))
	for _, a := range axes {
		if a < -int64(len(x)) || a >= int64(len(x)) {
			return nil, fmt.Errorf("axis %d is out of range for shape %s", a, ShapeString(x))
		}
		if a < 0 {
			a += int64(len(x))
		}
		if red[a] {
			return nil, fmt.Errorf("axis %d is repeated in axes %v", a, axes)
		}
		red[a] = true
	}
	if len(axes) == 0 {
		if noop == 1 {
			b.Out[0].Shape = slices.Clone(x)
			return reduceNoopKernel{}, nil
		}
		for i := range red {
			red[i] = true
		}
	}
	kept := make([]int, len(x))
	out := []int{}
	for i, d := range x {
		kept[i] = d
		if red[i] {
			kept[i] = 1
			if keep == 0 {
				continue
			}
		}
		out = append(out, kept[i])
	}
	b.Out[0].Shape = out
	k := &reduceKernel{op: op, plan: newBcastPlan(x, kept, x)}
	k.outN = numel(kept)
	if k.outN > 0 {
		k.count = k.plan.n / k.outN
	}
	if op == redSum || op == redMean {
		k.acc = make([]float64, k.outN)
	}
	k.rowsFn, k.colsFn, k.bwdFn = k.rows, k.cols, k.backElems
	return k, nil
}

// reduceNoopKernel copies its input (ReduceX with no axes and
// noop_with_empty_axes).
type reduceNoopKernel struct{}

func (reduceNoopKernel) Forward(in, out []*graph.Tensor) {
	copy(out[0].F, in[0].F)
	copy(out[0].I, in[0].I)
}

func (reduceNoopKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] != nil {
		for i, d := range dout[0].F {
			din[0].F[i] += d
		}
	}
}

// reduceKernel reduces over the plan's iteration of x, operand 0 being the
// output (repeated along the reduced axes) and operand 1 x itself.
type reduceKernel struct {
	op    reduceOp
	plan  *bcastPlan
	outN  int
	count int       // elements reduced into each output
	acc   []float64 // sums, for Sum and Mean
	ties  []float64 // ties per output, for Max and Min backward

	x, y, dy, dx []float32
	scale        float32

	rowsFn, colsFn, bwdFn func(lo, hi int)
}

// Forward computes y.
func (k *reduceKernel) Forward(in, out []*graph.Tensor) {
	p := k.plan
	k.x, k.y = in[0].F, out[0].F
	switch k.op {
	case redSum, redMean:
		clear(k.acc)
	case redMax:
		for i := range k.y {
			k.y[i] = float32(math.Inf(-1))
		}
	case redMin:
		for i := range k.y {
			k.y[i] = float32(math.Inf(1))
		}
	}
	switch {
	case p.n == 0:
	case p.distinct[0]:
		parallel.For(p.rows, p.rowGrain(), k.rowsFn)
	case p.istride[0] == 1 && p.inner >= 256:
		parallel.For(p.inner, max(64, bcastGrain/max(p.rows, 1)), k.colsFn)
	default:
		k.rows(0, p.rows)
	}
	if k.acc != nil {
		s := 1.0
		if k.op == redMean {
			s = 1 / float64(k.count)
		}
		for i, v := range k.acc {
			k.y[i] = float32(v * s)
		}
	}
	k.x, k.y = nil, nil
}

func (k *reduceKernel) rows(lo, hi int) {
	for r := lo; r < hi; r++ {
		off := k.plan.offsets(r)
		k.span(r, off[0], 0, k.plan.inner)
	}
}

func (k *reduceKernel) cols(lo, hi int) {
	for r := 0; r < k.plan.rows; r++ {
		off := k.plan.offsets(r)
		k.span(r, off[0], lo, hi)
	}
}

// span reduces elements [lo, hi) of row r into the output at offset oy.
func (k *reduceKernel) span(r, oy, lo, hi int) {
	p := k.plan
	x := k.x[r*p.inner+lo : r*p.inner+hi]
	if p.istride[0] == 0 {
		switch k.op {
		case redSum, redMean:
			var s float64
			for _, v := range x {
				s += float64(v)
			}
			k.acc[oy] += s
		case redMax:
			m := k.y[oy]
			for _, v := range x {
				if v > m {
					m = v
				}
			}
			k.y[oy] = m
		case redMin:
			m := k.y[oy]
			for _, v := range x {
				if v < m {
					m = v
				}
			}
			k.y[oy] = m
		}
		return
	}
	oy += lo
	switch k.op {
	case redSum, redMean:
		acc := k.acc[oy : oy+len(x)]
		for i, v := range x {
			acc[i] += float64(v)
		}
	case redMax:
		y := k.y[oy : oy+len(x)]
		for i, v := range x {
			if v > y[i] {
				y[i] = v
			}
		}
	case redMin:
		y := k.y[oy : oy+len(x)]
		for i, v := range x {
			if v < y[i] {
				y[i] = v
			}
		}
	}
}

// Backward adds dL/dx: dL/dy broadcast back over the reduced axes (scaled
// by 1/n for the mean; to the extrema, shared among ties, for max/min).
func (k *reduceKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil || k.plan.n == 0 {
		return
	}
	k.x, k.y, k.dy, k.dx = in[0].F, out[0].F, dout[0].F, din[0].F
	k.scale = 1
	if k.op == redMean {
		k.scale = 1 / float32(k.count)
	}
	if k.op == redMax || k.op == redMin {
		k.extremaBackward()
	} else {
		parallel.For(k.plan.n, bcastGrain, k.bwdFn)
	}
	k.x, k.y, k.dy, k.dx = nil, nil, nil, nil
}

// backElems adds the gradient to x's elements [lo, hi).
func (k *reduceKernel) backElems(lo, hi int) {
	p := k.plan
	n := p.inner
	for lo < hi {
		r := lo / n
		i := lo - r*n
		e := min(hi, (r+1)*n)
		oy := p.offsets(r)[0]
		dx := k.dx[lo:e]
		if p.istride[0] == 0 {
			c := k.dy[oy] * k.scale
			for j := range dx {
				dx[j] += c
			}
		} else {
			dy := k.dy[oy+i : oy+i+len(dx)]
			for j, d := range dy {
				dx[j] += d * k.scale
			}
		}
		lo = e
	}
}

// extremaBackward gives each output's gradient to the input elements equal
// to it, shared evenly among ties (as PyTorch's amax/amin do).
func (k *reduceKernel) extremaBackward() {
	p := k.plan
	if k.ties == nil {
		k.ties = make([]float64, k.outN)
	}
	clear(k.ties)
	for pass := range 2 {
		for r := 0; r < p.rows; r++ {
			oy := p.offsets(r)[0]
			x := k.x[r*p.inner : (r+1)*p.inner]
			dx := k.dx[r*p.inner : (r+1)*p.inner]
			for i, v := range x {
				o := oy + i*p.istride[0]
				if v != k.y[o] {
					continue
				}
				if pass == 0 {
					k.ties[o]++
				} else {
					dx[i] += k.dy[o] / float32(k.ties[o])
				}
			}
		}
	}
}
