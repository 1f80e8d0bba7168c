package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodeIsExport: the former spelling decode FILE.dcz writes the same
// bytes as export --model FILE.dcz and says it is deprecated.
func TestDecodeIsExport(t *testing.T) {
	dir := t.TempDir()
	for _, ext := range []string{".onnx", ".safetensors"} {
		a, b := filepath.Join(dir, "a"+ext), filepath.Join(dir, "b"+ext)
		out, err := run(t, "decode", embedded, "--out", a)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, `"decode" is deprecated`) || !strings.Contains(out, "wrote "+a) {
			t.Errorf("decode printed %q", out)
		}
		if _, err := run(t, "export", "--model", embedded, "--out", b); err != nil {
			t.Fatal(err)
		}
		da, _ := os.ReadFile(a)
		db, _ := os.ReadFile(b)
		if len(da) == 0 || !bytes.Equal(da, db) {
			t.Errorf("%s: decode wrote %d bytes, export %d, not the same", ext, len(da), len(db))
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--model", embedded, "--out", filepath.Join(dir, "x.txt")}, "--out must end in .onnx or .safetensors"},
		{[]string{"export", "--model", embedded, "--out", filepath.Join(dir, "x.onnx"), "--dtype", "f16"}, "ONNX export writes float32 only"},
		{[]string{"export", "--model", embedded, "--out", filepath.Join(dir, "x.safetensors"), "--dtype", "f8"}, `--dtype must be f32, f16 or bf16, got "f8"`},
	} {
		if _, err := run(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// TestTrainArch: train names its architecture --arch, as every command
// does; --model, its former name, still works and says it is deprecated.
func TestTrainArch(t *testing.T) {
	for _, tt := range []struct {
		args       []string
		deprecated bool
	}{{[]string{"--arch", "lenet5"}, false}, {[]string{"--model", "lenet5"}, true}} {
		cmd := trainCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		if err := cmd.ParseFlags(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := cmd.Flags().Lookup("arch").Value.String(); got != "lenet5" {
			t.Errorf("%v: architecture %q", tt.args, got)
		}
		if got := strings.Contains(out.String(), "--model has been deprecated, use --arch"); got != tt.deprecated {
			t.Errorf("%v: printed %q", tt.args, out.String())
		}
	}
	if _, err := run(t, "train", "--arch", "lenet5", "--model", "lenet300", "--out", "x.safetensors"); err == nil {
		t.Error("--arch and --model together accepted")
	}
}

// TestExclusiveFlags: flags that would silently override each other are
// refused together.
func TestExclusiveFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.safetensors")
	for _, args := range [][]string{
		{"prune", "--model", embedded, "--out", out, "--keep", "0.5", "--quality", "1"},
		{"prune", "--model", embedded, "--out", out, "--keep", "0.5", "--global-keep", "0.1"},
		{"prune", "--model", embedded, "--out", out, "--layers", "fc1=0.1", "--global-keep", "0.1"},
		{"compress", "--data-free", "--model", embedded, "--out", out, "--keep", "0.5", "--quality", "1"},
	} {
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "none of the others can be") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
