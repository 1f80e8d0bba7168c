package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
)

// Model is a network built from an arch.Spec.
type Model struct {
	Spec   arch.Spec
	layers []layer
	params []*Param
	byName map[string]*Param
	in     Tensor
	// logits is the number of layers up to the logits: all but a final
	// softmax, which training leaves to its loss (SoftmaxCrossEntropy).
	logits int
	// graph, when set, runs the model instead of the layers (FromGraph).
	graph *graphNet
}

// New builds the network described by spec with PyTorch's default
// initialisation (weights and biases uniform in +-1/sqrt(fan_in)) drawn from
// a generator seeded with seed.
func New(spec arch.Spec, seed uint64) (*Model, error) {
	shapes, err := spec.Shapes()
	if err != nil {
		return nil, err
	}
	// Values and gradients of every parameter, before allocating them.
	if err := spec.CheckBudget(nil, 2, 1); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	m := &Model{Spec: spec, byName: map[string]*Param{}}
	in := spec.Input
	firstWithParams := true
	for i, ls := range spec.Layers {
		l := buildLayer(ls, in, shapes[i], rng)
		// The input needs no gradient, so neither does anything before
		// the first layer with parameters.
		l.setNeedInputGrad(!firstWithParams)
		if ls.HasParams() {
			firstWithParams = false
		}
		for _, p := range l.params() {
			m.params = append(m.params, p)
			m.byName[p.Name] = p
		}
		m.layers = append(m.layers, l)
		in = shapes[i]
	}
	for _, l := range m.layers {
		initUniform(l.params(), rng)
	}
	m.logits = len(m.layers)
	if n := len(spec.Layers); n > 0 && spec.Layers[n-1].Kind == arch.Softmax {
		m.logits--
	}
	return m, nil
}

// initUniform draws a layer's weight and bias uniformly from
// +-1/sqrt(fan_in), fan_in being the weight's size per output unit.
func initUniform(ps []*Param, rng *rand.Rand) {
	if len(ps) == 0 {
		return
	}
	bound := float32(1 / math.Sqrt(float64(arch.Numel(ps[0].Shape[1:]))))
	for _, p := range ps {
		for i := range p.Data {
			p.Data[i] = (2*rng.Float32() - 1) * bound
		}
	}
}

func buildLayer(ls arch.Layer, in, out []int, rng *rand.Rand) layer {
	switch ls.Kind {
	case arch.Dense:
		return newDense(ls.Name, in[0], out[0], !ls.NoBias)
	case arch.Conv2D:
		st := ls.StrideOrDefault()
		l := &conv2d{c: in[0], h: in[1], w: in[2], oc: out[0], oh: out[1], ow: out[2],
			kh: ls.Kernel[0], kw: ls.Kernel[1], sh: st[0], sw: st[1], ph: ls.Pad[0], pw: ls.Pad[1]}
		l.weight = newParam(ls.Name+".weight", []int{l.oc, l.c, l.kh, l.kw}, true)
		if !ls.NoBias {
			l.bias = newParam(ls.Name+".bias", []int{l.oc}, false)
		}
		return l
	case arch.MaxPool, arch.AvgPool:
		st := ls.StrideOrDefault()
		return &pool2d{max: ls.Kind == arch.MaxPool, c: in[0], h: in[1], w: in[2], oh: out[1], ow: out[2],
			kh: ls.Kernel[0], kw: ls.Kernel[1], sh: st[0], sw: st[1], ph: ls.Pad[0], pw: ls.Pad[1]}
	case arch.ReLU:
		return &relu{}
	case arch.Flatten:
		return &flatten{}
	case arch.Dropout:
		src := rand.NewPCG(rng.Uint64(), rng.Uint64())
		return &dropout{rate: ls.Rate, rng: rand.New(src), src: src}
	case arch.Softmax:
		return &softmax{}
	}
	panic("nn: unreachable: Spec.Shapes accepted unknown kind " + string(ls.Kind))
}

// Params lists every parameter in layer order.
func (m *Model) Params() []*Param { return m.params }

// Param returns the parameter called name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// Weights lists the weight parameters (those pruning and sharing act on).
func (m *Model) Weights() []*Param {
	var ws []*Param
	for _, p := range m.params {
		if p.Weight {
			ws = append(ws, p)
		}
	}
	return ws
}

// InputSize is the number of floats per input sample.
func (m *Model) InputSize() int {
	if m.graph != nil {
		return arch.Numel(m.graph.sample)
	}
	return arch.Numel(m.Spec.Input)
}

// OutputSize is the number of floats per output sample (the classes).
func (m *Model) OutputSize() int {
	if m.graph != nil {
		return m.graph.outSize
	}
	shapes, _ := m.Spec.Shapes() // checked by New
	if len(shapes) == 0 {
		return m.InputSize()
	}
	return arch.Numel(shapes[len(shapes)-1])
}

