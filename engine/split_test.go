package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx"
)

// TestSplitZoo runs the zoo's convolutional networks on batches large
// enough to be cut into micro-batches (19: micro-batches of 8 and 3,
// on two streams) and checks the plan is made and the outputs
// are those of the same program run layer by layer.
func TestSplitZoo(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, net := range []string{"resnet", "mobilenet"} {
		g, err := onnx.ImportGraphFile(fmt.Sprintf("../testdata/zoo/%s_op17.onnx", net))
		if err != nil {
			t.Fatal(err)
		}
		in := g.Inputs[0]
		shape := []int{19}
		for _, d := range in.Shape[1:] {
			shape = append(shape, d.Size)
		}
		x := randTensor(rand.New(rand.NewPCG(1, 2)), shape...)
		m, err := New(g, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.ProgramFor(map[string][]int{in.Name: shape})
		if err != nil {
			t.Fatal(err)
		}
		if p.split == nil {
			t.Fatalf("%s: no micro-batch plan", net)
		}
		got, err := p.Run(map[string]*graph.Tensor{in.Name: x})
		if err != nil {
			t.Fatal(err)
		}
		bound, _ := m.Bind(map[string][]int{in.Name: shape})
		ref, err := m.compileUnsplit(bound)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Run(map[string]*graph.Tensor{in.Name: x})
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range want {
			if err := closeTo(got[name].F, w.F, 1e-5); err != nil {
				t.Errorf("%s output %s: %v", net, name, err)
			}
		}
	}
}

// TestSplitRefused checks that programs with a step that mixes samples
// (a transposition, a product over the batch) are not cut.
func TestSplitRefused(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(5, 6))
	x := randTensor(rng, 8, 8)
	for _, n := range []graph.Node{
		{Name: "t", Op: "Transpose", Inputs: []string{"x"}, Outputs: []string{"y"}},
		{Name: "g", Op: "Gemm", Inputs: []string{"x", "w"}, Outputs: []string{"y"},
			Attrs: map[string]graph.Attr{"transA": {Kind: graph.AttrInt, Int: 1}}},
	} {
		g := opGraph(17, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"w": randTensor(rng, 8, 3)})
		m, err := New(g, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.ProgramFor(map[string][]int{"x": x.Shape})
		if err != nil {
			t.Fatal(err)
		}
		if p.split != nil {
			t.Errorf("%s: the batch was split", n.Op)
		}
	}
}
