package modelfile

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/safetensors"
)

// graphOps lists a graph's operators in order.
func graphOps(g *graph.Graph) []string {
	ops := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ops[i] = n.Op
	}
	return ops
}

// graphSameParams checks that the graph holds exactly the model's
// parameters with the same values.
func graphSameParams(t *testing.T, g *graph.Graph, m *nn.Model) {
	t.Helper()
	if len(g.Params) != len(m.Params()) {
		t.Fatalf("graph has %d parameters, the model %d", len(g.Params), len(m.Params()))
	}
	for _, p := range m.Params() {
		pt := g.Params[p.Name]
		if pt == nil {
			t.Fatalf("graph lacks %s", p.Name)
		}
		if !slices.Equal(pt.Shape, p.Shape) || !slices.Equal(pt.F, p.Data) {
			t.Fatalf("%s differs: shape %v, model %v", p.Name, pt.Shape, p.Shape)
		}
	}
}

func TestLoadGraphFormats(t *testing.T) {
	m, err := nn.New(arch.LeNet5(), 7)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "lenet5.safetensors")
	if err := SaveCheckpoint(ckpt, m, nil); err != nil {
		t.Fatal(err)
	}
	weights := map[string][]float32{}
	for _, p := range m.Params() {
		weights[p.Name] = p.Data
	}
	onnxPath := filepath.Join(dir, "lenet5.onnx")
	if err := onnx.ExportFile(onnxPath, m.Spec, weights); err != nil {
		t.Fatal(err)
	}
	wantOps := []string{"Conv", "MaxPool", "Conv", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"}
	for _, path := range []string{ckpt, onnxPath} {
		g, err := LoadGraph(path, Options{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if ops := graphOps(g); !slices.Equal(ops, wantOps) {
			t.Errorf("%s: operators %v, want %v", path, ops, wantOps)
		}
		graphSameParams(t, g, m)
		if _, err := g.Order(); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestLoadGraphDCZ(t *testing.T) {
	path := filepath.Join("..", "examples", "embed", "lenet300.dcz")
	g, err := LoadGraph(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	graphSameParams(t, g, m)
	if len(g.Inputs) != 1 || g.Inputs[0].ShapeString() != "[N,1,28,28]" {
		t.Errorf("inputs %+v", g.Inputs)
	}
}

func TestLoadGraphErrors(t *testing.T) {
	m, err := nn.New(arch.LeNet300(), 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m.safetensors")
	if err := SaveCheckpoint(ckpt, m, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadGraph(ckpt, Options{Arch: "lenet5"}); err == nil {
		t.Error("lenet300 weights loaded as lenet5")
	}
	bare := filepath.Join(dir, "bare.safetensors")
	f := &safetensors.File{Metadata: map[string]string{"format": "pt"}}
	for _, p := range m.Params() {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
	}
	if err := safetensors.WriteFile(bare, f); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "m.pt"), "unknown model format"},
		{filepath.Join(dir, "missing.onnx"), "no such file"},
		{filepath.Join(dir, "missing.dcz"), "no such file"},
		{bare, "records no architecture"},
	} {
		if _, err := LoadGraph(c.path, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.path, err, c.want)
		}
	}
}
