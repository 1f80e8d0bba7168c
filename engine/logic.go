package engine

// Comparison, logical and selection operators, with multidirectional
// (numpy) broadcasting over the plans of broadcast.go:
//
//	Equal, Less, Greater, LessOrEqual, GreaterOrEqual:  y = [a op b]
//	Not: y = [a = 0]    And: y = [a≠0 ∧ b≠0]    Or: y = [a≠0 ∨ b≠0]    Xor: y = [(a≠0) ≠ (b≠0)]
//	IsNaN: y = [a is NaN]    IsInf: y = [a = +∞ (detect_positive) ∨ a = -∞ (detect_negative)]
//	Where: y = c≠0 ? x : z          dL/dx = Σ dy·[c≠0],   dL/dz = Σ dy·[c=0]
//	Max:   y = max(x₁, ..., xₙ)     dL/dxₖ = Σ dy·[k is the first input with xₖ = y]
//	Min:   y = min(x₁, ..., xₙ)     (likewise)
//	Mod:   y = a - b·⌊a/b⌋ (fmod = 0, integers: the sign of b)
//	       y = a - b·trunc(a/b) (fmod = 1: the sign of a)
//	                                dL/da = Σ dy,  dL/db = -Σ dy·trunc(a/b)   (fmod = 1, floats)
//
// where [P] is 1 when P holds and 0 otherwise, and each Σ runs over the
// dimensions along which that operand was broadcast. A NaN compares false
// and is propagated by Max and Min.
//
// The IR has no boolean type. A boolean result is an Int64 tensor of 0/1
// when every input of the node is a compile-time constant (the node is then
// folded: the shape arithmetic of torch's expand(-1, ...) export,
// Where(Equal(shape, -1), Shape(x), shape), stays in integers), and a
// Float32 tensor of 0/1 otherwise, since the engine computes only float32
// values at run time. Every operator reading a boolean (Not, And, Or, Xor,
// Where's condition) takes either, reading any nonzero value as true. The
// comparison operators, Not, And, Or, Xor, IsNaN and IsInf mark all their
// inputs NoGrad (so that constant operands are always folded), as does
// Where its condition.
//
// The comparisons, Max, Min and Mod need operands of one element type
// (Float32 or Int64); integer Mod by zero is refused when the divisor is a
// constant (and gives 0 otherwise), and float Mod needs fmod = 1, as ONNX
// says.

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

type logicOp uint8

const (
	lgEqual logicOp = iota
	lgLess
	lgGreater
	lgLessOrEqual
	lgGreaterOrEqual
	lgAnd
	lgOr
	lgXor
	lgMax
	lgMin
	lgMod  // integer modulo, the sign of the divisor
	lgFmod // remainder of truncated division, the sign of the dividend
)

var logicOps = map[string]logicOp{
	"Equal": lgEqual, "Less": lgLess, "Greater": lgGreater, "LessOrEqual": lgLessOrEqual,
	"GreaterOrEqual": lgGreaterOrEqual, "And": lgAnd, "Or": lgOr, "Xor": lgXor, "Max": lgMax, "Min": lgMin,
}

// logicNum is the element types the engine computes.
type logicNum interface{ ~float32 | ~int64 }

func init() {
	register(buildLogicBinary, "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor")
	register(buildNot, "Not")
	register(buildIsNaNInf, "IsNaN", "IsInf")
	register(buildWhere, "Where")
	register(buildMaxMin, "Max", "Min")
	register(buildMod, "Mod")
}

// logicArity checks that the node has n present inputs and one output.
func logicArity(b *Build, n int) error {
	if len(b.In) != n {
		return fmt.Errorf("%s takes %d input(s), has %d", b.Node.Op, n, len(b.In))
	}
	for i, m := range b.In {
		if m == nil {
			return fmt.Errorf("%s: input %d is missing", b.Node.Op, i)
		}
	}
	if len(b.Out) != 1 {
		return fmt.Errorf("%s has 1 output, the node lists %d", b.Node.Op, len(b.Out))
	}
	return nil
}

// logicBoolType marks every input NoGrad and returns the element type of
// a boolean result: Int64 when every input is a compile-time constant,
// Float32 otherwise.
func logicBoolType(b *Build) graph.DType {
	dt := graph.Int64
	for i, m := range b.In {
		b.NoGrad[i] = true
		if !m.Const() {
			dt = graph.Float32
		}
	}
	return dt
}

