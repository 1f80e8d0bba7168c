package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestPredictGraph classifies the embed example's digits with the zoo's
// ResNet as ONNX and as the graph .dcz that compress --data-free writes:
// both run on the graph engine and must name the digits.
func TestPredictGraph(t *testing.T) {
	onnxModel := "../../testdata/zoo/resnet_op17.onnx"
	dczModel := filepath.Join(t.TempDir(), "resnet.dcz")
	if _, err := run(t, "compress", "--data-free", "--model", onnxModel, "--out", dczModel); err != nil {
		t.Fatal(err)
	}
	images := []string{"../../examples/embed/testdata/seven-7.png", "../../examples/embed/testdata/two-2.png", "../../examples/embed/testdata/one-1.png"}
	want := []int{7, 2, 1}
	for _, model := range []string{onnxModel, dczModel} {
		out, err := run(t, append([]string{"predict", model, "--json"}, images...)...)
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines: %q", model, len(lines), out)
		}
		for i, line := range lines {
			var p prediction
			if err := json.Unmarshal([]byte(line), &p); err != nil {
				t.Fatal(err)
			}
			if p.Class != want[i] || len(p.Probs) != 10 || p.Probs[p.Class] < 0.5 {
				t.Errorf("%s: %s: class %d (want %d), probs %v", model, p.File, p.Class, want[i], p.Probs)
			}
		}
	}
}
