package engine

// Resize and Upsample interpolate x to a new size along each dimension.
// Output index o along a dimension of input size n, output size m and
// scale s (given, or m/n when sizes are given) maps to the input
// coordinate
//
//	asymmetric            o / s
//	half_pixel            (o + 0.5) / s - 0.5
//	pytorch_half_pixel    (o + 0.5) / s - 0.5, or 0 when m = 1
//	align_corners         o * (n-1) / (m-1), or 0 when m = 1
//	tf_half_pixel_for_nn  (o + 0.5) / s
//	half_pixel_symmetric  n/2 * (1 - m/(s*n)) + (o + 0.5) / s - 0.5
//
// computed in float32 as onnxruntime does. Mode nearest reads the input
// element at that coordinate rounded by nearest_mode (round_prefer_floor,
// round_prefer_ceil, floor, ceil; Upsample and opset-10 Resize truncate
// when enlarging and round up when shrinking), clamped to [0, n-1]. Mode
// linear interpolates along the last two dimensions (the others keep
// their size): with c clamped to [0, n-1], i0 = floor(c), i1 = min(i0+1,
// n-1) and w = c - i0,
//
//	y = (1-w) x[i0] + w x[i1]   along each of the two dimensions.
//
// Both modes are linear maps of x, and the backward pass is their
// adjoint: each dL/dy element is added, with the same weights, into the
// input elements it was read from.

import (
	"fmt"
	"math"
	"slices"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildResize, "Resize")
	register(buildUpsample, "Upsample")
}

// Coordinate transformations.
const (
	rszHalfPixel = iota
	rszPytorchHalfPixel
	rszAlignCorners
	rszAsymmetric
	rszTFHalfPixelNN
	rszHalfPixelSymmetric
)

// Nearest rounding modes.
const (
	rszRoundPreferFloor = iota
	rszRoundPreferCeil
	rszFloor
	rszCeil
	rszSimple // truncate when enlarging, round up when shrinking
)

// rszAxis is the interpolation along one dimension.
type rszAxis struct {
	in, out int
	scale   float32
}

// coord maps output index o to the input coordinate.
func (a rszAxis) coord(o, transform int) float32 {
	x, s := float32(o), a.scale
	switch transform {
	case rszHalfPixel:
		return (x+0.5)/s - 0.5
	case rszPytorchHalfPixel:
		if a.out > 1 {
			return (x+0.5)/s - 0.5
		}
		return 0
	case rszAlignCorners:
		if a.out == 1 {
			return 0
		}
		return x * float32(a.in-1) / float32(a.out-1)
	case rszTFHalfPixelNN:
		return (x + 0.5) / s
	case rszHalfPixelSymmetric:
		adj := float32(a.out) / (s * float32(a.in))
		center := float32(a.in) / 2
		return center*(1-adj) + (x+0.5)/s - 0.5
	}
	return x / s
}

// nearest returns the input index output o reads in nearest mode.
func (a rszAxis) nearest(o, transform, rounding int) int {
	c := float64(a.coord(o, transform))
	var i float64
	switch rounding {
	case rszRoundPreferFloor:
		if c == math.Trunc(c)+0.5 {
			i = math.Floor(c)
		} else {
			i = math.Round(c)
		}
	case rszRoundPreferCeil:
		i = math.Round(c)
	case rszFloor:
		i = math.Floor(c)
	case rszCeil:
		i = math.Ceil(c)
	default:
		if a.scale < 1 {
			i = math.Ceil(c)
		} else {
			i = math.Trunc(c)
		}
	}
	if !(i >= 0) {
		return 0
	}
	return int(min(i, float64(a.in-1)))
}

// rszLinearTab holds, per output index along one dimension, the two input
// indices and their weights.
type rszLinearTab struct {
	i0, i1 []int
	w0, w1 []float32
}

func (a rszAxis) linear(transform int) rszLinearTab {
	t := rszLinearTab{i0: make([]int, a.out), i1: make([]int, a.out), w0: make([]float32, a.out), w1: make([]float32, a.out)}
	for o := range a.out {
		c := a.coord(o, transform)
		c = max(0, min(c, float32(a.in-1)))
		if !(c >= 0) { // NaN
			c = 0
		}
		i0 := min(int(c), a.in-1)
		i1 := min(i0+1, a.in-1)
		w := c - float32(i0)
		t.i0[o], t.i1[o] = i0, i1
		t.w0[o], t.w1[o] = 1-w, w
	}
	return t
}