// Forward runs the network on n samples stored back to back in x and
// returns the output, a buffer owned by the model and valid until the next
// call. With train set, dropout is active, activations are kept for
// Backward, and a final softmax is left out: the output is the logits,
// which the loss turns into probabilities itself.
func (m *Model) Forward(x []float32, n int, train bool) *Tensor {
	if m.graph != nil {
		return m.graphForward(x, n, train, false)
	}
	end := len(m.layers)
	if train {
		end = m.logits
	}
	return m.forward(x, n, train, end)
}

// Logits runs the network in inference mode without a final softmax; the
// result, like Forward's, is valid until the next call.
func (m *Model) Logits(x []float32, n int) *Tensor {
	if m.graph != nil {
		return m.graphForward(x, n, false, true)
	}
	return m.forward(x, n, false, m.logits)
}

func (m *Model) forward(x []float32, n int, train bool, end int) *Tensor {
	m.in = Tensor{Shape: append(append(m.in.Shape[:0], n), m.Spec.Input...), Data: x[:n*m.InputSize()]}
	t := &m.in
	for _, l := range m.layers[:end] {
		t = l.forward(t, train)
	}
	return t
}

// Backward propagates dL/dlogits (the output of Forward in training mode)
// through the network, leaving each parameter's gradient in its Grad.
func (m *Model) Backward(dy *Tensor) {
	if m.graph != nil {
		if err := m.graph.backward(dy); err != nil {
			panic(err) // shapes were checked by the forward pass that came first
		}
		return
	}
	for i := m.logits - 1; i >= 0 && dy != nil; i-- {
		dy = m.layers[i].backward(dy)
	}
}

// SetWeights copies tensors into the parameters of the same names. Every
// parameter must be given, with the right number of elements; on an error
// the model is left unchanged.
func (m *Model) SetWeights(w map[string][]float32) error {
	for _, p := range m.params {
		v, ok := w[p.Name]
		if !ok {
			return fmt.Errorf("nn: no values for parameter %s", p.Name)
		}
		if len(v) != len(p.Data) {
			return fmt.Errorf("nn: parameter %s has %d values, want %d (shape %s)", p.Name, len(v), len(p.Data), budget.Shape(p.Shape))
		}
	}
	for name := range w {
		if m.byName[name] == nil {
			return fmt.Errorf("nn: unknown parameter %s for this architecture", name)
		}
	}
	for _, p := range m.params {
		copy(p.Data, w[p.Name])
	}
	return nil
}

// WeightMap returns the parameters by name (sharing storage with the model).
func (m *Model) WeightMap() map[string][]float32 {
	out := make(map[string][]float32, len(m.params))
	for _, p := range m.params {
		out[p.Name] = p.Data
	}
	return out
}

// ScaleDropout rescales every dropout layer that follows a layer with
// parameters: its rate becomes the original rate times factor(weight of
// that layer). The original rates come from the Spec, so calling it again
// does not compound.
func (m *Model) ScaleDropout(factor func(weight *Param) float64) {
	var last *Param
	for i, l := range m.layers {
		if ps := l.params(); len(ps) > 0 {
			last = ps[0]
		}
		if d, ok := l.(*dropout); ok && last != nil {
			d.rate = float32(float64(m.Spec.Layers[i].Rate) * factor(last))
		}
	}
}

// RandomState is the state of the generators the model draws from in
// training (its dropout layers'), empty when it has none: saved with a
// checkpoint and restored by SetRandomState, it lets training continue
// from the checkpoint exactly as it would have gone on.
func (m *Model) RandomState() []byte {
	var out []byte
	for _, l := range m.layers {
		if d, ok := l.(*dropout); ok {
			b, _ := d.src.MarshalBinary() // never fails
			out = append(out, b...)
		}
	}
	return out
}

// SetRandomState restores the generators from RandomState's result; an
// empty state leaves them as they are.
func (m *Model) SetRandomState(state []byte) error {
	if len(state) == 0 {
		return nil
	}
	if len(state) != len(m.RandomState()) {
		return fmt.Errorf("nn: a random state of %d bytes for a model whose state takes %d", len(state), len(m.RandomState()))
	}
	for _, l := range m.layers {
		if d, ok := l.(*dropout); ok {
			b, _ := d.src.MarshalBinary()
			if err := d.src.UnmarshalBinary(state[:len(b)]); err != nil {
				return fmt.Errorf("nn: random state: %w", err)
			}
			state = state[len(b):]
		}
	}
	return nil
}

// Snapshot is a copy of a model's parameters and masks.
type Snapshot struct {
	data, mask map[string][]float32
}

// Snapshot copies the parameters and masks.
func (m *Model) Snapshot() Snapshot {
	s := Snapshot{data: map[string][]float32{}, mask: map[string][]float32{}}
	for _, p := range m.params {
		s.data[p.Name] = append([]float32(nil), p.Data...)
		if p.Mask != nil {
			s.mask[p.Name] = append([]float32(nil), p.Mask...)
		}
	}
	return s
}

// Restore puts a snapshot of this model back and forgets momentum.
func (m *Model) Restore(s Snapshot) {
	for _, p := range m.params {
		copy(p.Data, s.data[p.Name])
		p.Mask = nil
		if mk, ok := s.mask[p.Name]; ok {
			p.Mask = append([]float32(nil), mk...)
		}
		p.ResetMomentum()
	}
}
