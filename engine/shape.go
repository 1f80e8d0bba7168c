package engine

// Shape operators: the operators that move, relabel or describe data
// without arithmetic on it.
//
//	Reshape, Flatten, Squeeze, Unsqueeze, Identity   y = x (new shape, same storage)
//	Dropout     y = x in inference; y = x * m / (1-r), m ~ Bernoulli(1-r), in training
//	Transpose   y[i_0..i_{r-1}] = x[i_{p^-1(0)}..]: y.shape[d] = x.shape[perm[d]]
//	Slice       y[i] = x[start + i*step] along each sliced axis
//	Concat      y = [x_0 x_1 ...] along axis; Split is its inverse
//	Expand      y = x broadcast (numpy rules) to shape
//	Cast        y = x converted to the target element type
//	Shape, Size, Constant, ConstantOfShape, Range: values known at compile time
//
// Every operator whose output is float data has a backward pass: the
// adjoint of a linear map that moves data, that is dL/dx gathers
// (Concat, Slice, Transpose) or sums (Expand) the entries of dL/dy that x
// was copied to. The operators also run on Int64 tensors, which only
// happens while folding constants (the shape arithmetic exporters emit
// around Reshape).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildReshape, "Reshape")
	register(buildFlatten, "Flatten")
	register(buildSqueeze, "Squeeze")
	register(buildUnsqueeze, "Unsqueeze")
	register(buildIdentity, "Identity")
	register(buildDropout, "Dropout")
	register(buildTranspose, "Transpose")
	register(buildSlice, "Slice")
	register(buildConcat, "Concat")
	register(buildSplit, "Split")
	register(buildExpand, "Expand")
	register(buildCast, "Cast")
	register(buildShape, "Shape")
	register(buildSize, "Size")
	register(buildConstant, "Constant")
	register(buildConstantOfShape, "ConstantOfShape")
	register(buildRange, "Range")
}

// ---------------------------------------------------------------- helpers

// shpMaxRank bounds the rank of the tensors the shape operators accept.
const shpMaxRank = 64

// shpNumel is the number of elements of a shape, or an error when a
// dimension is negative or the product overflows.
func shpNumel(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %s", ShapeString(shape))
		}
		if d != 0 && n > math.MaxInt32*int(math.MaxInt32)/d {
			return 0, fmt.Errorf("shape %s has too many elements", ShapeString(shape))
		}
		n *= d
	}
	return n, nil
}

// shpAxis normalises an axis in [-rank, rank) (or [-rank, rank] when
// inclusive, for operators whose axis may name the end).
func shpAxis(axis int64, rank int, inclusive bool) (int, error) {
	hi := int64(rank)
	if inclusive {
		hi++
	}
	a := axis
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= hi {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	return int(a), nil
}

// shpAxes normalises a list of distinct axes for a tensor of the given rank.
func shpAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		ax, err := shpAxis(a, rank, false)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, fmt.Errorf("axis %d appears twice in %v", a, axes)
		}
		seen[ax] = true
		out[i] = ax
	}
	return out, nil
}

// shpStrides returns the row-major strides of a shape.
func shpStrides(shape []int) []int {
	s := make([]int, len(shape))
	n := 1
	for d := len(shape) - 1; d >= 0; d-- {
		s[d] = n
		n *= shape[d]
	}
	return s
}

// shpNoGrad marks inputs as hyperparameters (when the node has them).
func shpNoGrad(b *Build, inputs ...int) {
	for _, i := range inputs {
		if i < len(b.NoGrad) {
			b.NoGrad[i] = true
		}
	}
}

