package engine_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx"
)

func dims(sizes ...int) []graph.Dim {
	d := make([]graph.Dim, len(sizes))
	for i, s := range sizes {
		d[i] = graph.Dim{Size: s}
		if s < 0 {
			d[i] = graph.Dim{Size: -1, Param: "N"}
		}
	}
	return d
}

// hostileGraphs are well-formed files that describe impossible or
// abusive networks; each must end in an error, never a panic or a huge
// allocation.
func hostileGraphs() map[string]*graph.Graph {
	in := []graph.Value{{Name: "x", Shape: dims(-1, 3)}}
	out := []graph.Value{{Name: "y"}}
	g := func(nodes ...graph.Node) *graph.Graph {
		return &graph.Graph{Opset: 17, Inputs: in, Outputs: out, Nodes: nodes, Params: map[string]*graph.Tensor{}}
	}
	cases := map[string]*graph.Graph{
		"cycle": g(graph.Node{Op: "Relu", Inputs: []string{"z"}, Outputs: []string{"y"}},
			graph.Node{Op: "Relu", Inputs: []string{"y"}, Outputs: []string{"z"}}),
		"input never produced": g(graph.Node{Op: "Relu", Inputs: []string{"ghost"}, Outputs: []string{"y"}}),
		"output produced twice": g(graph.Node{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}},
			graph.Node{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}),
		"unknown operator":  g(graph.Node{Op: "FancyOp", Inputs: []string{"x"}, Outputs: []string{"y"}}),
		"foreign domain":    g(graph.Node{Op: "Relu", Domain: "com.example", Inputs: []string{"x"}, Outputs: []string{"y"}}),
		"graph output lost": g(graph.Node{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"w"}}),
	}
	mismatch := g(graph.Node{Op: "Add", Inputs: []string{"x", "b"}, Outputs: []string{"y"}})
	mismatch.Params["b"] = graph.NewFloat([]int{4}, make([]float32, 4))
	cases["mismatched broadcast"] = mismatch
	gemm := g(graph.Node{Op: "Gemm", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"transB": graph.Int(1)}})
	gemm.Params["w"] = graph.NewFloat([]int{2, 5}, make([]float32, 10))
	cases["mismatched matrix"] = gemm
	huge := g(graph.Node{Op: "ConstantOfShape", Inputs: []string{"s"}, Outputs: []string{"y"}})
	huge.Params["s"] = graph.NewInt([]int{3}, []int64{1 << 20, 1 << 20, 1 << 20})
	cases["huge constant"] = huge
	neg := g(graph.Node{Op: "ConstantOfShape", Inputs: []string{"s"}, Outputs: []string{"y"}})
	neg.Params["s"] = graph.NewInt([]int{2}, []int64{-5, 3})
	cases["negative shape"] = neg
	reshape := g(graph.Node{Op: "Reshape", Inputs: []string{"x", "s"}, Outputs: []string{"y"}})
	reshape.Params["s"] = graph.NewInt([]int{2}, []int64{-1, 7})
	cases["impossible reshape"] = reshape
	conv := &graph.Graph{Opset: 17, Inputs: []graph.Value{{Name: "x", Shape: dims(-1, 1, 8, 8)}}, Outputs: out, Params: map[string]*graph.Tensor{
		"w": graph.NewFloat([]int{1, 1, 3, 3}, make([]float32, 9))},
		Nodes: []graph.Node{{Op: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{
			"pads": graph.Ints(1<<40, 0, 1<<40, 0)}}}}
	cases["huge padding"] = conv
	return cases
}

