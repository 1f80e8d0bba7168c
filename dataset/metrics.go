package dataset

import (
	"fmt"
	"math"
)

// The agreement metrics compare a compressed model's outputs (the student,
// a) with the original's (the teacher, b) or with labels. Outputs are N
// samples back to back, each of the same size; sums are taken in float64.

// Argmax returns the index of the largest value of x, the first one on
// ties; a NaN counts as larger than any number (the first NaN wins), as
// NumPy's argmax. It returns -1 for an empty x.
func Argmax(x []float32) int {
	best := -1
	for i, v := range x {
		if v != v {
			return i
		}
		if best < 0 || v > x[best] {
			best = i
		}
	}
	return best
}

func rows(n, classes int, what string) (int, error) {
	if classes <= 0 {
		return 0, fmt.Errorf("dataset: %s: %d classes", what, classes)
	}
	if n%classes != 0 {
		return 0, fmt.Errorf("dataset: %s: %d values are not whole rows of %d classes", what, n, classes)
	}
	return n / classes, nil
}

// Top1Agreement is the fraction of samples on which a and b (N rows of
// classes scores each: logits or probabilities) pick the same class:
//
//	(1/N) * #{ i : argmax a_i = argmax b_i }
//
// It is 1 for N = 0.
func Top1Agreement(a, b []float32, classes int) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("dataset: top-1 agreement of %d and %d values", len(a), len(b))
	}
	n, err := rows(len(a), classes, "top-1 agreement")
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 1, nil
	}
	same := 0
	for i := range n {
		r := a[i*classes : (i+1)*classes]
		if Argmax(r) == Argmax(b[i*classes:(i+1)*classes]) {
			same++
		}
	}
	return float64(same) / float64(n), nil
}

// Top1Accuracy is the fraction of the N rows of out (classes scores each)
// whose largest score is at the label: (1/N) * #{ i : argmax out_i = labels[i] }.
func Top1Accuracy(out []float32, classes int, labels []int) (float64, error) {
	n, err := rows(len(out), classes, "top-1 accuracy")
	if err != nil {
		return 0, err
	}
	if n != len(labels) {
		return 0, fmt.Errorf("dataset: top-1 accuracy of %d outputs against %d labels", n, len(labels))
	}
	if n == 0 {
		return 1, nil
	}
	right := 0
	for i, l := range labels {
		if Argmax(out[i*classes:(i+1)*classes]) == l {
			right++
		}
	}
	return float64(right) / float64(n), nil
}

// RelError is the relative error of a with respect to the reference b in
// the Euclidean norm, over all values:
//
//	||a - b||_2 / ||b||_2
//
// 0 when a equals b; +Inf when b is all zero and a is not; NaN when a
// value is NaN.
func RelError(a, b []float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("dataset: relative error of %d and %d values", len(a), len(b))
	}
	return relError(a, b), nil
}

func relError(a, b []float32) float64 {
	var num, den float64
	for i, x := range a {
		d := float64(x) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	switch {
	case num == 0:
		return 0
	case den == 0:
		return math.Inf(1)
	}
	return math.Sqrt(num / den)
}

// MaxRelError is the largest per-sample relative error, a and b being N
// samples of sampleSize values each (a map per sample):
//
//	max_i ||a_i - b_i||_2 / ||b_i||_2
//
// with RelError's conventions per sample; 0 for N = 0.
func MaxRelError(a, b []float32, sampleSize int) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("dataset: relative error of %d and %d values", len(a), len(b))
	}
	n, err := rows(len(a), sampleSize, "max relative error")
	if err != nil {
		return 0, err
	}
	worst := 0.0
	for i := range n {
		e := relError(a[i*sampleSize:(i+1)*sampleSize], b[i*sampleSize:(i+1)*sampleSize])
		if e > worst || e != e {
			worst = e
			if e != e {
				break
			}
		}
	}
	return worst, nil
}

// DefaultThreshold is the threshold of IoU for maps of probabilities; use
// 0 for logits (sigmoid(x) > 0.5 exactly when x > 0).
const DefaultThreshold = 0.5

// IoU is the intersection over union of the maps a and b thresholded at t
// (a value v is "on" when v > t), over all values:
//
//	|{a > t} ∩ {b > t}| / |{a > t} ∪ {b > t}|
//
// 1 when neither map has a value on (they agree that there is nothing).
func IoU(a, b []float32, t float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("dataset: IoU of %d and %d values", len(a), len(b))
	}
	var inter, union int
	for i, x := range a {
		pa, pb := x > t, b[i] > t
		if pa && pb {
			inter++
		}
		if pa || pb {
			union++
		}
	}
	if union == 0 {
		return 1, nil
	}
	return float64(inter) / float64(union), nil
}

// Agreement is how a student's outputs agree with the teacher's on a set,
// as Compare measures it.
type Agreement struct {
	N int // samples
	// Top1 is Top1Agreement, for outputs of one vector of scores per
	// sample (a classifier); NaN otherwise.
	Top1 float64
	// RelError and MaxRelError compare the raw outputs (any model).
	RelError, MaxRelError float64
	// IoU is IoU at DefaultThreshold, for maps (outputs of more than one
	// dimension per sample); NaN otherwise.
	IoU float64
}

// Compare measures the agreement of student with teacher, N samples of
// one output of shape outShape each (without the batch dimension): top-1
// agreement when outShape has one dimension (a classifier), IoU at
// DefaultThreshold when it has more (a map), relative errors always.
func Compare(student, teacher []float32, outShape []int) (Agreement, error) {
	size := 1
	for _, d := range outShape {
		size *= d
	}
	ag := Agreement{Top1: math.NaN(), IoU: math.NaN()}
	n, err := rows(len(teacher), size, "compare")
	if err != nil {
		return ag, err
	}
	if len(student) != len(teacher) {
		return ag, fmt.Errorf("dataset: compare %d student values with %d teacher values", len(student), len(teacher))
	}
	ag.N = n
	ag.RelError = relError(student, teacher)
	if ag.MaxRelError, err = MaxRelError(student, teacher, size); err != nil {
		return ag, err
	}
	if len(outShape) == 1 {
		ag.Top1, err = Top1Agreement(student, teacher, size)
	} else {
		ag.IoU, err = IoU(student, teacher, DefaultThreshold)
	}
	return ag, err
}
