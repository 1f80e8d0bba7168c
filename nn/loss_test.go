package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
)

// TestDistillationGradient compares Distillation.Loss's gradient with
// central differences of its loss, for several weights and temperatures.
func TestDistillationGradient(t *testing.T) {
	const n, k = 4, 5
	rng := rand.New(rand.NewPCG(7, 8))
	logits := &Tensor{Shape: []int{n, k}, Data: make([]float32, n*k)}
	teacher := make([]float32, n*k)
	labels := make([]uint8, n)
	for i := range logits.Data {
		logits.Data[i] = float32(2 * rng.NormFloat64())
		teacher[i] = float32(2 * rng.NormFloat64())
	}
	for i := range labels {
		labels[i] = uint8(rng.IntN(k))
	}
	for _, tc := range []struct{ alpha, temp float32 }{{0, 1}, {0.5, 1}, {0.7, 4}, {1, 2}} {
		d := &Distillation{Alpha: tc.alpha, Temperature: tc.temp}
		var grad, scratch Tensor
		d.Loss(logits, labels, teacher, &grad)
		for i := range logits.Data {
			const eps = 1e-2
			orig := logits.Data[i]
			logits.Data[i] = orig + eps
			up, _ := d.Loss(logits, labels, teacher, &scratch)
			logits.Data[i] = orig - eps
			down, _ := d.Loss(logits, labels, teacher, &scratch)
			logits.Data[i] = orig
			numeric := float64(up-down) / (2 * eps)
			if math.Abs(numeric-float64(grad.Data[i])) > 2e-3 {
				t.Errorf("alpha %v T %v: dL/dz[%d] = %v, finite differences say %v",
					tc.alpha, tc.temp, i, grad.Data[i], numeric)
			}
		}
	}
}

// TestDistillationAgreeingTeacher: a teacher whose logits equal the
// student's adds nothing to the gradient, so the gradient is (1-alpha)
// times the plain cross-entropy's.
func TestDistillationAgreeingTeacher(t *testing.T) {
	logits := &Tensor{Shape: []int{2, 3}, Data: []float32{1, -2, 0.5, 3, 0, -1}}
	labels := []uint8{2, 0}
	var plain, mixed Tensor
	SoftmaxCrossEntropy(logits, labels, &plain)
	d := &Distillation{Alpha: 0.25, Temperature: 3}
	d.Loss(logits, labels, logits.Data, &mixed)
	for i := range plain.Data {
		if want := 0.75 * plain.Data[i]; math.Abs(float64(mixed.Data[i]-want)) > 1e-6 {
			t.Errorf("grad[%d] = %v, want %v", i, mixed.Data[i], want)
		}
	}
}

func TestDistillationNeedsTeacher(t *testing.T) {
	m, err := New(arch.LeNet300(), 1)
	if err != nil {
		t.Fatal(err)
	}
	data := Dataset{Dim: 784, X: make([]float32, 8*784), Labels: make([]uint8, 8)}
	cfg := TrainConfig{Epochs: 1, Batch: 4, LR: 0.01, Distill: 0.5}
	if err := Train(m, data, cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "teacher logits") {
		t.Errorf("training with distillation and no teacher: err = %v", err)
	}
	if data, err = data.WithTeacher(m); err != nil {
		t.Fatal(err)
	}
	if len(data.Teacher) != 8*10 {
		t.Fatalf("WithTeacher gave %d logits, want 80", len(data.Teacher))
	}
	if err := Train(m, data, cfg, nil, nil); err != nil {
		t.Errorf("training with a teacher: %v", err)
	}
	for _, bad := range []TrainConfig{{Distill: -0.1}, {Distill: 1.5}, {Distill: 0.5, Temperature: 0.5}} {
		bad.Epochs, bad.Batch, bad.LR = 1, 4, 0.01
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}
