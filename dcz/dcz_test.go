package dcz

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/quantize"
)

var (
	update   = flag.Bool("update", false, "rewrite testdata/golden.dcz and the fuzz seeds")
	allFlips = flag.Bool("dcz.allflips", false, "flip every bit of the LeNet-300-100 file, not a sample of 10,000")
)

// tiny is a 4-3 dense network: fc.weight [3,4], fc.bias [3].
func tinySpec() arch.Spec {
	return arch.Spec{Name: "tiny", Input: []int{4}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 3}}}
}

// tinyModel has a weight layer with a filler and a survivor at position 0.
// Positions 0, 2 and 11 with 3-bit gaps: gaps 0, 2, 8 (filler), 1.
func tinyModel() *Model {
	return &Model{
		Spec: tinySpec(),
		Layers: []Layer{{Layer: quantize.Layer{
			Name: "fc.weight", Shape: []int{3, 4}, Bits: 2,
			Codebook: []float32{-0.5, 0.25, 1},
			Pos:      []uint32{0, 2, 11},
			Idx:      []uint16{2, 0, 1},
		}, IndexBits: 3}},
		Raw: []Tensor{{Name: "fc.bias", Shape: []int{3}, Data: []float32{0.1, -0.2, 0.3}}},
	}
}

// layerModel wraps one weight layer of shape [out, in] in a dense network.
func layerModel(l quantize.Layer, ibits int) *Model {
	out, in := l.Shape[0], l.Shape[1]
	spec := arch.Spec{Input: []int{in}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: out, NoBias: true}}}
	l.Name = "fc.weight"
	return &Model{Spec: spec, Layers: []Layer{{Layer: l, IndexBits: ibits}}}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	randomLayer := func(out, in, bits int, keep float64) quantize.Layer {
		l := quantize.Layer{Shape: []int{out, in}, Bits: bits}
		k := 1 + r.IntN(1<<bits)
		for range k {
			l.Codebook = append(l.Codebook, r.Float32()-0.5)
		}
		for p := range out * in {
			if r.Float64() < keep {
				l.Pos = append(l.Pos, uint32(p))
				l.Idx = append(l.Idx, uint16(r.IntN(k)))
			}
		}
		return l
	}
	big16 := quantize.Layer{Shape: []int{300, 400}, Bits: 16, Codebook: make([]float32, 1<<16)}
	for i := range big16.Codebook {
		big16.Codebook[i] = float32(i)
	}
	for p := 0; p < 120000; p += 1 + r.IntN(3) {
		big16.Pos = append(big16.Pos, uint32(p))
		big16.Idx = append(big16.Idx, uint16(r.IntN(1<<16)))
	}
	dense := randomLayer(20, 30, 4, 2)
	tests := []struct {
		name string
		m    *Model
	}{
		{"tiny", tinyModel()},
		{"lenet300", lenet300(t, false)},
		{"lenet5", lenet5()},
		{"empty layer", layerModel(quantize.Layer{Shape: []int{10, 20}, Bits: 4, Codebook: []float32{1}}, 5)},
		{"empty layer no codebook", layerModel(quantize.Layer{Shape: []int{10, 20}, Bits: 1}, 5)},
		{"dense layer", layerModel(dense, 5)},
		{"single survivor at the end", layerModel(quantize.Layer{Shape: []int{100, 100}, Bits: 1, Codebook: []float32{2}, Pos: []uint32{9999}, Idx: []uint16{0}}, 2)},
		{"single survivor at 0", layerModel(quantize.Layer{Shape: []int{3, 3}, Bits: 1, Codebook: []float32{2}, Pos: []uint32{0}, Idx: []uint16{0}}, 1)},
		{"all indices equal", layerModel(quantize.Layer{Shape: []int{50, 50}, Bits: 3, Codebook: []float32{1, 2, 3}, Pos: seq(0, 2500, 7), Idx: slices.Repeat([]uint16{2}, len(seq(0, 2500, 7)))}, 3)},
		{"1-bit gaps, many fillers", layerModel(randomLayer(40, 50, 2, 0.02), 1)},
		{"16-bit gaps", layerModel(randomLayer(300, 400, 3, 0.001), 16)},
		{"16-bit weights, full codebook", layerModel(big16, 4)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.m)
			got, err := Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := equalModels(tc.m, got); err != nil {
				t.Fatal(err)
			}
			// Encoding what was read gives the same bytes.
			if again := encode(t, got); !bytes.Equal(again, data) {
				t.Fatal("re-encoding the decoded model changed the file")
			}
			want := map[string][]float32{}
			for _, l := range tc.m.Layers {
				want[l.Name] = l.Dense()
			}
			for _, r := range tc.m.Raw {
				want[r.Name] = r.Data
			}
			dw := got.DenseWeights()
			for name, w := range want {
				if !slices.Equal(dw[name], w) {
					t.Errorf("DenseWeights[%s] differs", name)
				}
			}
		})
	}
}

