package nn

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
}

// Step applies one update with learning rate lr.
func (o *SGD) Step(lr float32) {
	for _, p := range o.Params {
		if p.velocity == nil {
			p.velocity = make([]float32, len(p.Data))
		}
		l2, l1 := o.L2, o.L1
		if !p.Weight {
			l2, l1 = 0, 0
		}
		sgdUpdate(p.Data, p.Grad, p.velocity, p.Mask, lr, o.Momentum, l2, l1)
	}
}

func sgdUpdate(w, g, v, mask []float32, lr, mu, l2, l1 float32) {
	for i := range w {
		d := g[i] + l2*w[i]
		if l1 != 0 {
			switch {
			case w[i] > 0:
				d += l1
			case w[i] < 0:
				d -= l1
			}
		}
		v[i] = mu*v[i] + d
		w[i] -= lr * v[i]
	}
	if mask != nil {
		for i, m := range mask {
			w[i] *= m
			v[i] *= m
			g[i] *= m
		}
	}
}
