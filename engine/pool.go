package engine

// Pooling over the spatial axes of an NCHW (or NCW) input, plane by plane.
// For output position (i, j) the window is the set of taps
//
//	T(i,j) = {(i*sH - pT + u*dH, j*sW - pL + v*dW) : 0 <= u < kH, 0 <= v < kW}
//
// and, with I(i,j) the taps inside the input,
//
//	MaxPool:      y[i,j] = max_{t in I(i,j)} x[t]
//	AveragePool:  y[i,j] = sum_{t in I(i,j)} x[t] / |I(i,j)|         (count_include_pad = 0)
//	                        sum_{t in I(i,j)} x[t] / |P(i,j)|         (count_include_pad = 1)
//
// where P(i,j) counts the taps inside the padded input (the trailing
// overhang of ceil_mode excluded, as PyTorch does). Output sizes follow
// Conv (convOutSize), with ceil_mode rounding up and dropping a last window
// that would start in the trailing padding. Backward routes dy to the
// first maximum of each window (MaxPool) or spreads dy / count over the
// window (AveragePool). GlobalAveragePool and GlobalMaxPool reduce each
// whole plane (any number of spatial axes) to one value.

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildMaxPool, "MaxPool")
	register(buildAveragePool, "AveragePool")
	register(buildGlobalPool(false), "GlobalAveragePool")
	register(buildGlobalPool(true), "GlobalMaxPool")
}

// poolAxis holds, per output position along one axis, the range of window
// taps [lo, hi) that fall inside the input and the number of taps inside
// the padded input.
type poolAxis struct {
	lo, hi, padded []int32
}

func newPoolAxis(out, in, k, s, d, pb, pe int) poolAxis {
	a := poolAxis{lo: make([]int32, out), hi: make([]int32, out), padded: make([]int32, out)}
	for o := range out {
		start := o*s - pb
		lo, hi, padded := 0, 0, 0
		for u := range k {
			p := start + u*d
			if p >= 0 && p < in {
				if hi == 0 {
					lo = u
				}
				hi = u + 1
			}
			if p >= -pb && p < in+pe {
				padded++
			}
		}
		a.lo[o], a.hi[o], a.padded[o] = int32(lo), int32(max(lo, hi)), int32(padded)
	}
	return a
}

// poolKernel is a MaxPool or AveragePool node.
type poolKernel struct {
	geom       convGeom
	max        bool
	includePad bool
	planes     int
	rows, cols poolAxis
	in0, in1   int // output columns whose windows lie inside the input
	// In training, MaxPool's forward records each window's argmax (index
	// in its plane) for the backward pass.
	track        bool
	idx          []int32
	haveIx       bool
	argFn        func(lo, hi int)
	x, y, dy, dx []float32
	fwdFn, bwdFn func(lo, hi int)
}

