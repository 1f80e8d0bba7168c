package cabac_test

import (
	"fmt"

	"github.com/deepcompress/deepcompress/cabac"
)

// A 3x4 layer with a codebook of 3 shared values: 0 marks a pruned
// weight, v the codebook entry v-1.
func Example() {
	vals := []uint8{
		3, 0, 1, 0,
		0, 0, 0, 0,
		0, 0, 0, 2,
	}
	stream, err := cabac.EncodeTensor(nil, 3, 4, vals, 4)
	if err != nil {
		panic(err)
	}
	got := make([]uint8, len(vals))
	if err := cabac.DecodeTensor(stream, 3, 4, 4, got); err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes: % x\n", len(stream), stream)
	fmt.Println(got)

	// The sparse form, as quantize.Layer holds it, codes the same way.
	var dec cabac.Decoder
	pos, idx, err := dec.DecodeSparse(stream, 3, 4, 3, nil, nil)
	fmt.Println(pos, idx, err)
	// Output:
	// 3 bytes: 1c c7 7a
	// [3 0 1 0 0 0 0 0 0 0 0 2]
	// [0 2 11] [2 0 1] <nil>
}
