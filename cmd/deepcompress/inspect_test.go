package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/dcz"
)

// TestDataFreeHalfInspect: compress --data-free --half-codebooks
// --half-raw stores codebooks and raw tensors in float16, the per-tensor
// table and inspect say so per tensor, and the file is smaller than
// without the flags.
func TestDataFreeHalfInspect(t *testing.T) {
	dir := t.TempDir()
	model := "../../testdata/zoo/mlp_op17.onnx"
	plain, half := filepath.Join(dir, "plain.dcz"), filepath.Join(dir, "half.dcz")
	if _, err := run(t, "compress", "--data-free", "--model", model, "--out", plain); err != nil {
		t.Fatal(err)
	}
	text, err := run(t, "compress", "--data-free", "--model", model, "--out", half, "--half-codebooks", "--half-raw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "dense f16") || !strings.Contains(text, " f16") {
		t.Errorf("the compress table does not mark float16 tensors:\n%s", text)
	}
	m, err := dcz.ReadFile(half)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if l.Precision != dcz.Float16 {
			t.Errorf("%s: codebook %v", l.Name, l.Precision)
		}
	}
	ps, _ := os.Stat(plain)
	hs, _ := os.Stat(half)
	if hs.Size() >= ps.Size() {
		t.Errorf("float16 file %d bytes, float32 %d", hs.Size(), ps.Size())
	}
	out, err := run(t, "inspect", half)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"float16", "raw tensor", "stored as", "codebook"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, "inspect", plain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "float16") || !strings.Contains(out, "float32") {
		t.Errorf("inspect of a float32 file:\n%s", out)
	}
}

// TestCoderFlag: compress --data-free --coder auto writes a file no
// larger than --coder huffman's, tensor by tensor; inspect names each
// tensor's coder with its bits per weight and per position; encode
// re-codes a .dcz with another coder and back to the same bytes.
func TestCoderFlag(t *testing.T) {
	dir := t.TempDir()
	model := "../../testdata/zoo/mlp_op17.onnx"
	huff, auto := filepath.Join(dir, "huffman.dcz"), filepath.Join(dir, "auto.dcz")
	if _, err := run(t, "compress", "--data-free", "--model", model, "--out", huff); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "compress", "--data-free", "--model", model, "--out", auto, "--coder", "auto"); err != nil {
		t.Fatal(err)
	}
	hs, err := dcz.Inspect(huff)
	if err != nil {
		t.Fatal(err)
	}
	as, err := dcz.Inspect(auto)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs.Layers) == 0 || len(as.Layers) != len(hs.Layers) {
		t.Fatalf("%d and %d layers", len(hs.Layers), len(as.Layers))
	}
	for i, l := range as.Layers {
		h := hs.Layers[i]
		if h.Coder != "huffman" || l.Bytes > h.Bytes || (l.Coder == "arith") != (l.Bytes < h.Bytes) {
			t.Errorf("%s: auto %s %d bytes, huffman %s %d bytes", l.Name, l.Coder, l.Bytes, h.Coder, h.Bytes)
		}
		if want := float64(8*l.CodedBytes) / float64(l.Weights); l.BitsPerPosition != want {
			t.Errorf("%s: %.3f bits a position, want %.3f", l.Name, l.BitsPerPosition, want)
		}
	}
	arith, back := filepath.Join(dir, "arith.dcz"), filepath.Join(dir, "back.dcz")
	out, err := run(t, "encode", "--model", huff, "--out", arith, "--coder", "arith")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"coder", "arith", "bits/weight", "bits/position"} {
		if !strings.Contains(out, want) {
			t.Errorf("encode's table lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, "encode", "--model", arith, "--out", back, "--coder", "huffman"); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(huff)
	b, _ := os.ReadFile(back)
	if !bytes.Equal(a, b) {
		t.Error("huffman -> arith -> huffman changed the file")
	}
	if _, err := run(t, "encode", "--model", huff, "--out", back, "--coder", "zip"); err == nil {
		t.Error("--coder zip accepted")
	}
}
