package onnx

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/deepcompress/deepcompress/graph"
)

// TestChainImportIsLinear imports a chain of 40,000 Relu nodes after a
// Gemm: each node is checked alone, the network once (it took 38 s when
// every node re-checked the whole chain).
func TestChainImportIsLinear(t *testing.T) {
	g := &graph.Graph{Opset: 13, Params: map[string]*graph.Tensor{"w": graph.NewFloat([]int{4, 4}, make([]float32, 16))},
		Inputs: []graph.Value{{Name: "x", Shape: []graph.Dim{{Size: -1, Param: "N"}, {Size: 4}}}}}
	g.Nodes = append(g.Nodes, graph.Node{Name: "fc", Op: "Gemm", Inputs: []string{"x", "w"}, Outputs: []string{"h0"}, Attrs: map[string]graph.Attr{"transB": graph.Int(1)}})
	for i := 0; i < 40000; i++ {
		g.Nodes = append(g.Nodes, graph.Node{Name: fmt.Sprint("r", i), Op: "Relu", Inputs: []string{fmt.Sprint("h", i)}, Outputs: []string{fmt.Sprint("h", i+1)}})
	}
	g.Outputs = []graph.Value{{Name: "h40000"}}
	var b bytes.Buffer
	if err := ExportGraph(&b, g); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err := Import(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("importing a 40,001-node chain took %v (quadratic?)", d)
	}
}
