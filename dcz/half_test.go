package dcz

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
)

// TestHalfExactAllPatterns: every binary16 pattern, NaN payloads and both
// zeros included, is found again from its float32 value, so a float16
// section read and written again is unchanged.
func TestHalfExactAllPatterns(t *testing.T) {
	for h := range 1 << 16 {
		f := safetensors.F16ToFloat32(uint16(h))
		got, ok := toHalfExact(f)
		if !ok || got != uint16(h) {
			t.Fatalf("pattern %#04x -> %v -> %#04x (exact %v)", h, f, got, ok)
		}
	}
	for _, x := range []float32{0.1, 65519, 1e-8, math.Float32frombits(0x7fc00001)} {
		if _, ok := toHalfExact(x); ok {
			t.Errorf("%v (%#08x) taken as a float16 value", x, math.Float32bits(x))
		}
	}
}

func TestRoundFloat16(t *testing.T) {
	inf := float32(math.Inf(1))
	v := []float32{0.1, 1 + 1.0/2048, 1 + 3.0/2048, 65519, -inf, 2.9802322e-08, 4.4703484e-08, float32(math.Copysign(0, -1))}
	want := []float32{0.0999755859375, 1, 1 + 4.0/2048, 65504, -inf, 0, 5.9604645e-08, float32(math.Copysign(0, -1))}
	if err := RoundFloat16(v); err != nil {
		t.Fatal(err)
	}
	for i := range v {
		if math.Float32bits(v[i]) != math.Float32bits(want[i]) {
			t.Errorf("value %d rounded to %v, want %v", i, v[i], want[i])
		}
	}
	over := []float32{1, -65520}
	if err := RoundFloat16(over); err == nil || !strings.Contains(err.Error(), "range") {
		t.Errorf("overflow: %v", err)
	}
	if over[0] != 1 || over[1] != -65520 {
		t.Errorf("a refused rounding changed the values: %v", over)
	}
	fits := [][]float32{{0, -inf, 1.0 / (1 << 14), 65504, -3}, {1, 1e-6, 0}, {0, 0}, {}, {1e-4, float32(math.NaN())}}
	for _, v := range fits {
		if !Float16Fits(v) {
			t.Errorf("%v refused", v)
		}
	}
	for _, v := range [][]float32{{1, 65520}, {-1e6}, {1e-5}, {1e-5, 2e-5, -inf}} {
		if Float16Fits(v) {
			t.Errorf("%v taken as fitting float16", v)
		}
	}
}

