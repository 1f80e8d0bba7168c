package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/internal/testmodel"
)

// lenet300Path is the PyTorch-trained reference model (package testmodel
// finds it).
func lenet300Path(tb testing.TB) string { return testmodel.Path(tb, "lenet300.safetensors") }

// rawFile assembles a file from a header string and a data area.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func readBytes(b []byte) (*File, error) { return Read(bytes.NewReader(b), int64(len(b))) }

func TestLenet300(t *testing.T) {
	orig, err := os.ReadFile(lenet300Path(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(lenet300Path(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"fc1.weight": {300, 784}, "fc1.bias": {300},
		"fc2.weight": {100, 300}, "fc2.bias": {100},
		"fc3.weight": {10, 100}, "fc3.bias": {10},
	}
	if len(f.Tensors) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(f.Tensors), len(want))
	}
	for name, shape := range want {
		tt, ok := f.Get(name)
		if !ok {
			t.Fatalf("missing %s", name)
		}
		if !reflect.DeepEqual(tt.Shape, shape) || len(tt.Data) != numel(shape) || tt.DType != F32 {
			t.Errorf("%s: shape %v dtype %s len %d, want %v F32", name, tt.Shape, tt.DType, len(tt.Data), shape)
		}
	}
	if f.Metadata["format"] != "pt" || f.Metadata["model"] != "lenet300" {
		t.Errorf("metadata %v", f.Metadata)
	}
	// Our writer follows the same conventions as the file's: byte-identical.
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), orig) {
		t.Errorf("rewritten file differs from the original (%d vs %d bytes)", buf.Len(), len(orig))
	}

	// Streaming access gives the same tensors.
	rd, err := Open(lenet300Path(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if es := rd.Entries(); len(es) != 6 || es[0].Name != "fc1.bias" || es[1].Begin != 1200 || es[1].End != 942000 {
		t.Errorf("entries %+v", es)
	}
	w1, err := rd.ReadTensor("fc1.weight")
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := f.Get("fc1.weight"); !reflect.DeepEqual(w1, *g) {
		t.Error("ReadTensor differs from ReadFile")
	}
}

func TestRoundTrip(t *testing.T) {
	f := &File{
		Metadata: map[string]string{"format": "pt", "note": "<&> ünïcode"},
		Tensors: []Tensor{
			{Name: "z.f32", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, float32(math.Inf(-1)), 0, 1e-40}},
			{Name: "a.f16", Shape: []int{4}, Data: []float32{1, -0.5, 65504, 5.9604645e-08}, DType: F16},
			{Name: "m.bf16", Shape: []int{2, 1}, Data: []float32{3.140625, -1.5 * (1 << 60)}, DType: BF16},
			{Name: "scalar", Shape: []int{}, Data: []float32{42}},
			{Name: "empty", Shape: []int{0, 5}, Data: []float32{}},
		},
	}
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	hdrLen := binary.LittleEndian.Uint64(buf.Bytes())
	if hdrLen%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", hdrLen)
	}
	g, err := readBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Metadata, f.Metadata) {
		t.Errorf("metadata %v, want %v", g.Metadata, f.Metadata)
	}
	names := []string{"a.f16", "empty", "m.bf16", "scalar", "z.f32"} // sorted order
	for i, name := range names {
		want, _ := f.Get(name)
		got := g.Tensors[i]
		if got.Name != name {
			t.Fatalf("tensor %d is %q, want %q", i, got.Name, name)
		}
		wantType := want.DType
		if wantType == "" {
			wantType = F32
		}
		if got.DType != wantType || !reflect.DeepEqual(got.Shape, want.Shape) || !reflect.DeepEqual(got.Data, want.Data) {
			t.Errorf("%s: got %+v, want %+v", name, got, *want)
		}
	}
	if _, ok := g.Get("nope"); ok {
		t.Error("Get found a missing tensor")
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		f    File
		want string
	}{
		{"length", File{Tensors: []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1}}}}, `"a" has 1 values, its shape [2] needs 2`},
		{"dup", File{Tensors: []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}}, "duplicate"},
		{"empty name", File{Tensors: []Tensor{{Shape: []int{1}, Data: []float32{1}}}}, "invalid tensor name"},
		{"reserved", File{Tensors: []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}}, "invalid tensor name"},
		{"negative", File{Tensors: []Tensor{{Name: "a", Shape: []int{-1}}}}, "bad shape"},
		{"dtype", File{Tensors: []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}, DType: I32}}}, `"a" has dtype "I32"`},
	}
	for _, tt := range tests {
		err := Write(&bytes.Buffer{}, &tt.f)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestReadErrors(t *testing.T) {
	four := make([]byte, 4)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "too short"},
		{"header past end", rawFile("{}", nil)[:9], "header length 2 exceeds the 1 bytes"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<62), "header length 4611686018427387904 exceeds"},
		{"not object", rawFile("[1]     ", nil), "does not start with a JSON object"},
		{"bad json", rawFile(`{"a":}`, nil), "bad JSON header"},
		{"trailing junk", rawFile(`{} x`, nil), "unexpected bytes after"},
		{"bad utf8", rawFile("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"dup tensor", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `duplicate tensor "a"`},
		{"missing field", rawFile(`{"a":{"dtype":"F32","shape":[1]}}`, four), "needs dtype, shape and two data_offsets"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, four), `tensor "a" has dtype "Q4"`},
		{"int dtype", rawFile(`{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, four), `tensor "a" has dtype "I32"`},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four), "bad entry"},
		{"size mismatch", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, four), "hold 4 bytes, but F32 [2] needs 8"},
		{"reversed", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, four), "bad data_offsets"},
		{"overflow", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, four), "overflows"},
		{"past end", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, four), "runs past the 4-byte data area"},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "gap in the data area"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "overlaps"},
		{"trailing data", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)), "4 bytes after the last tensor"},
		{"bad metadata", rawFile(`{"__metadata__":{"a":1}}`, nil), `"__metadata__" must be an object of strings`},
		{"null metadata", rawFile(`{"__metadata__":null}`, nil), `"__metadata__" must be an object of strings`},
	}
	for _, tt := range tests {
		_, err := readBytes(tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// hugeReaderAt claims a size it does not have and serves a header that
// claims even more.
type hugeReaderAt struct{ head []byte }

func (h hugeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < int64(len(h.head)) {
		return copy(p, h.head[off:]), nil
	}
	return 0, errors.New("hugeReaderAt: read past the served header")
}

func TestHugeClaimsRefusedBeforeAllocating(t *testing.T) {
	tests := []struct {
		name string
		r    sizedReaderAt
		want string
	}{
		{"header beyond file", sizedReaderAt{bytes.NewReader(binary.LittleEndian.AppendUint64(nil, 1<<40)), 16}, "exceeds the 8 bytes after it"},
		{"header beyond limit", sizedReaderAt{hugeReaderAt{binary.LittleEndian.AppendUint64(nil, 1<<40)}, 1 << 50}, "exceeds the 104857600-byte limit"},
		{"tensor beyond file", sizedReaderAt{bytes.NewReader(rawFile(`{"a":{"dtype":"F32","shape":[1073741824,16],"data_offsets":[0,68719476736]}}`, nil)), 0}, "runs past the 0-byte data area"},
	}
	for _, tt := range tests {
		size := tt.r.size
		if size == 0 {
			size = int64(tt.r.r.(*bytes.Reader).Len())
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Read(tt.r.r, size)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
			t.Errorf("%s: allocated %d bytes", tt.name, a)
		}
	}
}

type sizedReaderAt struct {
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
	size int64
}

func TestStreamingWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	infos := []Info{{Name: "w", Shape: []int{2, 2}}, {Name: "b", DType: BF16, Shape: []int{2}}}
	sw, err := Create(path, map[string]string{"format": "pt"}, infos)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.WriteTensor("b", []float32{1, 2}); err == nil || !strings.Contains(err.Error(), `got tensor "b", want "w"`) {
		t.Fatalf("out of order write: %v", err)
	}
	if err := sw.Close(); err == nil {
		t.Fatal("Close after a failed write succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("failed write left a file: %v", err)
	}

	sw, err = Create(path, map[string]string{"format": "pt"}, infos)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.WriteTensor("w", []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := sw.WriteTensor("b", []float32{-1, 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}, DType: F32},
		{Name: "b", Shape: []int{2}, Data: []float32{-1, 0.5}, DType: BF16}}
	if !reflect.DeepEqual(f.Tensors, want) || f.Metadata["format"] != "pt" {
		t.Errorf("got %+v", f)
	}

	// An incomplete file is discarded and the previous one kept.
	sw, err = Create(path, nil, infos)
	if err != nil {
		t.Fatal(err)
	}
	sw.WriteTensor("w", []float32{9, 9, 9, 9})
	if err := sw.Close(); err == nil || !strings.Contains(err.Error(), "closed after 1 of 2 tensors") {
		t.Fatalf("incomplete Close: %v", err)
	}
	if g, err := ReadFile(path); err != nil || !reflect.DeepEqual(g.Tensors, want) {
		t.Errorf("previous file damaged: %v", err)
	}
	sw, _ = Create(path, nil, infos)
	sw.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if _, err := Create(filepath.Join(dir, "no", "such", "dir"), nil, infos); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

func TestF16(t *testing.T) {
	tests := []struct {
		f float32
		h uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65519, 0x7bff}, {65520, 0x7c00},
		{float32(math.Inf(1)), 0x7c00}, {0, 0}, {float32(math.Copysign(0, -1)), 0x8000},
		{5.9604645e-08, 0x0001},       // smallest subnormal 2^-24
		{2.9802322e-08, 0x0000},       // 2^-25: tie, rounds to even 0
		{4.4703484e-08, 0x0001},       // 1.5 * 2^-25 rounds up
		{6.097555e-05, 0x03ff},        // largest subnormal
		{1 + 1.0/2048, 0x3c00},        // tie to even (down)
		{1 + 3.0/2048, 0x3c02},        // tie to even (up)
		{1 + 1.0/2048 + 1e-7, 0x3c01}, // above the tie
	}
	for _, tt := range tests {
		if got := Float32ToF16(tt.f); got != tt.h {
			t.Errorf("Float32ToF16(%g) = %#04x, want %#04x", tt.f, got, tt.h)
		}
	}
	if h := Float32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN -> %#04x", h)
	}
	for h := range 1 << 16 {
		f := F16ToFloat32(uint16(h))
		if f != f {
			continue
		}
		if back := Float32ToF16(f); back != uint16(h) {
			t.Fatalf("F16 %#04x -> %g -> %#04x", h, f, back)
		}
		if back := Float32ToBF16(math.Float32frombits(uint32(h) << 16)); back != uint16(h) {
			t.Fatalf("BF16 %#04x round trip gave %#04x", h, back)
		}
	}
	if got := Float32ToBF16(math.Float32frombits(0x3f808000)); got != 0x3f80 { // tie to even
		t.Errorf("BF16 tie: %#04x", got)
	}
	if got := Float32ToBF16(math.Float32frombits(0x3f818000)); got != 0x3f82 {
		t.Errorf("BF16 tie up: %#04x", got)
	}
}

func BenchmarkReadLenet300(b *testing.B) {
	data, err := os.ReadFile(lenet300Path(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readBytes(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteLenet300(b *testing.B) {
	f, err := ReadFile(lenet300Path(b))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	Write(&buf, f)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, f); err != nil {
			b.Fatal(err)
		}
	}
}
