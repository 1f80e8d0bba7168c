package dcz_test

import (
	"bytes"
	"fmt"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/quantize"
)

// A 4-input, 2-output fully connected layer with 3 of its 8 weights kept
// and shared among two values (1-bit indices); the bias is stored raw.
func tinyModel() *dcz.Model {
	spec := arch.Spec{Name: "tiny", Input: []int{4}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 2}}}
	return &dcz.Model{
		Spec: spec,
		Layers: []dcz.Layer{{Layer: quantize.Layer{
			Name: "fc.weight", Shape: []int{2, 4}, Bits: 1,
			Codebook: []float32{-0.5, 0.25},
			Pos:      []uint32{1, 4, 6}, // flat positions in the [2, 4] weight
			Idx:      []uint16{1, 0, 1},
		}}},
		Raw: []dcz.Tensor{{Name: "fc.bias", Shape: []int{2}, Data: []float32{0.1, -0.1}}},
	}
}

// Write stores a compressed model; Read verifies the checksums and gives
// it back unchanged.
func ExampleRead() {
	var file bytes.Buffer
	if err := dcz.Write(&file, tinyModel()); err != nil {
		panic(err)
	}
	m, err := dcz.Read(&file)
	if err != nil {
		panic(err)
	}
	l := m.Layers[0]
	fmt.Println(m.Spec.Name, l.Name, l.Shape, l.Codebook, l.Pos, l.Idx)
	fmt.Println("fc.weight:", m.DenseWeights()["fc.weight"])
	fmt.Println("fc.bias:", m.Raw[0].Data)
	// Output:
	// tiny fc.weight [2 4] [-0.5 0.25] [1 4 6] [1 0 1]
	// fc.weight: [0 0.25 0 0 -0.5 0 0.25 0]
	// fc.bias: [0.1 -0.1]
}

// ReadStats gives the per-layer table that deepcompress inspect prints.
func ExampleReadStats() {
	var file bytes.Buffer
	if err := dcz.Write(&file, tinyModel()); err != nil {
		panic(err)
	}
	size := file.Len()
	st, err := dcz.ReadStats(&file)
	if err != nil {
		panic(err)
	}
	l := st.Layers[0]
	fmt.Printf("%s: %d of %d weights kept, %d-bit indices, %d-entry codebook\n", l.Name, l.Kept, l.Weights, l.WeightBits, l.Codebook)
	fmt.Println(st.Total.Params, "parameters;", st.Total.FileBytes == int64(size))
	// Output:
	// fc.weight: 3 of 8 weights kept, 1-bit indices, 2-entry codebook
	// 10 parameters; true
}
