package nn

import "github.com/deepcompress/deepcompress/internal/parallel"

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	Step(lr float32)
}

// SGD is stochastic gradient descent with momentum and weight decay, in
// PyTorch's form: g = dL/dW + l2*W + l1*sign(W); v = mu*v + g; W -= lr*v.
// Decay applies to weights only, not biases. Masked entries stay exactly
// zero: their weight, gradient and velocity are all held at zero.
type SGD struct {
	Params   []*Param
	Momentum float32
	L2, L1   float32

	// Per-step work, reused so that a step allocates nothing; run is the
	// chunk loop bound to self (rebound if the SGD was copied).
	jobs []sgdJob
	lr   float32
	run  func(lo, hi int)
	self *SGD
}

type sgdJob struct {
	w, g, v, mask []float32
	l2, l1        float32
}

// sgdChunk is the number of weights one worker updates at a time.
const sgdChunk = 1 << 15

// Step applies one update with learning rate lr. Large parameters are
// split into chunks updated on all cores: on one core the update is a
// quarter of a LeNet-300-100 step at batch 64.
func (o *SGD) Step(lr float32) {
	o.jobs = o.jobs[:0]
	for _, p := range o.Params {
		if p.velocity == nil {
			p.velocity = make([]float32, len(p.Data))
		}
		l2, l1 := o.L2, o.L1
		if !p.Weight {
			l2, l1 = 0, 0
		}
		for lo := 0; lo < len(p.Data); lo += sgdChunk {
			hi := min(lo+sgdChunk, len(p.Data))
			j := sgdJob{w: p.Data[lo:hi], g: p.Grad[lo:hi], v: p.velocity[lo:hi], l2: l2, l1: l1}
			if p.Mask != nil {
				j.mask = p.Mask[lo:hi]
			}
			o.jobs = append(o.jobs, j)
		}
	}
	o.lr = lr
	if o.self != o {
		o.run, o.self = o.runJobs, o
	}
	parallel.For(len(o.jobs), 1, o.run)
}

func (o *SGD) runJobs(lo, hi int) {
	for i := lo; i < hi; i++ {
		j := &o.jobs[i]
		sgdUpdate(j.w, j.g, j.v, j.mask, o.lr, o.Momentum, j.l2, j.l1)
	}
}

// sgdUpdate applies d = g + l2*w + l1*sign(w); v = mu*v + d; w -= lr*v to
// one chunk, in PyTorch's order of operations, then zeroes the masked
// entries of w, v and g.
func sgdUpdate(w, g, v, mask []float32, lr, mu, l2, l1 float32) {
	n := len(w)
	g, v = g[:n], v[:n]
	if l1 == 0 {
		for i := range w {
			d := g[i] + l2*w[i]
			vi := mu*v[i] + d
			v[i] = vi
			w[i] -= lr * vi
		}
	} else {
		for i := range w {
			d := g[i] + l2*w[i]
			switch {
			case w[i] > 0:
				d += l1
			case w[i] < 0:
				d -= l1
			}
			vi := mu*v[i] + d
			v[i] = vi
			w[i] -= lr * vi
		}
	}
	if mask != nil {
		mask = mask[:n]
		for i, m := range mask {
			w[i] *= m
			v[i] *= m
			g[i] *= m
		}
	}
}