// shpIn returns input i's meta, or an error when it is absent.
func shpIn(b *Build, i int) (*Meta, error) {
	if i >= len(b.In) || b.In[i] == nil {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	return b.In[i], nil
}

// shpAxesOperand reads an axes list given as an attribute before opset
// `from` and as constant input `input` from then on. ok is false when
// neither is given.
func shpAxesOperand(b *Build, name string, from, input int) (axes []int64, ok bool, err error) {
	if b.Opset < from {
		if !b.Node.Has(name) {
			return nil, false, nil
		}
		axes, err = b.Node.AttrInts(name, nil)
		return axes, err == nil, err
	}
	if b.Node.Has(name) {
		return nil, false, fmt.Errorf("attribute %s is not allowed from opset %d (it is input %d)", name, from, input)
	}
	if input < len(b.In) {
		b.NoGrad[input] = true
	}
	axes, ok, err = b.ConstInts(input)
	return axes, ok, err
}

// shpView describes a strided view of a source tensor: element i (a
// multi-index over shape, row-major) of the view is src[off + sum_d
// i_d*strides[d]]. Transpose, Slice and Expand are views; forward copies
// the view into the contiguous output, backward adds the output's
// gradient back through it.
type shpView struct {
	shape, strides []int
	off            int
}

// simplify drops unit dimensions and merges dimensions the view walks
// contiguously, so that a reshape-like view becomes one run.
func (v shpView) simplify() shpView {
	var shape, strides []int
	for d, n := range v.shape {
		if n == 1 {
			continue
		}
		if k := len(shape) - 1; k >= 0 && strides[k] == v.strides[d]*n {
			shape[k] *= n
			strides[k] = v.strides[d]
			continue
		}
		shape = append(shape, n)
		strides = append(strides, v.strides[d])
	}
	if len(shape) == 0 {
		shape, strides = []int{1}, []int{1}
	}
	return shpView{shape: shape, strides: strides, off: v.off}
}

// shpParallelMin is the number of elements below which a data-moving loop
// runs on one goroutine.
const shpParallelMin = 1 << 15

// shpGather copies the view of src into the contiguous dst (len(dst) is
// the view's size).
func shpGather[T float32 | int64](dst, src []T, v shpView) {
	r := len(v.shape)
	n := v.shape[r-1]
	if n == 0 || len(dst) == 0 {
		return
	}
	rows := len(dst) / n
	if len(dst) < shpParallelMin || rows < 2 {
		shpGatherRows(dst, src, v, 0, rows)
		return
	}
	parallel.For(rows, max(1, shpParallelMin/2/n), func(lo, hi int) { shpGatherRows(dst, src, v, lo, hi) })
}

func shpGatherRows[T float32 | int64](dst, src []T, v shpView, lo, hi int) {
	r := len(v.shape)
	n, s := v.shape[r-1], v.strides[r-1]
	var buf [shpMaxRank]int
	idx := buf[:r-1]
	base := v.off
	rem := lo
	for d := r - 2; d >= 0; d-- {
		idx[d] = rem % v.shape[d]
		rem /= v.shape[d]
		base += idx[d] * v.strides[d]
	}
	for row := lo; row < hi; row++ {
		o := dst[row*n : row*n+n]
		switch s {
		case 1:
			copy(o, src[base:base+n])
		case 0:
			x := src[base]
			for j := range o {
				o[j] = x
			}
		default:
			p := base
			for j := range o {
				o[j] = src[p]
				p += s
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			base += v.strides[d]
			if idx[d] < v.shape[d] {
				break
			}
			base -= idx[d] * v.strides[d]
			idx[d] = 0
		}
	}
}

// shpScatterAdd is the adjoint of shpGather: src[view] += dst. Entries of
// the view that alias (stride 0) accumulate.
func shpScatterAdd(dst, src []float32, v shpView) {
	r := len(v.shape)
	n := v.shape[r-1]
	if n == 0 || len(dst) == 0 {
		return
	}
	rows := len(dst) / n
	// Rows are disjoint in src when the outermost stride is not 0 (a view
	// that aliases does so through stride-0 dimensions only).
	if len(dst) < shpParallelMin || rows < 2 || r < 2 || v.strides[0] == 0 {
		shpScatterRows(dst, src, v, 0, rows)
		return
	}
	per := rows / v.shape[0] // rows per index of dimension 0
	parallel.For(v.shape[0], max(1, shpParallelMin/2/(n*per)), func(lo, hi int) { shpScatterRows(dst, src, v, lo*per, hi*per) })
}

func shpScatterRows(dst, src []float32, v shpView, lo, hi int) {
	r := len(v.shape)
	n, s := v.shape[r-1], v.strides[r-1]
	var buf [shpMaxRank]int
	idx := buf[:r-1]
	base := v.off
	rem := lo
	for d := r - 2; d >= 0; d-- {
		idx[d] = rem % v.shape[d]
		rem /= v.shape[d]
		base += idx[d] * v.strides[d]
	}
	for row := lo; row < hi; row++ {
		o := dst[row*n : row*n+n]
		switch s {
		case 1:
			t := src[base : base+n]
			for j, x := range o {
				t[j] += x
			}
		case 0:
			var sum float32
			for _, x := range o {
				sum += x
			}
			src[base] += sum
		default:
			p := base
			for _, x := range o {
				src[p] += x
				p += s
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			base += v.strides[d]
			if idx[d] < v.shape[d] {
				break
			}
			base -= idx[d] * v.strides[d]
			idx[d] = 0
		}
	}
}

// shpAddInto adds src into dst element-wise (dst += src).
func shpAddInto(dst, src []float32) {
	if len(dst) < shpParallelMin {
		for i, x := range src[:len(dst)] {
			dst[i] += x
		}
		return
	}
	parallel.For(len(dst), shpParallelMin/2, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		for i, x := range s {
			d[i] += x
		}
	})
}

// viewKernel copies a strided view of its input (Transpose, Slice,
// Expand); the backward pass adds dL/dy back through the view.
type viewKernel struct{ v shpView }

func (k *viewKernel) Forward(in, out []*graph.Tensor) {
	if in[0].DType == graph.Int64 {
		shpGather(out[0].I, in[0].I, k.v)
		return
	}
	shpGather(out[0].F, in[0].F, k.v)
}

func (k *viewKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] != nil {
		shpScatterAdd(dout[0].F, din[0].F, k.v)
	}
}

// aliasKernel is y = x with a new shape: the output shares the input's
// storage (Reshape, Flatten, Squeeze, Unsqueeze, Identity, inference
// Dropout, Cast to the same type).
type aliasKernel struct{}

func (aliasKernel) Forward(in, out []*graph.Tensor) {
	out[0].F = in[0].F
	out[0].I = in[0].I
}

// relabels tells the compiler not to allocate the output's storage.
func (aliasKernel) relabels() {}

func (aliasKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] != nil {
		shpAddInto(din[0].F, dout[0].F)
	}
}

// shpAlias sets output 0 to input 0 relabelled with shape.
func shpAlias(b *Build, in *Meta, shape []int) (Kernel, error) {
	b.Out[0].Shape = shape
	b.Out[0].DType = in.DType
	return aliasKernel{}, nil
}

// ---------------------------------------------------------------- Reshape

// buildReshape: y = x with the shape given by constant input 1, where 0
// copies x's dimension at that position (unless allowzero=1, opset 14)
// and one -1 is inferred from the number of elements.
func buildReshape(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	var shape []int64
	if b.Node.Input(1) == "" && b.Node.Has("shape") { // opset < 5
		if shape, err = b.Node.AttrInts("shape", nil); err != nil {
			return nil, err
		}
	} else {
		shpNoGrad(b, 1)
		var ok bool
		shape, ok, err = b.ConstInts(1)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("the shape input is missing")
		}
		if t := b.In[1]; len(t.Shape) != 1 {
			return nil, fmt.Errorf("the shape input must be 1-D, it is %s", ShapeString(t.Shape))
		}
	}
	allowZero, err := b.Node.AttrInt("allowzero", 0)
	if err != nil {
		return nil, err
	}
	out, err := shpReshape(x.Shape, shape, allowZero != 0)
	if err != nil {
		return nil, err
	}
	return shpAlias(b, x, out)
}

