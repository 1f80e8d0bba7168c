package engine

// BatchNormalization in its inference form, per channel c (axis 1 of an
// input of any rank >= 2):
//
//	y = scale[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + B[c]
//	  = s[c] * x + t[c],   s = scale / sqrt(var + epsilon),   t = B - mean * s.
//
// The statistics mean and var are hyperparameters (never trained): in
// training the engine keeps them frozen, as when fine-tuning a pretrained
// network, so the backward pass is
//
//	dx = s[c] * dy,   dscale[c] = sum dy * (x - mean[c]) / sqrt(var[c] + epsilon),   dB[c] = sum dy.
//
// Training mode (training_mode = 1, or the running-statistics outputs
// asked for) is refused; momentum is ignored. Old opsets' spatial = 1 is
// accepted (spatial = 0 is not supported).

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildBatchNorm, "BatchNormalization")
}

type batchNormKernel struct {
	n, c, inner int // x is [n, c, inner...]
	eps         float64
	s, t        []float32 // per channel: y = s*x + t
	inv         []float32 // 1/sqrt(var+eps)

	x, y, dy, dx []float32
	fwdFn, bwdFn func(lo, hi int)
}

func buildBatchNorm(b *Build) (Kernel, error) {
	if len(b.In) != 5 {
		return nil, fmt.Errorf("BatchNormalization takes 5 inputs (X, scale, B, mean, var), got %d", len(b.In))
	}
	for i := range b.In {
		if b.In[i] == nil {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		if b.In[i].DType != graph.Float32 {
			return nil, fmt.Errorf("input %d is %v: BatchNormalization takes float32 tensors", i, b.In[i].DType)
		}
	}
	if len(b.Out) < 1 {
		return nil, fmt.Errorf("BatchNormalization needs an output")
	}
	xs := b.In[0].Shape
	if len(xs) < 2 {
		return nil, fmt.Errorf("input X has shape %s: want rank >= 2 with the channels on axis 1", ShapeString(xs))
	}
	c := xs[1]
	names := [...]string{"", "scale", "B", "mean", "var"}
	for i := 1; i < 5; i++ {
		if s := b.In[i].Shape; len(s) != 1 || s[0] != c {
			return nil, fmt.Errorf("%s has shape %s, want [%d] (one per channel of X %s)", names[i], ShapeString(s), c, ShapeString(xs))
		}
	}
	tm, err := b.Node.AttrInt("training_mode", 0)
	if err != nil {
		return nil, err
	}
	if tm != 0 {
		return nil, fmt.Errorf("training_mode = %d: only the inference form (running statistics) is supported", tm)
	}
	for j := 1; j < len(b.Node.Outputs); j++ {
		if b.Node.Outputs[j] != "" {
			return nil, fmt.Errorf("output %d (%s) asks for training-mode statistics: only the inference form is supported", j, graph.Short(b.Node.Outputs[j]))
		}
	}
	if sp, err := b.Node.AttrInt("spatial", 1); err != nil {
		return nil, err
	} else if sp != 1 {
		return nil, fmt.Errorf("spatial = %d: only spatial = 1 (statistics per channel) is supported", sp)
	}
	eps, err := b.Node.AttrFloat("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if !(eps >= 0) || math.IsInf(float64(eps), 0) {
		return nil, fmt.Errorf("epsilon = %g: must be a finite number >= 0", eps)
	}
	inner := 1
	for _, d := range xs[2:] {
		inner *= d
	}
	b.NoGrad[3], b.NoGrad[4] = true, true
	b.Out[0].Shape = xs
	for j := 1; j < len(b.Out); j++ {
		b.Out[j].Shape = []int{c}
	}
	k := &batchNormKernel{n: xs[0], c: c, inner: inner, eps: float64(eps),
		s: make([]float32, c), t: make([]float32, c), inv: make([]float32, c)}
	k.fwdFn, k.bwdFn = k.forwardPlanes, k.backwardPlanes
	return k, nil
}

// coefficients computes s, t and 1/sqrt(var+eps) from the operands.
func (k *batchNormKernel) coefficients(in []*graph.Tensor) {
	scale, shift, mean, variance := in[1].F, in[2].F, in[3].F, in[4].F
	for c := range k.c {
		inv := float32(1 / math.Sqrt(float64(variance[c])+k.eps))
		k.inv[c] = inv
		k.s[c] = scale[c] * inv
		k.t[c] = shift[c] - mean[c]*k.s[c]
	}
}

func (k *batchNormKernel) Forward(in, out []*graph.Tensor) {
	k.coefficients(in)
	k.x, k.y = in[0].F, out[0].F
	parallel.For(k.n*k.c, max(1, (1<<15)/max(1, k.inner)), k.fwdFn)
	k.x, k.y = nil, nil
}

func (k *batchNormKernel) forwardPlanes(lo, hi int) {
	for p := lo; p < hi; p++ {
		s, t := k.s[p%k.c], k.t[p%k.c]
		x := k.x[p*k.inner : (p+1)*k.inner]
		y := k.y[p*k.inner : (p+1)*k.inner]
		y = y[:len(x)]
		for i, v := range x {
			y[i] = s*v + t
		}
	}
}

func (k *batchNormKernel) Backward(in, out, dout, din []*graph.Tensor) {
	k.coefficients(in)
	x, dy := in[0].F, dout[0].F
	if din[0] != nil {
		k.dx, k.dy = din[0].F, dy
		parallel.For(k.n*k.c, max(1, (1<<15)/max(1, k.inner)), k.bwdFn)
		k.dx, k.dy = nil, nil
	}
	if din[1] == nil && din[2] == nil {
		return
	}
	mean := in[3].F
	for c := range k.c {
		m := mean[c]
		var sdy, sdyx float64
		for n := range k.n {
			p := (n*k.c + c) * k.inner
			d := dy[p : p+k.inner]
			xv := x[p : p+k.inner]
			xv = xv[:len(d)]
			var a, bb float32
			for i, g := range d {
				a += g
				bb += g * (xv[i] - m)
			}
			sdy += float64(a)
			sdyx += float64(bb)
		}
		if din[1] != nil {
			din[1].F[c] += float32(sdyx * float64(k.inv[c]))
		}
		if din[2] != nil {
			din[2].F[c] += float32(sdy)
		}
	}
}

func (k *batchNormKernel) backwardPlanes(lo, hi int) {
	for p := lo; p < hi; p++ {
		s := k.s[p%k.c]
		d := k.dy[p*k.inner : (p+1)*k.inner]
		dx := k.dx[p*k.inner : (p+1)*k.inner]
		dx = dx[:len(d)]
		for i, g := range d {
			dx[i] += s * g
		}
	}
}