func logicDTypeCheck(b *Build, ms ...*Meta) error {
	for _, m := range ms[1:] {
		if m.DType != ms[0].DType {
			return fmt.Errorf("%s of %v and %v: the operands must have the same element type", b.Node.Op, ms[0].DType, m.DType)
		}
	}
	if ms[0].DType != graph.Float32 && ms[0].DType != graph.Int64 {
		return fmt.Errorf("%s: element type %v is not supported", b.Node.Op, ms[0].DType)
	}
	return nil
}

// ------------------------------------------------------------ comparisons

func buildLogicBinary(b *Build) (Kernel, error) {
	op := logicOps[b.Node.Op]
	if err := logicArity(b, 2); err != nil {
		return nil, err
	}
	a, c := b.In[0], b.In[1]
	if op < lgAnd {
		if err := logicDTypeCheck(b, a, c); err != nil {
			return nil, err
		}
	}
	shape, err := bcastShapes(a.Shape, c.Shape)
	if err != nil {
		return nil, err
	}
	b.Out[0].Shape = shape
	b.Out[0].DType = logicBoolType(b)
	k := &logicBinKernel{op: op, plan: newBcastPlan(shape, a.Shape, c.Shape)}
	k.rowsFn = k.rows
	return k, nil
}

// logicBinKernel computes a comparison or a logical binary operator.
type logicBinKernel struct {
	op     logicOp
	plan   *bcastPlan
	a, b   *graph.Tensor
	y      *graph.Tensor
	rowsFn func(lo, hi int)
}

// Forward computes y = [a op b].
func (k *logicBinKernel) Forward(in, out []*graph.Tensor) {
	k.a, k.b, k.y = in[0], in[1], out[0]
	parallel.For(k.plan.rows, k.plan.rowGrain(), k.rowsFn)
	k.a, k.b, k.y = nil, nil, nil
}

func (k *logicBinKernel) rows(lo, hi int) {
	p, a, b, y := k.plan, k.a, k.b, k.y
	yi := y.DType == graph.Int64
	if k.op < lgAnd { // one element type, checked by the builder
		switch {
		case a.DType == graph.Int64 && yi:
			logicCmpRows(k.op, p, a.I, b.I, y.I, lo, hi)
		case a.DType == graph.Int64:
			logicCmpRows(k.op, p, a.I, b.I, y.F, lo, hi)
		case yi:
			logicCmpRows(k.op, p, a.F, b.F, y.I, lo, hi)
		default:
			logicCmpRows(k.op, p, a.F, b.F, y.F, lo, hi)
		}
		return
	}
	ai, bi := a.DType == graph.Int64, b.DType == graph.Int64
	switch {
	case ai && bi && yi:
		logicBoolRows(k.op, p, a.I, b.I, y.I, lo, hi)
	case ai && bi:
		logicBoolRows(k.op, p, a.I, b.I, y.F, lo, hi)
	case ai && yi:
		logicBoolRows(k.op, p, a.I, b.F, y.I, lo, hi)
	case ai:
		logicBoolRows(k.op, p, a.I, b.F, y.F, lo, hi)
	case bi && yi:
		logicBoolRows(k.op, p, a.F, b.I, y.I, lo, hi)
	case bi:
		logicBoolRows(k.op, p, a.F, b.I, y.F, lo, hi)
	case yi:
		logicBoolRows(k.op, p, a.F, b.F, y.I, lo, hi)
	default:
		logicBoolRows(k.op, p, a.F, b.F, y.F, lo, hi)
	}
}

func logicB2N[O logicNum](c bool) O {
	if c {
		return 1
	}
	return 0
}

// logicCmpRows computes rows [lo, hi) of y = [a op b].
func logicCmpRows[T, O logicNum](op logicOp, p *bcastPlan, a, b []T, y []O, lo, hi int) {
	n, sa, sb := p.inner, p.istride[0], p.istride[1]
	for r := lo; r < hi; r++ {
		off := p.offsets(r)
		oa, ob := off[0], off[1]
		yr := y[r*n : r*n+n]
		switch op {
		case lgEqual:
			for i := range yr {
				yr[i] = logicB2N[O](a[oa+i*sa] == b[ob+i*sb])
			}
		case lgLess:
			for i := range yr {
				yr[i] = logicB2N[O](a[oa+i*sa] < b[ob+i*sb])
			}
		case lgGreater:
			for i := range yr {
				yr[i] = logicB2N[O](a[oa+i*sa] > b[ob+i*sb])
			}
		case lgLessOrEqual:
			for i := range yr {
				yr[i] = logicB2N[O](a[oa+i*sa] <= b[ob+i*sb])
			}
		case lgGreaterOrEqual:
			for i := range yr {
				yr[i] = logicB2N[O](a[oa+i*sa] >= b[ob+i*sb])
			}
		}
	}
}

