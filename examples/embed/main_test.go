package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/infer"
	"github.com/deepcompress/deepcompress/mnist"
)

func load(t *testing.T) *infer.Model {
	t.Helper()
	m, err := infer.Load(bytes.NewReader(compressed))
	if err != nil {
		t.Fatalf("embedded model: %v", err)
	}
	return m
}

// TestTestdata classifies the committed PNGs, named after their digit.
func TestTestdata(t *testing.T) {
	m := load(t)
	files, _ := filepath.Glob("testdata/*.png")
	if len(files) == 0 {
		t.Fatal("no testdata/*.png")
	}
	for _, f := range files {
		p, err := classifyFile(m, f)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(filepath.Base(f), ".png")
		want = want[len(want)-1:]
		var out bytes.Buffer
		report(&out, f, p)
		if got := out.String(); !strings.HasPrefix(got, f+": "+want+" ") {
			t.Errorf("got %q, want digit %s", got, want)
		}
	}
}

// TestMNISTAsPNG writes MNIST test images as PNG files, classifies them
// from the files, and checks the accuracy.
func TestMNISTAsPNG(t *testing.T) {
	set, err := mnist.LoadTest("")
	if err != nil {
		t.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
	m := load(t)
	dir := t.TempDir()
	const n = 200
	correct := 0
	for i := range n {
		img := &image.Gray{Pix: set.Image(i), Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		path := filepath.Join(dir, "digit.png")
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := classifyFile(m, path)
		if err != nil {
			t.Fatal(err)
		}
		if infer.Argmax(p) == int(set.Labels[i]) {
			correct++
		}
	}
	t.Logf("%d/%d MNIST test images read from PNG classified correctly", correct, n)
	if correct < n*96/100 {
		t.Errorf("only %d/%d correct", correct, n)
	}
}

func TestErrors(t *testing.T) {
	m := load(t)
	if _, err := classifyFile(m, "testdata/missing.png"); err == nil {
		t.Error("missing file accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.png")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	if _, err := classifyFile(m, bad); err == nil || !strings.Contains(err.Error(), "bad.png") {
		t.Errorf("garbage file: error %v, want one naming the file", err)
	}
}