// shpReshape resolves a Reshape target against the input's shape.
func shpReshape(in []int, shape []int64, allowZero bool) ([]int, error) {
	if len(shape) > shpMaxRank {
		return nil, fmt.Errorf("target shape has %d dimensions, more than %d", len(shape), shpMaxRank)
	}
	total, err := shpNumel(in)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(shape))
	infer := -1
	known := 1
	hasZero := false
	for i, v := range shape {
		switch {
		case v == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("target shape %v copies dimension %d (0), but the input %s has rank %d", shape, i, ShapeString(in), len(in))
			}
			out[i] = in[i]
		case v == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("target shape %v has more than one -1", shape)
			}
			infer = i
			continue
		case v < 0:
			return nil, fmt.Errorf("target shape %v has a negative dimension %d", shape, v)
		case v > math.MaxInt32:
			return nil, fmt.Errorf("target shape %v: dimension %d is too large", shape, v)
		default:
			out[i] = int(v)
		}
		if out[i] == 0 {
			hasZero = true
		}
		if out[i] != 0 && known > math.MaxInt/out[i] {
			return nil, fmt.Errorf("cannot reshape %s (%d elements) to %v", ShapeString(in), total, shape)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if allowZero && hasZero {
			return nil, fmt.Errorf("target shape %v has both -1 and 0 with allowzero=1", shape)
		}
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %s (%d elements) to %v: the -1 cannot be inferred", ShapeString(in), total, shape)
		}
		out[infer] = total / known
		known = total
	}
	if known != total {
		return nil, fmt.Errorf("cannot reshape %s (%d elements) to %v (%d elements)", ShapeString(in), total, shape, known)
	}
	return out, nil
}

// buildFlatten: y = x as a matrix [prod(x.shape[:axis]), prod(x.shape[axis:])].
func buildFlatten(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	axis, err := b.Node.AttrInt("axis", 1)
	if err != nil {
		return nil, err
	}
	a, err := shpAxis(axis, len(x.Shape), true)
	if err != nil {
		return nil, err
	}
	outer, err := shpNumel(x.Shape[:a])
	if err != nil {
		return nil, err
	}
	inner, err := shpNumel(x.Shape[a:])
	if err != nil {
		return nil, err
	}
	return shpAlias(b, x, []int{outer, inner})
}

// buildSqueeze: y = x without the unit dimensions named by axes
// (attribute before opset 13, input 1 from 13), or without every unit
// dimension when axes is absent.
func buildSqueeze(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	axes, ok, err := shpAxesOperand(b, "axes", 13, 1)
	if err != nil {
		return nil, err
	}
	drop := make([]bool, len(x.Shape))
	if ok {
		ax, err := shpAxes(axes, len(x.Shape))
		if err != nil {
			return nil, err
		}
		for _, a := range ax {
			if x.Shape[a] != 1 {
				return nil, fmt.Errorf("cannot squeeze axis %d of %s: its size is not 1", a, ShapeString(x.Shape))
			}
			drop[a] = true
		}
	} else {
		for a, d := range x.Shape {
			drop[a] = d == 1
		}
	}
	out := []int{}
	for a, d := range x.Shape {
		if !drop[a] {
			out = append(out, d)
		}
	}
	return shpAlias(b, x, out)
}

// buildUnsqueeze: y = x with unit dimensions inserted at axes (positions
// in the output; attribute before opset 13, input 1 from 13).
func buildUnsqueeze(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	axes, ok, err := shpAxesOperand(b, "axes", 13, 1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("axes are missing")
	}
	r := len(x.Shape) + len(axes)
	if r > shpMaxRank {
		return nil, fmt.Errorf("the output would have %d dimensions, more than %d", r, shpMaxRank)
	}
	ax, err := shpAxes(axes, r)
	if err != nil {
		return nil, err
	}
	ins := make([]bool, r)
	for _, a := range ax {
		ins[a] = true
	}
	out := make([]int, r)
	k := 0
	for a := range out {
		if ins[a] {
			out[a] = 1
		} else {
			out[a] = x.Shape[k]
			k++
		}
	}
	return shpAlias(b, x, out)
}

// buildIdentity: y = x.
func buildIdentity(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	return shpAlias(b, x, slices.Clone(x.Shape))
}

// ---------------------------------------------------------------- Dropout

// dropoutKernel is inverted dropout in training: y = x * m with m = 1/(1-r)
// with probability 1-r and 0 otherwise, drawn afresh by every Forward from
// a generator of its own; dL/dx = dL/dy * m.
type dropoutKernel struct {
	rng   *rand.Rand
	ratio float32
	mask  []float32
}

func (k *dropoutKernel) Forward(in, out []*graph.Tensor) {
	x, y := in[0].F, out[0].F
	if cap(k.mask) < len(x) {
		k.mask = make([]float32, len(x))
	}
	m := k.mask[:len(x)]
	if k.ratio >= 1 {
		clear(m)
		clear(y)
		return
	}
	scale := 1 / (1 - k.ratio)
	// keep when a uniform 32-bit draw is below (1-r)*2^32
	threshold := uint64(float64(1-k.ratio) * (1 << 32))
	i := 0
	for ; i+1 < len(x); i += 2 {
		u := k.rng.Uint64()
		m[i], m[i+1] = 0, 0
		if u&0xffffffff < threshold {
			m[i] = scale
		}
		if u>>32 < threshold {
			m[i+1] = scale
		}
	}
	if i < len(x) {
		m[i] = 0
		if k.rng.Uint64()>>32 < threshold {
			m[i] = scale
		}
	}
	for i, v := range x {
		y[i] = v * m[i]
	}
}

func (k *dropoutKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil {
		return
	}
	d := din[0].F
	m := k.mask[:len(d)]
	for i, g := range dout[0].F {
		d[i] += g * m[i]
	}
}

// dropoutMaskKernel is inference Dropout with its mask output: y = x and
// the mask all ones (true).
type dropoutMaskKernel struct{ aliasKernel }