func TestHostileGraphs(t *testing.T) {
	for name, g := range hostileGraphs() {
		t.Run(name, func(t *testing.T) {
			before := budget.Default.Used()
			m, err := engine.New(g, engine.Options{Budget: budget.New(64 << 20)})
			if err == nil {
				x := graph.NewFloat([]int{2, 3}, make([]float32, 6))
				if g.Inputs[0].Shape[1].Size == 1 {
					x = graph.NewFloat([]int{2, 1, 8, 8}, make([]float32, 128))
				}
				_, err = m.Run(map[string]*graph.Tensor{"x": x})
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if len(err.Error()) > 2000 {
				t.Errorf("message of %d bytes", len(err.Error()))
			}
			if budget.Default.Used() != before {
				t.Error("budget left reserved")
			}
			t.Log(err)
		})
	}
}

func TestHugeDeclaredBatch(t *testing.T) {
	g := hostileGraphs()["unknown operator"]
	g.Nodes[0].Op = "Relu"
	m, err := engine.New(g, engine.Options{Budget: budget.New(1 << 20)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.ProgramFor(map[string][]int{"x": {1 << 40, 3}})
	var ex *budget.ExceededError
	if !errors.As(err, &ex) {
		t.Fatalf("want a budget error, got %v", err)
	}
}

// FuzzCompile imports arbitrary bytes as ONNX and, when that succeeds,
// compiles and runs the graph on a small input: nothing may panic, and the
// budget bounds every allocation.
func FuzzCompile(f *testing.F) {
	for _, g := range fuzzSeeds() {
		var buf bytes.Buffer
		if err := onnx.ExportGraph(&buf, g); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := onnx.ImportGraph(bytes.NewReader(data))
		if err != nil {
			return
		}
		m, err := engine.New(g, engine.Options{Budget: budget.New(16 << 20)})
		if err != nil || len(g.Inputs) != 1 {
			return
		}
		shape := []int{}
		for _, d := range g.Inputs[0].Shape {
			s := d.Size
			if !d.Fixed() {
				s = 1
			}
			shape = append(shape, min(s, 16))
		}
		n := 1
		for _, s := range shape {
			n *= s
		}
		if n > 1<<16 {
			return
		}
		_, err = m.Run(map[string]*graph.Tensor{g.Inputs[0].Name: graph.NewFloat(shape, make([]float32, n))})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
	})
}

// fuzzSeeds are small valid graphs using the common operators: a conv
// block with a residual add, and an MLP.
func fuzzSeeds() []*graph.Graph {
	conv := &graph.Graph{Opset: 13, Inputs: []graph.Value{{Name: "x", Shape: dims(-1, 2, 6, 6)}}, Outputs: []graph.Value{{Name: "y"}},
		Params: map[string]*graph.Tensor{
			"w":     graph.NewFloat([]int{2, 2, 3, 3}, make([]float32, 36)),
			"b":     graph.NewFloat([]int{2}, []float32{0.1, -0.1}),
			"scale": graph.NewFloat([]int{2}, []float32{1, 2}),
			"shift": graph.NewFloat([]int{2}, []float32{0, 1}),
			"mean":  graph.NewFloat([]int{2}, []float32{0, 0.5}),
			"var":   graph.NewFloat([]int{2}, []float32{1, 2}),
			"shape": graph.NewInt([]int{2}, []int64{0, -1}),
		},
		Nodes: []graph.Node{
			{Name: "conv", Op: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c"}, Attrs: map[string]graph.Attr{"pads": graph.Ints(1, 1, 1, 1)}},
			{Name: "bn", Op: "BatchNormalization", Inputs: []string{"c", "scale", "shift", "mean", "var"}, Outputs: []string{"n"}},
			{Name: "relu", Op: "Relu", Inputs: []string{"n"}, Outputs: []string{"r"}},
			{Name: "add", Op: "Add", Inputs: []string{"r", "x"}, Outputs: []string{"a"}},
			{Name: "pool", Op: "MaxPool", Inputs: []string{"a"}, Outputs: []string{"p"}, Attrs: map[string]graph.Attr{"kernel_shape": graph.Ints(2, 2), "strides": graph.Ints(2, 2)}},
			{Name: "gap", Op: "GlobalAveragePool", Inputs: []string{"p"}, Outputs: []string{"g"}},
			{Name: "flat", Op: "Reshape", Inputs: []string{"g", "shape"}, Outputs: []string{"y"}},
		}}
	mlp := &graph.Graph{Opset: 17, Inputs: []graph.Value{{Name: "x", Shape: dims(-1, 4)}}, Outputs: []graph.Value{{Name: "y"}},
		Params: map[string]*graph.Tensor{
			"w": graph.NewFloat([]int{4, 3}, make([]float32, 12)),
			"s": graph.NewFloat([]int{3}, []float32{1, 1, 1}),
		},
		Nodes: []graph.Node{
			{Name: "mm", Op: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"h"}},
			{Name: "ln", Op: "LayerNormalization", Inputs: []string{"h", "s"}, Outputs: []string{"l"}},
			{Name: "gelu", Op: "Erf", Inputs: []string{"l"}, Outputs: []string{"e"}},
			{Name: "sm", Op: "Softmax", Inputs: []string{"e"}, Outputs: []string{"y"}},
		}}
	return []*graph.Graph{conv, mlp}
}

// TestFuzzSeedsRun keeps the fuzz seeds meaningful: they must run.
func TestFuzzSeedsRun(t *testing.T) {
	for i, g := range fuzzSeeds() {
		m, err := engine.New(g, engine.Options{})
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		shape := []int{2}
		for _, d := range g.Inputs[0].Shape[1:] {
			shape = append(shape, d.Size)
		}
		n := 1
		for _, s := range shape {
			n *= s
		}
		if _, err := m.Run(map[string]*graph.Tensor{"x": graph.NewFloat(shape, make([]float32, n))}); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
}
