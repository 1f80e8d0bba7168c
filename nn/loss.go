package nn

import "math"

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
