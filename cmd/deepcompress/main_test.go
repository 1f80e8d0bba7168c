package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/mnist"
)

// embedded is a real compressed LeNet-300-100 kept with the example.
const embedded = "../../examples/embed/lenet300.dcz"

// run executes the CLI in-process and returns its standard output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func needMNIST(t *testing.T) {
	t.Helper()
	if _, err := mnist.DefaultDir(); err != nil {
		t.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
}

func TestInspectJSON(t *testing.T) {
	out, err := run(t, "inspect", embedded, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Total struct {
			DenseBytes int64   `json:"dense_bytes"`
			FileBytes  int64   `json:"file_bytes"`
			Ratio      float64 `json:"ratio"`
		} `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	info, _ := os.Stat(embedded)
	if st.Total.FileBytes != info.Size() || st.Total.DenseBytes != 4*266610 {
		t.Errorf("total %+v, file %d bytes", st.Total, info.Size())
	}
	if got := float64(st.Total.DenseBytes) / float64(st.Total.FileBytes); got != st.Total.Ratio {
		t.Errorf("ratio %v, want %v", st.Total.Ratio, got)
	}
}

func TestPredictDigits(t *testing.T) {
	out, err := run(t, "predict", embedded, "../../examples/embed/testdata/seven-7.png", "../../examples/embed/testdata/two-2.png", "--json")
	if err != nil {
		t.Fatal(err)
	}
	want := []int{7, 2}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	for i, line := range lines {
		var p prediction
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		var sum float32
		for _, v := range p.Probs {
			sum += v
		}
		if p.Class != want[i] || len(p.Probs) != 10 || sum < 0.999 || sum > 1.001 {
			t.Errorf("%s: class %d (want %d), probs %v", p.File, p.Class, want[i], p.Probs)
		}
	}
	if _, err := run(t, "predict", embedded, "missing.png"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing image: error %v, want the file's not-exist error", err)
	}
}

func TestEvalDecodeExport(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	evalJSON := func(model string) int {
		out, err := run(t, "eval", "--model", model, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var r evalResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Total != 10000 {
			t.Fatalf("total %d", r.Total)
		}
		return r.Correct
	}
	want := evalJSON(embedded)
	if want < 9800 {
		t.Errorf("embedded model: %d/10000", want)
	}
	for _, out := range []string{"d.onnx", "d.safetensors"} {
		path := filepath.Join(dir, out)
		if _, err := run(t, "decode", embedded, "--out", path); err != nil {
			t.Fatal(err)
		}
		if got := evalJSON(path); got != want {
			t.Errorf("%s: %d correct, the .dcz %d", out, got, want)
		}
	}
}

// TestUsageErrors runs commands with bad flags or files: each must fail
// with the error that names the problem, and write nothing.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--arch", "lenet300"}, `required flag(s) "out" not set`},
		{[]string{"train", "--arch", "vgg", "--out", out("x.safetensors")}, `unknown architecture "vgg"`},
		{[]string{"prune", "--model", embedded, "--out", out("p.safetensors")}, "say how much to prune"},
		{[]string{"prune", "--model", embedded, "--out", out("p.safetensors"), "--layers", "fc1"}, `--layers wants NAME=FRACTION,..., got "fc1"`},
		{[]string{"prune", "--model", embedded, "--out", out("p.safetensors"), "--keep", "0.5", "--distill", "2"}, "distillation weight 2 must be in [0, 1]"},
		{[]string{"prune", "--model", embedded, "--out", out("p.safetensors"), "--keep", "0.5", "--distill", "0.5", "--teacher", out("nope.onnx")}, out("nope.onnx")},
		{[]string{"eval", "--model", "nope.bin"}, "nope.bin: unknown model format"},
		{[]string{"inspect", "../../go.mod"}, "not a .dcz file"},
		{[]string{"decode", embedded, "--out", out("x.txt")}, "--out must end in .onnx or .safetensors"},
		{[]string{"quantize", "--model", embedded, "--out", out("q.dcz"), "--bits", "fc1=x"}, `invalid argument "fc1=x" for "--bits" flag`},
		{[]string{"compress", "--model", embedded, "--out", out("c.dcz"), "--preset", "fast"}, `unknown preset "fast"`},
		{[]string{"compress", "--model", embedded, "--out", out("c.dcz"), "--rate-lambda", "-1"}, "rate weight lambda -1 is not a finite non-negative number"},
		{[]string{"compress", "--model", embedded, "--out", out("c.dcz"), "--rate-lambda", "0.1", "--data-free"}, "[data-free rate-lambda] were all set"},
	} {
		_, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("failed commands left %v", left)
	}
}

func TestPrintConfig(t *testing.T) {
	out, err := run(t, "compress", "print-config", "--arch", "lenet5")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"conv2"`) || !strings.Contains(out, `"finetune"`) {
		t.Errorf("config lacks the lenet5 layers: %s", out)
	}
}
