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

// bnGraph is conv -> BatchNormalization -> relu -> global pool -> flatten
// -> Gemm: a classifier whose BatchNormalization must keep its statistics.
func bnGraph() *graph.Graph {
	rng := rand.New(rand.NewPCG(9, 9))
	r := func(shape ...int) *graph.Tensor {
		t := graph.NewFloat(shape, make([]float32, arch.Numel(shape)))
		for i := range t.F {
			t.F[i] = rng.Float32() - 0.5
		}
		return t
	}
	return &graph.Graph{Opset: 17,
		Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Size: -1, Param: "N"}, {Size: 1}, {Size: 6}, {Size: 6}}}},
		Outputs: []graph.Value{{Name: "y"}},
		Params: map[string]*graph.Tensor{
			"conv.w": r(4, 1, 3, 3), "bn.scale": graph.NewFloat([]int{4}, []float32{1, 1, 1, 1}),
			"bn.bias": graph.NewFloat([]int{4}, make([]float32, 4)), "bn.mean": r(4),
			"bn.var": graph.NewFloat([]int{4}, []float32{1, 2, 3, 4}), "fc.w": r(3, 4), "fc.b": r(3),
		},
		Nodes: []graph.Node{
			{Name: "conv", Op: "Conv", Inputs: []string{"x", "conv.w"}, Outputs: []string{"c"}},
			{Name: "bn", Op: "BatchNormalization", Inputs: []string{"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, Outputs: []string{"b"}},
			{Name: "relu", Op: "Relu", Inputs: []string{"b"}, Outputs: []string{"r"}},
			{Name: "gap", Op: "GlobalAveragePool", Inputs: []string{"r"}, Outputs: []string{"g"}},
			{Name: "flat", Op: "Flatten", Inputs: []string{"g"}, Outputs: []string{"f"}},
			{Name: "fc", Op: "Gemm", Inputs: []string{"f", "fc.w", "fc.b"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"transB": graph.Int(1)}},
		}}
}

func TestGraphTrainingFreezesBatchNormStatistics(t *testing.T) {
	g := bnGraph()
	m, err := FromGraph(g, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range m.Params() {
		names[p.Name] = true
	}
	for _, want := range []string{"conv.w", "bn.scale", "bn.bias", "fc.w", "fc.b"} {
		if !names[want] {
			t.Errorf("%s is not trained", want)
		}
	}
	if names["bn.mean"] || names["bn.var"] {
		t.Error("BatchNormalization statistics are trained")
	}
	if len(m.Weights()) != 2 || !m.IsConv("conv.w") || m.IsConv("fc.w") {
		t.Errorf("weights %d, conv.w conv %v, fc.w conv %v", len(m.Weights()), m.IsConv("conv.w"), m.IsConv("fc.w"))
	}
	mean := append([]float32(nil), g.Params["bn.mean"].F...)
	data := Dataset{X: randomBatch(64, 36), Labels: make([]uint8, 64), Dim: 36}
	for i := range data.Labels {
		data.Labels[i] = uint8(i % 3)
	}
	var first, last float32
	err = Train(m, data, TrainConfig{Epochs: 30, Batch: 16, LR: 0.1, Momentum: 0.9}, nil, func(p Progress) {
		if p.Epoch == 0 && p.Batch == p.Batches {
			first = p.Loss
		}
		last = p.Loss
	})
	if err != nil {
		t.Fatal(err)
	}
	if !(last < first) {
		t.Errorf("loss went from %v to %v", first, last)
	}
	if maxDiff(mean, g.Params["bn.mean"].F) != 0 {
		t.Error("the running mean changed")
	}
}
