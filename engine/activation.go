package engine

// Elementwise unary operators (activations and friends), y = f(x), with
// dL/dx = dL/dy * f'(x):
//
//	Relu         y = max(0, x)                       f' = [x > 0]
//	LeakyRelu    y = x if x > 0 else alpha*x          f' = 1 or alpha (alpha 0.01)
//	Clip         y = min(max(x, lo), hi)              f' = [lo < x < hi]
//	Sigmoid      y = 1/(1+exp(-x))                    f' = y(1-y)
//	HardSigmoid  y = max(0, min(1, alpha*x+beta))     f' = alpha [0 < alpha*x+beta < 1] (alpha 0.2, beta 0.5)
//	HardSwish    y = x * max(0, min(1, x/6+1/2))      f' = 0 (x < -3), x/3+1/2 (x <= 3), 1
//	Tanh         y = tanh(x)                          f' = 1-y²
//	Erf          y = erf(x)                           f' = 2/√π exp(-x²)
//	Gelu         y = x Φ(x), Φ(x) = (1+erf(x/√2))/2   f' = Φ(x) + x exp(-x²/2)/√(2π)
//	  "tanh":    y = x (1+tanh(u))/2, u = √(2/π)(x+0.044715x³)
//	Neg          y = -x                               f' = -1
//	Exp          y = exp(x)                           f' = y
//	Log          y = ln(x)                            f' = 1/x
//	Abs          y = |x|                              f' = sign(x)
//	Sqrt         y = √x                               f' = 1/(2y)
//	Reciprocal   y = 1/x                              f' = -y²
//	Floor, Ceil  y = ⌊x⌋, ⌈x⌉                         f' = 0
//
// The derivative at a kink is PyTorch's (Relu: 0 at 0; Clip: 0 at the
// bounds; HardSwish: the middle piece at ±3). Clip's bounds are attributes
// before opset 11 and optional constant inputs from 11 (hyperparameters:
// no gradient). Neg and Abs also take Int64 tensors (constant folding).

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

type unaryOp uint8

const (
	unRelu unaryOp = iota
	unLeakyRelu
	unClip
	unSigmoid
	unHardSigmoid
	unHardSwish
	unTanh
	unErf
	unGelu
	unGeluTanh
	unNeg
	unExp
	unLog
	unAbs
	unSqrt
	unReciprocal
	unFloor
	unCeil
)

var unaryOps = map[string]unaryOp{
	"Relu": unRelu, "LeakyRelu": unLeakyRelu, "Clip": unClip, "Sigmoid": unSigmoid,
	"HardSigmoid": unHardSigmoid, "HardSwish": unHardSwish, "Tanh": unTanh, "Erf": unErf,
	"Gelu": unGelu, "Neg": unNeg, "Exp": unExp, "Log": unLog, "Abs": unAbs, "Sqrt": unSqrt,
	"Reciprocal": unReciprocal, "Floor": unFloor, "Ceil": unCeil,
}

