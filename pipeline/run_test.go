package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/prune"
)

func synthetic(n int, seed uint64) nn.Dataset {
	rng := rand.New(rand.NewPCG(seed, 9))
	d := nn.Dataset{Dim: 16, X: make([]float32, n*16), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		c := rng.IntN(4)
		d.Labels[i] = uint8(c)
		for j := 0; j < 16; j++ {
			d.X[i*16+j] = float32(rng.NormFloat64()) * 0.5
		}
		d.X[i*16+c*4] += 2 // a learnable signal
	}
	return d
}

func smallSpec() arch.Spec {
	return arch.Spec{Name: "small", Input: []int{16}, Layers: []arch.Layer{
		{Kind: arch.Dense, Name: "fc1", Out: 40}, {Kind: arch.ReLU}, {Kind: arch.Dense, Name: "fc2", Out: 4}}}
}

func smallConfig() Config {
	return Config{
		Prune: PruneConfig{Config: prune.Config{Default: prune.Rule{Keep: 0.3}}, Rounds: 3,
			Retrain: Recipe{Epochs: 2, LR: 0.05, Momentum: 0.9}},
		Quantize: QuantizeConfig{Bits: map[string]int{"fc1": 3, "fc2": 4}, FineTune: Recipe{Epochs: 1, LR: 1e-3, Momentum: 0.9}},
		Seed:     7,
	}
}

func trainedSmall(t *testing.T) *nn.Model {
	t.Helper()
	return trained(t, smallSpec())
}

// dropoutSpec is smallSpec with dropout after the hidden layer, whose
// draws a resumed run must continue as the uninterrupted one does.
func dropoutSpec() arch.Spec {
	s := smallSpec()
	s.Layers = append(s.Layers[:2:2], arch.Layer{Kind: arch.Dropout, Rate: 0.3}, s.Layers[2])
	return s
}