func seq(start, end, step int) []uint32 {
	var s []uint32
	for i := start; i < end; i += step {
		s = append(s, uint32(i))
	}
	return s
}

// goldenFile returns testdata/name, first writing m there with -update.
func goldenFile(t *testing.T, name string, m *Model) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := WriteFile(path, m); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGolden decodes a file committed to testdata, so that the format
// cannot change silently, and checks that encoding reproduces it.
func TestGolden(t *testing.T) {
	m := tinyModel()
	data := goldenFile(t, "golden.dcz", m)
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	w := got.DenseWeights()
	wantW := []float32{1, 0, -0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.25}
	if !slices.Equal(w["fc.weight"], wantW) {
		t.Errorf("fc.weight = %v, want %v", w["fc.weight"], wantW)
	}
	if !slices.Equal(w["fc.bias"], []float32{0.1, -0.2, 0.3}) {
		t.Errorf("fc.bias = %v", w["fc.bias"])
	}
	if l := got.Layers[0]; l.Kind != arch.Dense || l.IndexBits != 3 || l.Bits != 2 {
		t.Errorf("layer header: kind %s, index bits %d, bits %d", l.Kind, l.IndexBits, l.Bits)
	}
	if err := equalModels(m, got); err != nil {
		t.Error(err)
	}
	if again := encode(t, m); !bytes.Equal(again, data) {
		t.Errorf("encoder output drifted from testdata/golden.dcz (%d vs %d bytes); if the change is intended, bump Version and run go test -update", len(again), len(data))
	}
}

// TestFillerInFile checks the decoded gaps of the tiny model: 3-bit gaps
// put a filler between positions 2 and 11.
func TestFillerInFile(t *testing.T) {
	d, err := NewDecoder(bytes.NewReader(encode(t, tinyModel())))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if s.Entries != 4 || s.Fillers != 1 {
		t.Errorf("entries %d, fillers %d; want 4 and 1", s.Entries, s.Fillers)
	}
}

func mustFail(t *testing.T, what string, data []byte) error {
	t.Helper()
	_, err := Read(bytes.NewReader(data))
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
		t.Fatalf("%s: error %v is not a FormatError", what, err)
	}
	return err
}

// TestBitFlips flips every bit of a small file (every 5th with -short):
// each must be an error.
func TestBitFlips(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 5 // a fifth of the bits, every byte of the file
	}
	for _, m := range []*Model{tinyModel(), smallModel()} {
		data := encode(t, m)
		for i := 0; i < 8*len(data); i += step {
			bad := slices.Clone(data)
			bad[i/8] ^= 1 << (i % 8)
			mustFail(t, fmt.Sprintf("bit %d of %d", i, 8*len(data)), bad)
		}
	}
}

// smallModel is a 64-32-10 network, 30 % kept: a file of ~1.5 KB.
func smallModel() *Model {
	spec := arch.Spec{Name: "small", Input: []int{64}, Layers: []arch.Layer{
		{Kind: arch.Dense, Name: "a", Out: 32}, {Kind: arch.ReLU}, {Kind: arch.Dense, Name: "b", Out: 10},
	}}
	return compressModel(spec, laplaceWeights(spec, 3),
		map[string]float64{"a.weight": 0.3, "b.weight": 0.3},
		map[arch.Kind]int{arch.Dense: 4}, map[arch.Kind]int{arch.Dense: 3})
}

// TestBitFlipsLeNet300 flips 10,000 random bits (1,000 with -short) of a compressed
// LeNet-300-100 (every bit with -dcz.allflips): each must be an error.
func TestBitFlipsLeNet300(t *testing.T) {
	flipSample(t, encode(t, lenet300(t, false)), 10000)
}

// TestBitFlipsLeNet300Arith is TestBitFlipsLeNet300 on the file written
// with CoderArith, 2,000 random bits (every bit with -dcz.allflips).
func TestBitFlipsLeNet300Arith(t *testing.T) {
	flipSample(t, encode(t, arithModel(lenet300(t, false), CoderArith)), 2000)
}