func init() {
	register(buildUnary, "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
		"Tanh", "Erf", "Gelu", "Neg", "Exp", "Log", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil")
}

func buildUnary(b *Build) (Kernel, error) {
	op := unaryOps[b.Node.Op]
	x, err := b.InShape(0)
	if err != nil {
		return nil, err
	}
	if len(b.Out) != 1 {
		return nil, fmt.Errorf("%s has 1 output, the node lists %d", b.Node.Op, len(b.Out))
	}
	maxIn := 1
	if op == unClip && b.Opset >= 11 {
		maxIn = 3
	}
	if len(b.In) > maxIn {
		return nil, fmt.Errorf("%s takes at most %d input(s), the node has %d", b.Node.Op, maxIn, len(b.In))
	}
	k := &unaryKernel{op: op}
	k.fwdFn, k.bwdFn = k.forward, k.backward
	n := b.Node
	switch op {
	case unLeakyRelu:
		if k.alpha, err = n.AttrFloat("alpha", 0.01); err != nil {
			return nil, err
		}
	case unHardSigmoid:
		if k.alpha, err = n.AttrFloat("alpha", 0.2); err != nil {
			return nil, err
		}
		if k.beta, err = n.AttrFloat("beta", 0.5); err != nil {
			return nil, err
		}
	case unGelu:
		s, err := n.AttrString("approximate", "none")
		if err != nil {
			return nil, err
		}
		switch s {
		case "none":
		case "tanh":
			k.op = unGeluTanh
		default:
			return nil, fmt.Errorf("Gelu: approximate is %q, want \"none\" or \"tanh\"", graph.Short(s))
		}
	case unClip:
		if err := clipBounds(b, k); err != nil {
			return nil, err
		}
	}
	if b.In[0].DType == graph.Int64 {
		if op != unNeg && op != unAbs {
			return nil, fmt.Errorf("%s of int64 values is not supported", b.Node.Op)
		}
		b.Out[0].DType = graph.Int64
	}
	b.Out[0].Shape = x
	k.n = numel(x)
	k.grain = bcastGrain
	switch k.op {
	case unSigmoid, unTanh, unErf, unGelu, unGeluTanh, unExp, unLog:
		k.grain = 2048
	}
	return k, nil
}

// clipBounds reads Clip's min and max: attributes before opset 11, optional
// constant scalar inputs from 11.
func clipBounds(b *Build, k *unaryKernel) error {
	k.alpha, k.beta = -math.MaxFloat32, math.MaxFloat32
	var err error
	if b.Opset < 11 {
		if k.alpha, err = b.Node.AttrFloat("min", k.alpha); err != nil {
			return err
		}
		k.beta, err = b.Node.AttrFloat("max", k.beta)
		return err
	}
	for i, dst := range []*float32{&k.alpha, &k.beta} {
		v, ok, err := b.ConstFloats(i + 1)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		b.NoGrad[i+1] = true
		if len(v) != 1 {
			return fmt.Errorf("Clip's %s must be a scalar, has shape %s", []string{"min", "max"}[i], ShapeString(b.In[i+1].Shape))
		}
		*dst = v[0]
	}
	return nil
}

// unaryKernel applies one unary operator. alpha and beta hold its
// parameters (LeakyRelu's alpha; HardSigmoid's alpha and beta; Clip's
// bounds). The slices are set by Forward/Backward for the bound loop
// functions handed to the worker pool.
type unaryKernel struct {
	op           unaryOp
	alpha, beta  float32
	n, grain     int
	x, y, dy, dx []float32

	fwdFn, bwdFn func(lo, hi int)
}

// Forward computes y = f(x).
func (k *unaryKernel) Forward(in, out []*graph.Tensor) {
	if in[0].DType == graph.Int64 {
		for i, v := range in[0].I {
			if v < 0 || k.op == unNeg {
				v = -v
			}
			out[0].I[i] = v
		}
		return
	}
	k.x, k.y = in[0].F, out[0].F
	parallel.For(k.n, k.grain, k.fwdFn)
	k.x, k.y = nil, nil
}

func (k *unaryKernel) forward(lo, hi int) {
	unaryApply(k.op, k.alpha, k.beta, k.x[lo:hi], k.y[lo:hi])
}

// unaryApply sets y = op(x) elementwise (y may be x), alpha and beta being
// the operator's parameters as in unaryKernel. It is the one definition
// of the forward formulas, for the unary kernel and for the activations
// fused into a convolution's output (epilogue).
func unaryApply(op unaryOp, alpha, beta float32, x, y []float32) {
	y = y[:len(x)]
	// Relu, Clip, HardSigmoid and HardSwish: the bulk in vector
	// registers where the CPU has them (simd_amd64.s, the same operations
	// in the same order), the rest below.
	if d := actSIMD(op, x, y, alpha, beta); d > 0 {
		x, y = x[d:], y[d:]
	}
	switch op {
	case unRelu:
		// Clearing negative values through their sign bit avoids a
		// branch that random signs would mispredict.
		for i, v := range x {
			u := math.Float32bits(v)
			y[i] = math.Float32frombits(u &^ uint32(int32(u)>>31))
		}
	case unLeakyRelu:
		a := alpha
		for i, v := range x {
			y[i] = max(v, 0) + a*min(v, 0)
		}
	case unClip:
		lo, hi := alpha, beta
		for i, v := range x {
			y[i] = min(max(v, lo), hi)
		}
	case unSigmoid:
		for i, v := range x {
			y[i] = sigmoid32(v)
		}
	case unHardSigmoid:
		a, b := alpha, beta
		for i, v := range x {
			y[i] = min(max(a*v+b, 0), 1)
		}
	case unHardSwish:
		for i, v := range x {
			y[i] = v * min(max(v*(1.0/6)+0.5, 0), 1)
		}
	case unTanh:
		for i, v := range x {
			y[i] = float32(math.Tanh(float64(v)))
		}
	case unErf:
		for i, v := range x {
			y[i] = erf32(v)
		}
	case unGelu:
		for i, v := range x {
			f := float64(v)
			y[i] = float32(0.5 * f * (1 + math.Erf(f*(1/math.Sqrt2))))
		}
	case unGeluTanh:
		for i, v := range x {
			f := float64(v)
			y[i] = float32(0.5 * f * (1 + math.Tanh(geluC*(f+0.044715*f*f*f))))
		}
	case unNeg:
		for i, v := range x {
			y[i] = -v
		}
	case unExp:
		for i, v := range x {
			y[i] = float32(math.Exp(float64(v)))
		}
	case unLog:
		for i, v := range x {
			y[i] = float32(math.Log(float64(v)))
		}
	case unAbs:
		for i, v := range x {
			y[i] = float32(math.Abs(float64(v)))
		}
	case unSqrt:
		for i, v := range x {
			y[i] = float32(math.Sqrt(float64(v)))
		}
	case unReciprocal:
		for i, v := range x {
			y[i] = 1 / v
		}
	case unFloor:
		for i, v := range x {
			y[i] = float32(math.Floor(float64(v)))
		}
	case unCeil:
		for i, v := range x {
			y[i] = float32(math.Ceil(float64(v)))
		}
	}
}

// erf32 is erf(x) to within 9.5e-8 (absolute, measured over every 7th
// float32 in [0, 4.5]), about three times faster than math.Erf: the
// rational approximation x P(x²)/Q(x²) on [-4, 4] (erf is ±1 in float32
// beyond), evaluated in float64, with Eigen's coefficients
// (generic_fast_erf_float).
func erf32(v float32) float32 {
	x := float64(min(max(v, -4), 4))
	x2 := x * x
	p := -2.72614225801306e-10
	p = p*x2 + 2.77068142495902e-08
	p = p*x2 - 2.10102402082508e-06
	p = p*x2 - 5.69250639462346e-05
	p = p*x2 - 7.34990630326855e-04
	p = p*x2 - 2.95459980854025e-03
	p = p*x2 - 1.60960333262415e-02
	q := -1.45660718464996e-05
	q = q*x2 - 2.13374055278905e-04
	q = q*x2 - 1.68282697438203e-03
	q = q*x2 - 7.37332916720468e-03
	q = q*x2 - 1.42647390514189e-02
	if v != v {
		return v
	}
	return float32(x * p / q)
}

// geluC is √(2/π).
const geluC = 0.7978845608028654

func sigmoid32(v float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(v))))
}

