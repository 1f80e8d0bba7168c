package dcz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/quantize"
)

// graphModel compresses the zoo's ResNet export the simplest way: every
// weight shared with 4 bits and pruned where small, every other float
// parameter raw.
func graphModel(t testing.TB) (*Model, *graph.Graph) {
	t.Helper()
	g, err := onnx.ImportGraphFile("../testdata/zoo/resnet_op17.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Graph: g, Ancillary: Ancillary{Preprocess: []byte(`{"scale":0.00392}`), Meta: map[string]string{"source": "resnet_op17.onnx"}}}
	weights := map[string]bool{}
	for _, w := range g.Weights() {
		weights[w.Param] = true
		p := g.Params[w.Param]
		pruned := slices.Clone(p.F)
		for i, v := range pruned {
			if v > -0.05 && v < 0.05 {
				pruned[i] = 0
			}
		}
		l, err := quantize.QuantizeTensor(w.Param, p.Shape, pruned, quantize.Options{Bits: 4})
		if err != nil {
			t.Fatal(err)
		}
		m.Layers = append(m.Layers, Layer{Layer: *l})
	}
	for _, name := range g.ParamNames() {
		if p := g.Params[name]; p.DType == graph.Float32 && !weights[name] {
			m.Raw = append(m.Raw, Tensor{Name: name, Shape: p.Shape, Data: p.F})
		}
	}
	return m, g
}

func TestGraphRoundTrip(t *testing.T) {
	m, g := graphModel(t)
	data := encode(t, m)
	if data[4] != 2 {
		t.Fatalf("version %d, want 2", data[4])
	}
	back, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Preprocess) != string(m.Preprocess) || back.Meta["source"] != "resnet_op17.onnx" {
		t.Fatalf("ancillary data: %q %v", back.Preprocess, back.Meta)
	}
	full, err := back.WithWeights()
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Nodes) != len(g.Nodes) || full.Opset != g.Opset || full.Inputs[0].ShapeString() != g.Inputs[0].ShapeString() {
		t.Fatalf("graph changed: %d nodes opset %d input %s", len(full.Nodes), full.Opset, full.Inputs[0].ShapeString())
	}
	for i, n := range g.Nodes {
		if full.Nodes[i].Name != n.Name || full.Nodes[i].Op != n.Op {
			t.Fatalf("node %d: %s %s, want %s %s", i, full.Nodes[i].Name, full.Nodes[i].Op, n.Name, n.Op)
		}
	}
	want := m.DenseWeights()
	for name, p := range full.Params {
		if p.DType != graph.Float32 {
			if !slices.Equal(p.I, g.Params[name].I) {
				t.Errorf("int parameter %s changed", name)
			}
			continue
		}
		if !slices.Equal(p.F, want[name]) || !slices.Equal(p.Shape, g.Params[name].Shape) {
			t.Errorf("parameter %s changed", name)
		}
	}
	// The stripped graph is what it costs: report it.
	t.Logf("file %d bytes for %d float parameters", len(data), len(m.Layers)+len(m.Raw))
}

func TestGraphFileRefusesMissingTensor(t *testing.T) {
	m, _ := graphModel(t)
	m.Raw = m.Raw[1:]
	if err := Write(&bytes.Buffer{}, m); err == nil {
		t.Fatal("a graph file without one of its tensors was written")
	}
}

// sectionsOf splits a file into its sections (type, whole frame).
func sectionsOf(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	off := len(Magic) + 1
	for off < len(data) {
		n, k := binary.Uvarint(data[off+1:])
		end := off + 1 + k + int(n) + 4
		out = append(out, data[off:end])
		off = end
	}
	return out
}

func TestAncillarySections(t *testing.T) {
	m, _ := graphModel(t)
	data := encode(t, m)
	secs := sectionsOf(t, data)
	// An unknown ancillary section after the graph is skipped; an unknown
	// critical one is refused.
	for _, c := range []struct {
		typ byte
		ok  bool
	}{{'x', true}, {'X', false}} {
		extra := appendFrame(nil, c.typ, []byte("future data"), 0)
		head := len(Magic) + 1 + len(secs[0]) + len(secs[1])
		file := slices.Concat(data[:head], extra, data[head:])
		_, err := Read(bytes.NewReader(file))
		if (err == nil) != c.ok {
			t.Errorf("section %q: %v", c.typ, err)
		}
	}
	// A flip anywhere in the graph section is refused.
	head := len(Magic) + 1 + len(secs[0])
	for i := 0; i < len(secs[1])*8; i += 7 {
		bad := slices.Clone(data)
		bad[head+i/8] ^= 1 << (i % 8)
		if _, err := Read(bytes.NewReader(bad)); err == nil || !errors.Is(err, ErrFormat) {
			t.Fatalf("flip of bit %d of the graph section: %v", i, err)
		}
	}
}