// halfTiny is tinyModel with its codebook and bias stored in float16.
func halfTiny(tb testing.TB) *Model {
	m := tinyModel()
	if err := m.Layers[0].SetFloat16(); err != nil {
		tb.Fatal(err)
	}
	if err := m.Raw[0].SetFloat16(); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestGoldenHalf decodes testdata/golden_half.dcz (dissected in
// docs/FORMAT.md) and checks that encoding reproduces it: the tiny model
// with a float16 codebook (flag 0x10 in the kind byte) and a float16 bias
// (a 'T' section).
func TestGoldenHalf(t *testing.T) {
	m := halfTiny(t)
	data := goldenFile(t, "golden_half.dcz", m)
	if len(data) != 180 || data[4] != 1 {
		t.Errorf("%d bytes, version %d; want 180 bytes (191 in float32), version 1", len(data), data[4])
	}
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	w := got.DenseWeights()
	if want := []float32{1, 0, -0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.25}; !slices.Equal(w["fc.weight"], want) {
		t.Errorf("fc.weight = %v, want %v", w["fc.weight"], want)
	}
	if want := []float32{0.0999755859375, -0.199951171875, 0.300048828125}; !slices.Equal(w["fc.bias"], want) {
		t.Errorf("fc.bias = %v, want %v", w["fc.bias"], want)
	}
	if got.Layers[0].Precision != Float16 || got.Raw[0].Precision != Float16 {
		t.Errorf("precisions %v, %v", got.Layers[0].Precision, got.Raw[0].Precision)
	}
	if err := equalModels(m, got); err != nil {
		t.Error(err)
	}
	if again := encode(t, got); !bytes.Equal(again, data) {
		t.Errorf("encoder output drifted from testdata/golden_half.dcz (%d vs %d bytes)", len(again), len(data))
	}
}

// TestHalfRoundTrip: float16 codebooks and raw tensors in layer-chain,
// tensors-only and graph files read back as written, precisions included,
// and take 2 bytes a value.
func TestHalfRoundTrip(t *testing.T) {
	for name, m := range map[string]*Model{"chain": lenet300(t, false), "tensors": tensorsOnlyModel()} {
		before := len(encode(t, m))
		values := 0
		for _, l := range m.Layers {
			values += len(l.Codebook)
		}
		for _, r := range m.Raw {
			values += len(r.Data)
		}
		nl, nr := m.SetFloat16(true, true)
		if nl != len(m.Layers) {
			t.Errorf("%s: %d of %d codebooks converted", name, nl, len(m.Layers))
		}
		data := encode(t, m)
		back, err := Read(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := equalModels(m, back); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for i := range m.Layers {
			if back.Layers[i].Precision != Float16 {
				t.Errorf("%s: layer %s read back as %v", name, back.Layers[i].Name, back.Layers[i].Precision)
			}
		}
		for i := range m.Raw {
			if back.Raw[i].Precision != m.Raw[i].Precision {
				t.Errorf("%s: tensor %s read back as %v, written %v", name, m.Raw[i].Name, back.Raw[i].Precision, m.Raw[i].Precision)
			}
		}
		// Huffman blocks may shrink when rounding merges shared values,
		// never grow: at least 2 bytes saved per converted value.
		if saved := before - len(data); nr > 0 && saved < 2*values/2 {
			t.Errorf("%s: %d -> %d bytes for %d values", name, before, len(data), values)
		}
		st, err := ReadStats(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range st.Layers {
			if l.CodebookType != "float16" {
				t.Errorf("%s: stats say codebook %s", l.Name, l.CodebookType)
			}
		}
		var text bytes.Buffer
		st.WriteText(&text)
		if !strings.Contains(text.String(), "float16") {
			t.Errorf("%s: the printed statistics do not say float16:\n%s", name, text.String())
		}
	}
}

// TestSetFloat16Layer: shared values that round to the same float16 value
// are merged and the indices follow; the original codebook is not touched.
func TestSetFloat16Layer(t *testing.T) {
	cb := []float32{1, 1.0001, 2, 1.0002}
	l := &Layer{Layer: quantize.Layer{Name: "w", Shape: []int{2, 3}, Bits: 2, Codebook: cb,
		Pos: []uint32{0, 1, 2, 4, 5}, Idx: []uint16{0, 1, 2, 3, 1}}}
	if err := l.SetFloat16(); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 2}; !slices.Equal(l.Codebook, want) {
		t.Errorf("codebook %v, want %v", l.Codebook, want)
	}
	if want := []uint16{0, 0, 1, 0, 0}; !slices.Equal(l.Idx, want) {
		t.Errorf("indices %v, want %v", l.Idx, want)
	}
	if cb[1] != 1.0001 || l.Precision != Float16 {
		t.Errorf("original codebook %v, precision %v", cb, l.Precision)
	}
	big := &Layer{Layer: quantize.Layer{Name: "w", Shape: []int{1}, Bits: 1, Codebook: []float32{7e4}, Pos: []uint32{0}, Idx: []uint16{0}}}
	if err := big.SetFloat16(); err == nil || big.Precision != Float32 {
		t.Errorf("a codebook beyond the float16 range: %v, precision %v", err, big.Precision)
	}
	m := &Model{Spec: arch.Spec{Name: "t"}, Raw: []Tensor{
		{Name: "tiny", Shape: []int{2}, Data: []float32{1e-5, 2e-6}},
		{Name: "ok", Shape: []int{2}, Data: []float32{1, -1e-7}},
	}}
	if _, nr := m.SetFloat16(true, true); nr != 1 || m.Raw[0].Precision != Float32 || m.Raw[1].Precision != Float16 {
		t.Errorf("%d converted; precisions %v, %v", nr, m.Raw[0].Precision, m.Raw[1].Precision)
	}
}

// TestHalfEncoderErrors: the encoder never rounds: a value that float16
// does not hold exactly, or an unknown precision, is an error.
func TestHalfEncoderErrors(t *testing.T) {
	m := tinyModel()
	m.Layers[0].Precision = Float16
	m.Layers[0].Codebook = []float32{-0.5, 0.1, 1}
	if err := Write(&bytes.Buffer{}, m); err == nil || !strings.Contains(err.Error(), "RoundFloat16") {
		t.Errorf("inexact codebook: %v", err)
	}
	m = tinyModel()
	m.Raw[0].Precision = Float16
	if err := Write(&bytes.Buffer{}, m); err == nil || !strings.Contains(err.Error(), "not a float16 value") {
		t.Errorf("inexact raw tensor: %v", err)
	}
	m = tinyModel()
	m.Raw[0].Precision = 7
	if err := Write(&bytes.Buffer{}, m); err == nil || !strings.Contains(err.Error(), "unknown precision") {
		t.Errorf("unknown precision: %v", err)
	}
}

// TestHalfDecoderErrors: with the checksums repaired, an unknown flag in
// the kind byte, an unknown element type, or data of the wrong length is
// refused with the offset of the problem.
func TestHalfDecoderErrors(t *testing.T) {
	data := encode(t, halfTiny(t))
	kindAt := bytes.Index(data, []byte("fc.weight")) + len("fc.weight")
	elemAt := bytes.Index(data, []byte("fc.bias")) + len("fc.bias")
	if data[kindAt] != 0x11 || data[elemAt] != 1 || data[elemAt-len("fc.bias")-3] != 'T' {
		t.Fatalf("layout: kind byte %#x, element type %d", data[kindAt], data[elemAt])
	}
	tests := []struct {
		name string
		at   int
		b    byte
		want string
	}{
		{"unknown flag", kindAt, 0x41, "unknown flags 0x40"},
		{"unknown kind", kindAt, 0x13, "unknown layer kind 3"},
		{"unknown element type", elemAt, 2, "unknown element type 2"},
		{"float32 element type", elemAt, 0, "unknown element type 0"},
	}
	for _, tt := range tests {
		bad := bytes.Clone(data)
		bad[tt.at] = tt.b
		_, err := Read(bytes.NewReader(FixChecksums(bad)))
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// A float16 codebook read as float32 (flag cleared) leaves the
	// section's byte count wrong.
	bad := bytes.Clone(data)
	bad[kindAt] = 0x01
	if _, err := Read(bytes.NewReader(FixChecksums(bad))); err == nil {
		t.Error("a float16 codebook read as float32")
	}
	// Dropping one value's bytes from the 'T' section.
	m := halfTiny(t)
	m.Raw[0].Shape, m.Raw[0].Data = []int{2}, m.Raw[0].Data[:2]
	frame, err := (&Encoder{params: &paramTable{open: true}}).EncodeRaw(&m.Raw[0])
	if err != nil {
		t.Fatal(err)
	}
	frame[len(frame)-4-4-1]++ // dimension 2 -> 3, one value short
	f := &Frame{typ: frame[0], body: frame[2 : len(frame)-4]}
	if _, err := f.Decode(); err == nil || !strings.Contains(err.Error(), "4 bytes of data for 3 float16 values") {
		t.Errorf("short 'T' section: %v", err)
	}
}

// TestHalfBitFlips flips every bit of the float16 golden file: each must
// be an error, as for float32 files.
func TestHalfBitFlips(t *testing.T) {
	data := encode(t, halfTiny(t))
	for i := range 8 * len(data) {
		bad := slices.Clone(data)
		bad[i/8] ^= 1 << (i % 8)
		mustFail(t, fmt.Sprintf("bit %d of %d", i, 8*len(data)), bad)
	}
}
