// Command ablation reproduces the paper's figures 6 and 8 on a pruned
// network: test accuracy after quantizing every layer to 2..8 bits with
// each centroid initialisation (linear, density, forgy, k-means++), with
// the shared values fine-tuned. It prints a Markdown table and writes a
// PNG plot.
//
//	go run ./bench/ablation -model pruned.safetensors -png ablation.png
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/report"
)

func main() {
	model := flag.String("model", "", "pruned model (.safetensors, .onnx or .dcz)")
	png := flag.String("png", "ablation.png", "plot to write")
	epochs := flag.Int("epochs", 1, "fine-tuning epochs per point")
	lr := flag.Float64("lr", 1e-4, "fine-tuning learning rate")
	dir := flag.String("data-dir", "", "MNIST directory (default: the GoMNIST module)")
	flag.Parse()
	if err := run(*model, *png, *dir, *epochs, float32(*lr)); err != nil {
		fmt.Fprintln(os.Stderr, "ablation:", err)
		os.Exit(1)
	}
}

func run(model, png, dir string, epochs int, lr float32) error {
	m, err := modelfile.Load(model, modelfile.Options{})
	if err != nil {
		return err
	}
	tr, te, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	train := nn.Dataset{X: tr.Normalized(mnist.Mean, mnist.Std), Labels: tr.Labels, Dim: tr.ImageSize()}
	test := nn.Dataset{X: te.Normalized(mnist.Mean, mnist.Std), Labels: te.Labels, Dim: te.ImageSize()}
	base, err := nn.Evaluate(m, test, 1000)
	if err != nil {
		return err
	}
	bits := []int{2, 3, 4, 5, 6, 7, 8}
	inits := []quantize.Init{quantize.Linear, quantize.Density, quantize.Forgy, quantize.KMeansPP}
	start := time.Now()
	series, err := pipeline.BitsSweep(m, train, test, bits, inits, pipeline.Recipe{Epochs: epochs, LR: lr, Momentum: 0.9}, 1,
		func(in quantize.Init, b int, acc float64) {
			fmt.Fprintf(os.Stderr, "%-9s %d bits: %.2f%%\n", in, b, acc)
		})
	if err != nil {
		return err
	}
	t := report.Table{Header: []string{"bits"}}
	for _, s := range series {
		t.Header = append(t.Header, s.Name)
	}
	for i, b := range bits {
		row := []string{strconv.Itoa(b)}
		for _, s := range series {
			row = append(row, fmt.Sprintf("%.2f%%", s.Y[i]))
		}
		t.Rows = append(t.Rows, row)
	}
	fmt.Printf("Pruned model %s: %.2f%% before quantization; every layer at the same bits, %d epoch(s) of fine-tuning at lr %g.\n\n",
		model, 100*float64(base)/float64(test.Len()), epochs, lr)
	fmt.Print(t.Markdown())
	fmt.Printf("\n(%s)\n", time.Since(start).Round(time.Second))
	return report.Lines(png, "Accuracy after weight sharing and fine-tuning", "bits per weight", "test accuracy (%)", series)
}
