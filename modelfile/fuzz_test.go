package modelfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/nn"
)

// fuzzFormats are the extensions Load reads; the fuzzer's first byte picks
// one.
var fuzzFormats = []string{".safetensors", ".dcz", ".onnx"}

// FuzzLoad: no file makes Load panic or pass the memory budget, in any of
// its formats; an accepted model runs.
func FuzzLoad(f *testing.F) {
	m, err := nn.New(arch.Spec{Name: "s", Input: []int{4}, Layers: []arch.Layer{
		{Kind: arch.Dense, Name: "fc", Out: 3}, {Kind: arch.ReLU}}}, 1)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.safetensors")
	if err := SaveCheckpoint(seed, m, nil); err != nil {
		f.Fatal(err)
	}
	st, _ := os.ReadFile(seed)
	f.Add(byte(0), st)
	f.Add(byte(0), append([]byte(nil), st[:len(st)/2]...))
	dcz, err := os.ReadFile("../examples/embed/lenet300.dcz")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(byte(1), dcz[:300])
	f.Add(byte(2), []byte("\x08\x07\x12\x00"))
	defer budget.Default.SetLimit(budget.Default.Limit())
	budget.Default.SetLimit(64 << 20)
	f.Fuzz(func(t *testing.T, format byte, data []byte) {
		path := filepath.Join(t.TempDir(), "m"+fuzzFormats[int(format)%len(fuzzFormats)])
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(path, Options{})
		if err != nil || m.InputSize() > 1<<16 {
			return
		}
		if err := m.Prepare(1, false); err != nil {
			return
		}
		if out := m.Logits(make([]float32, m.InputSize()), 1); len(out.Data) != m.OutputSize() {
			t.Fatalf("%d outputs, want %d", len(out.Data), m.OutputSize())
		}
	})
}
