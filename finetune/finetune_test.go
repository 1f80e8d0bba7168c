package finetune

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
)

func tinyModel(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.New(arch.Spec{Input: []int{3}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 2}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCentroidUpdateIsSummedGradient(t *testing.T) {
	m := tinyModel(t)
	// W = [[c0, 0, c1], [c1, c0, 0]] with positions 0,2,3,4 kept.
	l := &quantize.Layer{Name: "fc.weight", Shape: []int{2, 3}, Bits: 1, Codebook: []float32{-1, 2},
		Pos: []uint32{0, 2, 3, 4}, Idx: []uint16{0, 1, 1, 0}}
	f, err := New(m, []*quantize.Layer{l}, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Param("fc.weight")
	copy(w.Grad, []float32{0.5, 9, 0.25, 1, -2, 7})
	f.Step(0.1)
	// dC0 = g[0] + g[4] = 0.5 - 2 = -1.5 -> c0 = -1 + 0.15 = -0.85
	// dC1 = g[2] + g[3] = 0.25 + 1 = 1.25 -> c1 = 2 - 0.125 = 1.875
	want := []float32{-0.85, 0, 1.875, 1.875, -0.85, 0}
	for i, v := range want {
		if math.Abs(float64(w.Data[i]-v)) > 1e-6 {
			t.Errorf("W[%d] = %v, want %v", i, w.Data[i], v)
		}
	}
}

func TestFineTuneKeepsStructure(t *testing.T) {
	m, err := nn.New(arch.LeNet300(), 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, p := range m.Weights() {
		for i := range p.Data {
			if rng.Float32() < 0.9 {
				p.Data[i] = 0 // pruned
			}
		}
	}
	layers, err := Quantize(m, map[string]int{"fc1": 4}, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(m, layers, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	data := nn.Dataset{Dim: 784, X: make([]float32, 64*784), Labels: make([]uint8, 64)}
	for i := range data.X {
		data.X[i] = float32(rng.NormFloat64())
	}
	if err := nn.Train(m, data, nn.TrainConfig{Epochs: 2, Batch: 16, LR: 1e-3}, f, nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		w := m.Param(l.Name).Data
		dense := l.Dense()
		distinct := map[float32]bool{}
		for i := range w {
			if w[i] != dense[i] {
				t.Fatalf("%s[%d] = %v, but its codebook says %v", l.Name, i, w[i], dense[i])
			}
			if w[i] != 0 {
				distinct[w[i]] = true
			}
		}
		if len(distinct) > 1<<l.Bits {
			t.Errorf("%s has %d distinct values, more than 2^%d", l.Name, len(distinct), l.Bits)
		}
	}
	if layers[0].Bits != 4 || layers[1].Bits != 5 {
		t.Errorf("bits %d, %d; want 4 (set) and 5 (fc default)", layers[0].Bits, layers[1].Bits)
	}
	if _, err := Quantize(m, map[string]int{"nope": 3}, quantize.Options{}); err == nil {
		t.Error("unknown layer accepted")
	}
	// A weight name and a glob name the same tensors as layer names do.
	for _, bits := range []map[string]int{{"fc1.weight": 3, "fc2": 2, "fc3": 2}, {"fc*": 2, "fc1": 3}} {
		ls, err := Quantize(m, bits, quantize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if ls[0].Bits != 3 || ls[1].Bits != 2 || ls[2].Bits != 2 {
			t.Errorf("%v: bits %d, %d, %d; want 3, 2, 2", bits, ls[0].Bits, ls[1].Bits, ls[2].Bits)
		}
	}
}

// TestQuantizePaperBits: unnamed weights get the paper's widths, 8 bits
// for convolution kernels and 5 for fully connected weights.
func TestQuantizePaperBits(t *testing.T) {
	m, err := nn.New(arch.LeNet5(), 1)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := Quantize(m, nil, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		want := 5
		if len(l.Shape) == 4 {
			want = 8
		}
		if l.Bits != want {
			t.Errorf("%s %v: %d bits, want %d", l.Name, l.Shape, l.Bits, want)
		}
	}
}

// TestTuneWithoutEpochs: with no epochs Tune only ties the weights to the
// codebooks: every weight is its shared value and the pruned ones are
// masked.
func TestTuneWithoutEpochs(t *testing.T) {
	m, err := nn.New(arch.LeNet300(), 1)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Param("fc3.weight")
	w.Data[0] = 0
	layers, err := Quantize(m, map[string]int{"*": 2}, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Tune(context.Background(), m, layers, nn.Dataset{}, nn.TrainConfig{}, nil); err != nil {
		t.Fatal(err)
	}
	dense := layers[2].Dense()
	for i, v := range w.Data {
		if v != dense[i] {
			t.Fatalf("fc3.weight[%d] = %v, its codebook says %v", i, v, dense[i])
		}
	}
	if w.Mask == nil || w.Mask[0] != 0 || w.Mask[1] != 1 {
		t.Error("the pruned weight is not masked")
	}
}

// TestQuantizeRatePerLayer: a layer named in lambda gets rate-aware
// sharing (fewer shared values, here with a large weight), the others
// opt.Lambda; a misspelt name or a bad value is an error.
func TestQuantizeRatePerLayer(t *testing.T) {
	m, err := nn.New(arch.LeNet300(), 3)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Quantize(m, map[string]int{"*": 4}, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers, err := QuantizeRate(m, map[string]int{"*": 4}, map[string]float64{"fc2": 1}, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		rate := l.Name == "fc2.weight"
		if got, full := len(l.Codebook), len(plain[i].Codebook); rate != (got < full) {
			t.Errorf("%s: %d shared values, %d without lambda (rate-aware: %v)", l.Name, got, full, rate)
		}
	}
	all, err := QuantizeRate(m, map[string]int{"*": 4}, map[string]float64{"fc2": 0}, quantize.Options{Lambda: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range all {
		rate := l.Name != "fc2.weight"
		if got, full := len(l.Codebook), len(plain[i].Codebook); rate != (got < full) {
			t.Errorf("opt.Lambda 1, fc2 0: %s: %d shared values, %d without lambda", l.Name, got, full)
		}
	}
	if _, err := QuantizeRate(m, nil, map[string]float64{"fc9": 0.1}, quantize.Options{}); err == nil {
		t.Error("unknown layer in lambda: no error")
	}
	if _, err := QuantizeRate(m, nil, map[string]float64{"fc1": -1}, quantize.Options{}); err == nil {
		t.Error("negative lambda: no error")
	}
}
