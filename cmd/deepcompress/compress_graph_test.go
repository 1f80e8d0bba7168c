package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/pipeline"
)

// TestCompressMaxDrop: compress --data --max-drop searches the settings,
// prints the search and the settings, and writes them as a graph config
// that --graph-config reads back with every kept fraction named.
func TestCompressMaxDrop(t *testing.T) {
	dir, err := mnist.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "mlp.dcz")
	text, err := run(t, "compress", "--model", "../../testdata/zoo/mlp_op17.onnx",
		"--data", filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), "--max-samples", "300", "--held-out", "0.3",
		"--epochs", "3", "--finetune-epochs", "1", "--max-drop", "5", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for _, want := range []string{"settings search, held-out loss at most 5 points", "candidate", "full 1", "settings: bits conv", "mlp.graph-config.json"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	cfg, err := pipeline.LoadGraphConfig(strings.TrimSuffix(out, ".dcz") + ".graph-config.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Keep) != 2 || cfg.Prune.Epochs != 3 {
		t.Errorf("saved settings %+v", cfg)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "compress", "--model", "x.onnx", "--data", "x.npy", "--out", out, "--max-drop", "1", "--target-ratio", "5"); err == nil || !strings.Contains(err.Error(), "[max-drop target-ratio] were all set") {
		t.Errorf("--max-drop with --target-ratio: error %v, want the flags' exclusion", err)
	}
}