// flipSample flips n random bits of data (1,000 with -short, all with
// -dcz.allflips), one at a time: each must be an error.
func flipSample(t *testing.T, data []byte, n int) {
	flips := rand.New(rand.NewPCG(7, 8)).Perm(8 * len(data))
	switch {
	case testing.Short():
		flips = flips[:min(n, 1000)]
	case !*allFlips:
		flips = flips[:n]
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var missed []int
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bad := slices.Clone(data)
			for k := w; k < len(flips); k += workers {
				i := flips[k]
				bad[i/8] ^= 1 << (i % 8)
				if _, err := Read(bytes.NewReader(bad)); err == nil || !errors.Is(err, ErrFormat) {
					mu.Lock()
					missed = append(missed, i)
					mu.Unlock()
				}
				bad[i/8] ^= 1 << (i % 8)
			}
		}()
	}
	wg.Wait()
	if len(missed) > 0 {
		t.Fatalf("%d of %d flips not reported, e.g. bit %d", len(missed), len(flips), missed[0])
	}
	t.Logf("%d bit flips of %d reported", len(flips), 8*len(data))
}

// TestTruncated cuts a file at every length: each must be an error.
func TestTruncated(t *testing.T) {
	mustRefuseCuts(t, encode(t, smallModel()))
}

// mustRefuseCuts checks that data cut at every length reads as a
// truncation and data with a byte appended as an error.
func mustRefuseCuts(t *testing.T, data []byte) {
	t.Helper()
	for n := range len(data) {
		err := mustFail(t, fmt.Sprintf("cut at %d", n), data[:n])
		if n > 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v does not report truncation", n, err)
		}
	}
	mustFail(t, "trailing byte", append(slices.Clone(data), 0))
}

func TestHeaderErrors(t *testing.T) {
	data := encode(t, tinyModel())
	bad := slices.Clone(data)
	bad[1] = 'X'
	if err := mustFail(t, "magic", bad); !errors.Is(err, ErrMagic) {
		t.Errorf("magic: %v", err)
	}
	bad = slices.Clone(data)
	bad[4] = Version + 1
	if err := mustFail(t, "version", bad); !errors.Is(err, ErrVersion) {
		t.Errorf("version: %v", err)
	}
	bad[4] = 2 // a known version, but the header is under the first checksum
	if err := mustFail(t, "version 2", bad); !errors.Is(err, ErrChecksum) {
		t.Errorf("version 2: %v", err)
	}
	bad = slices.Clone(data)
	bad[len(data)-1] ^= 0x80
	if err := mustFail(t, "end checksum", bad); !errors.Is(err, ErrChecksum) {
		t.Errorf("checksum: %v", err)
	}
	mustFail(t, "empty", nil)
	mustFail(t, "text", []byte("hello, world"))
}

// frame builds a section with a valid checksum around body.
func frame(typ byte, body []byte) []byte { return appendFrame(nil, typ, body, 0) }