func buildPool(b *Build, isMax bool) (Kernel, error) {
	op := "AveragePool"
	if isMax {
		op = "MaxPool"
	}
	if len(b.In) != 1 || b.In[0] == nil {
		return nil, fmt.Errorf("%s takes 1 input, got %d", op, len(b.In))
	}
	if b.In[0].DType != graph.Float32 {
		return nil, fmt.Errorf("input is %v: %s takes float32 tensors", b.In[0].DType, op)
	}
	if len(b.Out) < 1 {
		return nil, fmt.Errorf("%s needs an output", op)
	}
	if len(b.Out) > 1 {
		if !isMax || len(b.Out) > 2 {
			return nil, fmt.Errorf("%s has %d outputs, want 1", op, len(b.Out))
		}
		if b.Node.Outputs[1] != "" {
			return nil, fmt.Errorf("output Indices (%s) is not supported", graph.Short(b.Node.Outputs[1]))
		}
	}
	xs := b.In[0].Shape
	nsp, h, w, err := convSpatial(xs, "input X")
	if err != nil {
		return nil, err
	}
	win, err := convReadWindow(b.Node, nsp, nil)
	if err != nil {
		return nil, err
	}
	ceil, err := b.Node.AttrInt("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	if ceil != 0 && ceil != 1 {
		return nil, fmt.Errorf("ceil_mode = %d: want 0 or 1", ceil)
	}
	includePad := false
	if !isMax {
		cip, err := b.Node.AttrInt("count_include_pad", 0)
		if err != nil {
			return nil, err
		}
		if cip != 0 && cip != 1 {
			return nil, fmt.Errorf("count_include_pad = %d: want 0 or 1", cip)
		}
		includePad = cip == 1
	}
	g, err := win.geom(nsp, 1, h, w, ceil == 1)
	if err != nil {
		return nil, fmt.Errorf("input X %s: %w", ShapeString(xs), err)
	}
	dkh, dkw := (g.kh-1)*g.dh+1, (g.kw-1)*g.dw+1
	if max(g.pt, g.pb) >= dkh || max(g.pl, g.pr) >= dkw {
		return nil, fmt.Errorf("pads [%d %d %d %d] must be smaller than the window (%d x %d)", g.pt, g.pl, g.pb, g.pr, dkh, dkw)
	}
	planes, ok := convMul(convMaxElems, xs[0], xs[1])
	if !ok {
		return nil, fmt.Errorf("input X %s is too large", ShapeString(xs))
	}
	if _, ok := convMul(convMaxElems, planes, g.oh, g.ow); !ok {
		return nil, fmt.Errorf("the output is too large")
	}
	if g.oh > 1<<30 || g.ow > 1<<30 {
		return nil, fmt.Errorf("the output %dx%d is too large", g.oh, g.ow)
	}
	k := &poolKernel{geom: g, max: isMax, includePad: includePad, planes: planes,
		rows: newPoolAxis(g.oh, h, g.kh, g.sh, g.dh, g.pt, g.pb),
		cols: newPoolAxis(g.ow, w, g.kw, g.sw, g.dw, g.pl, g.pr)}
	k.fwdFn, k.bwdFn, k.argFn = k.forwardPlanes, k.backwardPlanes, k.argmaxPlanes
	k.track = isMax && b.Train && h*w < math.MaxInt32
	k.in0, k.in1 = convRange(-g.pl, g.sw, w, g.ow)
	_, last := convRange((g.kw-1)*g.dw-g.pl, g.sw, w, g.ow)
	k.in1 = max(k.in0, min(k.in1, last))
	b.Out[0].Shape = g.outShape(xs[0], xs[1])
	if len(b.Out) > 1 {
		b.Out[1].Shape = []int{0} // not asked for (unnamed)
	}
	return k, nil
}

func buildMaxPool(b *Build) (Kernel, error)     { return buildPool(b, true) }
func buildAveragePool(b *Build) (Kernel, error) { return buildPool(b, false) }

func (k *poolKernel) grain() int {
	return max(1, (1<<14)/max(1, k.geom.oh*k.geom.ow*k.geom.kh*k.geom.kw))
}

func (k *poolKernel) Forward(in, out []*graph.Tensor) {
	k.x, k.y = in[0].F, out[0].F
	if k.track {
		if k.idx == nil {
			k.idx = make([]int32, len(out[0].F))
		}
		parallel.For(k.planes, k.grain(), k.argFn)
		k.haveIx = true
	} else {
		parallel.For(k.planes, k.grain(), k.fwdFn)
	}
	k.x, k.y = nil, nil
}

// argmaxPlanes is MaxPool's forward for planes [lo, hi) that also records
// each window's first maximum.
func (k *poolKernel) argmaxPlanes(lo, hi int) {
	g := &k.geom
	in, out := g.h*g.w, g.oh*g.ow
	for p := lo; p < hi; p++ {
		x := k.x[p*in : (p+1)*in]
		y := k.y[p*out : (p+1)*out]
		idx := k.idx[p*out : (p+1)*out]
		for oy := range g.oh {
			for ox := range g.ow {
				a := k.argmax(x, oy, ox)
				idx[oy*g.ow+ox] = int32(a)
				if a >= 0 {
					y[oy*g.ow+ox] = x[a]
				} else {
					y[oy*g.ow+ox] = 0
				}
			}
		}
	}
}

func (k *poolKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil {
		return
	}
	k.x, k.dy, k.dx = in[0].F, dout[0].F, din[0].F
	parallel.For(k.planes, k.grain(), k.bwdFn)
	k.x, k.dy, k.dx = nil, nil, nil
}

// argmax returns the index in the plane of the first maximum of window
// (oy, ox), or -1 when the window holds no input.
func (k *poolKernel) argmax(x []float32, oy, ox int) int {
	g := &k.geom
	ulo, uhi := int(k.rows.lo[oy]), int(k.rows.hi[oy])
	vlo, vhi := int(k.cols.lo[ox]), int(k.cols.hi[ox])
	iy0, ix0 := oy*g.sh-g.pt, ox*g.sw-g.pl
	best, arg := float32(0), -1
	for u := ulo; u < uhi; u++ {
		row := (iy0 + u*g.dh) * g.w
		for v := vlo; v < vhi; v++ {
			i := row + ix0 + v*g.dw
			if xv := x[i]; arg < 0 || xv > best || xv != xv && best == best {
				best, arg = xv, i
			}
		}
	}
	return arg
}

