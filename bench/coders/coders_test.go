package main

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/quantize"
)

// model is a 30-input, 20-output dense layer with about a quarter of its
// weights kept, indices into a 4-entry codebook.
func model() *dcz.Model {
	rng := rand.New(rand.NewPCG(3, 4))
	var pos []uint32
	var idx []uint16
	for p := range 20 * 30 {
		if rng.Float64() < 0.25 {
			pos = append(pos, uint32(p))
			idx = append(idx, uint16(rng.IntN(4)))
		}
	}
	spec := arch.Spec{Name: "t", Input: []int{30}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 20}}}
	return &dcz.Model{
		Spec: spec,
		Layers: []dcz.Layer{{Layer: quantize.Layer{
			Name: "fc.weight", Shape: []int{20, 30}, Bits: 2,
			Codebook: []float32{-0.5, -0.1, 0.1, 0.5}, Pos: pos, Idx: idx,
		}}},
		Raw: []dcz.Tensor{{Name: "fc.bias", Shape: []int{20}, Data: make([]float32, 20)}},
	}
}

func write(t *testing.T, m *dcz.Model, c dcz.Coder) string {
	t.Helper()
	m.SetCoder(c)
	path := filepath.Join(t.TempDir(), c.String()+".dcz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := dcz.Write(f, m); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSameStream: the Huffman-coded and the arithmetic-coded file of one
// model give the same columns, and each file's size with the other coder
// is the other file's size, so both columns count the coders' streams of
// the same tensor as the files store them.
func TestSameStream(t *testing.T) {
	runtime.LockOSThread() // cpuNow is the thread's CPU time
	defer runtime.UnlockOSThread()
	m := model()
	o := options{reps: 1, zstd: true}
	h, err := file(write(t, m, dcz.CoderHuffman), o)
	if err != nil {
		t.Fatal(err)
	}
	a, err := file(write(t, m, dcz.CoderArith), o)
	if err != nil {
		t.Fatal(err)
	}
	if h.tot.huff != a.tot.huff || h.tot.cab != a.tot.cab || h.tot.zst != a.tot.zst || h.tot.order0 != a.tot.order0 || h.tot.bound != a.tot.bound {
		t.Fatalf("columns differ between the coders' files: %+v and %+v", h.tot, a.tot)
	}
	if h.withCoded(h.tot.cab) != a.size || a.withCoded(a.tot.huff) != h.size {
		t.Errorf("sizes: Huffman file %d (%d with cabac), arith file %d (%d with Huffman)", h.size, h.withCoded(h.tot.cab), a.size, a.withCoded(a.tot.huff))
	}
	if h.tot.auto != min(h.tot.huff, h.tot.cab) {
		t.Errorf("auto %d, Huffman %d, cabac %d", h.tot.auto, h.tot.huff, h.tot.cab)
	}
	if h.tot.hDec <= 0 || h.tot.cDec <= 0 || h.tot.hEnc <= 0 || h.tot.cEnc <= 0 || h.read <= 0 {
		t.Errorf("untimed: %+v, read %v", h.tot, h.read)
	}
	if h.tot.zst <= 0 || h.tot.order0 <= 0 || h.tot.bound <= 0 {
		t.Errorf("empty columns: %+v", h.tot)
	}
}

// TestOrder0 checks the order-0 entropy of a small stream by hand: 8
// positions, 5 pruned, index 0 once and index 1 twice.
func TestOrder0(t *testing.T) {
	l := &dcz.Layer{Layer: quantize.Layer{Name: "w", Shape: []int{2, 4}, Codebook: []float32{1, 2}, Pos: []uint32{1, 4, 6}, Idx: []uint16{1, 0, 1}}}
	tn := newTensor(l)
	want := -(5*math.Log2(5.0/8) + math.Log2(1.0/8) + 2*math.Log2(2.0/8)) / 8
	if got := order0(tn); math.Abs(got-want) > 1e-12 {
		t.Errorf("order0 = %v, want %v", got, want)
	}
	raw := rawStream(tn)
	if string(raw) != "\x00\x02\x00\x00\x01\x00\x02\x00" {
		t.Errorf("raw stream % x", raw)
	}
}