// logicBoolRows computes rows [lo, hi) of y = (a≠0) op (b≠0).
func logicBoolRows[A, B, O logicNum](op logicOp, p *bcastPlan, a []A, b []B, y []O, lo, hi int) {
	n, sa, sb := p.inner, p.istride[0], p.istride[1]
	for r := lo; r < hi; r++ {
		off := p.offsets(r)
		oa, ob := off[0], off[1]
		yr := y[r*n : r*n+n]
		switch op {
		case lgAnd:
			for i := range yr {
				yr[i] = logicB2N[O](a[oa+i*sa] != 0 && b[ob+i*sb] != 0)
			}
		case lgOr:
			for i := range yr {
				yr[i] = logicB2N[O](a[oa+i*sa] != 0 || b[ob+i*sb] != 0)
			}
		case lgXor:
			for i := range yr {
				yr[i] = logicB2N[O]((a[oa+i*sa] != 0) != (b[ob+i*sb] != 0))
			}
		}
	}
}

// ------------------------------------------------------ Not, IsNaN, IsInf

type logicUnaryOp uint8

const (
	lgNot logicUnaryOp = iota
	lgIsNaN
	lgIsInf
)

func buildNot(b *Build) (Kernel, error) {
	if err := logicArity(b, 1); err != nil {
		return nil, err
	}
	b.Out[0].Shape = append([]int{}, b.In[0].Shape...)
	b.Out[0].DType = logicBoolType(b)
	return &logicUnaryKernel{op: lgNot}, nil
}

func buildIsNaNInf(b *Build) (Kernel, error) {
	if err := logicArity(b, 1); err != nil {
		return nil, err
	}
	k := &logicUnaryKernel{op: lgIsNaN}
	if b.Node.Op == "IsInf" {
		k.op = lgIsInf
		neg, err := b.Node.AttrInt("detect_negative", 1)
		if err != nil {
			return nil, err
		}
		pos, err := b.Node.AttrInt("detect_positive", 1)
		if err != nil {
			return nil, err
		}
		if neg != 0 && neg != 1 || pos != 0 && pos != 1 {
			return nil, fmt.Errorf("detect_negative (%d) and detect_positive (%d) must be 0 or 1", neg, pos)
		}
		k.neg, k.pos = neg == 1, pos == 1
	}
	b.Out[0].Shape = append([]int{}, b.In[0].Shape...)
	b.Out[0].DType = logicBoolType(b)
	return k, nil
}

// logicUnaryKernel computes Not, IsNaN or IsInf (integers are never NaN
// nor infinite).
type logicUnaryKernel struct {
	op       logicUnaryOp
	neg, pos bool // IsInf's detect_negative, detect_positive
}

func (k *logicUnaryKernel) Forward(in, out []*graph.Tensor) {
	x, y := in[0], out[0]
	switch {
	case x.DType == graph.Int64 && y.DType == graph.Int64:
		logicUnary(k, x.I, y.I)
	case x.DType == graph.Int64:
		logicUnary(k, x.I, y.F)
	case y.DType == graph.Int64:
		logicUnary(k, x.F, y.I)
	default:
		logicUnary(k, x.F, y.F)
	}
}

func logicUnary[T, O logicNum](k *logicUnaryKernel, x []T, y []O) {
	x = x[:len(y)]
	switch k.op {
	case lgNot:
		for i, v := range x {
			y[i] = logicB2N[O](v == 0)
		}
	case lgIsNaN:
		for i, v := range x {
			y[i] = logicB2N[O](v != v)
		}
	case lgIsInf:
		for i, v := range x {
			f := float64(v)
			y[i] = logicB2N[O](k.pos && math.IsInf(f, 1) || k.neg && math.IsInf(f, -1))
		}
	}
}

// ------------------------------------------------------------------ Where

