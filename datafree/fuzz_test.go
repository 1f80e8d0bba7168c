package datafree

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	membudget "github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/safetensors"
)

// FuzzDecode: no .dcz file makes the streaming Decode panic, pass the
// memory budget, or leave a partial output; the checksums are repaired
// after each mutation so that mutations reach the sections.
func FuzzDecode(f *testing.F) {
	dir := f.TempDir()
	in := filepath.Join(dir, "in.safetensors")
	small := &safetensors.File{Tensors: []safetensors.Tensor{
		{Name: "w", Shape: []int{8, 16}, Data: bell(newRand(1), 128, 0.1)},
		{Name: "b", Shape: []int{8}, Data: bell(newRand(2), 8, 0.1)},
	}}
	if err := os.WriteFile(in, encodeST(f, small), 0o644); err != nil {
		f.Fatal(err)
	}
	seed := filepath.Join(dir, "seed.dcz")
	if _, err := CompressFile(in, seed, Options{Config: Config{Default: Setting{Keep: 0.5, Bits: 3, IndexBits: 3}, MinSize: 16}}); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(seed)
	f.Add(data)
	defer membudget.Default.SetLimit(membudget.Default.Limit())
	membudget.Default.SetLimit(64 << 20)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in.dcz"), filepath.Join(dir, "out.safetensors")
		if err := os.WriteFile(in, dcz.FixChecksums(bytes.Clone(data)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Decode(in, out, 2); err != nil {
			if _, statErr := os.Stat(out); statErr == nil {
				t.Fatal("failed decode left its output")
			}
			return
		}
		if _, err := safetensors.ReadFile(out); err != nil {
			t.Fatalf("decoded file unreadable: %v", err)
		}
	})
}