func (k dropoutMaskKernel) Forward(in, out []*graph.Tensor) {
	k.aliasKernel.Forward(in, out)
	if m := out[1].I; len(m) > 0 && m[len(m)-1] != 1 { // filled once
		for i := range m {
			m[i] = 1
		}
	}
}

// buildDropout: identity in inference (output 1, the mask, is then all
// true, an Int64 constant of ones); inverted dropout when compiled for
// training, with the ratio from the attribute (before opset 12) or the
// constant input 1 (default 0.5). The training_mode input is ignored: the
// program's mode decides.
func buildDropout(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	ratio := float32(0.5)
	if b.Opset < 12 {
		if ratio, err = b.Node.AttrFloat("ratio", 0.5); err != nil {
			return nil, err
		}
	} else {
		for i := 1; i < len(b.NoGrad); i++ {
			b.NoGrad[i] = true
		}
		r, ok, err := b.ConstFloats(1)
		if err != nil {
			return nil, err
		}
		if ok {
			if len(r) != 1 {
				return nil, fmt.Errorf("ratio must be a scalar, it has %d values", len(r))
			}
			ratio = r[0]
		}
	}
	if !(ratio >= 0 && ratio <= 1) {
		return nil, fmt.Errorf("ratio %g is not in [0, 1]", ratio)
	}
	if x.DType != graph.Float32 && b.Train {
		return nil, fmt.Errorf("dropout of %v data is not supported", x.DType)
	}
	b.Out[0].Shape = slices.Clone(x.Shape)
	b.Out[0].DType = x.DType
	for j := 1; j < len(b.Out); j++ {
		b.Out[j].Shape = []int{0}
	}
	wantMask := len(b.Out) > 1 && b.Node.Outputs[1] != ""
	if !b.Train {
		if wantMask {
			n, err := shpNumel(x.Shape)
			if err != nil {
				return nil, err
			}
			if n > 1<<24 {
				return nil, fmt.Errorf("the mask output of a %s dropout is too large to hold as a constant", ShapeString(x.Shape))
			}
			ones := make([]int64, n)
			for i := range ones {
				ones[i] = 1
			}
			b.Out[1].Shape = slices.Clone(x.Shape)
			b.Out[1].DType = graph.Int64
			b.Out[1].Value = graph.NewInt(x.Shape, ones)
			return dropoutMaskKernel{}, nil
		}
		return aliasKernel{}, nil
	}
	if wantMask {
		return nil, fmt.Errorf("the mask output (output 1) is not supported in training")
	}
	seed := b.Rand.Uint64()
	return &dropoutKernel{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ratio: ratio}, nil
}

// -------------------------------------------------------------- Transpose

// buildTranspose: y.shape[d] = x.shape[perm[d]], y[i] = x[j] with
// j[perm[d]] = i[d]; perm defaults to reversing the axes.
func buildTranspose(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r > shpMaxRank {
		return nil, fmt.Errorf("rank %d is more than %d", r, shpMaxRank)
	}
	perm64, err := b.Node.AttrInts("perm", nil)
	if err != nil {
		return nil, err
	}
	perm := make([]int, r)
	if perm64 == nil {
		for d := range perm {
			perm[d] = r - 1 - d
		}
	} else {
		if len(perm64) != r {
			return nil, fmt.Errorf("perm %v has %d entries, the input %s has rank %d", perm64, len(perm64), ShapeString(x.Shape), r)
		}
		seen := make([]bool, r)
		for d, p := range perm64 {
			if p < 0 || p >= int64(r) || seen[p] {
				return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", perm64, r-1)
			}
			seen[p] = true
			perm[d] = int(p)
		}
	}
	in := shpStrides(x.Shape)
	v := shpView{shape: make([]int, r), strides: make([]int, r)}
	for d, p := range perm {
		v.shape[d] = x.Shape[p]
		v.strides[d] = in[p]
	}
	b.Out[0].Shape = slices.Clone(v.shape)
	b.Out[0].DType = x.DType
	return &viewKernel{v: v.simplify()}, nil
}

// ------------------------------------------------------------------ Slice

// buildSlice: along each axis a (all by default), y takes x's elements
// start, start+step, ... up to end (exclusive), with numpy's clamping of
// out-of-range starts and ends (INT64_MAX means "to the end"). Opset 9
// takes starts, ends and axes as attributes; opset 10 and later as
// constant inputs 1-4 (starts, ends, axes, steps).
func buildSlice(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	if r > shpMaxRank {
		return nil, fmt.Errorf("rank %d is more than %d", r, shpMaxRank)
	}
	var starts, ends, axes, steps []int64
	haveAxes := false
	if b.Opset < 10 {
		if starts, err = b.Node.AttrInts("starts", nil); err != nil {
			return nil, err
		}
		if ends, err = b.Node.AttrInts("ends", nil); err != nil {
			return nil, err
		}
		if starts == nil || ends == nil {
			return nil, fmt.Errorf("the starts and ends attributes are required")
		}
		if axes, err = b.Node.AttrInts("axes", nil); err != nil {
			return nil, err
		}
		haveAxes = axes != nil
	} else {
		for i := 1; i < len(b.NoGrad); i++ {
			b.NoGrad[i] = true
		}
		var ok bool
		if starts, ok, err = b.ConstInts(1); err != nil || !ok {
			return nil, cmpErr(err, "the starts input is missing")
		}
		if ends, ok, err = b.ConstInts(2); err != nil || !ok {
			return nil, cmpErr(err, "the ends input is missing")
		}
		if axes, haveAxes, err = b.ConstInts(3); err != nil {
			return nil, err
		}
		if steps, _, err = b.ConstInts(4); err != nil {
			return nil, err
		}
	}
	if len(ends) != len(starts) {
		return nil, fmt.Errorf("starts has %d entries and ends %d", len(starts), len(ends))
	}
	if !haveAxes {
		if len(starts) > r {
			return nil, fmt.Errorf("%d starts for an input of rank %d", len(starts), r)
		}
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(axes) != len(starts) {
		return nil, fmt.Errorf("axes has %d entries and starts %d", len(axes), len(starts))
	}
	if steps != nil && len(steps) != len(starts) {
		return nil, fmt.Errorf("steps has %d entries and starts %d", len(steps), len(starts))
	}
	ax, err := shpAxes(axes, r)
	if err != nil {
		return nil, err
	}
	in := shpStrides(x.Shape)
	v := shpView{shape: slices.Clone(x.Shape), strides: slices.Clone(in)}
	for i, a := range ax {
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("step 0 on axis %d", a)
		}
		start, n := shpSliceRange(starts[i], ends[i], step, int64(x.Shape[a]))
		v.shape[a] = int(n)
		v.off += int(start) * in[a]
		v.strides[a] = in[a] * int(step)
	}
	if n, _ := shpNumel(v.shape); n == 0 {
		v.off = 0
	}
	b.Out[0].Shape = slices.Clone(v.shape)
	b.Out[0].DType = x.DType
	return &viewKernel{v: v.simplify()}, nil
}

