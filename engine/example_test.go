package engine_test

import (
	"fmt"

	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/npy"
	"github.com/deepcompress/deepcompress/onnx"
)

// A graph built by hand: y = Relu(x W^T + b), a fully connected layer of
// two outputs over three inputs, with a symbolic batch dimension N bound
// when it runs.
func ExampleModel_Run() {
	g := &graph.Graph{
		Opset:   17,
		Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Param: "N"}, {Size: 3}}}},
		Outputs: []graph.Value{{Name: "y"}},
		Nodes: []graph.Node{
			{Op: "Gemm", Inputs: []string{"x", "W", "b"}, Outputs: []string{"h"}, Attrs: map[string]graph.Attr{"transB": graph.Int(1)}},
			{Op: "Relu", Inputs: []string{"h"}, Outputs: []string{"y"}},
		},
		Params: map[string]*graph.Tensor{
			"W": graph.NewFloat([]int{2, 3}, []float32{1, 0, -1, 0.5, 0.5, 0.5}),
			"b": graph.NewFloat([]int{2}, []float32{0, -1}),
		},
	}
	m, err := engine.New(g, engine.Options{})
	if err != nil {
		panic(err)
	}
	x := graph.NewFloat([]int{2, 3}, []float32{1, 2, 3, 4, 2, 0})
	out, err := m.Run(map[string]*graph.Tensor{"x": x})
	if err != nil {
		panic(err)
	}
	fmt.Println(out["y"].Shape, out["y"].F)
	// Output:
	// [2 2] [0 2 4 2]
}

// Run a PyTorch export from ONNX: the zoo's ResNet on the first four MNIST
// test images (already normalised, [4, 1, 28, 28]).
func ExampleNew() {
	g, err := onnx.ImportGraphFile("../testdata/zoo/resnet_op17.onnx")
	if err != nil {
		panic(err)
	}
	m, err := engine.New(g, engine.Options{})
	if err != nil {
		panic(err)
	}
	shape, data, err := npy.ReadFloat32File("../testdata/zoo/resnet_input.npy")
	if err != nil {
		panic(err)
	}
	out, err := m.Run(map[string]*graph.Tensor{"input": graph.NewFloat(shape, data)})
	if err != nil {
		panic(err)
	}
	logits := out["logits"]
	fmt.Println("logits", logits.Shape)
	var classes []int
	for i := range logits.Shape[0] {
		row := logits.F[i*10 : (i+1)*10]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		classes = append(classes, best)
	}
	fmt.Println("classes", classes)
	// Output:
	// logits [4 10]
	// classes [7 2 1 0]
}
