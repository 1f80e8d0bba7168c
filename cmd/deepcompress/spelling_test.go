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
	for _, args := range [][]string{
		{"export", "--model", embedded, "--out", filepath.Join(dir, "x.txt")},
		{"export", "--model", embedded, "--out", filepath.Join(dir, "x.onnx"), "--dtype", "f16"},
		{"export", "--model", embedded, "--out", filepath.Join(dir, "x.safetensors"), "--dtype", "f8"},
	} {
		if _, err := run(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
