// Command embed classifies images of handwritten digits with a
// LeNet-300-100 compressed by Deep Compression (Han, Mao, Dally, ICLR
// 2016) and compiled into the binary with go:embed. The 23 KB .dcz file is
// all the program carries of the network, and package infer runs it from
// that compressed form: sparse rows, codebook indices and the codebook,
// never expanded to dense float32.
//
// Usage:
//
//	go run ./examples/embed IMAGE.png [...]
//
// Images should show a light digit on a dark background, as MNIST does;
// sizes other than 28x28 are resized. For each image it prints the
// predicted digit and the probability of every class.
//
// lenet300.dcz was made by the project's pipeline with the settings in
// lenet300.json ("deepcompress compress --config lenet300.json"): fc1,
// fc2, fc3 pruned to 6%, 9% and 26% with retraining, 6-bit shared weights,
// 98.50% top-1 on the MNIST test set.
package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strings"

	"github.com/deepcompress/deepcompress/infer"
)

//go:embed lenet300.dcz
var compressed []byte

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: embed IMAGE.png [...]")
		os.Exit(2)
	}
	m, err := infer.Load(bytes.NewReader(compressed))
	if err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
	status := 0
	for _, path := range os.Args[1:] {
		probs, err := classifyFile(m, path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "embed:", err)
			status = 1
			continue
		}
		report(os.Stdout, path, probs)
	}
	os.Exit(status)
}

// classifyFile returns the class probabilities of the image at path.
func classifyFile(m *infer.Model, path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return classify(m, img)
}

// classify returns the class probabilities of a digit image.
func classify(m *infer.Model, img image.Image) ([]float32, error) {
	x, err := infer.ImageInput(img, infer.MNISTMean, infer.MNISTStd)
	if err != nil {
		return nil, err
	}
	logits, err := m.Predict(x)
	if err != nil {
		return nil, err
	}
	p := make([]float32, len(logits))
	infer.Softmax(p, logits)
	return p, nil
}

// report prints "path: digit (probability)" and then every class's
// probability.
func report(w io.Writer, path string, p []float32) {
	best := infer.Argmax(p)
	var b strings.Builder
	for i, v := range p {
		fmt.Fprintf(&b, " %d:%.3f", i, v)
	}
	fmt.Fprintf(w, "%s: %d (%.1f%%)\n  %s\n", path, best, 100*p[best], strings.TrimSpace(b.String()))
}
