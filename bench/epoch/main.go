// Command epoch times training epochs of LeNet-300-100 and LeNet-5 with
// deepcompress's engine, for bench/epoch_vs_torch.sh. It prints one JSON line
// per model with the steady-state epoch time (the fastest epoch after the
// first, which warms caches and buffers).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/nn"
)

func main() {
	epochs := flag.Int("epochs", 3, "epochs per model")
	dir := flag.String("data-dir", "", "MNIST directory (default: the GoMNIST module)")
	flag.Parse()
	train, err := mnist.LoadTrain(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	data := nn.Dataset{X: train.Normalized(mnist.Mean, mnist.Std), Labels: train.Labels, Dim: train.ImageSize()}
	for _, name := range flag.Args() {
		spec, err := arch.Builtin(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		m, _ := nn.New(spec, 1)
		cfg := nn.TrainConfig{Epochs: *epochs, Batch: 64, LR: 0.01, Momentum: 0.9, L2: 5e-4, Seed: 1}
		var times []float64
		err = nn.Train(m, data, cfg, nil, func(p nn.Progress) {
			if p.Batch == p.Batches {
				times = append(times, p.Elapsed.Seconds())
			}
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		steady := times[0]
		if len(times) > 1 {
			steady = times[1]
			for _, t := range times[2:] {
				steady = min(steady, t)
			}
		}
		json.NewEncoder(os.Stdout).Encode(map[string]any{
			"peer": "deepcompress", "model": name, "threads": runtime.GOMAXPROCS(0),
			"epoch_seconds": steady, "epochs": times, "date": time.Now().UTC().Format(time.RFC3339)})
	}
}
