package onnx_test

import (
	"fmt"
	"os"

	"github.com/deepcompress/deepcompress/onnx"
)

// Import a PyTorch export (an MLP of the repository's model zoo) as a graph
// of ONNX operators, ready for package engine to run or package pipeline
// to compress.
func ExampleImportGraph() {
	f, err := os.Open("../testdata/zoo/mlp_op17.onnx")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	g, err := onnx.ImportGraph(f)
	if err != nil {
		panic(err)
	}
	fmt.Println("opset", g.Opset)
	for _, v := range g.Inputs {
		fmt.Println("input", v.Name, v.ShapeString())
	}
	for _, v := range g.Outputs {
		fmt.Println("output", v.Name, v.ShapeString())
	}
	var ops []string
	for _, n := range g.Nodes {
		ops = append(ops, n.Op)
	}
	fmt.Println(ops)
	// The weights, as opposed to biases, norms and constants, are what
	// Deep Compression prunes and shares.
	for _, w := range g.Weights() {
		fmt.Println(w.Op, "weight", w.Param, g.Params[w.Param].Shape)
	}
	// Output:
	// opset 17
	// input input [N,1,28,28]
	// output logits [N,10]
	// [Flatten Gemm LayerNormalization Div Erf Add Mul Mul Gemm LayerNormalization Div Erf Add Mul Mul Gemm]
	// Gemm weight net.1.weight [256 784]
	// Gemm weight net.4.weight [128 256]
	// Gemm weight net.7.weight [10 128]
}
