package pipeline

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/dcz"
)

// checkHalf asserts that every codebook and raw tensor of the file at
// path is stored in float16 and that the file is smaller than the one at
// full.
func checkHalf(t *testing.T, path, full string) {
	t.Helper()
	f, err := dcz.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range f.Layers {
		if l.Precision != dcz.Float16 {
			t.Errorf("layer %s: codebook stored as %v", l.Name, l.Precision)
		}
	}
	for _, r := range f.Raw {
		if r.Precision != dcz.Float16 {
			t.Errorf("raw %s stored as %v", r.Name, r.Precision)
		}
	}
	half, err1 := os.Stat(path)
	whole, err2 := os.Stat(full)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if half.Size() >= whole.Size() {
		t.Errorf("float16 file %d bytes, float32 one %d", half.Size(), whole.Size())
	}
}

// TestEncodeHalf: Encode.HalfCodebooks and HalfRaw store the chain's
// codebooks and biases in float16, in a smaller file, and the quantized
// stage is measured on the rounded model (it scores what the file does).
// Off, they leave the config's JSON as it was.
func TestEncodeHalf(t *testing.T) {
	dir := t.TempDir()
	run := func(name string, half bool) *Result {
		cfg := smallConfig()
		cfg.Encode.HalfCodebooks, cfg.Encode.HalfRaw = half, half
		r := &Runner{Config: cfg, WorkDir: filepath.Join(dir, name), Train: synthetic(400, 1), Test: synthetic(200, 2)}
		res, err := r.Run(context.Background(), trainedSmall(t), filepath.Join(dir, name+".dcz"))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	run("full", false)
	res := run("half", true)
	checkHalf(t, filepath.Join(dir, "half.dcz"), filepath.Join(dir, "full.dcz"))
	if q, h := res.Stages[2], res.Stages[3]; q.Correct != h.Correct {
		t.Errorf("quantized stage %d correct, the file %d", q.Correct, h.Correct)
	}
	js, err := json.Marshal(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "half") {
		t.Errorf("config without float16 writes %s", js)
	}
}

// TestCompressGraphHalf: GraphConfig.HalfCodebooks and HalfRaw store the
// graph's codebooks and biases in float16, in a smaller file.
func TestCompressGraphHalf(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	data := Samples{X: make([]float32, 200*64), Shape: []int{1, 8, 8}}
	for i := range data.X {
		data.X[i] = rng.Float32()
	}
	for _, half := range []bool{false, true} {
		cfg := DefaultGraphConfig()
		cfg.Prune.Epochs, cfg.FineTune.Epochs = 1, 1
		cfg.MinPrunable, cfg.Tolerance = 100, 30
		cfg.Keep = map[string]float64{"fc1": 0.3, "fc2": 0.5} // no sensitivity pass
		cfg.HalfCodebooks, cfg.HalfRaw = half, half
		out := filepath.Join(dir, map[bool]string{false: "full.dcz", true: "half.dcz"}[half])
		c := &GraphCompressor{Config: cfg}
		if _, err := c.CompressGraph(context.Background(), tinyGraph(t), data, out); err != nil {
			t.Fatal(err)
		}
	}
	checkHalf(t, filepath.Join(dir, "half.dcz"), filepath.Join(dir, "full.dcz"))
}
