package datafree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepcompress/deepcompress/safetensors"
)

// TestCompressFileStops cancels a run from the progress report of its
// third tensor, as Ctrl-C does: no later tensor may be written, the error
// must wrap context.Canceled, and no output or temporary file may be left.
func TestCompressFileStops(t *testing.T) {
	f := &safetensors.File{}
	for i := range 40 {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: "t" + string(rune('A'+i)) + ".weight", Shape: []int{50, 50}, Data: bell(newRand(uint64(i)), 2500, 0.1)})
	}
	in := writeFile(t, "in.safetensors", encodeST(t, f))
	for _, stopAfter := range []int{0, 3} {
		out := filepath.Join(t.TempDir(), "out.dcz")
		ctx, cancel := context.WithCancel(context.Background())
		if stopAfter == 0 {
			cancel()
		}
		written := 0
		opt := Options{Config: Config{Default: Setting{Keep: 0.5}}, Workers: 4, Context: ctx, Progress: func(TensorStats) {
			if written++; written == stopAfter {
				cancel()
			}
		}}
		_, err := CompressFile(in, out, opt)
		cancel()
		if !errors.Is(err, context.Canceled) || written != stopAfter {
			t.Fatalf("stop after %d tensors: err %v, %d tensors written", stopAfter, err, written)
		}
		if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
			t.Errorf("stop after %d tensors: left %s", stopAfter, entries[0].Name())
		}
	}
}
