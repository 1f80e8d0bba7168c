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
