package datafree_test

import (
	"bytes"
	"fmt"

	"github.com/deepcompress/deepcompress/datafree"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/onnx"
)

// Compress an ONNX model without any data: the zoo's MLP, every weight
// pruned to its 10 % largest magnitudes and shared among 2^5 values; the
// graph is kept, so the .dcz runs as the ONNX file did (deepcompress run).
func ExampleCompressGraph() {
	g, err := onnx.ImportGraphFile("../testdata/zoo/mlp_op17.onnx")
	if err != nil {
		panic(err)
	}
	opt := datafree.Options{Config: datafree.Config{Default: datafree.Setting{Keep: 0.1, Bits: 5}}}
	m, res, err := datafree.CompressGraph(g, opt)
	if err != nil {
		panic(err)
	}
	for _, t := range res.Tensors {
		if !t.Raw {
			fmt.Printf("%s %v: %d of %d kept, %d shared values\n", t.Name, t.Shape, t.Kept, t.Weights, t.Codebook)
		}
	}
	var file bytes.Buffer
	if err := dcz.Write(&file, m); err != nil {
		panic(err)
	}
	fmt.Println("the graph travels with the weights:", m.Graph != nil)
	fmt.Println("file of the size the result says:", int64(file.Len()) == res.OutBytes)
	fmt.Println("under a tenth of the float32 bytes:", res.OutBytes*10 < res.DenseBytes)
	// Output:
	// net.1.weight [256 784]: 20070 of 200704 kept, 32 shared values
	// net.4.weight [128 256]: 3277 of 32768 kept, 32 shared values
	// net.7.weight [10 128]: 128 of 1280 kept, 32 shared values
	// the graph travels with the weights: true
	// file of the size the result says: true
	// under a tenth of the float32 bytes: true
}