// resizeKernel interpolates; its tables are built by the first Forward,
// after the engine has checked the output's size.
type resizeKernel struct {
	in        []int
	axes      []rszAxis // one per dimension
	linear    bool
	transform int
	rounding  int

	near *tabMap // nearest
	// linear: planes of ih x iw resized to oh x ow
	planes, ih, iw, oh, ow int
	ty, tx                 *rszLinearTab
}

func (k *resizeKernel) setup() {
	if k.near != nil || k.ty != nil {
		return
	}
	if !k.linear {
		idx := make([][]int, len(k.axes))
		for d, a := range k.axes {
			idx[d] = make([]int, a.out)
			for o := range idx[d] {
				idx[d][o] = a.nearest(o, k.transform, k.rounding)
			}
		}
		k.near = newTabMap(k.in, idx)
		return
	}
	r := len(k.axes)
	ay, ax := rszAxis{in: 1, out: 1, scale: 1}, k.axes[r-1]
	if r >= 2 {
		ay = k.axes[r-2]
	}
	k.planes = 1
	for _, a := range k.axes[:max(r-2, 0)] {
		k.planes *= a.in
	}
	k.ih, k.iw, k.oh, k.ow = ay.in, ax.in, ay.out, ax.out
	ty, tx := ay.linear(k.transform), ax.linear(k.transform)
	k.ty, k.tx = &ty, &tx
}

func (k *resizeKernel) Forward(in, out []*graph.Tensor) {
	k.setup()
	if !k.linear {
		tabGather(k.near, out[0].F, in[0].F, 0)
		return
	}
	x, y := in[0].F, out[0].F
	rows := k.planes * k.oh
	if len(y) < shpParallelMin || rows < 2 {
		k.linearRows(x, y, 0, rows)
		return
	}
	parallel.For(rows, max(1, shpParallelMin/2/max(k.ow, 1)), func(lo, hi int) { k.linearRows(x, y, lo, hi) })
}

// linearRows computes output rows [lo, hi) (row = plane*oh + oy).
func (k *resizeKernel) linearRows(x, y []float32, lo, hi int) {
	tx, ty := k.tx, k.ty
	for row := lo; row < hi; row++ {
		p, oy := row/k.oh, row%k.oh
		plane := x[p*k.ih*k.iw:]
		r0 := plane[ty.i0[oy]*k.iw : ty.i0[oy]*k.iw+k.iw]
		r1 := plane[ty.i1[oy]*k.iw : ty.i1[oy]*k.iw+k.iw]
		wy0, wy1 := ty.w0[oy], ty.w1[oy]
		dst := y[row*k.ow : row*k.ow+k.ow]
		for ox := range dst {
			i0, i1 := tx.i0[ox], tx.i1[ox]
			wx0, wx1 := tx.w0[ox], tx.w1[ox]
			dst[ox] = wy0*(wx0*r0[i0]+wx1*r0[i1]) + wy1*(wx0*r1[i0]+wx1*r1[i1])
		}
	}
}

func (k *resizeKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil {
		return
	}
	k.setup()
	dy, dx := dout[0].F, din[0].F
	if !k.linear {
		tabScatterAdd(k.near, dy, dx)
		return
	}
	if len(dy) < shpParallelMin || k.planes < 2 {
		k.linearBack(dy, dx, 0, k.planes)
		return
	}
	parallel.For(k.planes, max(1, shpParallelMin/2/max(k.oh*k.ow, 1)), func(lo, hi int) { k.linearBack(dy, dx, lo, hi) })
}

// linearBack adds the adjoint of planes [lo, hi).
func (k *resizeKernel) linearBack(dy, dx []float32, lo, hi int) {
	tx, ty := k.tx, k.ty
	for p := lo; p < hi; p++ {
		plane := dx[p*k.ih*k.iw : (p+1)*k.ih*k.iw]
		for oy := range k.oh {
			r0 := plane[ty.i0[oy]*k.iw : ty.i0[oy]*k.iw+k.iw]
			r1 := plane[ty.i1[oy]*k.iw : ty.i1[oy]*k.iw+k.iw]
			wy0, wy1 := ty.w0[oy], ty.w1[oy]
			src := dy[(p*k.oh+oy)*k.ow : (p*k.oh+oy+1)*k.ow]
			for ox, g := range src {
				i0, i1 := tx.i0[ox], tx.i1[ox]
				a, b := g*tx.w0[ox], g*tx.w1[ox]
				r0[i0] += wy0 * a
				r0[i1] += wy0 * b
				r1[i0] += wy1 * a
				r1[i1] += wy1 * b
			}
		}
	}
}

// rszMaxDim bounds an output dimension.
const rszMaxDim = math.MaxInt32

