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

func TestSquaredErrorGradient(t *testing.T) {
	z := &Tensor{Shape: []int{2, 3}, Data: []float32{0.5, -1, 2, 0, 1, 3}}
	target := []float32{1, -1, 0, 0.5, 1, 2}
	var grad Tensor
	d := &Distillation{MSE: true}
	loss, _ := d.Loss(z, nil, target, &grad)
	want := (0.25 + 0 + 4 + 0.25 + 0 + 1) / 6.0
	if math.Abs(float64(loss)-want) > 1e-6 {
		t.Fatalf("loss %v, want %v", loss, want)
	}
	const h = 1e-3
	for i := range z.Data {
		old := z.Data[i]
		z.Data[i] = old + h
		lp, _ := d.Loss(z, nil, target, &Tensor{})
		z.Data[i] = old - h
		lm, _ := d.Loss(z, nil, target, &Tensor{})
		z.Data[i] = old
		d.Loss(z, nil, target, &grad)
		if num := (float64(lp) - float64(lm)) / (2 * h); math.Abs(num-float64(grad.Data[i])) > 1e-3 {
			t.Fatalf("grad[%d] = %v, numeric %v", i, grad.Data[i], num)
		}
	}
}

func TestDistillationWithoutLabels(t *testing.T) {
	z := &Tensor{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 3, 2, 1}}
	teacher := []float32{0, 0, 5, 0, 5, 0}
	var withLabels, without Tensor
	d := &Distillation{Alpha: 1, Temperature: 2}
	l1, _ := d.Loss(z, []uint8{0, 1}, teacher, &withLabels)
	l2, agree := d.Loss(z, nil, teacher, &without)
	if l1 != l2 || agree != 1 {
		t.Fatalf("loss %v vs %v, agreement %d", l1, l2, agree)
	}
	for i := range without.Data {
		if withLabels.Data[i] != without.Data[i] {
			t.Fatalf("gradient differs at %d", i)
		}
	}
}
