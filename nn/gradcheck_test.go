package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
)

// gradCheck compares backprop gradients of L = sum(r .* f(x)) with central
// finite differences, for the input and every parameter.
func gradCheck(t *testing.T, spec arch.Spec, batch int) {
	t.Helper()
	m, err := New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.layers {
		l.setNeedInputGrad(true)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	x := make([]float32, batch*m.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	out := m.Forward(x, batch, true)
	for _, l := range m.layers {
		if d, ok := l.(*dropout); ok {
			d.frozen = true
		}
	}
	r := &Tensor{Shape: append([]int(nil), out.Shape...), Data: make([]float32, len(out.Data))}
	for i := range r.Data {
		r.Data[i] = float32(rng.NormFloat64())
	}
	loss := func() float64 {
		o := m.Forward(x, batch, true)
		var s float64
		for i, v := range o.Data {
			s += float64(v) * float64(r.Data[i])
		}
		return s
	}
	m.Forward(x, batch, true)
	// Capture dL/dx from the first layer's backward.
	dy := r
	for i := len(m.layers) - 1; i >= 0; i-- {
		dy = m.layers[i].backward(dy)
	}
	dx := append([]float32(nil), dy.Data...)
	check := func(what string, vals []float32, analytic []float32) {
		for _, i := range sampleIndices(len(vals), 25, rng) {
			const eps = 1e-2
			orig := vals[i]
			vals[i] = orig + eps
			up := loss()
			vals[i] = orig - eps
			down := loss()
			vals[i] = orig
			num := (up - down) / (2 * eps)
			got := float64(analytic[i])
			if math.Abs(num-got) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: backprop %.5f, finite difference %.5f", what, i, got, num)
			}
		}
	}
	check("input", x, dx)
	for _, p := range m.Params() {
		check(p.Name, p.Data, append([]float32(nil), p.Grad...))
	}
}

func sampleIndices(n, k int, rng *rand.Rand) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = rng.IntN(n)
	}
	return idx
}

func TestGradients(t *testing.T) {
	img := []int{2, 7, 6}
	for _, tc := range []struct {
		name  string
		input []int
		layer []arch.Layer
	}{
		{"dense", []int{5}, []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 4}}},
		{"dense no bias", []int{5}, []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 3, NoBias: true}}},
		{"conv", img, []arch.Layer{{Kind: arch.Conv2D, Name: "c", Out: 3, Kernel: [2]int{3, 2}}}},
		{"conv stride pad", img, []arch.Layer{{Kind: arch.Conv2D, Name: "c", Out: 2, Kernel: [2]int{3, 3}, Stride: [2]int{2, 1}, Pad: [2]int{1, 2}}}},
		{"maxpool", img, []arch.Layer{{Kind: arch.MaxPool, Kernel: [2]int{2, 2}}}},
		{"maxpool overlap pad", img, []arch.Layer{{Kind: arch.MaxPool, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}}},
		{"avgpool", img, []arch.Layer{{Kind: arch.AvgPool, Kernel: [2]int{3, 2}, Stride: [2]int{1, 2}, Pad: [2]int{1, 0}}}},
		{"relu", []int{7}, []arch.Layer{{Kind: arch.ReLU}}},
		{"flatten dense", img, []arch.Layer{{Kind: arch.Flatten}, {Kind: arch.Dense, Name: "fc", Out: 3}}},
		// A final softmax is left to the loss in training; inside a
		// network it has a gradient of its own.
		{"softmax", []int{6}, []arch.Layer{{Kind: arch.Softmax}, {Kind: arch.Dense, Name: "fc", Out: 3}}},
		{"dropout", []int{9}, []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 8}, {Kind: arch.Dropout, Rate: 0.5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gradCheck(t, arch.Spec{Input: tc.input, Layers: tc.layer}, 3)
		})
	}
}

func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	logits := &Tensor{Shape: []int{2, 3}, Data: []float32{1, 2, 0.5, -1, 0, 3}}
	labels := []uint8{1, 0}
	var g Tensor
	loss, correct := SoftmaxCrossEntropy(logits, labels, &g)
	if correct != 1 {
		t.Errorf("correct = %d, want 1", correct)
	}
	for i := range logits.Data {
		const eps = 1e-3
		orig := logits.Data[i]
		var tmp Tensor
		logits.Data[i] = orig + eps
		up, _ := SoftmaxCrossEntropy(logits, labels, &tmp)
		logits.Data[i] = orig - eps
		down, _ := SoftmaxCrossEntropy(logits, labels, &tmp)
		logits.Data[i] = orig
		num := (float64(up) - float64(down)) / (2 * eps)
		if math.Abs(num-float64(g.Data[i])) > 1e-3 {
			t.Errorf("grad[%d] = %v, finite difference %v", i, g.Data[i], num)
		}
	}
	if loss <= 0 {
		t.Errorf("loss %v should be positive", loss)
	}
}

func TestMaskedWeightsStayZero(t *testing.T) {
	m, err := New(arch.LeNet300(), 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range m.Weights() {
		mask := make([]float32, len(p.Data))
		for i := range mask {
			if rng.Float32() < 0.1 {
				mask[i] = 1
			}
		}
		p.SetMask(mask)
	}
	data := Dataset{Dim: 784, X: make([]float32, 256*784), Labels: make([]uint8, 256)}
	for i := range data.X {
		data.X[i] = float32(rng.NormFloat64())
	}
	for i := range data.Labels {
		data.Labels[i] = uint8(rng.IntN(10))
	}
	cfg := TrainConfig{Epochs: 2, Batch: 32, LR: 0.1, Momentum: 0.9, L2: 1e-3, L1: 1e-4}
	if err := Train(m, data, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Weights() {
		for i, w := range p.Data {
			if p.Mask[i] == 0 && w != 0 {
				t.Fatalf("%s[%d] pruned but now %v", p.Name, i, w)
			}
		}
	}
}