// shpSliceRange clamps a slice of a dimension of size dim as numpy does
// and returns its first index and its length.
func shpSliceRange(start, end, step, dim int64) (first, n int64) {
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	if step > 0 {
		start = min(max(start, 0), dim)
		end = min(max(end, 0), dim)
		if end <= start {
			return 0, 0
		}
		return start, (end-start-1)/step + 1
	}
	start = min(max(start, 0), dim-1)
	end = min(max(end, -1), dim-1)
	if start <= end {
		return 0, 0
	}
	// (start-end) / -step rounded up, without overflowing for step = MinInt64
	d := start - end
	s := uint64(-(step + 1)) + 1
	return start, int64((uint64(d) + s - 1) / s)
}

// cmpErr returns err, or a new error with msg when err is nil.
func cmpErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%s", msg)
}

// ----------------------------------------------------------------- Concat

// concatKernel: y = [x_0 x_1 ...] along an axis: seen as matrices
// [outer, width_i], the inputs' rows are laid side by side.
type concatKernel struct {
	outer  int
	widths []int // per input: its size along axis times the inner size
	total  int   // sum of widths
}

func (k *concatKernel) Forward(in, out []*graph.Tensor) {
	if out[0].DType == graph.Int64 {
		concatRows(k, in, out[0].I, func(t *graph.Tensor) []int64 { return t.I }, 0, k.outer)
		return
	}
	y := out[0].F
	if len(y) < shpParallelMin || k.outer < 2 {
		concatRows(k, in, y, concatFloats, 0, k.outer)
		return
	}
	parallel.For(k.outer, max(1, shpParallelMin/2/max(k.total, 1)), func(lo, hi int) { concatRows(k, in, y, concatFloats, lo, hi) })
}

func concatFloats(t *graph.Tensor) []float32 { return t.F }

// concatRows copies rows [lo, hi) of every input into place.
func concatRows[T float32 | int64](k *concatKernel, in []*graph.Tensor, y []T, data func(*graph.Tensor) []T, lo, hi int) {
	for o := lo; o < hi; o++ {
		off := 0
		for i, t := range in {
			w := k.widths[i]
			if w == 0 {
				continue
			}
			copy(y[o*k.total+off:o*k.total+off+w], data(t)[o*w:o*w+w])
			off += w
		}
	}
}

func (k *concatKernel) Backward(in, out, dout, din []*graph.Tensor) {
	dy := dout[0].F
	if len(dy) < shpParallelMin || k.outer < 2 {
		k.backRows(dy, din, 0, k.outer)
		return
	}
	parallel.For(k.outer, max(1, shpParallelMin/2/max(k.total, 1)), func(lo, hi int) { k.backRows(dy, din, lo, hi) })
}

// backRows adds rows [lo, hi) of dL/dy into the inputs' gradients.
func (k *concatKernel) backRows(dy []float32, din []*graph.Tensor, lo, hi int) {
	for o := lo; o < hi; o++ {
		off := 0
		for i, d := range din {
			w := k.widths[i]
			if d != nil {
				dst := d.F[o*w : o*w+w]
				for j, g := range dy[o*k.total+off : o*k.total+off+w] {
					dst[j] += g
				}
			}
			off += w
		}
	}
}

// buildConcat: y = concatenation of the inputs along axis (which every
// other dimension must agree on); the inputs must share an element type.
func buildConcat(b *Build) (Kernel, error) {
	if len(b.In) == 0 {
		return nil, fmt.Errorf("no inputs")
	}
	first, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	if !b.Node.Has("axis") {
		return nil, fmt.Errorf("the axis attribute is required")
	}
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	r := len(first.Shape)
	a, err := shpAxis(axis, r, false)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(first.Shape)
	out[a] = 0
	k := &concatKernel{widths: make([]int, len(b.In))}
	for i := range b.In {
		m, err := shpIn(b, i)
		if err != nil {
			return nil, err
		}
		if m.DType != first.DType {
			return nil, fmt.Errorf("input %d is %v, input 0 is %v", i, m.DType, first.DType)
		}
		if len(m.Shape) != r {
			return nil, fmt.Errorf("input %d is %s, input 0 is %s: ranks differ", i, ShapeString(m.Shape), ShapeString(first.Shape))
		}
		for d := range r {
			if d != a && m.Shape[d] != first.Shape[d] {
				return nil, fmt.Errorf("input %d is %s, input 0 is %s: they differ off axis %d", i, ShapeString(m.Shape), ShapeString(first.Shape), a)
			}
		}
		if out[a] > math.MaxInt32-m.Shape[a] {
			return nil, fmt.Errorf("the output is too large along axis %d", a)
		}
		out[a] += m.Shape[a]
	}
	if _, err := shpNumel(out); err != nil {
		return nil, err
	}
	inner, _ := shpNumel(first.Shape[a+1:])
	k.outer, _ = shpNumel(first.Shape[:a])
	for i, m := range b.In {
		k.widths[i] = m.Shape[a] * inner
		k.total += k.widths[i]
	}
	b.Out[0].Shape = out
	b.Out[0].DType = first.DType
	return k, nil
}

