package prune_test

import (
	"fmt"

	"github.com/deepcompress/deepcompress/prune"
)

// Magnitude pruning: keep the half of the weights with the largest
// magnitudes; those strictly below the threshold become zero.
func ExampleThreshold() {
	w := []float32{0.1, -0.5, 0.05, 0.9, -0.2, 0.3}
	thr := prune.Threshold(w, prune.Rule{Keep: 0.5})
	for i, v := range w {
		if v < thr && -v < thr {
			w[i] = 0
		}
	}
	fmt.Println("threshold", thr)
	fmt.Println(w)
	// Output:
	// threshold 0.3
	// [0 -0.5 0 0.9 0 0.3]
}