func buildWhere(b *Build) (Kernel, error) {
	if err := logicArity(b, 3); err != nil {
		return nil, err
	}
	c, x, z := b.In[0], b.In[1], b.In[2]
	if err := logicDTypeCheck(b, x, z); err != nil {
		return nil, err
	}
	shape, err := bcastShapes(c.Shape, x.Shape, z.Shape)
	if err != nil {
		return nil, err
	}
	b.NoGrad[0] = true
	if x.DType == graph.Int64 {
		b.NoGrad[1], b.NoGrad[2] = true, true
	}
	b.Out[0].Shape = shape
	b.Out[0].DType = x.DType
	k := &whereKernel{plan: newBcastPlan(shape, c.Shape, x.Shape, z.Shape)}
	k.rowsFn, k.gradFn = k.rows, k.gradRows
	return k, nil
}

// whereKernel computes y = c≠0 ? x : z.
type whereKernel struct {
	plan           *bcastPlan
	c, x, z, y     *graph.Tensor
	dy, dx         []float32
	j              int // operand whose gradient is being computed (1 or 2)
	rowsFn, gradFn func(lo, hi int)
}

// Forward computes y = c≠0 ? x : z.
func (k *whereKernel) Forward(in, out []*graph.Tensor) {
	k.c, k.x, k.z, k.y = in[0], in[1], in[2], out[0]
	parallel.For(k.plan.rows, k.plan.rowGrain(), k.rowsFn)
	k.c, k.x, k.z, k.y = nil, nil, nil, nil
}

func (k *whereKernel) rows(lo, hi int) {
	p, c, x, z, y := k.plan, k.c, k.x, k.z, k.y
	switch {
	case c.DType == graph.Int64 && y.DType == graph.Int64:
		whereRows(p, c.I, x.I, z.I, y.I, lo, hi)
	case c.DType == graph.Int64:
		whereRows(p, c.I, x.F, z.F, y.F, lo, hi)
	case y.DType == graph.Int64:
		whereRows(p, c.F, x.I, z.I, y.I, lo, hi)
	default:
		whereRows(p, c.F, x.F, z.F, y.F, lo, hi)
	}
}

func whereRows[C, T logicNum](p *bcastPlan, c []C, x, z, y []T, lo, hi int) {
	n := p.inner
	sc, sx, sz := p.istride[0], p.istride[1], p.istride[2]
	for r := lo; r < hi; r++ {
		off := p.offsets(r)
		oc, ox, oz := off[0], off[1], off[2]
		yr := y[r*n : r*n+n]
		if sc == 0 { // one condition for the whole row
			if c[oc] != 0 {
				logicRowCopy(yr, x, ox, sx)
			} else {
				logicRowCopy(yr, z, oz, sz)
			}
			continue
		}
		for i := range yr {
			if c[oc+i] != 0 {
				yr[i] = x[ox+i*sx]
			} else {
				yr[i] = z[oz+i*sz]
			}
		}
	}
}

// logicRowCopy fills y from v at offset o, contiguous (s = 1) or repeated
// (s = 0).
func logicRowCopy[T logicNum](y, v []T, o, s int) {
	if s == 1 {
		copy(y, v[o:o+len(y)])
		return
	}
	c := v[o]
	for i := range y {
		y[i] = c
	}
}

// Backward adds dL/dx = Σ dy·[c≠0] and dL/dz = Σ dy·[c=0].
func (k *whereKernel) Backward(in, out, dout, din []*graph.Tensor) {
	p := k.plan
	k.c, k.dy = in[0], dout[0].F
	for j := 1; j <= 2; j++ {
		if din[j] == nil || p.n == 0 {
			continue
		}
		k.j, k.dx = j, din[j].F
		if p.distinct[j] {
			parallel.For(p.rows, p.rowGrain(), k.gradFn)
		} else {
			k.gradRows(0, p.rows)
		}
	}
	k.c, k.dy, k.dx = nil, nil, nil
}

func (k *whereKernel) gradRows(lo, hi int) {
	if k.c.DType == graph.Int64 {
		whereGradRows(k.plan, k.c.I, k.j, k.dy, k.dx, lo, hi)
	} else {
		whereGradRows(k.plan, k.c.F, k.j, k.dy, k.dx, lo, hi)
	}
}

// whereGradRows accumulates operand j's gradient (1: x, 2: z) over rows
// [lo, hi).
func whereGradRows[C logicNum](p *bcastPlan, c []C, j int, dy, dx []float32, lo, hi int) {
	n, sc, sx := p.inner, p.istride[0], p.istride[j]
	want := j == 1
	for r := lo; r < hi; r++ {
		off := p.offsets(r)
		oc, ox := off[0], off[j]
		dr := dy[r*n : r*n+n]
		for i, d := range dr {
			if (c[oc+i*sc] != 0) == want {
				dx[ox+i*sx] += d
			}
		}
	}
}