// ------------------------------------------------------------------ Split

// splitKernel: y_j = x[..., off_j : off_j+size_j, ...] along an axis, the
// inverse of Concat.
type splitKernel struct {
	outer  int
	widths []int
	total  int
}

func (k *splitKernel) Forward(in, out []*graph.Tensor) {
	off := 0
	for j, t := range out {
		w := k.widths[j]
		for o := range k.outer {
			if t.DType == graph.Int64 {
				copy(t.I[o*w:o*w+w], in[0].I[o*k.total+off:])
			} else {
				copy(t.F[o*w:o*w+w], in[0].F[o*k.total+off:])
			}
		}
		off += w
	}
}

func (k *splitKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil {
		return
	}
	off := 0
	for j, d := range dout {
		w := k.widths[j]
		if d != nil {
			for o := range k.outer {
				dst := din[0].F[o*k.total+off : o*k.total+off+w]
				for i, g := range d.F[o*w : o*w+w] {
					dst[i] += g
				}
			}
		}
		off += w
	}
}

// buildSplit: splits x along axis into the outputs, with sizes from the
// split attribute (before opset 13) or constant input 1 (from 13), or
// equal parts: of the number of outputs, or of num_outputs (opset 18,
// where the last part may be smaller).
func buildSplit(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	a, err := shpAxis(axis, len(x.Shape), false)
	if err != nil {
		return nil, err
	}
	split, ok, err := shpAxesOperand(b, "split", 13, 1)
	if err != nil {
		return nil, err
	}
	if ok && len(split) == 0 { // an empty split input means "absent"
		ok = false
	}
	nOut := len(b.Out)
	if nOut == 0 {
		return nil, fmt.Errorf("no outputs")
	}
	dim := x.Shape[a]
	sizes := make([]int, nOut)
	switch {
	case ok:
		if len(split) != nOut {
			return nil, fmt.Errorf("split %v has %d entries for %d outputs", split, len(split), nOut)
		}
		sum := int64(0)
		for j, s := range split {
			if s < 0 || s > int64(dim) {
				return nil, fmt.Errorf("split %v has an invalid size %d for a dimension of %d", split, s, dim)
			}
			sum += s
			sizes[j] = int(s)
		}
		if sum != int64(dim) {
			return nil, fmt.Errorf("split %v sums to %d, but axis %d of %s has %d", split, sum, a, ShapeString(x.Shape), dim)
		}
	case b.Opset >= 18 && b.Node.Has("num_outputs"):
		n, err := b.Node.AttrInt("num_outputs", 0)
		if err != nil {
			return nil, err
		}
		if n != int64(nOut) {
			return nil, fmt.Errorf("num_outputs is %d, the node has %d outputs", n, nOut)
		}
		part := (dim + nOut - 1) / nOut
		left := dim
		for j := range sizes {
			sizes[j] = min(part, left)
			left -= sizes[j]
		}
	default:
		if dim%nOut != 0 {
			return nil, fmt.Errorf("axis %d of %s (%d) does not split into %d equal parts", a, ShapeString(x.Shape), dim, nOut)
		}
		for j := range sizes {
			sizes[j] = dim / nOut
		}
	}
	inner, err := shpNumel(x.Shape[a+1:])
	if err != nil {
		return nil, err
	}
	k := &splitKernel{widths: make([]int, nOut), total: dim * inner}
	k.outer, _ = shpNumel(x.Shape[:a])
	for j := range sizes {
		s := slices.Clone(x.Shape)
		s[a] = sizes[j]
		b.Out[j].Shape = s
		b.Out[j].DType = x.DType
		k.widths[j] = sizes[j] * inner
	}
	return k, nil
}

// ----------------------------------------------------------------- Expand

// buildExpand: y = x broadcast with the constant shape of input 1 (numpy
// rules, both ways: y's shape is the broadcast of the two). Backward sums
// dL/dy over the broadcast dimensions.
func buildExpand(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	shpNoGrad(b, 1)
	shape, ok, err := b.ConstInts(1)
	if err != nil || !ok {
		return nil, cmpErr(err, "the shape input is missing")
	}
	if len(shape) > shpMaxRank || len(x.Shape) > shpMaxRank {
		return nil, fmt.Errorf("rank is more than %d", shpMaxRank)
	}
	r := max(len(shape), len(x.Shape))
	out := make([]int, r)
	strides := make([]int, r)
	xs := shpStrides(x.Shape)
	for d := range r {
		xd, sd := 1, int64(1)
		xi := d - (r - len(x.Shape))
		if xi >= 0 {
			xd = x.Shape[xi]
		}
		if si := d - (r - len(shape)); si >= 0 {
			sd = shape[si]
		}
		switch {
		case sd < 0 || sd > math.MaxInt32:
			return nil, fmt.Errorf("invalid shape %v", shape)
		case int64(xd) == sd || sd == 1:
			out[d] = xd
		case xd == 1:
			out[d] = int(sd)
		default:
			return nil, fmt.Errorf("cannot expand %s to %v", ShapeString(x.Shape), shape)
		}
		if xi >= 0 && xd != 1 {
			strides[d] = xs[xi]
		}
	}
	if _, err := shpNumel(out); err != nil {
		return nil, err
	}
	b.Out[0].Shape = out
	b.Out[0].DType = x.DType
	return &viewKernel{v: shpView{shape: slices.Clone(out), strides: strides}.simplify()}, nil
}

// ------------------------------------------------------------------- Cast

// ONNX TensorProto element types.
const (
	shpTypeFloat  = 1
	shpTypeUint8  = 2
	shpTypeInt8   = 3
	shpTypeUint16 = 4
	shpTypeInt16  = 5
	shpTypeInt32  = 6
	shpTypeInt64  = 7
	shpTypeBool   = 9
	shpTypeUint32 = 12
	shpTypeUint64 = 13
)

