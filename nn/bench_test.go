package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
)

// benchmarkStep times one training step (forward, backward, SGD) at batch 64.
func benchmarkStep(b *testing.B, spec arch.Spec) {
	m, err := New(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 64
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*m.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]uint8, batch)
	opt := &SGD{Params: m.Params(), Momentum: 0.9, L2: 5e-4}
	var grad Tensor
	b.SetBytes(int64(len(x) * 4))
	b.ReportAllocs()
	for b.Loop() {
		out := m.Forward(x, batch, true)
		SoftmaxCrossEntropy(out, labels, &grad)
		m.Backward(&grad)
		opt.Step(0.01)
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)*938, "s/epoch")
}

func BenchmarkTrainStepLeNet300(b *testing.B) { benchmarkStep(b, arch.LeNet300()) }
func BenchmarkTrainStepLeNet5(b *testing.B)   { benchmarkStep(b, arch.LeNet5()) }