// divisor is the count AveragePool divides window (oy, ox) by.
func (k *poolKernel) divisor(oy, ox int) float32 {
	if k.includePad {
		return float32(k.rows.padded[oy] * k.cols.padded[ox])
	}
	return float32((k.rows.hi[oy] - k.rows.lo[oy]) * (k.cols.hi[ox] - k.cols.lo[ox]))
}

// forwardPlanes computes planes [lo, hi) row by row: each output row
// starts at -Inf (max) or 0 (sum) and takes in one input row per kernel
// row; averages are divided at the end.
func (k *poolKernel) forwardPlanes(lo, hi int) {
	g := &k.geom
	in, out := g.h*g.w, g.oh*g.ow
	init := float32(0)
	if k.max {
		init = float32(math.Inf(-1))
	}
	for p := lo; p < hi; p++ {
		x := k.x[p*in : (p+1)*in]
		y := k.y[p*out : (p+1)*out]
		for oy := range g.oh {
			yr := y[oy*g.ow : (oy+1)*g.ow]
			convFill(yr, init)
			ulo, uhi := int(k.rows.lo[oy]), int(k.rows.hi[oy])
			iy0 := oy*g.sh - g.pt
			for u := ulo; u < uhi; u++ {
				iy := iy0 + u*g.dh
				k.rowPass(yr, x[iy*g.w:(iy+1)*g.w])
			}
			if uhi <= ulo { // a window in the padding only (pads are checked: cannot happen)
				clear(yr)
			}
			if !k.max {
				for ox := range yr {
					if d := k.divisor(oy, ox); d > 0 {
						yr[ox] /= d
					}
				}
			}
		}
	}
}

// edgePass is rowPass for output columns [lo, hi), testing every tap.
func (k *poolKernel) edgePass(yr, xr []float32, lo, hi int) {
	g := &k.geom
	for ox := lo; ox < hi; ox++ {
		vlo, vhi := int(k.cols.lo[ox]), int(k.cols.hi[ox])
		ix0 := ox*g.sw - g.pl
		m := yr[ox]
		for v := vlo; v < vhi; v++ {
			if xv := xr[ix0+v*g.dw]; k.max {
				m = max(m, xv)
			} else {
				m += xv
			}
		}
		yr[ox] = m
	}
}

// rowPass combines one input row into an output row: yr[j] = max(yr[j],
// max_v xr[j*sW - pL + v*dW]) or yr[j] += sum_v xr[...], over the taps
// inside the row. Output columns [in0, in1) have every tap inside; 2- and
// 3-wide windows without dilation are unrolled there.
func (k *poolKernel) rowPass(yr, xr []float32) {
	g := &k.geom
	a, b := k.in0, k.in1
	if a >= b {
		a, b = len(yr), len(yr)
	}
	k.edgePass(yr, xr, 0, a)
	k.edgePass(yr, xr, b, len(yr))
	if a >= b {
		return
	}
	sw, base := g.sw, a*g.sw-g.pl
	ys := yr[a:b]
	switch {
	case g.kw == 2 && g.dw == 1:
		xs := xr[base : base+(len(ys)-1)*sw+2]
		for i := range ys {
			t := xs[i*sw : i*sw+2 : i*sw+2]
			if k.max {
				ys[i] = max(ys[i], t[0], t[1])
			} else {
				ys[i] += t[0] + t[1]
			}
		}
	case g.kw == 3 && g.dw == 1:
		xs := xr[base : base+(len(ys)-1)*sw+3]
		for i := range ys {
			t := xs[i*sw : i*sw+3 : i*sw+3]
			if k.max {
				ys[i] = max(ys[i], t[0], t[1], t[2])
			} else {
				ys[i] += t[0] + t[1] + t[2]
			}
		}
	default:
		for i := range ys {
			j := base + i*sw
			m := ys[i]
			for v := range g.kw {
				if xv := xr[j+v*g.dw]; k.max {
					m = max(m, xv)
				} else {
					m += xv
				}
			}
			ys[i] = m
		}
	}
}

