package engine

// Pad extends (or, with negative pads, crops) each dimension of x: with
// b_d and e_d the pads at the beginning and end of dimension d, y has
// size x.shape[d] + b_d + e_d along d and
//
//	y[i] = x[j],   j_d = m(i_d - b_d)  along every dimension d,
//
// where m is the identity for in-range indices and for out-of-range ones
// depends on the mode: constant (y = constant_value), reflect (mirror
// about the edge elements: -1 -> 1, n -> n-2) or edge (clamp to the nearest
// edge element); wrap (opset 19) is periodic. The backward pass is the
// adjoint, dL/dx[j] = sum over i reading x[j] of dL/dy[i].

import (
	"fmt"
	"math"
	"slices"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildPad, "Pad")
}

// tabMap maps each element of an output to one element of an input or to
// a constant, dimension by dimension: output index o along dimension d
// reads input offset off[d][o] (an index times the input stride), or the
// constant when any dimension's entry is -1. Pad and nearest Resize are
// tabMaps; dim0Injective says that distinct indices along dimension 0
// read distinct input slices, so that backward may split that dimension
// among goroutines.
type tabMap struct {
	out           []int
	off           [][]int
	dim0Injective bool
}

// newTabMap builds a tabMap from per-dimension input indices (-1 for the
// constant) and the input's shape.
func newTabMap(in []int, idx [][]int) *tabMap {
	r := len(in)
	t := &tabMap{out: make([]int, r), off: make([][]int, r)}
	strides := shpStrides(in)
	for d := range r {
		t.out[d] = len(idx[d])
		t.off[d] = make([]int, len(idx[d]))
		for o, i := range idx[d] {
			if i < 0 {
				t.off[d][o] = -1
			} else {
				t.off[d][o] = i * strides[d]
			}
		}
	}
	if r == 0 { // a scalar is a one-element vector
		t.out = []int{1}
		t.off = [][]int{{0}}
	}
	seen := map[int]bool{}
	t.dim0Injective = true
	for _, o := range t.off[0] {
		if o >= 0 && seen[o] {
			t.dim0Injective = false
		}
		seen[o] = true
	}
	return t
}

// tabGather computes dst (the output, contiguous) from src.
func tabGather[T float32 | int64](t *tabMap, dst, src []T, fill T) {
	r := len(t.out)
	n := t.out[r-1]
	if n == 0 || len(dst) == 0 {
		return
	}
	rows := len(dst) / n
	if len(dst) < shpParallelMin || rows < 2 {
		tabGatherRows(t, dst, src, fill, 0, rows)
		return
	}
	parallel.For(rows, max(1, shpParallelMin/2/n), func(lo, hi int) { tabGatherRows(t, dst, src, fill, lo, hi) })
}

