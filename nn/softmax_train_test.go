package nn

import (
	"testing"

	"github.com/deepcompress/deepcompress/arch"
)

// TestTrailingSoftmaxTrainsLikeLogits: a model that ends in softmax (as
// ONNX exports often do) trains exactly like the same model without it,
// because the loss applies the softmax itself; and its teacher outputs
// are logits up to a per-sample shift, which softmax ignores.
func TestTrailingSoftmaxTrainsLikeLogits(t *testing.T) {
	plain := arch.Spec{Name: "p", Input: []int{16}, Layers: []arch.Layer{
		{Kind: arch.Dense, Name: "fc1", Out: 12}, {Kind: arch.ReLU}, {Kind: arch.Dense, Name: "fc2", Out: 4}}}
	withSoftmax := plain
	withSoftmax.Layers = append(append([]arch.Layer(nil), plain.Layers...), arch.Layer{Kind: arch.Softmax})
	data := Dataset{Dim: 16, X: make([]float32, 64*16), Labels: make([]uint8, 64)}
	for i := range data.X {
		data.X[i] = float32(i%7) - 3
	}
	for i := range data.Labels {
		data.Labels[i] = uint8(i % 4)
	}
	cfg := TrainConfig{Epochs: 2, Batch: 16, LR: 0.1, Momentum: 0.9, Seed: 1}
	var models [2]*Model
	for i, spec := range []arch.Spec{plain, withSoftmax} {
		m, err := New(spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := Train(m, data, cfg, nil, nil); err != nil {
			t.Fatal(err)
		}
		models[i] = m
	}
	for _, p := range models[0].Params() {
		q := models[1].Param(p.Name)
		for i := range p.Data {
			if p.Data[i] != q.Data[i] {
				t.Fatalf("%s[%d]: %v without softmax, %v with", p.Name, i, p.Data[i], q.Data[i])
			}
		}
	}
	a, _ := data.WithTeacher(models[0])
	b, _ := data.WithTeacher(models[1])
	pa, pb := make([]float32, 4), make([]float32, 4)
	for s := 0; s < data.Len(); s++ {
		Softmax(pa, a.Teacher[s*4:(s+1)*4])
		Softmax(pb, b.Teacher[s*4:(s+1)*4])
		for j := range pa {
			if d := pa[j] - pb[j]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("sample %d: teacher probabilities %v without softmax, %v with", s, pa, pb)
			}
		}
	}
}
