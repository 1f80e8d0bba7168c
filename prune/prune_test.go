package prune

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/nn"
)

func TestThresholdByHand(t *testing.T) {
	w := []float32{1, -2, 3, -4, 5, -6}
	// mean -0.5; deviations 1.5 -1.5 3.5 -3.5 5.5 -5.5; variance (2*2.25+2*12.25+2*30.25)/6 = 89.5/6
	// std = 3.86221; quality 0.5 -> 1.93111
	if got := Threshold(w, Rule{Quality: 0.5}); got < 1.9310 || got > 1.9312 {
		t.Errorf("quality threshold = %v, want 1.93111", got)
	}
	// Keep half by magnitude: |w| sorted 1..6, keep 3 -> threshold 4.
	if got := Threshold(w, Rule{Keep: 0.5}); got != 4 {
		t.Errorf("keep threshold = %v, want 4", got)
	}
}

func smallModel(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.New(arch.Spec{Input: []int{20}, Layers: []arch.Layer{
		{Kind: arch.Dense, Name: "fc1", Out: 30}, {Kind: arch.ReLU}, {Kind: arch.Dropout, Rate: 0.5},
		{Kind: arch.Dense, Name: "fc2", Out: 4},
	}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestApplyKeepFractions(t *testing.T) {
	m := smallModel(t)
	if err := Apply(m, Config{Layers: map[string]Rule{"fc1": {Keep: 0.1}, "fc2.weight": {Keep: 0.5}}}); err != nil {
		t.Fatal(err)
	}
	layers, _ := Stats(m)
	want := map[string]int{"fc1": 60, "fc2": 60}
	for _, l := range layers {
		if l.Kept != want[l.Name] {
			t.Errorf("%s kept %d, want %d", l.Name, l.Kept, want[l.Name])
		}
	}
	if m.Param("fc1.bias").Mask != nil {
		t.Error("bias was pruned")
	}
}

func TestBadConfig(t *testing.T) {
	m := smallModel(t)
	for name, cfg := range map[string]Config{
		"unknown layer": {Layers: map[string]Rule{"fc9": {Keep: 0.5}}},
		"both":          {Layers: map[string]Rule{"fc1": {Keep: 0.5, Quality: 1}}},
		"keep > 1":      {Layers: map[string]Rule{"fc1": {Keep: 1.5}}},
		"empty rule":    {Layers: map[string]Rule{"fc1": {}}},
		"global":        {GlobalKeep: -1},
	} {
		err := Apply(m, cfg)
		if err == nil || !strings.HasPrefix(err.Error(), "prune: ") {
			t.Errorf("%s: got %v, want a prune: error", name, err)
		}
	}
}

func randomData(n, dim, classes int, seed uint64) nn.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := nn.Dataset{Dim: dim, X: make([]float32, n*dim), Labels: make([]uint8, n)}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64())
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(rng.IntN(classes))
	}
	return d
}

func TestIterativeKeepsPrunedZero(t *testing.T) {
	plain := nn.TrainConfig{Epochs: 2, Batch: 16, LR: 0.05, Momentum: 0.9, L2: 1e-3}
	distilled := plain
	distilled.Distill, distilled.Temperature = 0.8, 3
	l1 := plain
	l1.L2, l1.L1 = 0, 1e-3
	for name, retrain := range map[string]nn.TrainConfig{"plain": plain, "distilled": distilled, "l1": l1} {
		t.Run(name, func(t *testing.T) { testIterativeKeepsPrunedZero(t, retrain) })
	}
}

func testIterativeKeepsPrunedZero(t *testing.T, retrain nn.TrainConfig) {
	m := smallModel(t)
	data := randomData(200, 20, 4, 1)
	if retrain.Distill > 0 {
		var err error
		if data, err = data.WithTeacher(m); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Default: Rule{Keep: 0.2}}
	var masks [][]float32
	err := Iterative(context.Background(), m, data, cfg, 3, retrain, nil, func(int) error {
		masks = append(masks, append([]float32(nil), m.Param("fc1.weight").Mask...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, total := Stats(m)
	if total.KeptPct < 19 || total.KeptPct > 21 {
		t.Errorf("kept %.1f%%, want about 20%%", total.KeptPct)
	}
	for _, p := range m.Weights() {
		for i, w := range p.Data {
			if p.Mask[i] == 0 && w != 0 {
				t.Fatalf("%s[%d] pruned but %v after retraining", p.Name, i, w)
			}
		}
	}
	// Masks only shrink from round to round.
	for r := 1; r < len(masks); r++ {
		for i := range masks[r] {
			if masks[r][i] > masks[r-1][i] {
				t.Fatalf("round %d revived weight %d", r+1, i)
			}
		}
	}
}

func TestGradualReachesTarget(t *testing.T) {
	m := smallModel(t)
	data := randomData(160, 20, 4, 2)
	cfg := Config{Layers: map[string]Rule{"fc1": {Keep: 0.1}, "fc2": {Keep: 0.5}}}
	if err := ValidateGradual(m, cfg); err != nil {
		t.Fatal(err)
	}
	g := &Gradual{Inner: &nn.SGD{Params: m.Params(), Momentum: 0.9}, Model: m, Final: cfg, Start: 0, End: 40, Every: 5}
	if err := nn.Train(m, data, nn.TrainConfig{Epochs: 5, Batch: 16, LR: 0.01}, g, nil); err != nil {
		t.Fatal(err)
	}
	layers, _ := Stats(m)
	if layers[0].Kept != 60 || layers[1].Kept != 60 {
		t.Errorf("kept %d and %d, want 60 and 60", layers[0].Kept, layers[1].Kept)
	}
}

func TestSensitivityRestores(t *testing.T) {
	m := smallModel(t)
	before := append([]float32(nil), m.Param("fc1.weight").Data...)
	data := randomData(50, 20, 4, 3)
	curves, err := Sensitivity(context.Background(), m, data, []float64{0, 0.5, 0.99}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(curves) != 2 || len(curves[0].Accuracy) != 3 {
		t.Fatalf("got %d curves", len(curves))
	}
	for i, w := range m.Param("fc1.weight").Data {
		if w != before[i] {
			t.Fatal("sensitivity analysis changed the weights")
		}
	}
	s := Suggest([]Curve{{Layer: "a", Sparsities: []float64{0, 0.5, 0.9}, Accuracy: []float64{0.9, 0.9, 0.5}}}, 0.9, 0.01)
	if s["a"].Keep != 0.5 {
		t.Errorf("suggested keep %v, want 0.5", s["a"].Keep)
	}
}

// TestSensitivityStopsRestored cancels the analysis during the first
// layer: it must stop there, with the weights and masks as they were.
func TestSensitivityStopsRestored(t *testing.T) {
	m := smallModel(t)
	w := m.Param("fc1.weight")
	before := append([]float32(nil), w.Data...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evals := 0
	_, err := Sensitivity(ctx, m, randomData(50, 20, 4, 3), []float64{0, 0.5, 0.99}, func() {
		if evals++; evals == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || evals != 2 {
		t.Fatalf("err %v after %d evaluations, want context.Canceled after 2", err, evals)
	}
	if w.Mask != nil {
		t.Error("the interrupted analysis left a mask on fc1")
	}
	for i := range before {
		if w.Data[i] != before[i] {
			t.Fatal("the interrupted analysis changed the weights")
		}
	}
}
