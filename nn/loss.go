package nn

import (
	"fmt"
	"math"
)

// SoftmaxCrossEntropy computes the mean cross-entropy of softmax(logits)
// against labels, L = -(1/N) sum_n log p[n, label_n], writes dL/dlogits =
// (p - onehot)/N into grad (same shape as logits), and counts the samples
// whose argmax equals the label.
func SoftmaxCrossEntropy(logits *Tensor, labels []uint8, grad *Tensor) (loss float32, correct int) {
	n := logits.batch()
	k := logits.rowLen()
	grad.resize(logits.Shape...)
	var total float64
	inv := 1 / float32(n)
	for s := 0; s < n; s++ {
		x := logits.Data[s*k : (s+1)*k]
		g := grad.Data[s*k : (s+1)*k]
		Softmax(g, x)
		y := int(labels[s])
		total -= math.Log(math.Max(float64(g[y]), 1e-30))
		if Argmax(x) == y {
			correct++
		}
		for j := range g {
			g[j] *= inv
		}
		g[y] -= inv
	}
	return float32(total / float64(n)), correct
}

// Argmax is the index of the largest value (the first one on ties).
func Argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// Distillation is the loss of knowledge distillation (Hinton, Vinyals and
// Dean, 2015): a mix of the cross-entropy against the labels and the
// cross-entropy against a teacher's softened outputs,
//
//	L = (1-Alpha) * CE(onehot, softmax(z)) + Alpha * T^2 * CE(softmax(t/T), softmax(z/T))
//
// z being the student's logits, t the teacher's and T the Temperature. The
// T^2 keeps the soft term's gradient, Alpha*T*(softmax(z/T) - softmax(t/T)),
// on the scale of the hard term's as T changes.
//
// With MSE set the student matches the teacher's outputs directly, for
// outputs that are not class scores (a map, an embedding):
//
//	L = 1/(n k) * sum over samples and outputs of (z - t)^2.
//
// Labels may be nil when Alpha is 1 or MSE is set: the loss then needs
// only the teacher, and the count of "correct" samples is the count whose
// argmax agrees with the teacher's (0 with MSE).
type Distillation struct {
	Alpha       float32 // weight of the teacher's term, in [0, 1]
	Temperature float32 // T >= 1 (0 means 1)
	MSE         bool    // match the teacher's outputs by squared error

	soft, teach []float32 // scratch rows
}

// Validate rejects weights and temperatures outside their ranges.
func (d *Distillation) Validate() error {
	if !(d.Alpha >= 0 && d.Alpha <= 1) {
		return fmt.Errorf("nn: distillation weight %v must be in [0, 1]", d.Alpha)
	}
	if d.Temperature != 0 && !(d.Temperature >= 1 && d.Temperature <= 100) {
		return fmt.Errorf("nn: distillation temperature %v must be in [1, 100]", d.Temperature)
	}
	return nil
}

// Loss is SoftmaxCrossEntropy with the teacher's term mixed in: teacher
// holds one row of logits per sample, back to back, like logits. It writes
// dL/dlogits (averaged over the batch) into grad.
func (d *Distillation) Loss(logits *Tensor, labels []uint8, teacher []float32, grad *Tensor) (loss float32, correct int) {
	if d.MSE {
		return squaredError(logits, teacher, grad), 0
	}
	var hard float32
	if labels != nil {
		hard, correct = SoftmaxCrossEntropy(logits, labels, grad)
	} else {
		correct = agreement(logits, teacher, grad)
	}
	if d.Alpha == 0 {
		return hard, correct
	}
	n, k := logits.batch(), logits.rowLen()
	temp := max(d.Temperature, 1)
	if len(d.soft) < k {
		d.soft, d.teach = make([]float32, k), make([]float32, k)
	}
	soft, teach := d.soft[:k], d.teach[:k]
	inv := 1 / float32(n)
	scale := d.Alpha * temp * inv
	var softLoss float64
	for s := 0; s < n; s++ {
		g := grad.Data[s*k : (s+1)*k]
		softmaxScaled(soft, logits.Data[s*k:(s+1)*k], temp)
		softmaxScaled(teach, teacher[s*k:(s+1)*k], temp)
		for j := range g {
			g[j] = (1-d.Alpha)*g[j] + scale*(soft[j]-teach[j])
			softLoss -= float64(teach[j]) * math.Log(math.Max(float64(soft[j]), 1e-30))
		}
	}
	soft2 := float64(temp*temp) * softLoss / float64(n)
	return float32((1-float64(d.Alpha))*float64(hard) + float64(d.Alpha)*soft2), correct
}

// softmaxScaled writes softmax(x/temp) into dst.
func softmaxScaled(dst, x []float32, temp float32) {
	for i, v := range x {
		dst[i] = v / temp
	}
	Softmax(dst, dst)
}

// agreement prepares grad for a loss without labels and counts the
// samples whose argmax is the teacher's.
func agreement(logits *Tensor, teacher []float32, grad *Tensor) (same int) {
	grad.resize(logits.Shape...)
	clear(grad.Data)
	k := logits.rowLen()
	for s := range logits.batch() {
		if Argmax(logits.Data[s*k:(s+1)*k]) == Argmax(teacher[s*k:(s+1)*k]) {
			same++
		}
	}
	return same
}

// squaredError is the mean squared difference between out and target,
// writing its gradient 2 (out - target) / (n k) into grad.
func squaredError(out *Tensor, target []float32, grad *Tensor) float32 {
	grad.resize(out.Shape...)
	scale := 2 / float32(len(out.Data))
	var total float64
	for i, z := range out.Data {
		d := z - target[i]
		total += float64(d) * float64(d)
		grad.Data[i] = scale * d
	}
	return float32(total / float64(len(out.Data)))
}