func (k *poolKernel) backwardPlanes(lo, hi int) {
	g := &k.geom
	in, out := g.h*g.w, g.oh*g.ow
	for p := lo; p < hi; p++ {
		x := k.x[p*in : (p+1)*in]
		dx := k.dx[p*in : (p+1)*in]
		dy := k.dy[p*out : (p+1)*out]
		if k.max && k.haveIx {
			idx := k.idx[p*out : (p+1)*out]
			for i, d := range dy {
				if a := idx[i]; a >= 0 {
					dx[a] += d
				}
			}
			continue
		}
		for oy := range g.oh {
			ulo, uhi := int(k.rows.lo[oy]), int(k.rows.hi[oy])
			iy0 := oy*g.sh - g.pt
			for ox := range g.ow {
				d := dy[oy*g.ow+ox]
				if k.max {
					if a := k.argmax(x, oy, ox); a >= 0 {
						dx[a] += d
					}
					continue
				}
				if div := k.divisor(oy, ox); div > 0 {
					d /= div
				}
				vlo, vhi := int(k.cols.lo[ox]), int(k.cols.hi[ox])
				ix0 := ox*g.sw - g.pl
				for u := ulo; u < uhi; u++ {
					row := dx[(iy0+u*g.dh)*g.w:]
					for v := vlo; v < vhi; v++ {
						row[ix0+v*g.dw] += d
					}
				}
			}
		}
	}
}

// globalPoolKernel is GlobalAveragePool or GlobalMaxPool: y[n,c] is the
// mean or the maximum of plane x[n,c,...].
type globalPoolKernel struct {
	max           bool
	planes, inner int
	x, y, dy, dx  []float32
	fwdFn, bwdFn  func(lo, hi int)
}

func buildGlobalPool(isMax bool) Builder {
	return func(b *Build) (Kernel, error) {
		if len(b.In) != 1 || b.In[0] == nil {
			return nil, fmt.Errorf("%s takes 1 input, got %d", b.Node.Op, len(b.In))
		}
		if b.In[0].DType != graph.Float32 {
			return nil, fmt.Errorf("input is %v: %s takes float32 tensors", b.In[0].DType, b.Node.Op)
		}
		if len(b.Out) != 1 {
			return nil, fmt.Errorf("%s has 1 output, the node names %d", b.Node.Op, len(b.Out))
		}
		xs := b.In[0].Shape
		if len(xs) < 3 {
			return nil, fmt.Errorf("input X has shape %s: want [N, C, spatial...]", ShapeString(xs))
		}
		inner := 1
		for _, d := range xs[2:] {
			inner *= d
		}
		if inner == 0 {
			return nil, fmt.Errorf("input X %s has an empty spatial extent", ShapeString(xs))
		}
		out := make([]int, len(xs))
		out[0], out[1] = xs[0], xs[1]
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		b.Out[0].Shape = out
		k := &globalPoolKernel{max: isMax, planes: xs[0] * xs[1], inner: inner}
		k.fwdFn, k.bwdFn = k.forwardPlanes, k.backwardPlanes
		return k, nil
	}
}

func (k *globalPoolKernel) grain() int { return max(1, (1<<15)/k.inner) }

func (k *globalPoolKernel) Forward(in, out []*graph.Tensor) {
	k.x, k.y = in[0].F, out[0].F
	parallel.For(k.planes, k.grain(), k.fwdFn)
	k.x, k.y = nil, nil
}

func (k *globalPoolKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil {
		return
	}
	k.x, k.dy, k.dx = in[0].F, dout[0].F, din[0].F
	parallel.For(k.planes, k.grain(), k.bwdFn)
	k.x, k.dy, k.dx = nil, nil, nil
}

// argmax is the index of the first maximum of plane x.
func globalArgmax(x []float32) int {
	best, arg := x[0], 0
	for i, v := range x {
		if v > best || v != v && best == best {
			best, arg = v, i
		}
	}
	return arg
}

func (k *globalPoolKernel) forwardPlanes(lo, hi int) {
	for p := lo; p < hi; p++ {
		x := k.x[p*k.inner : (p+1)*k.inner]
		if k.max {
			k.y[p] = x[globalArgmax(x)]
			continue
		}
		// Four partial sums: faster, and more accurate on long planes.
		var s0, s1, s2, s3 float32
		i := 0
		for ; i+4 <= len(x); i += 4 {
			s0 += x[i]
			s1 += x[i+1]
			s2 += x[i+2]
			s3 += x[i+3]
		}
		for ; i < len(x); i++ {
			s0 += x[i]
		}
		k.y[p] = (s0 + s1 + s2 + s3) / float32(k.inner)
	}
}

func (k *globalPoolKernel) backwardPlanes(lo, hi int) {
	for p := lo; p < hi; p++ {
		dx := k.dx[p*k.inner : (p+1)*k.inner]
		if k.max {
			dx[globalArgmax(k.x[p*k.inner:(p+1)*k.inner])] += k.dy[p]
			continue
		}
		d := k.dy[p] / float32(k.inner)
		for i := range dx {
			dx[i] += d
		}
	}
}
