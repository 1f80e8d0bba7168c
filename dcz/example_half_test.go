package dcz_test

import (
	"bytes"
	"fmt"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/quantize"
)

// A model's codebooks and raw tensors stored in float16: SetFloat16 rounds
// them (the encoder never does) and marks them, and the file reads back
// with the same values and precisions.
func ExampleModel_SetFloat16() {
	m := &dcz.Model{
		Spec: arch.Spec{Name: "tiny", Input: []int{4}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 3}}},
		Layers: []dcz.Layer{{Layer: quantize.Layer{
			Name: "fc.weight", Shape: []int{3, 4}, Bits: 2,
			Codebook: []float32{-0.5, 0.25, 1.0001},
			Pos:      []uint32{0, 2, 11},
			Idx:      []uint16{2, 0, 1},
		}}},
		Raw: []dcz.Tensor{{Name: "fc.bias", Shape: []int{3}, Data: []float32{0.1, -0.2, 0.3}}},
	}
	var f32 bytes.Buffer
	if err := dcz.Write(&f32, m); err != nil {
		panic(err)
	}
	layers, tensors := m.SetFloat16(true, true)
	var f16 bytes.Buffer
	if err := dcz.Write(&f16, m); err != nil {
		panic(err)
	}
	size := f16.Len()
	back, err := dcz.Read(&f16)
	if err != nil {
		panic(err)
	}
	fmt.Println(layers, "codebook and", tensors, "raw tensor in float16:", f32.Len(), "->", size, "bytes")
	fmt.Println(back.Layers[0].Precision, back.Layers[0].Codebook)
	fmt.Println(back.Raw[0].Precision, back.Raw[0].Data)
	// Output:
	// 1 codebook and 1 raw tensor in float16: 192 -> 181 bytes
	// float16 [-0.5 0.25 1]
	// float16 [0.099975586 -0.19995117 0.30004883]
}