// header is a valid file start: magic, version and the tiny spec.
func header(t *testing.T) []byte {
	var b bytes.Buffer
	if _, err := NewEncoder(&b, tinySpec()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func uv(v uint64) []byte { return appendUvarint(nil, v) }

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

// TestAbsurdSizes feeds headers with huge counts and lengths, all with
// valid checksums: each must fail with an error and allocate little.
func TestAbsurdSizes(t *testing.T) {
	h := header(t)
	name := cat(uv(9), []byte("fc.weight"))
	shape := cat(uv(2), uv(3), uv(4))
	layer := func(rest ...[]byte) []byte {
		return cat(h, frame(secLayer, cat(name, []byte{kindDense}, shape, cat(rest...))))
	}
	specWith := func(body []byte) []byte {
		head := []byte(Magic + "\x01")
		return appendFrame(head, secSpec, body, crc32c(head))
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"section length 2^40", cat(h, []byte{secLayer}, uv(1<<40), []byte{1, 2, 3})},
		{"section length 2^62", cat(h, []byte{secLayer}, uv(1<<62))},
		{"section length overlong varint", cat(h, []byte{secLayer}, bytes.Repeat([]byte{0xff}, 12))},
		{"unknown section", cat(h, frame('Z', nil))},
		{"spec 2^30 bytes", specWith(cat([]byte{specStored}, uv(1<<30), []byte("{}")))},
		{"spec deflate bomb", specWith(cat([]byte{specDeflate}, uv(MaxSpecBytes), []byte{1, 2, 3}))},
		{"spec bad method", specWith(cat([]byte{7}, uv(2), []byte("{}")))},
		{"spec not json", specWith(cat([]byte{specStored}, uv(3), []byte("{{{")))},
		{"name 2^50 bytes", cat(h, frame(secLayer, cat(uv(1<<50), []byte("fc"))))},
		{"rank 2^40", cat(h, frame(secLayer, cat(name, []byte{kindDense}, uv(1<<40))))},
		{"dimension 2^40", cat(h, frame(secRaw, cat(uv(7), []byte("fc.bias"), uv(1), uv(1<<40))))},
		{"shape 2^31 x 2^31", cat(h, frame(secRaw, cat(uv(7), []byte("fc.bias"), uv(2), uv(1<<31), uv(1<<31))))},
		{"raw data short", cat(h, frame(secRaw, cat(uv(7), []byte("fc.bias"), uv(1), uv(3), make([]byte, 8))))},
		{"wrong shape", cat(h, frame(secRaw, cat(uv(7), []byte("fc.bias"), uv(1), uv(4), make([]byte, 16))))},
		{"unknown parameter", cat(h, frame(secRaw, cat(uv(2), []byte("zz"), uv(1), uv(3), make([]byte, 12))))},
		{"codebook 2^40 entries", layer([]byte{2, 3}, uv(1<<40))},
		{"codebook beyond section", layer([]byte{16, 3}, uv(60000), make([]byte, 8))},
		{"weight bits 0", layer([]byte{0, 3}, uv(0), uv(0), []byte{0})},
		{"index bits 40", layer([]byte{2, 40}, uv(0), uv(0), []byte{0})},
		{"survivors 2^40", layer([]byte{2, 3}, uv(1), make([]byte, 4), uv(1<<40), []byte{0})},
		{"huffman count 2^40", layer([]byte{2, 3}, uv(1), make([]byte, 4), uv(5), uv(1<<41), uv(2), []byte{0x89}, uv(1), []byte{0})},
		{"huffman alphabet 2^40", layer([]byte{2, 3}, uv(1), make([]byte, 4), uv(5), uv(10), uv(1<<40))},
		{"huffman stream 2^40", layer([]byte{2, 3}, uv(3), make([]byte, 12), uv(5), uv(10), uv(3), []byte{0x89}, uv(1<<40))},
		{"kind 9", cat(h, frame(secLayer, cat(name, []byte{9}, shape, []byte{2, 3}, uv(0), uv(0), []byte{0})))},
		{"kind flag 0x80", cat(h, frame(secLayer, cat(name, []byte{0x80 | kindDense}, shape, []byte{2, 3}, uv(0), uv(0), []byte{0})))},
		{"float16 codebook beyond section", cat(h, frame(secLayer, cat(name, []byte{flagHalfCodebook | kindDense}, shape, []byte{16, 3}, uv(60000), make([]byte, 8))))},
		{"typed raw element type 9", cat(h, frame(secTyped, cat(uv(7), []byte("fc.bias"), []byte{9}, uv(1), uv(3), make([]byte, 6))))},
		{"typed raw data short", cat(h, frame(secTyped, cat(uv(7), []byte("fc.bias"), []byte{elemFloat16}, uv(1), uv(3), make([]byte, 4))))},
		{"typed raw 2^31 x 2^31", cat(h, frame(secTyped, cat(uv(7), []byte("fc.bias"), []byte{elemFloat16}, uv(2), uv(1<<31), uv(1<<31))))},
		{"typed raw float32-sized data", cat(h, frame(secTyped, cat(uv(7), []byte("fc.bias"), []byte{elemFloat16}, uv(1), uv(3), make([]byte, 12))))},
		{"second spec", cat(h, h[5:])},
		{"missing end", h},
		{"end not empty", cat(h, frame(secEnd, []byte{0}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := mustFail(t, tc.name, tc.data)
			runtime.ReadMemStats(&after)
			if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", a, len(tc.data))
			}
			t.Log(err)
		})
	}
}

func TestEncoderErrors(t *testing.T) {
	m := tinyModel()
	var b bytes.Buffer
	e, err := NewEncoder(&b, m.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err == nil {
		t.Error("Close with parameters missing: no error")
	}
	if err := e.WriteRaw(&Tensor{Name: "fc.bias", Shape: []int{4}, Data: make([]float32, 4)}); err == nil {
		t.Error("wrong shape: no error")
	}
	if err := e.WriteRaw(&Tensor{Name: "nope", Shape: []int{3}, Data: make([]float32, 3)}); err == nil {
		t.Error("unknown name: no error")
	}
	if err := e.WriteRaw(&Tensor{Name: "fc.bias", Shape: []int{3}, Data: make([]float32, 2)}); err == nil {
		t.Error("short data: no error")
	}
	bad := m.Layers[0]
	bad.Kind = arch.Conv2D
	if err := e.WriteLayer(&bad); err == nil {
		t.Error("wrong kind: no error")
	}
	bad = m.Layers[0]
	bad.Idx = []uint16{0, 9, 0}
	if err := e.WriteLayer(&bad); err == nil {
		t.Error("index outside the codebook: no error")
	}
	if err := e.WriteRaw(&m.Raw[0]); err != nil {
		t.Fatal(err)
	}
	if err := e.WriteRaw(&m.Raw[0]); err == nil {
		t.Error("written twice: no error")
	}
	if err := Write(io.Discard, &Model{Spec: m.Spec, Layers: m.Layers}); err == nil {
		t.Error("Write without the bias: no error")
	}
	if err := Write(io.Discard, &Model{Spec: m.Spec, Layers: m.Layers, Raw: append(m.Raw, m.Raw...)}); err == nil {
		t.Error("Write with the bias twice: no error")
	}
}

// TestParallelFrames encodes layers on several goroutines and writes the
// frames in order, then decodes frames in parallel: the file must equal
// the sequential one.
func TestParallelFrames(t *testing.T) {
	m := lenet5()
	var b bytes.Buffer
	e, err := NewEncoder(&b, m.Spec)
	if err != nil {
		t.Fatal(err)
	}
	frames := make([][]byte, len(m.Layers))
	var wg sync.WaitGroup
	for i := range m.Layers {
		wg.Go(func() {
			f, err := e.EncodeLayer(&m.Layers[i])
			if err != nil {
				t.Error(err)
			}
			frames[i] = f
		})
	}
	wg.Wait()
	// Network order: weight, then bias, of each layer.
	for i := range m.Layers {
		if err := e.WriteFrame(frames[i]); err != nil {
			t.Fatal(err)
		}
		if err := e.WriteRaw(&m.Raw[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), encode(t, m)) {
		t.Fatal("parallel encoding differs from Write")
	}

	d, err := NewDecoder(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var fs []*Frame
	for {
		f, err := d.NextFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	secs := make([]*Section, len(fs))
	for i, f := range fs {
		wg.Go(func() {
			s, err := f.Decode()
			if err != nil {
				t.Error(err)
			}
			secs[i] = s
		})
	}
	wg.Wait()
	if secs[0].Layer == nil || secs[0].Layer.Name != "conv1.weight" || fs[1].Name != "conv1.bias" {
		t.Error("frames out of order")
	}
}

func TestWriteReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.dcz")
	m := lenet300(t, false)
	if err := WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := equalModels(m, got); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.dcz")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestInspect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.dcz")
	if err := WriteFile(path, lenet300(t, false)); err != nil {
		t.Fatal(err)
	}
	st, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	tot := st.Total
	if tot.FileBytes != fi.Size() || tot.DenseBytes != 4*266610 || tot.Params != 266610 {
		t.Errorf("file %d (on disk %d), dense %d, params %d", tot.FileBytes, fi.Size(), tot.DenseBytes, tot.Params)
	}
	if r := float64(tot.DenseBytes) / float64(tot.FileBytes); r != tot.Ratio {
		t.Errorf("ratio %v, want %v", tot.Ratio, r)
	}
	if len(st.Layers) != 3 || len(st.Raw) != 3 || st.Layers[0].Weights != 235200 {
		t.Fatalf("layers %+v", st.Layers)
	}
	if sum := tot.LayerBytes + tot.RawBytes + tot.OverheadBytes; sum != tot.FileBytes {
		t.Errorf("sections add up to %d, file has %d", sum, tot.FileBytes)
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var generic struct {
		Total map[string]any `json:"total"`
	}
	if err := json.Unmarshal(js, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dense_bytes", "file_bytes", "ratio"} {
		if _, ok := generic.Total[k]; !ok {
			t.Errorf("JSON total lacks %q", k)
		}
	}
	var text bytes.Buffer
	if err := st.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
}

// TestDefaultIndexBits checks the paper's gap widths: 0 selects 8 bits for
// conv2d and 5 for dense layers.
func TestDefaultIndexBits(t *testing.T) {
	m := lenet5()
	for i := range m.Layers {
		m.Layers[i].IndexBits = 0
	}
	got, err := Read(bytes.NewReader(encode(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"conv1.weight": 8, "conv2.weight": 8, "fc1.weight": 5, "fc2.weight": 5}
	for _, l := range got.Layers {
		if l.IndexBits != want[l.Name] {
			t.Errorf("%s: index bits %d, want %d", l.Name, l.IndexBits, want[l.Name])
		}
	}
}
