package dataset

import (
	"math"
	"testing"
)

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		x    []float32
		want int
	}{
		{nil, -1}, {[]float32{1}, 0}, {[]float32{1, 3, 3, 2}, 1}, {[]float32{-5, -1, -3}, 1},
		{[]float32{1, nan, 5, nan}, 1}, {[]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, 0},
	} {
		if got := Argmax(c.x); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestTop1(t *testing.T) {
	a := []float32{1, 2, 3 /**/, 3, 2, 1 /**/, 0, 0, 0}
	b := []float32{0, 0, 1 /**/, 0, 1, 0 /**/, 5, 0, 0}
	// argmax a: 2 0 0; argmax b: 2 1 0 -> 2 of 3 agree.
	if got, err := Top1Agreement(a, b, 3); err != nil || got != 2.0/3 {
		t.Errorf("agreement %v %v", got, err)
	}
	if got, err := Top1Accuracy(a, 3, []int{2, 1, 0}); err != nil || got != 2.0/3 {
		t.Errorf("accuracy %v %v", got, err)
	}
	if got, _ := Top1Agreement(nil, nil, 10); got != 1 {
		t.Errorf("empty agreement %v", got)
	}
	for _, err := range []error{
		func() error { _, err := Top1Agreement(a, b[:6], 3); return err }(),
		func() error { _, err := Top1Agreement(a, b, 4); return err }(),
		func() error { _, err := Top1Agreement(a, b, 0); return err }(),
		func() error { _, err := Top1Accuracy(a, 3, []int{1}); return err }(),
	} {
		if err == nil {
			t.Error("mismatched sizes accepted")
		}
	}
}

func TestRelError(t *testing.T) {
	// a - b = (0, 2, 2): norm sqrt 8; ||b|| = 1.
	got, err := RelError([]float32{1, 2, 2}, []float32{1, 0, 0})
	if err != nil || !near(got, math.Sqrt(8), 1e-12) {
		t.Errorf("RelError = %v %v", got, err)
	}
	if got, _ := RelError([]float32{0, 0}, []float32{0, 0}); got != 0 {
		t.Errorf("0/0 = %v", got)
	}
	if got, _ := RelError([]float32{1, 0}, []float32{0, 0}); !math.IsInf(got, 1) {
		t.Errorf("x/0 = %v", got)
	}
	if got, _ := RelError([]float32{float32(math.NaN())}, []float32{1}); !math.IsNaN(got) {
		t.Errorf("NaN = %v", got)
	}
	// Two samples of 2: errors |(3,4)-(3,0)|/5... sample 0: a=(3,4) b=(3,4) -> 0;
	// sample 1: a=(1,1) b=(2,0): |(-1,1)|/2 = sqrt(2)/2.
	a := []float32{3, 4, 1, 1}
	b := []float32{3, 4, 2, 0}
	if got, err := MaxRelError(a, b, 2); err != nil || !near(got, math.Sqrt2/2, 1e-12) {
		t.Errorf("MaxRelError = %v %v", got, err)
	}
	// Over all values: |(0,0,-1,1)| / |(3,4,2,0)| = sqrt(2)/sqrt(29).
	if got, _ := RelError(a, b); !near(got, math.Sqrt(2.0/29), 1e-12) {
		t.Errorf("RelError = %v", got)
	}
	if _, err := MaxRelError(a, b, 3); err == nil {
		t.Error("sample size 3 of 4 values accepted")
	}
	if _, err := RelError(a, b[:3]); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestIoU(t *testing.T) {
	a := []float32{0.9, 0.6, 0.1, 0.7, 0.5}
	b := []float32{0.8, 0.2, 0.3, 0.9, 0.5}
	// a on {0 1 3}, b on {0 3} (0.5 is not > 0.5): 2 / 3.
	if got, err := IoU(a, b, DefaultThreshold); err != nil || got != 2.0/3 {
		t.Errorf("IoU = %v %v", got, err)
	}
	if got, _ := IoU(a, b, 0.95); got != 1 {
		t.Errorf("both empty: %v", got)
	}
	if got, _ := IoU([]float32{1, -1}, []float32{-1, 1}, 0); got != 0 {
		t.Errorf("disjoint logits: %v", got)
	}
	if _, err := IoU(a, b[:2], 0.5); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestCompare(t *testing.T) {
	ag, err := Compare([]float32{1, 2, 3, 3, 2, 1}, []float32{0, 0, 1, 0, 1, 0}, []int{3})
	if err != nil || ag.N != 2 || ag.Top1 != 0.5 || !math.IsNaN(ag.IoU) || ag.RelError <= 0 {
		t.Errorf("classifier: %+v %v", ag, err)
	}
	ag, err = Compare([]float32{0.9, 0.1, 0.8, 0.7}, []float32{0.9, 0.1, 0.8, 0.2}, []int{1, 2})
	if err != nil || ag.N != 2 || ag.IoU != 2.0/3 || !math.IsNaN(ag.Top1) {
		t.Errorf("map: %+v %v", ag, err)
	}
	if _, err := Compare([]float32{1}, []float32{1, 2}, []int{2}); err == nil {
		t.Error("mismatch accepted")
	}
}
