package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/dcz"
)

// TestDataFreeONNX: compress --data-free on an .onnx model writes a graph
// file that run executes; a .onnx file is no longer read as safetensors.
func TestDataFreeONNX(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "resnet.dcz")
	text, err := run(t, "compress", "--data-free", "--model", "../../testdata/zoo/resnet_op17.onnx", "--out", out, "--bits", "6")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"onnx::Conv_122", "ratio", "graph and headers"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	m, err := dcz.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Graph == nil || len(m.Layers) == 0 {
		t.Fatalf("graph %v, %d layers", m.Graph != nil, len(m.Layers))
	}
	for _, l := range m.Layers {
		if l.Bits != 6 {
			t.Errorf("%s: %d bits", l.Name, l.Bits)
		}
	}
	if _, err := run(t, "run", "--model", out, "--input", "input=../../testdata/zoo/resnet_input.npy", "--out", filepath.Join(dir, "o")); err != nil {
		t.Fatal(err)
	}
}
