package infer_test

import (
	"bytes"
	"fmt"
	_ "image/png" // DecodeImage reads the formats that are registered
	"os"
	"path/filepath"

	"github.com/deepcompress/deepcompress/infer"
)

// Classify handwritten digits with the compressed LeNet-300-100 that
// examples/embed ships (a 23 KB .dcz file, which that program embeds with
// go:embed): the layers run straight from their codebooks, never decoded to
// dense weights.
func ExampleLoad() {
	file, err := os.ReadFile("../examples/embed/lenet300.dcz")
	if err != nil {
		panic(err)
	}
	m, err := infer.Load(bytes.NewReader(file))
	if err != nil {
		panic(err)
	}
	fmt.Println("inputs", m.InputSize(), "outputs", m.OutputSize())
	for _, name := range []string{"seven-7.png", "two-2.png", "one-1.png"} {
		f, err := os.Open(filepath.Join("../examples/embed/testdata", name))
		if err != nil {
			panic(err)
		}
		img, err := infer.DecodeImage(f)
		f.Close()
		if err != nil {
			panic(err)
		}
		x, err := infer.ImageInput(img, infer.MNISTMean, infer.MNISTStd)
		if err != nil {
			panic(err)
		}
		logits, err := m.Predict(x)
		if err != nil {
			panic(err)
		}
		fmt.Println(name, "->", infer.Argmax(logits))
	}
	// Output:
	// inputs 784 outputs 10
	// seven-7.png -> 7
	// two-2.png -> 2
	// one-1.png -> 1
}
