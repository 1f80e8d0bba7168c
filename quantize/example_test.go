package quantize_test

import (
	"fmt"

	"github.com/deepcompress/deepcompress/quantize"
)

// Weight sharing of a pruned 2x4 tensor (zeros are pruned positions): its
// six survivors share 2^1 values found by 1-D k-means, and each keeps only
// a 1-bit index into the codebook.
func ExampleQuantizeTensor() {
	w := []float32{
		0.5, 0, -0.25, 0.75,
		0, -0.5, 0.25, -0.25,
	}
	l, err := quantize.QuantizeTensor("fc.weight", []int{2, 4}, w, quantize.Options{Bits: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("codebook", l.Codebook)
	fmt.Println("positions", l.Pos)
	fmt.Println("indices", l.Idx)
	fmt.Println("dense", l.Dense())
	// Output:
	// codebook [-0.33333334 0.5]
	// positions [0 2 3 5 6 7]
	// indices [1 0 1 0 1 0]
	// dense [0.5 0 -0.33333334 0.5 0 -0.33333334 0.5 -0.33333334]
}
