package pipeline_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
	"github.com/deepcompress/deepcompress/prune"
)

// toyData is n samples of 16 noisy features whose class (0-3) raises one
// feature: a task a small network learns in a few epochs.
func toyData(n int, seed uint64) nn.Dataset {
	rng := rand.New(rand.NewPCG(seed, 9))
	d := nn.Dataset{Dim: 16, X: make([]float32, n*16), Labels: make([]uint8, n)}
	for i := range n {
		c := rng.IntN(4)
		d.Labels[i] = uint8(c)
		for j := range 16 {
			d.X[i*16+j] = float32(rng.NormFloat64()) * 0.5
		}
		d.X[i*16+c*4] += 2
	}
	return d
}

// Compress a trained network end to end: prune to 30 % of the weights in
// three rounds of pruning and retraining, share the survivors among 8 and
// 16 values with fine-tuned codebooks, and write the Huffman-coded .dcz.
func ExampleRunner_Run() {
	spec := arch.Spec{Name: "toy", Input: []int{16}, Layers: []arch.Layer{
		{Kind: arch.Dense, Name: "fc1", Out: 40}, {Kind: arch.ReLU}, {Kind: arch.Dense, Name: "fc2", Out: 4}}}
	m, err := nn.New(spec, 3)
	if err != nil {
		panic(err)
	}
	train, test := toyData(400, 1), toyData(200, 2)
	if err := nn.Train(m, train, nn.TrainConfig{Epochs: 3, Batch: 32, LR: 0.05, Momentum: 0.9}, nil, nil); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "pipeline-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	r := &pipeline.Runner{
		Config: pipeline.Config{
			Prune: pipeline.PruneConfig{Config: prune.Config{Default: prune.Rule{Keep: 0.3}}, Rounds: 3,
				Retrain: pipeline.Recipe{Epochs: 2, LR: 0.05, Momentum: 0.9}},
			Quantize: pipeline.QuantizeConfig{Bits: map[string]int{"fc1": 3, "fc2": 4},
				FineTune: pipeline.Recipe{Epochs: 1, LR: 1e-3, Momentum: 0.9}},
			Seed: 7,
		},
		WorkDir: filepath.Join(dir, "work"), // checkpoints: an interrupted run resumes
		Train:   train,
		Test:    test,
	}
	out := filepath.Join(dir, "toy.dcz")
	res, err := r.Run(context.Background(), m, out)
	if err != nil {
		panic(err)
	}
	var stages []string
	for _, s := range res.Stages {
		stages = append(stages, s.Name)
	}
	fmt.Println(strings.Join(stages, " -> "))
	f, err := dcz.ReadFile(out)
	if err != nil {
		panic(err)
	}
	for _, l := range f.Layers {
		fmt.Printf("%s: %d of %d weights kept, %d shared values\n", l.Name, len(l.Pos), l.Shape[0]*l.Shape[1], len(l.Codebook))
	}
	// Output:
	// dense -> pruned -> quantized -> huffman
	// fc1.weight: 192 of 640 weights kept, 8 shared values
	// fc2.weight: 48 of 160 weights kept, 16 shared values
}
