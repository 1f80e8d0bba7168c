package onnx

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
)

// FuzzImport checks that no input panics Import, and that whatever Import
// accepts exports and re-imports to the same network. Seeds:
// testdata/fuzz/FuzzImport (small exported and hand-built models).
func FuzzImport(f *testing.F) {
	tiny := arch.Spec{Input: []int{4}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 3}, {Kind: arch.Softmax}}}
	f.Add(encode(f, must(ExportModel(tiny, randomWeights(f, tiny, 1)))))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, weights, err := Import(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Export(&buf, spec, weights); err != nil {
			t.Fatalf("Export of an imported model: %v", err)
		}
		spec2, weights2, err := Import(&buf)
		if err != nil {
			t.Fatalf("Import of our own export: %v", err)
		}
		spec2.Name = spec.Name // Export names an unnamed graph
		if !reflect.DeepEqual(spec, spec2) {
			t.Fatalf("spec changed:\n%+v\n%+v", spec, spec2)
		}
		for name, w := range weights {
			if !sameBits(w, weights2[name]) {
				t.Fatalf("weight %s changed", name)
			}
		}
	})
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
