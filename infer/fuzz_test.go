package infer

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/dcz"
)

var update = flag.Bool("update", false, "rewrite testdata/tiny.dcz")

const tinyFile = "testdata/tiny.dcz"

// tiny is a small network with a convolution, a pool and a dense layer,
// the seed of FuzzLoad.
func tiny() arch.Spec {
	return arch.Spec{Name: "tiny", Input: []int{1, 6, 6}, Layers: []arch.Layer{
		{Kind: arch.Conv2D, Name: "c", Out: 2, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}},
		{Kind: arch.ReLU},
		{Kind: arch.MaxPool, Kernel: [2]int{2, 2}},
		{Kind: arch.Flatten},
		{Kind: arch.Dense, Name: "d", Out: 3},
	}}
}

// TestTinyFile checks the committed fuzz seed: it loads and computes what
// the dense engine computes from the same file.
func TestTinyFile(t *testing.T) {
	if *update {
		if err := dcz.WriteFile(tinyFile, randomCompressed(t, tiny(), 1, 0.5, 3)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(tinyFile)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := dcz.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	x := randomInputs(3, 5*m.InputSize())
	if d, agree := compare(t, m, reference(t, dm), x, 5); agree != 5 || d > maxLogitDiff {
		t.Fatalf("tiny model: %d/5 argmax agree, difference %.3g", agree, d)
	}
}

// FuzzLoad feeds damaged files to Load: it must return a model or an
// error, never panic, and a model it returns must run.
func FuzzLoad(f *testing.F) {
	data, err := os.ReadFile(tinyFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("\x89DCZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		if m.InputSize() > 1<<16 {
			return
		}
		out, err := m.Predict(make([]float32, m.InputSize()))
		if err != nil || len(out) != m.OutputSize() {
			t.Fatalf("loaded model fails: %d outputs, %v", len(out), err)
		}
	})
}

// FuzzLoadBehindChecksums is FuzzLoad with the checksums repaired after
// each mutation (dcz.FixChecksums), so that mutations reach the network
// description, the layer sections and the model builder.
func FuzzLoadBehindChecksums(f *testing.F) {
	// Accepted files stay small, so that each run takes milliseconds.
	defer budget.Default.SetLimit(budget.Default.Limit())
	budget.Default.SetLimit(64 << 20)
	data, err := os.ReadFile(tinyFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(bytes.NewReader(dcz.FixChecksums(bytes.Clone(data))))
		if err != nil || m.InputSize() > 1<<16 {
			return
		}
		out, err := m.Predict(make([]float32, m.InputSize()))
		if err != nil || len(out) != m.OutputSize() {
			t.Fatalf("loaded model fails: %d outputs, %v", len(out), err)
		}
	})
}