// -------------------------------------------------------------- Max, Min

func buildMaxMin(b *Build) (Kernel, error) {
	op := logicOps[b.Node.Op]
	if len(b.In) == 0 {
		return nil, fmt.Errorf("%s takes at least 1 input", b.Node.Op)
	}
	if err := logicArity(b, len(b.In)); err != nil {
		return nil, err
	}
	if err := logicDTypeCheck(b, b.In...); err != nil {
		return nil, err
	}
	shapes := make([][]int, len(b.In))
	for i, m := range b.In {
		shapes[i] = m.Shape
	}
	shape, err := bcastShapes(shapes...)
	if err != nil {
		return nil, err
	}
	b.Out[0].Shape = shape
	b.Out[0].DType = b.In[0].DType
	k := &maxMinKernel{op: op, n: numel(shape)}
	// Pass 0: y = op(x₀, x₁); pass i ≥ 1: y = op(y, xᵢ₊₁).
	k.fwd = append(k.fwd, newBcastPlan(shape, shapes[0], shapes[min(1, len(shapes)-1)]))
	for _, s := range shapes[min(2, len(shapes)):] {
		k.fwd = append(k.fwd, newBcastPlan(shape, shape, s))
	}
	for _, s := range shapes {
		k.bwd = append(k.bwd, newBcastPlan(shape, shape, s))
	}
	if b.Train {
		k.taken = make([]bool, k.n)
	}
	k.rowsFn, k.gradFn = k.rows, k.gradRows
	return k, nil
}

// maxMinKernel computes y = max(x₁, ..., xₙ) or the min.
type maxMinKernel struct {
	op    logicOp
	n     int
	fwd   []*bcastPlan // per pass: operands (y or x₀, xₖ)
	bwd   []*bcastPlan // per input: operands (y, xₖ)
	taken []bool       // per result element: its gradient has gone to an input

	pass, in int // Forward pass, Backward input
	a, b, y  *graph.Tensor
	dy, dx   []float32
	rowsFn   func(lo, hi int)
	gradFn   func(lo, hi int)
}

// Forward folds the inputs into y, one broadcast pass per input after the
// second.
func (k *maxMinKernel) Forward(in, out []*graph.Tensor) {
	k.y = out[0]
	for pass, p := range k.fwd {
		k.pass = pass
		if pass == 0 {
			k.a, k.b = in[0], in[min(1, len(in)-1)]
		} else {
			k.a, k.b = out[0], in[pass+1]
		}
		parallel.For(p.rows, p.rowGrain(), k.rowsFn)
	}
	k.a, k.b, k.y = nil, nil, nil
}

func (k *maxMinKernel) rows(lo, hi int) {
	p := k.fwd[k.pass]
	if k.y.DType == graph.Int64 {
		maxMinRows(k.op == lgMax, p, k.a.I, k.b.I, k.y.I, lo, hi)
	} else {
		maxMinRows(k.op == lgMax, p, k.a.F, k.b.F, k.y.F, lo, hi)
	}
}

// maxMinRows computes rows [lo, hi) of y = max(a, b) (or min), NaN
// propagating. y may be a itself (a full operand).
func maxMinRows[T logicNum](isMax bool, p *bcastPlan, a, b, y []T, lo, hi int) {
	n, sa, sb := p.inner, p.istride[0], p.istride[1]
	for r := lo; r < hi; r++ {
		off := p.offsets(r)
		oa, ob := off[0], off[1]
		yr := y[r*n : r*n+n]
		if isMax {
			for i := range yr {
				u, v := a[oa+i*sa], b[ob+i*sb]
				if v > u || v != v {
					u = v
				}
				yr[i] = u
			}
		} else {
			for i := range yr {
				u, v := a[oa+i*sa], b[ob+i*sb]
				if v < u || v != v {
					u = v
				}
				yr[i] = u
			}
		}
	}
}

// Backward gives each element's dy to the first input holding the
// selected value (for a NaN result, the first NaN).
func (k *maxMinKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if k.taken == nil {
		k.taken = make([]bool, k.n)
	}
	clear(k.taken)
	k.y, k.dy = out[0], dout[0].F
	for j, p := range k.bwd {
		k.in, k.a = j, in[j]
		k.dx = nil
		if din[j] != nil {
			k.dx = din[j].F
		}
		if p.distinct[1] {
			parallel.For(p.rows, p.rowGrain(), k.gradFn)
		} else {
			k.gradRows(0, p.rows)
		}
	}
	k.a, k.y, k.dy, k.dx = nil, nil, nil, nil
}

