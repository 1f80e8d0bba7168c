package datafree

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
)

func testConfig(t testing.TB) Config {
	c, err := ParseConfig([]byte(`{
		"rules": [
			{"match": "features.0.weight", "keep": 0.58, "bits": 8, "index_bits": 5},
			{"match": "features.*.weight", "keep": 0.3, "bits": 6, "index_bits": 4},
			{"match": "classifier.*", "keep": 0.04, "bits": 5, "index_bits": 5},
			{"match": "model/*", "quality": 1.0, "bits": 4},
			{"match": "norm.*", "dense": true},
			{"match": "never.matches", "keep": 0.5}
		],
		"default": {"keep": 0.2, "bits": 3}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	c.MinSize = 100
	return c
}

func TestRoundTrip(t *testing.T) {
	smallChunks(t, 1000, 1500) // several chunks and parts per tensor
	model := testModel(1)
	in := writeFile(t, "in.safetensors", encodeST(t, model))
	out := filepath.Join(t.TempDir(), "out.dcz")
	var progress []string
	res, err := CompressFile(in, out, Options{Config: testConfig(t), Name: "test", Workers: 3,
		Progress: func(s TensorStats) { progress = append(progress, s.Name) }})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := safetensors.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, tt := range rd.Tensors {
		order = append(order, tt.Name)
	}
	if !slices.Equal(progress, order) {
		t.Errorf("progress in order %v, want the file's %v", progress, order)
	}
	if !slices.Equal(res.UnusedRules, []int{5}) {
		t.Errorf("unused rules %v, want [5]", res.UnusedRules)
	}
	if st, _ := os.Stat(out); st.Size() != res.OutBytes {
		t.Errorf("OutBytes %d, file has %d", res.OutBytes, st.Size())
	}
	wantRaw := map[string]bool{"features.0.bias": true, "features.2.bias": true, "classifier.0.bias": true, "norm.scale": true, "scalar": true}
	for _, s := range res.Tensors {
		if s.Raw != wantRaw[s.Name] {
			t.Errorf("%s: raw %v", s.Name, s.Raw)
		}
		if !s.Raw && s.Name != "model/emb/kernel" {
			// Ties at the threshold are kept; BF16 has many.
			want := int(math.Round(s.Setting.Keep * float64(s.Weights)))
			if s.Kept < want || s.Kept > want+want/50 || s.DType == safetensors.F32 && s.Kept != want {
				t.Errorf("%s (%s): kept %d, want %d", s.Name, s.DType, s.Kept, want)
			}
		}
		if !s.Raw && s.Codebook > 1<<s.Setting.Bits {
			t.Errorf("%s: %d shared values for %d bits", s.Name, s.Codebook, s.Setting.Bits)
		}
	}

	m, err := dcz.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !dcz.TensorsOnly(m.Spec) || m.Spec.Name != "test" {
		t.Errorf("spec %+v, want tensors only named test", m.Spec)
	}
	dense := m.DenseWeights()
	dec := filepath.Join(t.TempDir(), "dec.safetensors")
	if err := Decode(out, dec, 2); err != nil {
		t.Fatal(err)
	}
	df, err := safetensors.ReadFile(dec)
	if err != nil {
		t.Fatal(err)
	}
	if len(df.Tensors) != len(model.Tensors) {
		t.Fatalf("decoded %d tensors, want %d", len(df.Tensors), len(model.Tensors))
	}
	for _, tt := range model.Tensors {
		got, ok := df.Get(tt.Name)
		if !ok || !slices.Equal(got.Shape, tt.Shape) || got.DType != safetensors.F32 {
			t.Fatalf("%s: decoded %v", tt.Name, got)
		}
		if !slices.Equal(bitsOf(got.Data), bitsOf(dense[tt.Name])) {
			t.Errorf("%s: decoded values differ from the shared values", tt.Name)
		}
		if wantRaw[tt.Name] && !slices.Equal(got.Data, roundTo(tt.Data, tt.DType)) {
			t.Errorf("%s: raw tensor changed", tt.Name)
		}
	}
	vr, err := Verify(in, out, dec)
	if err != nil {
		t.Fatal(err)
	}
	if vr.Tensors != len(model.Tensors) || vr.Layers != len(model.Tensors)-len(wantRaw) || vr.Kept != res.Kept {
		t.Errorf("verify %+v, compress %+v", vr, res)
	}
}

func bitsOf(v []float32) []uint32 {
	b := make([]uint32, len(v))
	for i, x := range v {
		b[i] = math.Float32bits(x)
	}
	return b
}

// TestSameOutputAnyWorkers checks that the file does not depend on how the
// work was split.
func TestSameOutputAnyWorkers(t *testing.T) {
	data := encodeST(t, testModel(2))
	var first []byte
	for _, w := range []int{1, 2, 5} {
		for _, chunk := range []int{333, 1 << 18} {
			smallChunks(t, chunk, 1000)
			var b bytes.Buffer
			if _, err := Compress(&b, bytes.NewReader(data), int64(len(data)), Options{Config: testConfig(t), Workers: w}); err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = b.Bytes()
			} else if !bytes.Equal(first, b.Bytes()) {
				t.Errorf("workers %d chunk %d: output differs", w, chunk)
			}
		}
	}
}

func TestInFlightBounded(t *testing.T) {
	f := &safetensors.File{}
	for i := range 40 {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: "t" + string(rune('A'+i)) + ".weight", Shape: []int{50, 50}, Data: bell(newRand(uint64(i)), 2500, 0.1)})
	}
	data := encodeST(t, f)
	for _, tt := range []struct {
		maxTensors int
		budget     int64
	}{{1, 0}, {3, 0}, {0, 3 * 8000}, {0, 1}} {
		opt := Options{Config: Config{Default: Setting{Keep: 0.5}}, Workers: 4, MaxInFlight: tt.maxTensors, MemoryBudget: tt.budget}
		res, err := Compress(io.Discard, bytes.NewReader(data), int64(len(data)), opt)
		if err != nil {
			t.Fatal(err)
		}
		limit := tt.maxTensors
		if limit == 0 {
			limit = 8
		}
		if res.PeakInFlight < 1 || res.PeakInFlight > limit {
			t.Errorf("max %d tensors: %d were in flight", limit, res.PeakInFlight)
		}
		if tt.budget > 0 && res.PeakBudget > tt.budget {
			t.Errorf("budget %d: %d bytes were in flight", tt.budget, res.PeakBudget)
		}
		if tt.budget == 1 && res.PeakInFlight != 1 {
			t.Errorf("budget of 1 byte: %d tensors in flight, want 1 (each alone)", res.PeakInFlight)
		}
	}
}

func TestCompressErrors(t *testing.T) {
	good := encodeST(t, testModel(3))
	nan := testModel(3)
	nan.Tensors[4].Data[77] = float32(math.NaN())
	for _, tt := range []struct {
		name string
		data []byte
		size int64
		want string
	}{
		{"truncated header", good[:5], 5, "too short"},
		{"truncated data", good[:len(good)-10], int64(len(good) - 10), "runs past"},
		{"size beyond the data", good[:len(good)-10], int64(len(good)), "unexpected EOF"},
		{"NaN", encodeST(t, nan), -1, "NaN"},
		{"integer tensor", i32File(), -1, `dtype "I32"`},
	} {
		size := tt.size
		if size < 0 {
			size = int64(len(tt.data))
		}
		_, err := Compress(io.Discard, bytes.NewReader(tt.data), size, Options{Config: Config{Default: Setting{Keep: 0.5}}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	// Every prefix of a file fails cleanly.
	for n := 0; n < len(good); n += 97 {
		if _, err := Compress(io.Discard, bytes.NewReader(good[:n]), int64(n), Options{}); err == nil {
			t.Fatalf("prefix of %d bytes: no error", n)
		}
	}
	var nf *quantize.NonFiniteError
	_, err := Compress(io.Discard, bytes.NewReader(encodeST(t, nan)), int64(len(encodeST(t, nan))), Options{Config: Config{Default: Setting{Keep: 0.5}}})
	if !errors.As(err, &nf) || nf.Name != "classifier.0.weight" || nf.Index != 77 {
		t.Errorf("NaN: %v, want a NonFiniteError naming classifier.0.weight, index 77", err)
	}
	bad := Config{Rules: []Rule{{Match: "x", Setting: Setting{Bits: 20}}}}
	if _, err := Compress(io.Discard, bytes.NewReader(good), int64(len(good)), Options{Config: bad}); err == nil {
		t.Error("invalid config accepted")
	}
}

// i32File is a safetensors file with one I32 tensor.
func i32File() []byte {
	hdr := `{"ids":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}`
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	b := []byte{byte(len(hdr)), 0, 0, 0, 0, 0, 0, 0}
	b = append(b, hdr...)
	return append(b, make([]byte, 8)...)
}

func TestEmptyLayer(t *testing.T) {
	f := &safetensors.File{Tensors: []safetensors.Tensor{{Name: "w", Shape: []int{40, 40}, Data: bell(newRand(9), 1600, 1)}}}
	data := encodeST(t, f)
	var b bytes.Buffer
	res, err := Compress(&b, bytes.NewReader(data), int64(len(data)), Options{Config: Config{Default: Setting{Keep: 1e-6}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 0 {
		t.Errorf("kept %d, want 0", res.Kept)
	}
	m, err := dcz.Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range m.DenseWeights()["w"] {
		if x != 0 {
			t.Fatal("a layer with no survivors decodes to non-zero values")
		}
	}
}

func TestVerifyCatchesChanges(t *testing.T) {
	model := testModel(4)
	in := writeFile(t, "in.safetensors", encodeST(t, model))
	out := filepath.Join(t.TempDir(), "out.dcz")
	if _, err := CompressFile(in, out, Options{Config: testConfig(t)}); err != nil {
		t.Fatal(err)
	}
	dec := filepath.Join(t.TempDir(), "dec.safetensors")
	if err := Decode(out, dec, 0); err != nil {
		t.Fatal(err)
	}
	df, err := safetensors.ReadFile(dec)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := df.Get("classifier.0.weight")
	w.Data[5] += 1e-3
	changed := writeFile(t, "changed.safetensors", encodeST(t, df))
	var ve *VerifyError
	if _, err := Verify(in, out, changed); !errors.As(err, &ve) || ve.Tensor != "classifier.0.weight" {
		t.Errorf("changed decoded value: %v", err)
	}
	// An input whose largest weight was pruned is not a magnitude pruning.
	m := testModel(4)
	c, _ := m.Get("features.2.weight")
	big := 0
	for i, x := range c.Data {
		if math.Abs(float64(x)) < math.Abs(float64(c.Data[big])) {
			big = i
		}
	}
	c.Data[big] = 100 // the smallest, pruned, becomes the largest
	other := writeFile(t, "other.safetensors", encodeST(t, m))
	if _, err := Verify(other, out, ""); !errors.As(err, &ve) || ve.Tensor != "features.2.weight" {
		t.Errorf("different input: %v", err)
	}
}

// TestDecodeNetworkFile decodes a .dcz file with a network description: any
// .dcz file decodes to safetensors.
func TestDecodeNetworkFile(t *testing.T) {
	spec := arch.LeNet300()
	ps, _ := spec.Params()
	m := &dcz.Model{Spec: spec}
	r := newRand(5)
	for _, p := range ps {
		w := bell(r, p.Size(), 0.1)
		if !p.Weight {
			m.Raw = append(m.Raw, dcz.Tensor{Name: p.Name, Shape: p.Shape, Data: w})
			continue
		}
		for i := range w {
			if i%3 != 0 {
				w[i] = 0
			}
		}
		l, err := quantize.QuantizeTensor(p.Name, p.Shape, w, quantize.Options{Bits: 4})
		if err != nil {
			t.Fatal(err)
		}
		m.Layers = append(m.Layers, dcz.Layer{Layer: *l})
	}
	in := filepath.Join(t.TempDir(), "l300.dcz")
	if err := dcz.WriteFile(in, m); err != nil {
		t.Fatal(err)
	}
	if only, err := IsTensorsOnly(in); err != nil || only {
		t.Errorf("IsTensorsOnly = %v, %v for a network file", only, err)
	}
	out := filepath.Join(t.TempDir(), "l300.safetensors")
	if err := Decode(in, out, 2); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := m.DenseWeights()
	if len(f.Tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(want))
	}
	for _, tt := range f.Tensors {
		if !slices.Equal(bitsOf(tt.Data), bitsOf(want[tt.Name])) {
			t.Errorf("%s differs", tt.Name)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	data := encodeST(t, testModel(6))
	var b bytes.Buffer
	if _, err := Compress(&b, bytes.NewReader(data), int64(len(data)), Options{Config: testConfig(t)}); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.safetensors")
	for _, n := range []int{0, 3, 40, len(good) / 2, len(good) - 1} {
		in := writeFile(t, "cut.dcz", good[:n])
		if err := Decode(in, out, 2); err == nil {
			t.Errorf("prefix of %d bytes decoded", n)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("prefix of %d bytes left an output file", n)
		}
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	if err := Decode(writeFile(t, "flip.dcz", flipped), out, 2); !errors.Is(err, dcz.ErrChecksum) {
		t.Errorf("flipped bit: %v, want a checksum error", err)
	}
}

// TestCompressRawFallback: a tensor whose coded section would be no
// smaller than its float32 section is stored float32, as CompressGraph
// does, and Verify accepts the file; larger tensors are still coded.
func TestCompressRawFallback(t *testing.T) {
	r := newRand(11)
	f := &safetensors.File{Tensors: []safetensors.Tensor{
		{Name: "small", Shape: []int{4, 4}, Data: bell(r, 16, 0.1)},
		{Name: "big", Shape: []int{64, 64}, Data: bell(r, 4096, 0.1)},
	}}
	in := writeFile(t, "in.safetensors", encodeST(t, f))
	out := filepath.Join(t.TempDir(), "out.dcz")
	res, err := CompressFile(in, out, Options{Config: Config{MinSize: 1, Default: Setting{Bits: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]TensorStats{}
	for _, s := range res.Tensors {
		st[s.Name] = s
	}
	small, big := st["small"], st["big"]
	if !small.Raw || !small.Fallback || small.CodedBytes < small.Bytes || small.Kept != 16 {
		t.Errorf("small tensor: %+v", small)
	}
	if big.Raw || big.Fallback || big.Bytes >= 4*4096 {
		t.Errorf("big tensor: %+v", big)
	}
	m, err := dcz.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Raw) != 1 || m.Raw[0].Name != "small" || len(m.Layers) != 1 {
		t.Errorf("%d raw, %d layers", len(m.Raw), len(m.Layers))
	}
	if _, err := Verify(in, out, ""); err != nil {
		t.Error(err)
	}
}
