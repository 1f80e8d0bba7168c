package modelfile

import (
	"bytes"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
)

// TestPack: shared weights become layers with the gap widths asked for by
// weight name, layer name or glob (the paper's otherwise), biases stay
// raw, and the file decodes to the same weights.
func TestPack(t *testing.T) {
	m, err := nn.New(arch.LeNet5(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var layers []*quantize.Layer
	for _, p := range m.Weights() {
		l, err := quantize.QuantizeTensor(p.Name, p.Shape, p.Data, quantize.Options{Bits: 4})
		if err != nil {
			t.Fatal(err)
		}
		copy(p.Data, l.Dense())
		layers = append(layers, l)
	}
	f, err := Pack(m, layers, map[string]int{"fc1.weight": 3, "conv*": 6})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"conv1.weight": 6, "conv2.weight": 6, "fc1.weight": 3, "fc2.weight": 5}
	if len(f.Layers) != len(want) || len(f.Raw) != len(m.Params())-len(want) {
		t.Fatalf("%d layers, %d raw tensors", len(f.Layers), len(f.Raw))
	}
	for _, l := range f.Layers {
		if l.IndexBits != want[l.Name] {
			t.Errorf("%s: %d index bits, want %d", l.Name, l.IndexBits, want[l.Name])
		}
	}
	var buf bytes.Buffer
	if err := dcz.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	back, err := dcz.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := back.DenseWeights()
	for _, p := range m.Params() {
		for i, v := range p.Data {
			if got[p.Name][i] != v {
				t.Fatalf("%s[%d] = %v after the round trip, want %v", p.Name, i, got[p.Name][i], v)
			}
		}
	}
	if _, err := Pack(m, layers, map[string]int{"fc9": 3}); err == nil || !strings.Contains(err.Error(), `unknown layer "fc9"`) {
		t.Errorf("unknown name: %v", err)
	}
}
