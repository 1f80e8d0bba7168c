package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/graph"
)

// graphTwin builds the same network twice: as layers and as a graph
// sharing nothing with them.
func graphTwin(t *testing.T, spec arch.Spec) (*Model, *Model) {
	t.Helper()
	chain, err := New(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	weights := map[string][]float32{}
	for name, w := range chain.WeightMap() {
		weights[name] = append([]float32(nil), w...)
	}
	g, err := graph.FromSpec(spec, weights)
	if err != nil {
		t.Fatal(err)
	}
	gm, err := FromGraph(g, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	return chain, gm
}

func randomBatch(n, dim int) []float32 {
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, n*dim)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestGraphModelMatchesLayers(t *testing.T) {
	for _, spec := range []arch.Spec{arch.LeNet300(), arch.LeNet5()} {
		chain, gm := graphTwin(t, spec)
		if len(gm.Params()) != len(chain.Params()) || len(gm.Weights()) != len(chain.Weights()) {
			t.Fatalf("%s: %d params / %d weights as a graph, %d / %d as layers", spec.Name,
				len(gm.Params()), len(gm.Weights()), len(chain.Params()), len(chain.Weights()))
		}
		x := randomBatch(3, chain.InputSize())
		want := append([]float32(nil), chain.Forward(x, 3, false).Data...)
		if d := maxDiff(gm.Forward(x, 3, false).Data, want); d > 1e-5 {
			t.Fatalf("%s: forward differs by %g", spec.Name, d)
		}
		// One SGD step on the same batch moves both the same way.
		data := Dataset{X: randomBatch(8, chain.InputSize()), Labels: []uint8{1, 2, 3, 4, 5, 6, 7, 8}, Dim: chain.InputSize()}
		cfg := TrainConfig{Epochs: 1, Batch: 8, LR: 0.1, Momentum: 0.9, L2: 1e-4}
		for _, m := range []*Model{chain, gm} {
			if err := Train(m, data, cfg, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range chain.Params() {
			if d := maxDiff(gm.Param(p.Name).Data, p.Data); d > 1e-5 {
				t.Fatalf("%s: after a step %s differs by %g", spec.Name, p.Name, d)
			}
		}
	}
}

func TestGraphModelMasksHold(t *testing.T) {
	_, gm := graphTwin(t, arch.LeNet300())
	w := gm.Param("fc1.weight")
	mask := make([]float32, len(w.Data))
	for i := range mask {
		mask[i] = float32(i % 2)
	}
	w.SetMask(mask)
	data := Dataset{X: randomBatch(16, gm.InputSize()), Labels: make([]uint8, 16), Dim: gm.InputSize()}
	if err := Train(gm, data, TrainConfig{Epochs: 2, Batch: 5, LR: 0.1, Momentum: 0.9}, nil, nil); err != nil {
		t.Fatal(err)
	}
	g := gm.Graph().Params["fc1.weight"].F
	for i := 0; i < len(g); i += 2 {
		if g[i] != 0 {
			t.Fatalf("pruned weight %d became %g", i, g[i])
		}
	}
}
