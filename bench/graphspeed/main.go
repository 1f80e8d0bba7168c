// Command graphspeed times deepcompress's graph engine on an ONNX model,
// for bench/zoo_speed.sh: inference at a batch size (median wall time of
// one run), or with -train one SGD step (forward, cross-entropy, backward,
// update) as bench/zoo/train_step_torch.py times PyTorch. It prints one
// JSON line.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/onnx"
)

func main() {
	model := flag.String("model", "", "ONNX model")
	batch := flag.Int("batch", 1, "batch size")
	iters := flag.Int("iters", 50, "timed runs (after warm-up)")
	train := flag.Bool("train", false, "time one SGD training step instead of inference")
	flag.BoolVar(&profile, "profile", false, "print the inference time per operator type to stderr")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed runs to this file (go tool pprof)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "graphspeed:", err)
			os.Exit(1)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if err := run(*model, *batch, *iters, *train); err != nil {
		fmt.Fprintln(os.Stderr, "graphspeed:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(path string, batch, iters int, train bool) error {
	g, err := onnx.ImportGraphFile(path)
	if err != nil {
		return err
	}
	in := g.Inputs[0]
	shape := []int{batch}
	for _, d := range in.Shape[1:] {
		shape = append(shape, d.Size)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, numel(shape))
	for i := range x {
		x[i] = rng.Float32()
	}
	var step func() error
	if train {
		step, err = trainStep(g, shape, x)
	} else {
		step, err = inferStep(g, in.Name, shape, x)
	}
	if err != nil {
		return err
	}
	for range 3 {
		if err := step(); err != nil {
			return err
		}
	}
	times := make([]float64, iters)
	for i := range times {
		start := time.Now()
		if err := step(); err != nil {
			return err
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	slices.Sort(times)
	if profile && lastProgram != nil {
		for _, t := range lastProgram.Timing() {
			fmt.Fprintf(os.Stderr, "%-20s %6d calls %10.3f ms\n", t.Op, t.Calls, float64(t.Time.Microseconds())/1000)
		}
	}
	mode := "infer"
	if train {
		mode = "train_step"
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"peer": "deepcompress", "model": path, "mode": mode, "batch": batch,
		"threads": runtime.GOMAXPROCS(0), "median_ms": times[len(times)/2], "min_ms": times[0]})
}

var (
	profile     bool
	lastProgram *engine.Program
)

func inferStep(g *graph.Graph, name string, shape []int, x []float32) (func() error, error) {
	m, err := engine.New(g, engine.Options{})
	if err != nil {
		return nil, err
	}
	p, err := m.ProgramFor(map[string][]int{name: shape})
	if err != nil {
		return nil, err
	}
	if profile {
		p.StartTiming()
		lastProgram = p
	}
	inputs := map[string]*graph.Tensor{name: graph.NewFloat(shape, x)}
	return func() error { _, err := p.Run(inputs); return err }, nil
}

func trainStep(g *graph.Graph, shape []int, x []float32) (func() error, error) {
	m, err := nn.FromGraph(g, shape[1:], 1)
	if err != nil {
		return nil, err
	}
	n := shape[0]
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % m.OutputSize())
	}
	if err := m.Prepare(n, true); err != nil {
		return nil, err
	}
	opt := &nn.SGD{Params: m.Params(), Momentum: 0.9, L2: 5e-4}
	loss := &nn.Distillation{}
	var grad nn.Tensor
	return func() error {
		out := m.Forward(x, n, true)
		loss.Loss(out, labels, nil, &grad)
		m.Backward(&grad)
		opt.Step(0.01)
		return nil
	}, nil
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
