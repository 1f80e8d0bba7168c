package main

import (
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
