package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepcompress/deepcompress/dcz"
)

// TestEncodeCoder: Config.Encode.Coder reaches the file. The same run
// written with CoderAuto stores every layer as the smaller of its two
// codings, so the file is no larger than with Huffman, and reads back.
func TestEncodeCoder(t *testing.T) {
	dir := t.TempDir()
	size := map[dcz.Coder]int64{}
	for _, c := range []dcz.Coder{dcz.CoderHuffman, dcz.CoderArith, dcz.CoderAuto} {
		cfg := smallConfig()
		cfg.Encode.Coder = c
		out := filepath.Join(dir, c.String()+".dcz")
		r := &Runner{Config: cfg, WorkDir: filepath.Join(dir, c.String()), Train: synthetic(400, 1), Test: synthetic(200, 2)}
		if _, err := r.Run(context.Background(), trained(t, smallSpec()), out); err != nil {
			t.Fatal(err)
		}
		m, err := dcz.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range m.Layers {
			if c != dcz.CoderAuto && l.Coder != c {
				t.Errorf("%v: layer %s coded with %v", c, l.Name, l.Coder)
			}
		}
		info, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		size[c] = info.Size()
	}
	if size[dcz.CoderAuto] > min(size[dcz.CoderHuffman], size[dcz.CoderArith]) {
		t.Errorf("file bytes: auto %d, huffman %d, arith %d", size[dcz.CoderAuto], size[dcz.CoderHuffman], size[dcz.CoderArith])
	}
}
