package engine

// Elementwise binary operators with multidirectional broadcasting
// (broadcast.go): Add, Sub, Mul, Div, Pow.
//
//	Add: y = a + b        dL/da = Σ dy,            dL/db = Σ dy
//	Sub: y = a - b        dL/da = Σ dy,            dL/db = -Σ dy
//	Mul: y = a * b        dL/da = Σ dy*b,          dL/db = Σ dy*a
//	Div: y = a / b        dL/da = Σ dy/b,          dL/db = -Σ dy*y/b
//	Pow: y = a^b          dL/da = Σ dy*b*a^(b-1),  dL/db = Σ dy*y*ln(a)
//
// where each Σ runs over the dimensions along which that operand was
// broadcast. Add, Sub, Mul and Div also take Int64 operands (the shape
// arithmetic exporters emit, computed at compile time); integer division
// truncates toward zero, as ONNX's does. Pow's exponent, when a constant,
// is a hyperparameter (no gradient), and a constant scalar exponent of 1,
// 2, 3, 0.5 or -1 has its own loop.

import (
	"fmt"
	"math"
	"slices"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

type binOp uint8

const (
	binAdd binOp = iota
	binSub
	binMul
	binDiv
	binPow
)

var binOps = map[string]binOp{"Add": binAdd, "Sub": binSub, "Mul": binMul, "Div": binDiv, "Pow": binPow}

func init() {
	register(buildBinary, "Add", "Sub", "Mul", "Div", "Pow")
}

func buildBinary(b *Build) (Kernel, error) {
	op := binOps[b.Node.Op]
	if len(b.In) != 2 || b.In[0] == nil || b.In[1] == nil {
		return nil, fmt.Errorf("%s takes 2 inputs, has %d", b.Node.Op, len(b.In))
	}
	if len(b.Out) != 1 {
		return nil, fmt.Errorf("%s has 1 output, the node lists %d", b.Node.Op, len(b.Out))
	}
	a, c := b.In[0], b.In[1]
	shape, err := bcastShapes(a.Shape, c.Shape)
	if err != nil {
		return nil, err
	}
	b.Out[0].Shape = shape
	k := &binaryKernel{op: op, plan: newBcastPlan(shape, a.Shape, c.Shape)}
	k.spanFn, k.gradSpanFn, k.gradRowsFn, k.gradColsFn = k.span, k.gradElems, k.gradRows, k.gradCols
	if a.DType == graph.Int64 || c.DType == graph.Int64 {
		if op == binPow && a.DType == graph.Float32 {
			// A float base with an integer exponent: the exponent must be
			// constant, and is used as floats.
			if !c.Const() {
				return nil, fmt.Errorf("Pow with an int64 exponent computed from the graph's inputs is not supported")
			}
		} else if a.DType != c.DType {
			return nil, fmt.Errorf("%s of %v and %v: the operands must have the same element type", b.Node.Op, a.DType, c.DType)
		} else {
			b.Out[0].DType = graph.Int64
			if op == binDiv && c.Const() {
				for _, v := range c.Value.I {
					if v == 0 {
						return nil, fmt.Errorf("integer division by zero (divisor %s)", graph.Short(b.Node.Input(1)))
					}
				}
			}
			return &intBinaryKernel{op: op, plan: k.plan}, nil
		}
	}
	if op != binPow {
		k.rowScalarPlan(shape, a.Shape, c.Shape)
	}
	if op == binPow && c.Const() {
		b.NoGrad[1] = true
		e, _, err := b.ConstFloats(1)
		if err != nil {
			return nil, err
		}
		if len(e) == 1 {
			k.scalarExp, k.exp = true, e[0]
		}
		if c.DType == graph.Int64 {
			// Keep a float copy for the kernel.
			k.expF = graph.NewFloat(c.Shape, append([]float32(nil), e...))
		}
	}
	return k, nil
}

// binaryKernel computes a float32 binary operator over a broadcast plan.
// The rows/grad functions are method values bound once, so that handing
// them to the worker pool allocates nothing per call; the slices they work
// on are set by Forward/Backward just before.
type binaryKernel struct {
	op        binOp
	plan      *bcastPlan
	scalarExp bool // Pow with a constant scalar exponent exp
	exp       float32
	expF      *graph.Tensor // Pow's int64 exponent as floats

	a, b, y, dy, dx []float32
	k               int // operand whose gradient is being computed

	spanFn, gradSpanFn, gradRowsFn, gradColsFn func(lo, hi int)

	// inner > 0: one operand is a value per row of inner elements of the
	// other (scalarA: a is), computed by rows (rowFn).
	inner   int
	scalarA bool
	rowFn   func(lo, hi int)
}

func (k *binaryKernel) operands(in []*graph.Tensor) (a, b []float32) {
	a, b = in[0].F, in[1].F
	if k.expF != nil {
		b = k.expF.F
	}
	return a, b
}

// Forward computes y = a op b.
func (k *binaryKernel) Forward(in, out []*graph.Tensor) {
	k.a, k.b = k.operands(in)
	k.y = out[0].F
	if k.inner > 0 {
		parallel.For(len(k.y)/k.inner, max(1, bcastGrain/k.inner), k.rowFn)
	} else {
		parallel.For(k.plan.n, bcastGrain, k.spanFn)
	}
	k.a, k.b, k.y = nil, nil, nil
}

// rowScalarPlan recognises one operand of the output's shape and the other
// one value per row of inner elements (shape [N, C, 1, 1] against
// [N, C, H, W]: a squeeze-and-excitation gate), which Forward then
// computes row by row without the general plan's index arithmetic.
func (k *binaryKernel) rowScalarPlan(out, a, b []int) {
	full, part := a, b
	if !slices.Equal(a, out) {
		full, part, k.scalarA = b, a, true
	}
	if !slices.Equal(full, out) || len(part) != len(out) || slices.Equal(part, out) {
		k.scalarA = false
		return
	}
	j := len(out)
	for j > 0 && part[j-1] == 1 {
		j--
	}
	if !slices.Equal(part[:j], out[:j]) || j == len(out) {
		k.scalarA = false
		return
	}
	k.inner = numel(out[j:])
	k.rowFn = k.rows
}

// rows computes rows [lo, hi) of a row-scalar operation.
func (k *binaryKernel) rows(lo, hi int) {
	n := k.inner
	for r := lo; r < hi; r++ {
		y := k.y[r*n : (r+1)*n]
		if k.scalarA {
			binSV(k.op, y, k.a[r], k.b[r*n:(r+1)*n])
		} else {
			binVS(k.op, y, k.a[r*n:(r+1)*n], k.b[r])
		}
	}
}

// span computes elements [lo, hi) of the result, row piece by row piece.
func (k *binaryKernel) span(lo, hi int) {
	p := k.plan
	n := p.inner
	sa, sb := p.istride[0], p.istride[1]
	for lo < hi {
		r := lo / n
		i := lo - r*n
		e := min(hi, (r+1)*n)
		off := p.offsets(r)
		k.row(k.y[lo:e], k.a, k.b, off[0]+i*sa, off[1]+i*sb, e-lo)
		lo = e
	}
}

// row computes one row of n results from a at offset oa and b at ob
// (each contiguous or repeated, as the plan says).
func (k *binaryKernel) row(y, a, b []float32, oa, ob, n int) {
	sa, sb := k.plan.istride[0], k.plan.istride[1]
	switch {
	case k.op == binPow:
		k.powRow(y, a, b, oa, ob, sa, sb)
	case sa == 1 && sb == 1:
		binVV(k.op, y, a[oa:oa+n], b[ob:ob+n])
	case sa == 0 && sb == 1:
		binSV(k.op, y, a[oa], b[ob:ob+n])
	case sa == 1 && sb == 0:
		binVS(k.op, y, a[oa:oa+n], b[ob])
	default:
		var v [1]float32
		binVV(k.op, v[:], a[oa:oa+1], b[ob:ob+1])
		for i := range y {
			y[i] = v[0]
		}
	}
}

func binVV(op binOp, y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	switch op {
	case binAdd:
		for i := range y {
			y[i] = a[i] + b[i]
		}
	case binSub:
		for i := range y {
			y[i] = a[i] - b[i]
		}
	case binMul:
		for i := range y {
			y[i] = a[i] * b[i]
		}
	case binDiv:
		for i := range y {
			y[i] = a[i] / b[i]
		}
	}
}

func binSV(op binOp, y []float32, a float32, b []float32) {
	b = b[:len(y)]
	switch op {
	case binAdd:
		for i := range y {
			y[i] = a + b[i]
		}
	case binSub:
		for i := range y {
			y[i] = a - b[i]
		}
	case binMul:
		for i := range y {
			y[i] = a * b[i]
		}
	case binDiv:
		for i := range y {
			y[i] = a / b[i]
		}
	}
}

func binVS(op binOp, y, a []float32, b float32) {
	a = a[:len(y)]
	switch op {
	case binAdd:
		for i := range y {
			y[i] = a[i] + b
		}
	case binSub:
		for i := range y {
			y[i] = a[i] - b
		}
	case binMul:
		for i := range y {
			y[i] = a[i] * b
		}
	case binDiv:
		if r := 1 / b; isPow2(b) {
			for i := range y {
				y[i] = a[i] * r
			}
			return
		}
		for i := range y {
			y[i] = a[i] / b
		}
	}
}

// isPow2 reports whether dividing by b is exactly multiplying by 1/b.
func isPow2(b float32) bool {
	bits := math.Float32bits(b)
	return bits&0x7fffff == 0 && bits&0x7f800000 != 0 && bits&0x7f800000 != 0x7f800000
}

// powRow computes y = a^b for one row.
func (k *binaryKernel) powRow(y, a, b []float32, oa, ob, sa, sb int) {
	if k.scalarExp && sa == 1 {
		x := a[oa : oa+len(y)]
		switch k.exp {
		case 1:
			copy(y, x)
			return
		case 2:
			for i, v := range x {
				y[i] = v * v
			}
			return
		case 3:
			for i, v := range x {
				y[i] = v * v * v
			}
			return
		case 0.5:
			for i, v := range x {
				y[i] = float32(math.Sqrt(float64(v)))
			}
			return
		case -1:
			for i, v := range x {
				y[i] = 1 / v
			}
			return
		}
	}
	for i := range y {
		y[i] = powf(a[oa+i*sa], b[ob+i*sb])
	}
}

func powf(a, b float32) float32 {
	switch b {
	case 2:
		return a * a
	case 1:
		return a
	}
	return float32(math.Pow(float64(a), float64(b)))
}

// Backward adds each operand's gradient, summed over its broadcast
// dimensions.
func (k *binaryKernel) Backward(in, out, dout, din []*graph.Tensor) {
	k.a, k.b = k.operands(in)
	k.y, k.dy = out[0].F, dout[0].F
	p := k.plan
	for j := range 2 {
		if din[j] == nil || p.n == 0 {
			continue
		}
		if j == 1 && k.expF != nil {
			continue
		}
		k.k, k.dx = j, din[j].F
		switch {
		case p.full[j] || p.distinct[j] && p.istride[j] == 1:
			parallel.For(p.n, bcastGrain, k.gradSpanFn)
		case p.distinct[j]:
			parallel.For(p.rows, p.rowGrain(), k.gradRowsFn)
		case p.istride[j] == 1 && p.inner >= 256:
			parallel.For(p.inner, max(64, bcastGrain/max(p.rows, 1)), k.gradColsFn)
		default:
			k.gradRows(0, p.rows)
		}
	}
	k.a, k.b, k.y, k.dy, k.dx = nil, nil, nil, nil, nil
}

// gradElems accumulates operand k.k's gradient from result elements
// [lo, hi).
func (k *binaryKernel) gradElems(lo, hi int) {
	p := k.plan
	n := p.inner
	for lo < hi {
		r := lo / n
		i := lo - r*n
		e := min(hi, (r+1)*n)
		off := p.offsets(r)
		k.gradSpan(r*n, off[0], off[1], i, e-r*n)
		lo = e
	}
}

// gradRows accumulates operand k.k's gradient over rows [lo, hi).
func (k *binaryKernel) gradRows(lo, hi int) {
	p := k.plan
	n := p.inner
	for r := lo; r < hi; r++ {
		off := p.offsets(r)
		k.gradSpan(r*n, off[0], off[1], 0, n)
	}
}

// gradCols accumulates operand k.k's gradient over inner columns [lo, hi)
// of every row (operand k contiguous along the inner dimension, so that
// workers with different columns write different elements).
func (k *binaryKernel) gradCols(lo, hi int) {
	p := k.plan
	for r := 0; r < p.rows; r++ {
		off := p.offsets(r)
		k.gradSpan(r*p.inner, off[0], off[1], lo, hi)
	}
}

// gradSpan accumulates the gradient of operand k.k from elements [lo, hi)
// of the row starting at result offset oy, operands at oa and ob.
func (k *binaryKernel) gradSpan(oy, oa, ob, lo, hi int) {
	p := k.plan
	sa, sb := p.istride[0], p.istride[1]
	dy := k.dy[oy+lo : oy+hi]
	a, b := k.a, k.b
	oa += lo * sa
	ob += lo * sb
	ox, sx := oa, sa
	if k.k == 1 {
		ox, sx = ob, sb
	}
	dx := k.dx
	if sx == 1 {
		dx = dx[ox : ox+len(dy)]
	}
	var s float32 // sum, when operand k is repeated along the row
	switch k.op {
	case binAdd, binSub:
		neg := k.op == binSub && k.k == 1
		if sx == 1 {
			if neg {
				for i, d := range dy {
					dx[i] -= d
				}
			} else {
				for i, d := range dy {
					dx[i] += d
				}
			}
			return
		}
		var acc float64
		for _, d := range dy {
			acc += float64(d)
		}
		s = float32(acc)
		if neg {
			s = -s
		}
	case binMul:
		// The other operand, contiguous or repeated.
		o, oo, so := b, ob, sb
		if k.k == 1 {
			o, oo, so = a, oa, sa
		}
		switch {
		case sx == 1 && so == 1:
			o = o[oo : oo+len(dy)]
			for i, d := range dy {
				dx[i] += d * o[i]
			}
			return
		case sx == 1:
			c := o[oo]
			for i, d := range dy {
				dx[i] += d * c
			}
			return
		case so == 1:
			o = o[oo : oo+len(dy)]
			var acc float64
			for i, d := range dy {
				acc += float64(d * o[i])
			}
			s = float32(acc)
		default:
			var acc float64
			for _, d := range dy {
				acc += float64(d)
			}
			s = float32(acc) * o[oo]
		}
	case binDiv:
		y := k.y[oy+lo : oy+hi]
		var acc float64
		for i, d := range dy {
			bv := b[ob+i*sb]
			var g float32
			if k.k == 0 {
				g = d / bv
			} else {
				g = -d * y[i] / bv
			}
			if sx == 1 {
				dx[i] += g
			} else {
				acc += float64(g)
			}
		}
		s = float32(acc)
	case binPow:
		y := k.y[oy+lo : oy+hi]
		var acc float64
		for i, d := range dy {
			av, bv := a[oa+i*sa], b[ob+i*sb]
			var g float32
			if k.k == 0 {
				switch bv {
				case 2:
					g = d * 2 * av
				case 1:
					g = d
				case 0:
					g = 0
				default:
					g = d * bv * float32(math.Pow(float64(av), float64(bv)-1))
				}
			} else if av > 0 {
				g = d * y[i] * float32(math.Log(float64(av)))
			}
			if sx == 1 {
				dx[i] += g
			} else {
				acc += float64(g)
			}
		}
		s = float32(acc)
	}
	k.dx[ox] += s
}

// intBinaryKernel computes Add/Sub/Mul/Div/Pow on int64 tensors (constant
// folding only, so it favours brevity over speed).
type intBinaryKernel struct {
	op   binOp
	plan *bcastPlan
}

func (k *intBinaryKernel) Forward(in, out []*graph.Tensor) {
	p := k.plan
	a, b, y := in[0].I, in[1].I, out[0].I
	for r := 0; r < p.rows; r++ {
		off := p.offsets(r)
		for i := range p.inner {
			av, bv := a[off[0]+i*p.istride[0]], b[off[1]+i*p.istride[1]]
			var v int64
			switch k.op {
			case binAdd:
				v = av + bv
			case binSub:
				v = av - bv
			case binMul:
				v = av * bv
			case binDiv:
				if bv == 0 {
					panic("integer division by zero")
				}
				if bv == -1 {
					v = -av // avoids the MinInt64 / -1 trap
				} else {
					v = av / bv
				}
			case binPow:
				v = ipow(av, bv)
			}
			y[r*p.inner+i] = v
		}
	}
}

// ipow is a^b for integers (0 for a negative exponent unless |a| = 1, as
// truncating the real power would give).
func ipow(a, b int64) int64 {
	if b < 0 {
		switch a {
		case 1:
			return 1
		case -1:
			if b%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for b > 0 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
		b >>= 1
	}
	return r
}
