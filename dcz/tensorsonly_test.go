package dcz

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/quantize"
)

// tensorsOnlyModel holds tensors that no arch.Spec describes: odd names,
// ranks 1 to 4, and a layer whose kind is given.
func tensorsOnlyModel() *Model {
	return &Model{
		Spec: arch.Spec{Name: "llm"},
		Layers: []Layer{
			{Layer: quantize.Layer{Name: "model/emb", Shape: []int{5, 7}, Bits: 2,
				Codebook: []float32{-1, 0.5, 2}, Pos: []uint32{0, 3, 34}, Idx: []uint16{0, 2, 1}}, IndexBits: 3},
			{Layer: quantize.Layer{Name: "conv.weight", Shape: []int{2, 1, 3, 3}, Bits: 1,
				Codebook: []float32{0.25}, Pos: []uint32{4, 17}, Idx: []uint16{0, 0}}},
			{Layer: quantize.Layer{Name: "attn.qkv", Shape: []int{2, 3, 4}, Bits: 3,
				Codebook: []float32{1, 2}, Pos: []uint32{1, 23}, Idx: []uint16{1, 0}}, Kind: arch.Conv2D, IndexBits: 2},
			{Layer: quantize.Layer{Name: "empty", Shape: []int{10, 10}, Bits: 4, Codebook: []float32{}}},
		},
		Raw: []Tensor{
			{Name: "norm.scale", Shape: []int{3}, Data: []float32{1, 1.5, -2}},
			{Name: "scalar", Shape: []int{}, Data: []float32{7}},
		},
	}
}

func TestTensorsOnlyRoundTrip(t *testing.T) {
	m := tensorsOnlyModel()
	if !TensorsOnly(m.Spec) || TensorsOnly(tinySpec()) {
		t.Fatal("TensorsOnly misclassifies")
	}
	var b bytes.Buffer
	if err := Write(&b, m); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Name != "llm" || !TensorsOnly(got.Spec) {
		t.Errorf("spec %+v", got.Spec)
	}
	wantKinds := []arch.Kind{arch.Dense, arch.Conv2D, arch.Conv2D, arch.Dense} // by rank, unless given
	wantIB := []int{3, 8, 2, 5}
	if len(got.Layers) != len(m.Layers) || len(got.Raw) != len(m.Raw) {
		t.Fatalf("%d layers and %d raw tensors back", len(got.Layers), len(got.Raw))
	}
	for i, l := range got.Layers {
		w := m.Layers[i]
		if l.Name != w.Name || !slices.Equal(l.Shape, w.Shape) || !slices.Equal(l.Pos, w.Pos) ||
			!slices.Equal(l.Idx, w.Idx) || !slices.Equal(l.Codebook, w.Codebook) {
			t.Errorf("layer %s changed: %+v", w.Name, l)
		}
		if l.Kind != wantKinds[i] || l.IndexBits != wantIB[i] {
			t.Errorf("layer %s: kind %s, index bits %d; want %s, %d", w.Name, l.Kind, l.IndexBits, wantKinds[i], wantIB[i])
		}
	}
	for i, r := range got.Raw {
		if r.Name != m.Raw[i].Name || !slices.Equal(r.Shape, m.Raw[i].Shape) || !slices.Equal(r.Data, m.Raw[i].Data) {
			t.Errorf("raw %s changed: %+v", m.Raw[i].Name, r)
		}
	}

	// The frames carry name, shape and type before decoding.
	d, err := NewDecoder(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for {
		f, err := d.NextFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.Decode()
		if err != nil {
			t.Fatal(err)
		}
		var shape []int
		if s.Layer != nil {
			shape = s.Layer.Shape
		} else {
			shape = s.Raw.Shape
		}
		if f.Layer != (s.Layer != nil) || !slices.Equal(f.Shape, shape) {
			t.Errorf("frame %s: layer %v shape %v; section %+v", f.Name, f.Layer, f.Shape, s)
		}
		names = append(names, f.Name)
	}
	if want := []string{"model/emb", "conv.weight", "attn.qkv", "empty", "norm.scale", "scalar"}; !slices.Equal(names, want) {
		t.Errorf("frames %v, want the order written %v", names, want)
	}
}

func TestTensorsOnlyEmptyFile(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, &Model{}); err != nil {
		t.Fatal(err)
	}
	m, err := Read(&b)
	if err != nil || len(m.Layers)+len(m.Raw) != 0 || !TensorsOnly(m.Spec) {
		t.Errorf("empty tensors-only file: %+v, %v", m, err)
	}
}

func TestTensorsOnlyErrors(t *testing.T) {
	m := tensorsOnlyModel()
	e, err := NewEncoder(io.Discard, m.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WriteRaw(&Tensor{Name: "", Shape: []int{1}, Data: []float32{1}}); err == nil {
		t.Error("empty name: no error")
	}
	if err := e.WriteRaw(&Tensor{Name: strings.Repeat("x", MaxNameLen+1), Shape: []int{1}, Data: []float32{1}}); err == nil {
		t.Error("long name: no error")
	}
	// An empty raw tensor is kept as it is (a model's empty constant); an
	// empty shared layer is refused.
	if err := e.WriteRaw(&Tensor{Name: "z", Shape: []int{2, 0}, Data: nil}); err != nil {
		t.Errorf("empty raw tensor: %v", err)
	}
	if err := e.WriteLayer(&Layer{Layer: quantize.Layer{Name: "zl", Shape: []int{2, 0}, Bits: 1, Codebook: []float32{1}}}); err == nil {
		t.Error("empty layer: no error")
	}
	if err := e.WriteRaw(&Tensor{Name: "r9", Shape: make([]int, MaxDims+1), Data: nil}); err == nil {
		t.Error("rank 9: no error")
	}
	bad := m.Layers[0]
	bad.Kind = arch.ReLU
	if err := e.WriteLayer(&bad); err == nil {
		t.Error("layer kind without weights: no error")
	}
	if err := e.WriteLayer(&m.Layers[0]); err != nil {
		t.Fatal(err)
	}
	if err := e.WriteRaw(&Tensor{Name: m.Layers[0].Name, Shape: []int{1}, Data: []float32{1}}); err == nil {
		t.Error("a name written twice: no error")
	}
	if err := Write(io.Discard, &Model{Layers: m.Layers[:1], Raw: []Tensor{{Name: m.Layers[0].Name, Shape: []int{1}, Data: []float32{1}}}}); err == nil {
		t.Error("Write with a name twice: no error")
	}

	// A reader rejects a name stored twice.
	var b bytes.Buffer
	e, _ = NewEncoder(&b, m.Spec)
	frame, err := e.EncodeRaw(&m.Raw[0])
	if err != nil {
		t.Fatal(err)
	}
	b.Write(frame)
	b.Write(frame)
	b.Write(appendFrame(nil, secEnd, nil, 0))
	if _, err := Read(&b); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("name stored twice: %v", err)
	}
}

func TestTensorsOnlyInspect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.dcz")
	m := tensorsOnlyModel()
	if err := WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	st, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	params := 35 + 18 + 24 + 100 + 3 + 1
	if st.Network != "llm" || st.Total.Params != int64(params) || st.Total.DenseBytes != 4*int64(params) || st.Total.FileBytes != fi.Size() {
		t.Errorf("stats %+v", st.Total)
	}
	if len(st.Layers) != 4 || len(st.Raw) != 2 {
		t.Errorf("%d layers, %d raw", len(st.Layers), len(st.Raw))
	}
}
