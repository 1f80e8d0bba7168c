package nn

// Param is one named parameter tensor with its gradient.
//
// Mask, when non-nil, holds 1 for live weights and 0 for pruned ones;
// the optimizer keeps masked weights at exactly zero and never lets their
// gradient or momentum leak back in.
type Param struct {
	Name   string // "<layer>.weight" or "<layer>.bias"
	Shape  []int
	Data   []float32
	Grad   []float32
	Mask   []float32
	Weight bool // a weight (prunable, shareable, decayed) rather than a bias

	velocity []float32 // SGD momentum buffer, allocated on first step
}

func newParam(name string, shape []int, weight bool) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Shape: shape, Data: make([]float32, n), Grad: make([]float32, n), Weight: weight}
}

// SetMask installs mask (1 keep, 0 prune) and zeroes the pruned weights and
// their momentum. A nil mask makes the parameter dense again.
func (p *Param) SetMask(mask []float32) {
	p.Mask = mask
	if mask == nil {
		return
	}
	for i, m := range mask {
		if m == 0 {
			p.Data[i] = 0
			if p.velocity != nil {
				p.velocity[i] = 0
			}
		}
	}
}

// MaskFromZeros sets a mask that keeps exactly the non-zero weights: how a
// pruned checkpoint's mask is recovered.
func (p *Param) MaskFromZeros() {
	m := make([]float32, len(p.Data))
	for i, w := range p.Data {
		if w != 0 {
			m[i] = 1
		}
	}
	p.SetMask(m)
}

// Kept counts the live (unmasked) weights.
func (p *Param) Kept() int {
	if p.Mask == nil {
		return len(p.Data)
	}
	n := 0
	for _, m := range p.Mask {
		if m != 0 {
			n++
		}
	}
	return n
}

// ResetMomentum forgets the optimizer's velocity, as when a new training
// phase starts.
func (p *Param) ResetMomentum() { p.velocity = nil }

// Velocity is the optimizer's momentum buffer, nil before the first step
// or after ResetMomentum: with the data and mask, the parameter's whole
// training state, for checkpoints that resume mid-training.
func (p *Param) Velocity() []float32 { return p.velocity }

// SetVelocity installs a saved momentum buffer (nil: none); its length
// must be the parameter's.
func (p *Param) SetVelocity(v []float32) { p.velocity = v }