// rszScales computes the output axes from per-dimension scales:
// out = floor(in * scale) (in float32, as onnxruntime does).
func rszScales(in []int, scales []float32) ([]rszAxis, error) {
	axes := make([]rszAxis, len(in))
	for d, n := range in {
		s := scales[d]
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("scale %g for axis %d is not a positive number", s, d)
		}
		o := math.Floor(float64(float32(n) * s))
		if o > rszMaxDim {
			return nil, fmt.Errorf("scale %g makes axis %d too large", s, d)
		}
		axes[d] = rszAxis{in: n, out: int(o), scale: s}
	}
	return axes, nil
}

// rszFinish checks the resize and sets the output meta.
func rszFinish(b *Build, x *Meta, k *resizeKernel, mode string) (Kernel, error) {
	switch mode {
	case "nearest":
	case "linear", "bilinear":
		k.linear = true
		r := len(k.axes)
		for d, a := range k.axes[:max(r-2, 0)] {
			if a.in != a.out || a.in > 0 && a.scale != 1 {
				return nil, fmt.Errorf("linear mode resizes only the last two dimensions; axis %d of %s changes (scale %g)", d, ShapeString(x.Shape), a.scale)
			}
		}
	case "cubic":
		return nil, fmt.Errorf("mode cubic is not supported (nearest and linear are)")
	default:
		return nil, fmt.Errorf("mode %q is not supported (nearest and linear are)", mode)
	}
	out := make([]int, len(k.axes))
	for d, a := range k.axes {
		if a.out > 0 && a.in == 0 {
			return nil, fmt.Errorf("cannot resize the empty axis %d of %s", d, ShapeString(x.Shape))
		}
		out[d] = a.out
	}
	if _, err := shpNumel(out); err != nil {
		return nil, err
	}
	k.in = slices.Clone(x.Shape)
	b.Out[0].Shape = out
	return k, nil
}