// castKernel converts between the engine's element types; integer target
// types narrower than int64 (and bool) wrap (or test != 0) as ONNX says,
// holding the result as Int64.
type castKernel struct{ to int64 }

func (k castKernel) Forward(in, out []*graph.Tensor) {
	x, y := in[0], out[0]
	if y.DType == graph.Float32 {
		if x.DType == graph.Float32 {
			y.F = x.F
			return
		}
		for i, v := range x.I {
			y.F[i] = float32(v)
		}
		return
	}
	n := len(y.I)
	for i := range n {
		var v int64
		if x.DType == graph.Float32 {
			f := x.F[i]
			if k.to == shpTypeBool {
				if f != 0 {
					v = 1
				}
				y.I[i] = v
				continue
			}
			switch {
			case f != f:
				v = 0
			case f >= 9.2e18:
				v = math.MaxInt64
			case f <= -9.2e18:
				v = math.MinInt64
			default:
				v = int64(f)
			}
		} else {
			v = x.I[i]
		}
		y.I[i] = shpWrapInt(v, k.to)
	}
}

// shpWrapInt converts an int64 to the ONNX integer type to (as Go's
// conversions do: wrapping), returning it as an int64.
func shpWrapInt(v, to int64) int64 {
	switch to {
	case shpTypeBool:
		if v != 0 {
			return 1
		}
		return 0
	case shpTypeUint8:
		return int64(uint8(v))
	case shpTypeInt8:
		return int64(int8(v))
	case shpTypeUint16:
		return int64(uint16(v))
	case shpTypeInt16:
		return int64(int16(v))
	case shpTypeInt32:
		return int64(int32(v))
	case shpTypeUint32:
		return int64(uint32(v))
	}
	return v
}

func (k castKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] != nil && in[0].DType == graph.Float32 && out[0].DType == graph.Float32 {
		shpAddInto(din[0].F, dout[0].F)
	}
}

// buildCast: y = x converted to the type named by the to attribute: float
// (to=1) or int64 (to=7) from either; bool and the other integer types
// are held as Int64 and only for constant operands (shape arithmetic).
func buildCast(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	if !b.Node.Has("to") {
		return nil, fmt.Errorf("the to attribute is required")
	}
	to, err := b.Node.AttrInt("to", 0)
	if err != nil {
		return nil, err
	}
	b.Out[0].Shape = slices.Clone(x.Shape)
	switch to {
	case shpTypeFloat:
		b.Out[0].DType = graph.Float32
	case shpTypeInt64:
		b.Out[0].DType = graph.Int64
	case shpTypeBool, shpTypeInt32, shpTypeInt16, shpTypeInt8, shpTypeUint8, shpTypeUint16, shpTypeUint32, shpTypeUint64:
		if !x.Const() {
			return nil, fmt.Errorf("cast to element type %d (%s) is only supported for constant operands: the engine computes float32 only", to, shpTypeName(to))
		}
		b.Out[0].DType = graph.Int64
	default:
		return nil, fmt.Errorf("cast to element type %d (%s) is not supported: the engine computes float32 and int64 only", to, shpTypeName(to))
	}
	if x.DType == graph.Float32 && b.Out[0].DType == graph.Float32 {
		return aliasKernel{}, nil
	}
	return castKernel{to: to}, nil
}

func shpTypeName(t int64) string {
	names := map[int64]string{1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
		8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64",
		15: "complex128", 16: "bfloat16"}
	if n, ok := names[t]; ok {
		return n
	}
	return "unknown"
}

// ------------------------------------------------- Shape, Size, Constant

// constKernel is the kernel of an operator whose builder computes the
// output itself (its Forward only copies that value).
type constKernel struct{ v *graph.Tensor }

func (k constKernel) Forward(in, out []*graph.Tensor) {
	copy(out[0].F, k.v.F)
	copy(out[0].I, k.v.I)
}

// buildShape: y = x's shape as int64s, dimensions [start, end) (opset 15;
// negative values count from the end, both clamped to [0, rank]). The
// value is known at compile time even when x is not.
func buildShape(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	r := int64(len(x.Shape))
	start, err := b.Node.AttrInt("start", 0)
	if err != nil {
		return nil, err
	}
	end, err := b.Node.AttrInt("end", r)
	if err != nil {
		return nil, err
	}
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end = clamp(start), clamp(end)
	dims := []int64{}
	for _, d := range x.Shape[start:max(start, end)] {
		dims = append(dims, int64(d))
	}
	v := graph.NewInt([]int{len(dims)}, dims)
	b.NoGrad[0] = true
	b.Out[0].Shape = []int{len(dims)}
	b.Out[0].DType = graph.Int64
	b.Out[0].Value = v
	return constKernel{v: v}, nil
}

// buildSize: y = the number of elements of x, an int64 scalar.
func buildSize(b *Build) (Kernel, error) {
	x, err := shpIn(b, 0)
	if err != nil {
		return nil, err
	}
	n, err := shpNumel(x.Shape)
	if err != nil {
		return nil, err
	}
	v := graph.NewInt([]int{}, []int64{int64(n)})
	b.NoGrad[0] = true
	b.Out[0].Shape = []int{}
	b.Out[0].DType = graph.Int64
	b.Out[0].Value = v
	return constKernel{v: v}, nil
}

