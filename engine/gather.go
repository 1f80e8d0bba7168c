package engine

// Gather picks slices of its data along one axis by constant indices:
// with x of shape [A..., n, B...] (n on the axis) and indices I of shape
// [J...],
//
//	y[a, j, b] = x[a, I[j], b],   y.shape = [A..., J..., B...],
//
// negative indices counting from the end. Its backward pass scatters:
// dL/dx[a, i, b] = sum over j with I[j] = i of dL/dy[a, j, b]. Gather runs
// on float data at run time (embeddings, channel picks) and on Int64
// constants (Gather(Shape(x), k) in exported shape arithmetic).

import (
	"fmt"
	"slices"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildGather, "Gather")
}

// gatherKernel holds the normalised indices and the block geometry:
// outer = prod(A), inner = prod(B), n = x.shape[axis].
type gatherKernel struct {
	idx          []int
	outer, inner int
	n            int
}

func (k *gatherKernel) Forward(in, out []*graph.Tensor) {
	if in[0].DType == graph.Int64 {
		gatherRows(k, out[0].I, in[0].I, 0, k.outer)
		return
	}
	y, x := out[0].F, in[0].F
	if len(y) < shpParallelMin || k.outer < 2 {
		gatherRows(k, y, x, 0, k.outer)
		return
	}
	per := len(k.idx) * k.inner
	parallel.For(k.outer, max(1, shpParallelMin/2/max(per, 1)), func(lo, hi int) { gatherRows(k, y, x, lo, hi) })
}

func gatherRows[T float32 | int64](k *gatherKernel, y, x []T, lo, hi int) {
	w := k.inner
	for o := lo; o < hi; o++ {
		src := x[o*k.n*w:]
		dst := y[o*len(k.idx)*w:]
		if w == 1 {
			for j, i := range k.idx {
				dst[j] = src[i]
			}
			continue
		}
		for j, i := range k.idx {
			copy(dst[j*w:j*w+w], src[i*w:i*w+w])
		}
	}
}

func (k *gatherKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil {
		return
	}
	dx, dy := din[0].F, dout[0].F
	w := k.inner
	body := func(lo, hi int) {
		for o := lo; o < hi; o++ {
			dst := dx[o*k.n*w:]
			src := dy[o*len(k.idx)*w:]
			for j, i := range k.idx {
				d, s := dst[i*w:i*w+w], src[j*w:j*w+w]
				for t, g := range s {
					d[t] += g
				}
			}
		}
	}
	// rows o are disjoint in dx, so they may run in parallel
	if len(dy) < shpParallelMin || k.outer < 2 {
		body(0, k.outer)
		return
	}
	parallel.For(k.outer, max(1, shpParallelMin/2/max(len(k.idx)*w, 1)), body)
}

// buildGather: axis (default 0) in [-r, r); the indices (input 1) must be
// a constant, each in [-n, n).
func buildGather(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	im, err := shpIn(b, 1)
	if err != nil {
		return nil, err
	}
	shpNoGrad(b, 1)
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r == 0 {
		return nil, fmt.Errorf("cannot gather from a scalar")
	}
	a, err := shpAxis(axis, r, false)
	if err != nil {
		return nil, err
	}
	if !im.Const() {
		return nil, fmt.Errorf("the indices (input 1, %s) must be a constant: indices computed from the graph's inputs are not supported", graph.Short(b.Node.Input(1)))
	}
	if im.Value.DType != graph.Int64 {
		return nil, fmt.Errorf("the indices are %v, want int64", im.Value.DType)
	}
	if r-1+len(im.Shape) > shpMaxRank {
		return nil, fmt.Errorf("the output would have more than %d dimensions", shpMaxRank)
	}
	n := x.Shape[a]
	k := &gatherKernel{idx: make([]int, len(im.Value.I)), n: n}
	for j, i := range im.Value.I {
		if i < -int64(n) || i >= int64(n) {
			return nil, fmt.Errorf("index %d is out of range for axis %d of %s", i, a, ShapeString(x.Shape))
		}
		if i < 0 {
			i += int64(n)
		}
		k.idx[j] = int(i)
	}
	out := slices.Concat(x.Shape[:a], im.Shape, x.Shape[a+1:])
	if out == nil {
		out = []int{}
	}
	if _, err := shpNumel(out); err != nil {
		return nil, err
	}
	k.outer, _ = shpNumel(x.Shape[:a])
	k.inner, _ = shpNumel(x.Shape[a+1:])
	b.Out[0].Shape = out
	b.Out[0].DType = x.DType
	return k, nil
}