// gradRows routes dy over rows [lo, hi) of input k.in's plan to that
// input where it holds the result and no earlier input did. An input
// that wants no gradient (k.dx nil) still takes its elements.
func (k *maxMinKernel) gradRows(lo, hi int) {
	p := k.bwd[k.in]
	n, sx := p.inner, p.istride[1]
	x, y, dy, dx, taken := k.a.F, k.y.F, k.dy, k.dx, k.taken
	for r := lo; r < hi; r++ {
		off := p.offsets(r)
		oy, ox := off[0], off[1]
		for i := range n {
			if taken[oy+i] {
				continue
			}
			v, u := x[ox+i*sx], y[oy+i]
			if v == u || v != v && u != u {
				taken[oy+i] = true
				if dx != nil {
					dx[ox+i*sx] += dy[oy+i]
				}
			}
		}
	}
}

// -------------------------------------------------------------------- Mod

func buildMod(b *Build) (Kernel, error) {
	if err := logicArity(b, 2); err != nil {
		return nil, err
	}
	a, c := b.In[0], b.In[1]
	if err := logicDTypeCheck(b, a, c); err != nil {
		return nil, err
	}
	fmod, err := b.Node.AttrInt("fmod", 0)
	if err != nil {
		return nil, err
	}
	if fmod != 0 && fmod != 1 {
		return nil, fmt.Errorf("fmod is %d, must be 0 or 1", fmod)
	}
	if a.DType == graph.Float32 && fmod != 1 {
		return nil, fmt.Errorf("Mod of float32 operands needs fmod = 1")
	}
	if a.DType == graph.Int64 && c.Const() {
		for _, v := range c.Value.I {
			if v == 0 {
				return nil, fmt.Errorf("integer modulo by zero (divisor %s)", graph.Short(b.Node.Input(1)))
			}
		}
	}
	shape, err := bcastShapes(a.Shape, c.Shape)
	if err != nil {
		return nil, err
	}
	b.Out[0].Shape = shape
	b.Out[0].DType = a.DType
	op := lgMod
	if fmod == 1 {
		op = lgFmod
	}
	return &modKernel{op: op, plan: newBcastPlan(shape, a.Shape, c.Shape)}, nil
}

// modKernel computes Mod (serially: integers fold at compile time, and
// float Mod is rare).
type modKernel struct {
	op   logicOp
	plan *bcastPlan
}

func (k *modKernel) Forward(in, out []*graph.Tensor) {
	p := k.plan
	n, sa, sb := p.inner, p.istride[0], p.istride[1]
	for r := 0; r < p.rows; r++ {
		off := p.offsets(r)
		oa, ob := off[0], off[1]
		if out[0].DType == graph.Int64 {
			a, b, y := in[0].I, in[1].I, out[0].I[r*n:r*n+n]
			for i := range y {
				y[i] = logicIMod(a[oa+i*sa], b[ob+i*sb], k.op == lgMod)
			}
			continue
		}
		a, b, y := in[0].F, in[1].F, out[0].F[r*n:r*n+n]
		for i := range y {
			y[i] = float32(math.Mod(float64(a[oa+i*sa]), float64(b[ob+i*sb])))
		}
	}
}

// logicIMod is a mod b, with the sign of b (floored) or of a (truncated);
// 0 when b is 0.
func logicIMod(a, b int64, floored bool) int64 {
	if b == 0 {
		return 0
	}
	m := a % b // Go: MinInt64 % -1 == 0
	if floored && m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}

// Backward (float, fmod = 1) adds dL/da = Σ dy and dL/db = -Σ dy·trunc(a/b).
func (k *modKernel) Backward(in, out, dout, din []*graph.Tensor) {
	p := k.plan
	n, sa, sb := p.inner, p.istride[0], p.istride[1]
	a, b, dy := in[0].F, in[1].F, dout[0].F
	for r := 0; r < p.rows; r++ {
		off := p.offsets(r)
		oa, ob := off[0], off[1]
		dr := dy[r*n : r*n+n]
		if din[0] != nil {
			dx := din[0].F
			for i, d := range dr {
				dx[oa+i*sa] += d
			}
		}
		if din[1] != nil {
			dx := din[1].F
			for i, d := range dr {
				q := math.Trunc(float64(a[oa+i*sa]) / float64(b[ob+i*sb]))
				dx[ob+i*sb] -= d * float32(q)
			}
		}
	}
}