func trained(t *testing.T, spec arch.Spec) *nn.Model {
	t.Helper()
	m, err := nn.New(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.Train(m, synthetic(400, 1), nn.TrainConfig{Epochs: 3, Batch: 32, LR: 0.05, Momentum: 0.9}, nil, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

var errStop = errors.New("stopped for the test")

// distilledConfig is smallConfig with both trainings taught by the input
// model, whose outputs must be the same on a resumed run.
func distilledConfig() Config {
	c := smallConfig()
	c.Prune.Retrain.Distill, c.Prune.Retrain.Temperature = 0.7, 3
	c.Quantize.FineTune.Distill = 0.5
	return c
}

// gradualConfig prunes in one gradual round of 3 epochs.
func gradualConfig() Config {
	c := smallConfig()
	c.Prune.Rounds, c.Prune.Gradual, c.Prune.Retrain.Epochs = 1, true, 3
	return c
}

// TestResumeGivesSameFile stops a run after each of its checkpoints in
// turn (the partial ones after every epoch of a round but its last, the
// rounds', the quantized model) and resumes it: the file must be the
// uninterrupted run's, byte for byte.
func TestResumeGivesSameFile(t *testing.T) {
	for name, c := range map[string]struct {
		cfg  Config
		spec arch.Spec
	}{
		"plain": {smallConfig(), smallSpec()}, "distilled": {distilledConfig(), smallSpec()},
		"gradual": {gradualConfig(), smallSpec()}, "dropout": {smallConfig(), dropoutSpec()},
	} {
		t.Run(name, func(t *testing.T) { testResume(t, c.cfg, c.spec) })
	}
}

func testResume(t *testing.T, cfg Config, spec arch.Spec) {
	dir := t.TempDir()
	var log bytes.Buffer
	run := func(out, work string, stopAfter int) (*Result, error) {
		log.Reset()
		r := &Runner{Config: cfg, WorkDir: work, Train: synthetic(400, 1), Test: synthetic(200, 2), Log: &log}
		if stopAfter > 0 {
			checkpoints := 0
			r.afterCheckpoint = func() error {
				if checkpoints++; checkpoints == stopAfter {
					return errStop
				}
				return nil
			}
		}
		return r.Run(context.Background(), trained(t, spec), out)
	}
	whole := filepath.Join(dir, "whole.dcz")
	res, err := run(whole, filepath.Join(dir, "w1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stages) != 4 || res.Stages[3].Ratio <= res.Stages[1].Ratio {
		t.Fatalf("stages %+v", res.Stages)
	}
	partials := 0
	for stop := 1; ; stop++ {
		out := filepath.Join(dir, "resumed.dcz")
		work := filepath.Join(dir, "w-resume")
		os.RemoveAll(work)
		os.Remove(out)
		_, err := run(out, work, stop)
		if err == nil { // fewer checkpoints than stop: all were tried
			if want := cfg.Prune.Rounds * (cfg.Prune.Retrain.Epochs - 1); partials != want {
				t.Errorf("%d partial checkpoints, want %d (every epoch of a round but its last)", partials, want)
			}
			break
		}
		if !errors.Is(err, errStop) {
			t.Fatalf("stop after checkpoint %d: got %v", stop, err)
		}
		partial, _ := filepath.Glob(filepath.Join(work, "*-partial.safetensors"))
		if len(partial) > 0 {
			partials++
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("stop after checkpoint %d: output written before the run ended", stop)
		}
		if _, err := run(out, work, 0); err != nil {
			t.Fatal(err)
		}
		if len(partial) > 0 && !strings.Contains(log.String(), "resumes after epoch") {
			t.Errorf("stop after checkpoint %d: the partial checkpoint was not resumed from:\n%s", stop, log.String())
		}
		a, _ := os.ReadFile(whole)
		b, _ := os.ReadFile(out)
		if !bytes.Equal(a, b) {
			t.Errorf("resumed after checkpoint %d: %d bytes differ from the uninterrupted %d", stop, len(b), len(a))
		}
	}
}

// TestCancelledRunResumes cancels a run in the middle of a training
// batch loop (the first, second and third pruning round, the fine-tuning)
// as Ctrl-C does, and checks that it stops at once with an *Interrupted
// error, writes no output and leaves no temporary file, keeps the
// checkpoints of the steps done before, and that a rerun in the same work
// directory ends with the uninterrupted run's file, byte for byte.
func TestCancelledRunResumes(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.dcz")
	r := &Runner{Config: smallConfig(), WorkDir: filepath.Join(dir, "w1"), Train: synthetic(400, 1), Test: synthetic(200, 2)}
	if _, err := r.Run(context.Background(), trainedSmall(t), whole); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(whole)
	// 7 batches an epoch, 2 epochs a round: rounds 1-3 are batches 1-14,
	// 15-28, 29-42, the fine-tuning 43-49.
	for _, at := range []struct {
		batch int
		kept  []string
	}{
		{5, nil},
		{10, []string{"pruned-round1-partial.safetensors"}},
		{20, []string{"pruned-round1.safetensors"}},
		{26, []string{"pruned-round1.safetensors", "pruned-round2-partial.safetensors"}},
		{33, []string{"pruned-round1.safetensors", "pruned-round2.safetensors"}},
		{45, []string{"pruned-round3.safetensors"}},
	} {
		out, work := filepath.Join(dir, "resumed.dcz"), filepath.Join(dir, "w-resume")
		os.RemoveAll(work)
		os.Remove(out)
		ctx, cancel := context.WithCancel(context.Background())
		batches, after := 0, 0
		r := &Runner{Config: smallConfig(), WorkDir: work, Train: synthetic(400, 1), Test: synthetic(200, 2),
			Progress: func(string) func(nn.Progress) {
				return func(nn.Progress) {
					if batches++; batches == at.batch {
						cancel()
					} else if batches > at.batch {
						after++
					}
				}
			}}
		_, err := r.Run(ctx, trainedSmall(t), out)
		cancel()
		var stopped *Interrupted
		if !errors.As(err, &stopped) || !errors.Is(err, context.Canceled) || after > 0 {
			t.Fatalf("cancelled at batch %d: err %v, %d batches after the cancel", at.batch, err, after)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("cancelled at batch %d: output written", at.batch)
		}
		entries, _ := os.ReadDir(work)
		names := map[string]bool{}
		for _, e := range entries {
			names[e.Name()] = true
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("cancelled at batch %d: temporary file %s left", at.batch, e.Name())
			}
		}
		for _, k := range at.kept {
			if !names[k] {
				t.Errorf("cancelled at batch %d: checkpoint %s missing (have %v)", at.batch, k, names)
			}
		}
		r.Progress = nil
		if _, err := r.Run(context.Background(), trainedSmall(t), out); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
			t.Errorf("cancelled at batch %d and resumed: %d bytes differ from the uninterrupted %d", at.batch, len(got), len(want))
		}
	}
}

func TestWorkDirOfAnotherRunRefused(t *testing.T) {
	dir := t.TempDir()
	r := &Runner{Config: smallConfig(), WorkDir: dir, Train: synthetic(100, 1), Test: synthetic(50, 2)}
	r.Config.Prune.Rounds = 1
	if _, err := r.Run(context.Background(), trainedSmall(t), filepath.Join(dir, "a.dcz")); err != nil {
		t.Fatal(err)
	}
	r.Config.Seed++
	if _, err := r.Run(context.Background(), trainedSmall(t), filepath.Join(dir, "b.dcz")); err == nil {
		t.Error("a work directory of another config was resumed")
	}
}

func TestConfigErrors(t *testing.T) {
	m := trainedSmall(t)
	for name, c := range map[string]Config{
		"unknown bits layer":  {Quantize: QuantizeConfig{Bits: map[string]int{"fc9": 4}}},
		"bits range":          {Quantize: QuantizeConfig{Bits: map[string]int{"fc1": 17}}},
		"index bits layer":    {Encode: EncodeConfig{IndexBits: map[string]int{"conv": 4}}},
		"negative rounds":     {Prune: PruneConfig{Rounds: -1}},
		"unbounded rounds":    {Prune: PruneConfig{Rounds: 1e9, Config: prune.Config{Default: prune.Rule{Keep: 0.5}}, Retrain: Recipe{Epochs: 1, LR: 0.1}}},
		"huge batch":          {Quantize: QuantizeConfig{FineTune: Recipe{Epochs: 1, LR: 0.1, Batch: 1e15}}},
		"bad prune layer":     {Prune: PruneConfig{Rounds: 1, Config: prune.Config{Layers: map[string]prune.Rule{"x": {Keep: 0.5}}}, Retrain: Recipe{Epochs: 1, LR: 0.1}}},
		"distill weight":      {Prune: PruneConfig{Rounds: 1, Config: prune.Config{Default: prune.Rule{Keep: 0.5}}, Retrain: Recipe{Epochs: 1, LR: 0.1, Distill: 2}}},
		"gradual and quality": {Prune: PruneConfig{Rounds: 1, Gradual: true, Config: prune.Config{Default: prune.Rule{Quality: 1}}, Retrain: Recipe{Epochs: 1, LR: 0.1}}},
	} {
		if err := c.Validate(m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	path := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(path, []byte(`{"prune": {"roundz": 3}}`), 0o644)
	if _, err := LoadConfig(path); err == nil {
		t.Error("misspelt field accepted")
	}
	for _, arch := range []string{"lenet300", "lenet5", "other"} {
		for _, p := range Presets {
			if _, err := Preset(p, arch); err != nil {
				t.Errorf("preset %s/%s: %v", p, arch, err)
			}
		}
	}
	if _, err := Preset("fast", "lenet300"); err == nil {
		t.Error("unknown preset accepted")
	}
}

// TestDistillationIsUsed guards against the setting being dropped on its
// way to the trainer: a distilled run must end with another file.
func TestDistillationIsUsed(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for i, cfg := range []Config{smallConfig(), distilledConfig()} {
		r := &Runner{Config: cfg, WorkDir: filepath.Join(dir, fmt.Sprint(i)), Train: synthetic(400, 1), Test: synthetic(200, 2)}
		out := filepath.Join(dir, fmt.Sprintf("%d.dcz", i))
		if _, err := r.Run(context.Background(), trainedSmall(t), out); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(out)
	}
	if bytes.Equal(files[0], files[1]) {
		t.Error("distilled and plain runs wrote the same file")
	}
}

// TestBrokenCheckpointsAreRedone: a truncated checkpoint in the work
// directory is discarded and its step redone, giving the same file.
func TestBrokenCheckpointsAreRedone(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "w")
	run := func(out string) *Result {
		t.Helper()
		r := &Runner{Config: smallConfig(), WorkDir: work, Train: synthetic(400, 1), Test: synthetic(200, 2)}
		res, err := r.Run(context.Background(), trainedSmall(t), out)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := filepath.Join(dir, "a.dcz")
	run(first)
	for _, name := range []string{"quantized.dcz", "pruned-round3.safetensors", "pruned-round2.safetensors"} {
		path := filepath.Join(work, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, data[:len(data)/2], 0o644)
	}
	again := filepath.Join(dir, "b.dcz")
	run(again)
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Fatal("the run redone from broken checkpoints wrote another file")
	}
}

// TestShiftIsUsed: a distilled run that shifts its image inputs (the
// teacher then runs on each shifted batch) ends with another file than
// the unshifted run; a shift on a flat input is refused.
func TestShiftIsUsed(t *testing.T) {
	image := smallSpec()
	image.Input = []int{1, 4, 4}
	image.Layers = append([]arch.Layer{{Kind: arch.Flatten}}, image.Layers...)
	dir := t.TempDir()
	var files [2][]byte
	for i, shift := range []int{0, 1} {
		cfg := distilledConfig()
		cfg.Prune.Retrain.Shift, cfg.Quantize.FineTune.Shift = shift, shift
		r := &Runner{Config: cfg, WorkDir: filepath.Join(dir, fmt.Sprint(i)), Train: synthetic(400, 1), Test: synthetic(200, 2)}
		out := filepath.Join(dir, fmt.Sprintf("%d.dcz", i))
		if _, err := r.Run(context.Background(), trained(t, image), out); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(out)
	}
	if bytes.Equal(files[0], files[1]) {
		t.Error("shifted and unshifted runs wrote the same file")
	}
	cfg := distilledConfig()
	cfg.Prune.Retrain.Shift = 1
	if err := cfg.Validate(trainedSmall(t)); err == nil {
		t.Error("a shift on the flat input [16] was accepted")
	}
}

// TestPresetsValidate: every built-in preset is a valid config for the
// network it names (a kept fraction, a bit width or a shift on a layer
// the network lacks would only fail at run time otherwise).
func TestPresetsValidate(t *testing.T) {
	for _, spec := range []arch.Spec{arch.LeNet300(), arch.LeNet5()} {
		m, err := nn.New(spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range Presets {
			c, err := Preset(p, spec.Name)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(m); err != nil {
				t.Errorf("preset %s for %s: %v", p, spec.Name, err)
			}
		}
	}
	c, _ := Preset("max", "lenet5")
	if c.Prune.Retrain.Shift == 0 || len(c.Quantize.Lambda) == 0 || c.Encode.Coder != dcz.CoderAuto || !c.Encode.HalfCodebooks {
		t.Errorf("preset max for lenet5 lost a setting: %+v", c)
	}
}