// Backward adds dL/dx = dL/dy * f'(x).
func (k *unaryKernel) Backward(in, out, dout, din []*graph.Tensor) {
	if din[0] == nil {
		return
	}
	k.x, k.y, k.dy, k.dx = in[0].F, out[0].F, dout[0].F, din[0].F
	parallel.For(k.n, k.grain, k.bwdFn)
	k.x, k.y, k.dy, k.dx = nil, nil, nil, nil
}

func (k *unaryKernel) backward(lo, hi int) {
	x, y, dy, dx := k.x[lo:hi], k.y[lo:hi], k.dy[lo:hi], k.dx[lo:hi]
	y, dy, dx = y[:len(x)], dy[:len(x)], dx[:len(x)]
	switch k.op {
	case unRelu:
		// dx += dy where x > +0, through a mask of all ones or zeros
		// rather than a branch.
		for i, v := range x {
			u := int32(math.Float32bits(v))
			mask := uint32((-u)>>31) &^ uint32(u>>31)
			dx[i] += math.Float32frombits(math.Float32bits(dy[i]) & mask)
		}
	case unLeakyRelu:
		a, one := math.Float32bits(k.alpha), math.Float32bits(1)
		for i, v := range x {
			s := a // chosen by a conditional move, not a branch
			if v > 0 {
				s = one
			}
			dx[i] += dy[i] * math.Float32frombits(s)
		}
	case unClip:
		// Masks set by conditional moves rather than branches (half the
		// inputs of a ReLU6 are below its bound).
		lo, hi := k.alpha, k.beta
		for i, v := range x {
			var m1, m2 uint32
			if v > lo {
				m1 = ^uint32(0)
			}
			if v < hi {
				m2 = ^uint32(0)
			}
			dx[i] += math.Float32frombits(math.Float32bits(dy[i]) & m1 & m2)
		}
	case unSigmoid:
		for i, s := range y {
			dx[i] += dy[i] * s * (1 - s)
		}
	case unHardSigmoid:
		a, b := k.alpha, k.beta
		for i, v := range x {
			if t := a*v + b; t > 0 && t < 1 {
				dx[i] += a * dy[i]
			}
		}
	case unHardSwish:
		for i, v := range x {
			switch {
			case v < -3:
			case v <= 3:
				dx[i] += dy[i] * (v*(1.0/3) + 0.5)
			default:
				dx[i] += dy[i]
			}
		}
	case unTanh:
		for i, t := range y {
			dx[i] += dy[i] * (1 - t*t)
		}
	case unErf:
		for i, v := range x {
			f := float64(v)
			dx[i] += dy[i] * float32(2/math.SqrtPi*math.Exp(-f*f))
		}
	case unGelu:
		for i, v := range x {
			f := float64(v)
			cdf := 0.5 * (1 + math.Erf(f*(1/math.Sqrt2)))
			pdf := math.Exp(-0.5*f*f) * (1 / math.Sqrt(2*math.Pi))
			dx[i] += dy[i] * float32(cdf+f*pdf)
		}
	case unGeluTanh:
		for i, v := range x {
			f := float64(v)
			t := math.Tanh(geluC * (f + 0.044715*f*f*f))
			g := 0.5*(1+t) + 0.5*f*(1-t*t)*geluC*(1+3*0.044715*f*f)
			dx[i] += dy[i] * float32(g)
		}
	case unNeg:
		for i, d := range dy {
			dx[i] -= d
		}
	case unExp:
		for i, e := range y {
			dx[i] += dy[i] * e
		}
	case unLog:
		for i, v := range x {
			dx[i] += dy[i] / v
		}
	case unAbs:
		for i, v := range x {
			switch {
			case v > 0:
				dx[i] += dy[i]
			case v < 0:
				dx[i] -= dy[i]
			}
		}
	case unSqrt:
		for i, s := range y {
			dx[i] += dy[i] * 0.5 / s
		}
	case unReciprocal:
		for i, r := range y {
			dx[i] -= dy[i] * r * r
		}
	case unFloor, unCeil:
		// Zero almost everywhere.
	}
}