// buildResize handles opsets 10 to 19: inputs X, roi (ignored: only
// tf_crop_and_resize reads it, which is not supported), scales and sizes
// (exactly one given; an empty tensor counts as absent), and from opset
// 18 the axes and keep_aspect_ratio_policy attributes. Opset 10 takes
// (X, scales) and interpolates asymmetrically.
func buildResize(b *Build) (Kernel, error) {
	x, err := linFloat(b, 0, "X")
	if err != nil {
		return nil, err
	}
	if len(x.Shape) > shpMaxRank || len(x.Shape) == 0 {
		return nil, fmt.Errorf("cannot resize a tensor of rank %d", len(x.Shape))
	}
	for i := 1; i < len(b.NoGrad); i++ {
		b.NoGrad[i] = true
	}
	mode, err := b.Node.AttrString("mode", "nearest")
	if err != nil {
		return nil, err
	}
	k := &resizeKernel{transform: rszAsymmetric, rounding: rszSimple}
	scalesIn, sizesIn := 1, -1
	if b.Opset >= 11 {
		scalesIn, sizesIn = 2, 3
		ct, err := b.Node.AttrString("coordinate_transformation_mode", "half_pixel")
		if err != nil {
			return nil, err
		}
		transforms := map[string]int{"half_pixel": rszHalfPixel, "pytorch_half_pixel": rszPytorchHalfPixel,
			"align_corners": rszAlignCorners, "asymmetric": rszAsymmetric, "tf_half_pixel_for_nn": rszTFHalfPixelNN,
			"half_pixel_symmetric": rszHalfPixelSymmetric}
		t, ok := transforms[ct]
		if !ok {
			return nil, fmt.Errorf("coordinate_transformation_mode %q is not supported (half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn, half_pixel_symmetric)", ct)
		}
		k.transform = t
		nm, err := b.Node.AttrString("nearest_mode", "round_prefer_floor")
		if err != nil {
			return nil, err
		}
		roundings := map[string]int{"round_prefer_floor": rszRoundPreferFloor, "round_prefer_ceil": rszRoundPreferCeil,
			"floor": rszFloor, "ceil": rszCeil}
		if k.rounding, ok = roundings[nm]; !ok {
			return nil, fmt.Errorf("nearest_mode %q is not supported (round_prefer_floor, round_prefer_ceil, floor, ceil)", nm)
		}
	}
	r := len(x.Shape)
	axes := make([]int, r)
	for d := range axes {
		axes[d] = d
	}
	if b.Node.Has("axes") {
		a, err := b.Node.AttrInts("axes", nil)
		if err != nil {
			return nil, err
		}
		if axes, err = shpAxes(a, r); err != nil {
			return nil, err
		}
	}
	policy, err := b.Node.AttrString("keep_aspect_ratio_policy", "stretch")
	if err != nil {
		return nil, err
	}
	scales, haveScales, err := b.ConstFloats(scalesIn)
	if err != nil {
		return nil, err
	}
	haveScales = haveScales && len(scales) > 0
	var sizes []int64
	haveSizes := false
	if sizesIn > 0 {
		if sizes, haveSizes, err = b.ConstInts(sizesIn); err != nil {
			return nil, err
		}
		haveSizes = haveSizes && len(sizes) > 0
	}
	if haveScales == haveSizes {
		return nil, fmt.Errorf("exactly one of scales and sizes must be given")
	}
	full := make([]float32, r)
	for d := range full {
		full[d] = 1
	}
	if haveScales {
		if len(scales) != len(axes) {
			return nil, fmt.Errorf("scales %v has %d entries for %d axes of %s", scales, len(scales), len(axes), ShapeString(x.Shape))
		}
		for i, a := range axes {
			full[a] = scales[i]
		}
		if k.axes, err = rszScales(x.Shape, full); err != nil {
			return nil, err
		}
	} else {
		if len(sizes) != len(axes) {
			return nil, fmt.Errorf("sizes %v has %d entries for %d axes of %s", sizes, len(sizes), len(axes), ShapeString(x.Shape))
		}
		for _, s := range sizes {
			if s < 0 || s > rszMaxDim {
				return nil, fmt.Errorf("invalid sizes %v", sizes)
			}
		}
		k.axes = make([]rszAxis, r)
		for d, n := range x.Shape {
			k.axes[d] = rszAxis{in: n, out: n, scale: 1}
		}
		switch policy {
		case "stretch":
			for i, a := range axes {
				k.axes[a].out = int(sizes[i])
				k.axes[a].scale = float32(sizes[i]) / float32(x.Shape[a])
			}
		case "not_larger", "not_smaller":
			s := float32(0)
			for i, a := range axes {
				v := float32(sizes[i]) / float32(x.Shape[a])
				if i == 0 || policy == "not_larger" && v < s || policy == "not_smaller" && v > s {
					s = v
				}
			}
			for _, a := range axes {
				o := math.RoundToEven(float64(s) * float64(x.Shape[a]))
				if !(o <= rszMaxDim) {
					return nil, fmt.Errorf("invalid sizes %v", sizes)
				}
				k.axes[a].out, k.axes[a].scale = int(o), s
			}
		default:
			return nil, fmt.Errorf("keep_aspect_ratio_policy %q is not supported (stretch, not_larger, not_smaller)", policy)
		}
	}
	if b.Opset >= 11 {
		ct, _ := b.Node.AttrString("coordinate_transformation_mode", "half_pixel")
		if ct == "tf_crop_and_resize" {
			return nil, fmt.Errorf("coordinate_transformation_mode tf_crop_and_resize is not supported")
		}
	}
	if aa, err := b.Node.AttrInt("antialias", 0); err != nil {
		return nil, err
	} else if aa != 0 && mode != "nearest" {
		for _, a := range k.axes {
			if a.scale < 1 {
				return nil, fmt.Errorf("antialiased downsampling is not supported")
			}
		}
	}
	for _, a := range k.axes {
		if !(a.scale > 0) && a.out > 0 {
			return nil, fmt.Errorf("cannot resize an empty axis of %s", ShapeString(x.Shape))
		}
	}
	return rszFinish(b, x, k, mode)
}

// buildUpsample: Upsample (opsets 7-9): scales attribute (before opset
// 9) or constant input 1, asymmetric coordinates, modes nearest and
// linear.
func buildUpsample(b *Build) (Kernel, error) {
	x, err := linFloat(b, 0, "X")
	if err != nil {
		return nil, err
	}
	if len(x.Shape) > shpMaxRank || len(x.Shape) == 0 {
		return nil, fmt.Errorf("cannot resize a tensor of rank %d", len(x.Shape))
	}
	shpNoGrad(b, 1)
	mode, err := b.Node.AttrString("mode", "nearest")
	if err != nil {
		return nil, err
	}
	var scales []float32
	if b.Opset < 9 {
		if scales, err = b.Node.AttrFloats("scales", nil); err != nil {
			return nil, err
		}
	} else {
		var ok bool
		if scales, ok, err = b.ConstFloats(1); err != nil || !ok {
			return nil, cmpErr(err, "the scales input is missing")
		}
	}
	if len(scales) != len(x.Shape) {
		return nil, fmt.Errorf("scales %v has %d entries for %s", scales, len(scales), ShapeString(x.Shape))
	}
	k := &resizeKernel{transform: rszAsymmetric, rounding: rszSimple}
	if k.axes, err = rszScales(x.Shape, scales); err != nil {
		return nil, err
	}
	return rszFinish(b, x, k, mode)
}