// buildConstant: y = the tensor given by exactly one of the attributes
// value, value_float, value_floats, value_int, value_ints.
func buildConstant(b *Build) (Kernel, error) {
	var v *graph.Tensor
	set := 0
	for _, name := range []string{"value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings", "sparse_value"} {
		if b.Node.Has(name) {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("exactly one value attribute must be set, %d are", set)
	}
	switch {
	case b.Node.Has("value"):
		t, err := b.Node.AttrTensor("value")
		if err != nil {
			return nil, err
		}
		if t == nil {
			return nil, fmt.Errorf("the value attribute holds no tensor")
		}
		n, err := shpNumel(t.Shape)
		if err != nil {
			return nil, err
		}
		if t.DType != graph.Float32 && t.DType != graph.Int64 {
			return nil, fmt.Errorf("the value attribute is %v: not supported", t.DType)
		}
		if t.Len() != n {
			return nil, fmt.Errorf("the value attribute has shape %s but holds %d values", ShapeString(t.Shape), t.Len())
		}
		v = t
	case b.Node.Has("value_float"):
		f, err := b.Node.AttrFloat("value_float", 0)
		if err != nil {
			return nil, err
		}
		v = graph.NewFloat([]int{}, []float32{f})
	case b.Node.Has("value_floats"):
		f, err := b.Node.AttrFloats("value_floats", nil)
		if err != nil {
			return nil, err
		}
		v = graph.NewFloat([]int{len(f)}, slices.Clone(f))
	case b.Node.Has("value_int"):
		i, err := b.Node.AttrInt("value_int", 0)
		if err != nil {
			return nil, err
		}
		v = graph.NewInt([]int{}, []int64{i})
	case b.Node.Has("value_ints"):
		i, err := b.Node.AttrInts("value_ints", nil)
		if err != nil {
			return nil, err
		}
		v = graph.NewInt([]int{len(i)}, slices.Clone(i))
	default:
		return nil, fmt.Errorf("string and sparse constants are not supported")
	}
	if len(b.Out) != 1 {
		return nil, fmt.Errorf("Constant has one output, the node names %d", len(b.Out))
	}
	b.Out[0].Shape = slices.Clone(v.Shape)
	if v.Shape == nil {
		b.Out[0].Shape = []int{}
	}
	b.Out[0].DType = v.DType
	b.Out[0].Value = v
	return constKernel{v: v}, nil
}

// constFillKernel fills its output with one value (ConstantOfShape).
type constFillKernel struct {
	f float32
	i int64
}

func (k constFillKernel) Forward(in, out []*graph.Tensor) {
	for j := range out[0].F {
		out[0].F[j] = k.f
	}
	for j := range out[0].I {
		out[0].I[j] = k.i
	}
}

// buildConstantOfShape: y of the constant shape given by input 0, every
// element the value attribute's one element (default float 0).
func buildConstantOfShape(b *Build) (Kernel, error) {
	shpNoGrad(b, 0)
	shape, ok, err := b.ConstInts(0)
	if err != nil || !ok {
		return nil, cmpErr(err, "the shape input is missing")
	}
	if len(b.In[0].Shape) != 1 {
		return nil, fmt.Errorf("the shape input must be 1-D, it is %s", ShapeString(b.In[0].Shape))
	}
	if len(shape) > shpMaxRank {
		return nil, fmt.Errorf("shape %v has more than %d dimensions", shape, shpMaxRank)
	}
	out := make([]int, len(shape))
	for i, d := range shape {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("invalid shape %v", shape)
		}
		out[i] = int(d)
	}
	if _, err := shpNumel(out); err != nil {
		return nil, err
	}
	k := constFillKernel{}
	b.Out[0].DType = graph.Float32
	t, err := b.Node.AttrTensor("value")
	if err != nil {
		return nil, err
	}
	if t != nil {
		if t.Len() != 1 {
			return nil, fmt.Errorf("the value attribute must hold one element, it holds %d", t.Len())
		}
		b.Out[0].DType = t.DType
		if t.DType == graph.Int64 {
			k.i = t.I[0]
		} else {
			k.f = t.F[0]
		}
	}
	b.Out[0].Shape = out
	return k, nil
}

// ------------------------------------------------------------------ Range

// rangeKernel: y[i] = start + i*delta.
type rangeKernel struct{}

func (rangeKernel) Forward(in, out []*graph.Tensor) {
	if out[0].DType == graph.Int64 {
		s, d := in[0].I[0], in[2].I[0]
		for i := range out[0].I {
			out[0].I[i] = s + int64(i)*d
		}
		return
	}
	s, d := in[0].F[0], in[2].F[0]
	for i := range out[0].F {
		out[0].F[i] = s + float32(i)*d
	}
}

// buildRange: y = start, start+delta, ... while below limit (above it for
// a negative delta): max(ceil((limit-start)/delta), 0) elements. The three
// scalar operands must be constants of one type.
func buildRange(b *Build) (Kernel, error) {
	if len(b.In) != 3 {
		return nil, fmt.Errorf("Range takes 3 inputs, the node has %d", len(b.In))
	}
	var v [3]*graph.Tensor
	for i := range 3 {
		b.NoGrad[i] = true
		m, err := shpIn(b, i)
		if err != nil {
			return nil, err
		}
		if !m.Const() {
			return nil, fmt.Errorf("input %d (%s) must be a constant", i, graph.Short(b.Node.Input(i)))
		}
		if m.Value.Len() != 1 {
			return nil, fmt.Errorf("input %d must be a scalar, it is %s", i, ShapeString(m.Shape))
		}
		if m.DType != b.In[0].DType {
			return nil, fmt.Errorf("the inputs' element types differ")
		}
		v[i] = m.Value
	}
	var n float64
	if v[0].DType == graph.Int64 {
		s, l, d := v[0].I[0], v[1].I[0], v[2].I[0]
		if d == 0 {
			return nil, fmt.Errorf("delta is 0")
		}
		n = math.Ceil((float64(l) - float64(s)) / float64(d))
	} else {
		s, l, d := v[0].F[0], v[1].F[0], v[2].F[0]
		if d == 0 {
			return nil, fmt.Errorf("delta is 0")
		}
		n = math.Ceil((float64(l) - float64(s)) / float64(d))
	}
	if n != n || n > math.MaxInt32 {
		return nil, fmt.Errorf("the range has too many elements")
	}
	b.Out[0].Shape = []int{int(max(n, 0))}
	b.Out[0].DType = v[0].DType
	return rangeKernel{}, nil
}