func tabGatherRows[T float32 | int64](t *tabMap, dst, src []T, fill T, lo, hi int) {
	r := len(t.out)
	n := t.out[r-1]
	last := t.off[r-1]
	var buf [shpMaxRank]int
	idx := buf[:r-1]
	rem := lo
	for d := r - 2; d >= 0; d-- {
		idx[d] = rem % t.out[d]
		rem /= t.out[d]
	}
	for row := lo; row < hi; row++ {
		y := dst[row*n : row*n+n]
		base, outside := 0, false
		for d := range r - 1 {
			o := t.off[d][idx[d]]
			if o < 0 {
				outside = true
				break
			}
			base += o
		}
		if outside {
			for j := range y {
				y[j] = fill
			}
		} else {
			for j, o := range last {
				if o < 0 {
					y[j] = fill
				} else {
					y[j] = src[base+o]
				}
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.out[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// tabScatterAdd adds dy (the output's gradient) into dx through the map.
func tabScatterAdd(t *tabMap, dy, dx []float32) {
	r := len(t.out)
	n := t.out[r-1]
	if n == 0 || len(dy) == 0 {
		return
	}
	rows := len(dy) / n
	if len(dy) < shpParallelMin || r < 2 || !t.dim0Injective || t.out[0] < 2 {
		tabScatterRows(t, dy, dx, 0, rows)
		return
	}
	per := rows / t.out[0]
	parallel.For(t.out[0], max(1, shpParallelMin/2/(n*per)), func(lo, hi int) { tabScatterRows(t, dy, dx, lo*per, hi*per) })
}

func tabScatterRows(t *tabMap, dy, dx []float32, lo, hi int) {
	r := len(t.out)
	n := t.out[r-1]
	last := t.off[r-1]
	var buf [shpMaxRank]int
	idx := buf[:r-1]
	rem := lo
	for d := r - 2; d >= 0; d-- {
		idx[d] = rem % t.out[d]
		rem /= t.out[d]
	}
	for row := lo; row < hi; row++ {
		base, outside := 0, false
		for d := range r - 1 {
			o := t.off[d][idx[d]]
			if o < 0 {
				outside = true
				break
			}
			base += o
		}
		if !outside {
			for j, g := range dy[row*n : row*n+n] {
				if o := last[j]; o >= 0 {
					dx[base+o] += g
				}
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.out[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// padKernel is a tabMap with its constant; the map is built by the
// first Forward, after the engine has checked the output's size against
// its memory limit.
type padKernel struct {
	in, begin []int
	out       []int
	mode      string
	value     float32
	t         *tabMap
}

func (k *padKernel) table() *tabMap {
	if k.t != nil {
		return k.t
	}
	idx := make([][]int, len(k.in))
	for d, n := range k.in {
		idx[d] = make([]int, k.out[d])
		for o := range idx[d] {
			i := o - k.begin[d]
			switch {
			case i >= 0 && i < n:
			case k.mode == "constant":
				i = -1
			case k.mode == "edge":
				i = min(max(i, 0), n-1)
			case k.mode == "reflect":
				i = padReflect(i, n)
			default: // wrap
				i = ((i % n) + n) % n
			}
			idx[d][o] = i
		}
	}
	k.t = newTabMap(k.in, idx)
	return k.t
}

func (k *padKernel) Forward(in, out []*graph.Tensor) {
	t := k.table()
	if in[0].DType == graph.Int64 {
		tabGather(t, out[0].I, in[0].I, int64(k.value))
		return
	}
	tabGather(t, out[0].F, in[0].F, k.value)
}

func (k *padKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] != nil {
		tabScatterAdd(k.table(), dout[0].F, din[0].F)
	}
}

// buildPad: pads and value are attributes before opset 11 (pads,
// value), constant inputs from 11 (pads, constant_value, and from opset
// 18 axes, the dimensions pads refers to).
func buildPad(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r > shpMaxRank {
		return nil, fmt.Errorf("rank %d is more than %d", r, shpMaxRank)
	}
	mode, err := b.Node.AttrString("mode", "constant")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "constant", "reflect", "edge", "wrap":
	default:
		return nil, fmt.Errorf("mode %q is not supported (constant, reflect, edge, wrap)", mode)
	}
	var pads []int64
	var value float32
	axes := make([]int, r)
	for d := range axes {
		axes[d] = d
	}
	if b.Opset < 11 {
		if pads, err = b.Node.AttrInts("pads", nil); err != nil {
			return nil, err
		}
		if pads == nil {
			return nil, fmt.Errorf("the pads attribute is required")
		}
		if value, err = b.Node.AttrFloat("value", 0); err != nil {
			return nil, err
		}
	} else {
		for i := 1; i < len(b.NoGrad); i++ {
			b.NoGrad[i] = true
		}
		var ok bool
		if pads, ok, err = b.ConstInts(1); err != nil || !ok {
			return nil, cmpErr(err, "the pads input is missing")
		}
		v, ok, err := b.ConstFloats(2)
		if err != nil {
			return nil, err
		}
		if ok {
			if len(v) > 1 {
				return nil, fmt.Errorf("constant_value must be a scalar, it has %d values", len(v))
			}
			if len(v) == 1 {
				value = v[0]
			}
		}
		a, ok, err := b.ConstInts(3)
		if err != nil {
			return nil, err
		}
		if ok {
			if axes, err = shpAxes(a, r); err != nil {
				return nil, err
			}
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("pads %v has %d entries, want %d (begin and end for %d axes of %s)", pads, len(pads), 2*len(axes), len(axes), ShapeString(x.Shape))
	}
	k := &padKernel{in: x.Shape, begin: make([]int, r), out: make([]int, r), mode: mode, value: value}
	for i, a := range axes {
		bg, en, n := pads[i], pads[i+len(axes)], int64(x.Shape[a])
		if bg < -n || en < -n || bg > math.MaxInt32 || en > math.MaxInt32 || n+bg+en < 0 {
			return nil, fmt.Errorf("pads %d and %d are invalid for axis %d of %s", bg, en, a, ShapeString(x.Shape))
		}
		if (bg > 0 || en > 0) && mode != "constant" && n == 0 {
			return nil, fmt.Errorf("cannot %s-pad axis %d of %s: it is empty", mode, a, ShapeString(x.Shape))
		}
		k.begin[a] = int(bg)
		k.out[a] = int(n + bg + en)
	}
	for d := range r {
		if !slices.Contains(axes, d) {
			k.out[d] = x.Shape[d]
		}
	}
	if _, err := shpNumel(k.out); err != nil {
		return nil, err
	}
	b.Out[0].Shape = slices.Clone(k.out)
	b.Out[0].DType = x.DType
	return k, nil
}

// padReflect mirrors an out-of-range index i into [0, n) about the edge
// elements (numpy's "reflect"), repeatedly for pads wider than n-1.
func padReflect(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2 * (n - 1)
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - i
	}
	return i
}
