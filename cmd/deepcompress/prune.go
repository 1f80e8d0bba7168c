package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
	"github.com/deepcompress/deepcompress/prune"
)

func init() { registry = append(registry, pruneCmd) }

// pruneOptions are the settings of prune.
type pruneOptions struct {
	data                      dataFlags
	model                     modelFlags
	out, teacher, configPath  string
	layers, schedule          string
	keep, quality, globalKeep float64
	rounds                    int
	gradual                   bool
	until                     float64
	retrain                   nn.TrainConfig
}

func pruneCmd() *cobra.Command {
	var o pruneOptions
	cmd := &cobra.Command{
		Use:   "prune --model FILE --out FILE.safetensors [--config FILE.json | --layers fc1=0.08,... | --keep F | --quality Q | --global-keep F]",
		Short: "Stage 1: prune small weights by magnitude and retrain the rest",
		Long: `Remove every weight whose magnitude is below a per-layer threshold and retrain
the survivors with the removed weights held at zero (Han et al., NIPS 2015).
A layer's threshold is quality x std(W) (--quality, or "quality" in the
config), or the magnitude that keeps a fraction of its weights (--keep,
--layers NAME=FRACTION, or "keep"), or one magnitude for the whole network
that keeps a global fraction (--global-keep). Pruning runs in --rounds rounds
of growing sparsity, each followed by --epochs of retraining; --gradual
instead prunes a little every few steps during training, on the polynomial
schedule of Zhu and Gupta (2017).

--distill W mixes into the retraining loss, with weight W, the cross-entropy
against the unpruned model's outputs softened by --temperature (knowledge
distillation, Hinton et al. 2015): the input model (or --teacher) teaches
its pruned self.

The output checkpoint holds the pruned weights as zeros (masks recoverable).
A per-layer table (weights, kept, kept %) and the test accuracy before and
after are printed.

Config file (JSON): {"layers": {"fc1": {"keep": 0.08}, "fc2": {"quality": 1.2}},
"default": {"keep": 0.1}} or {"global_keep": 0.08}.`,
		Example: `  deepcompress prune --model lenet300.safetensors --out pruned.safetensors --layers fc1=0.07,fc2=0.09,fc3=0.26 --rounds 3 --epochs 8
  deepcompress prune --model lenet300.safetensors --out pruned.safetensors --global-keep 0.05 --gradual --epochs 20
  deepcompress prune --model lenet300.safetensors --out pruned.safetensors --layers fc1=0.077,fc2=0.09,fc3=0.26 --gradual --epochs 30 --lr 0.02 --l2 1e-4 --distill 0.9 --temperature 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.model.register(cmd, "input model (.safetensors, .onnx or .dcz)")
	f.StringVar(&o.out, "out", "", "pruned checkpoint to write (.safetensors)")
	f.StringVar(&o.configPath, "config", "", "JSON file with per-layer rules")
	f.StringVar(&o.layers, "layers", "", "per-layer kept fractions, NAME=FRACTION,... (layer names, weight names or globs)")
	f.Float64Var(&o.keep, "keep", 0, "kept fraction for every layer not named otherwise")
	f.Float64Var(&o.quality, "quality", 0, "threshold = QUALITY x std(W) for every layer not named otherwise")
	f.Float64Var(&o.globalKeep, "global-keep", 0, "one threshold for all layers keeping this fraction of all weights")
	f.IntVar(&o.rounds, "rounds", 3, "prune/retrain rounds")
	f.BoolVar(&o.gradual, "gradual", false, "prune gradually during training (Zhu & Gupta polynomial schedule) instead of in rounds")
	f.Float64Var(&o.until, "prune-until", 0.8, "with --gradual: the fraction of the run over which pruning proceeds; the rest fine-tunes the final network")
	f.IntVar(&o.retrain.Epochs, "epochs", 5, "retraining epochs per round (with --gradual: in all)")
	f.IntVar(&o.retrain.Batch, "batch", 64, "minibatch size")
	f.Float32Var(&o.retrain.LR, "lr", 0.01, "retraining learning rate")
	f.StringVar(&o.schedule, "schedule", "cosine", "learning-rate schedule: constant, step or cosine")
	f.Float32Var(&o.retrain.Gamma, "gamma", 0.1, "step schedule: multiply the learning rate by GAMMA every --step-epochs")
	f.IntVar(&o.retrain.StepEpochs, "step-epochs", 0, "step schedule: epochs between learning-rate drops")
	f.Float32Var(&o.retrain.Momentum, "momentum", 0.9, "SGD momentum")
	f.Float32Var(&o.retrain.L2, "l2", 5e-5, "L2 weight decay while retraining")
	f.Float32Var(&o.retrain.L1, "l1", 0, "L1 weight decay while retraining")
	f.Uint64Var(&o.retrain.Seed, "seed", 1, "random seed")
	f.Float32Var(&o.retrain.Distill, "distill", 0, "weight in [0,1] of distillation from the unpruned model while retraining (0: labels only)")
	f.Float32Var(&o.retrain.Temperature, "temperature", 1, "with --distill: softmax temperature of the distillation")
	f.StringVar(&o.teacher, "teacher", "", "with --distill: the model to distill from (default: the input model as loaded)")
	o.data.register(cmd)
	cmd.MarkFlagRequired("out")
	// One rule for the unnamed layers, and a global fraction replaces every
	// per-layer rule.
	cmd.MarkFlagsMutuallyExclusive("keep", "quality", "global-keep")
	cmd.MarkFlagsMutuallyExclusive("layers", "global-keep")
	return cmd
}

func (o *pruneOptions) run(cmd *cobra.Command) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	m, err := o.model.load()
	if err != nil {
		return err
	}
	o.retrain.Schedule = nn.Schedule(o.schedule)
	if err := o.retrain.Validate(); err != nil {
		return err
	}
	if o.gradual {
		if err := prune.ValidateGradual(m, cfg); err != nil {
			return err
		}
	} else if err := cfg.Validate(m); err != nil {
		return err
	}
	train, test, before, err := o.data.withBaseline(m)
	if err != nil {
		return err
	}
	if o.retrain.Distill > 0 {
		if train, err = withTeacher(train, m, o.teacher, o.model.arch); err != nil {
			return err
		}
	}
	if o.gradual {
		err = prune.TrainGraduallyUntil(cmd.Context(), m, train, cfg, o.retrain, o.until, trainingBar("gradual"))
	} else {
		err = prune.Iterative(cmd.Context(), m, train, cfg, o.rounds, o.retrain, trainingBar("retrain"), nil)
	}
	if err != nil {
		return err
	}
	after, err := nn.Evaluate(m, test, 500)
	if err != nil {
		return err
	}
	if err := modelfile.SaveCheckpoint(o.out, m, nil); err != nil {
		return err
	}
	layers, total := prune.Stats(m)
	fmt.Fprint(cmd.OutOrStdout(), pipeline.PruneTable(append(layers, total)).Text())
	fmt.Fprintf(cmd.OutOrStdout(), "test accuracy: before %s, after %s\nwrote %s\n",
		pct(before, test.Len()), pct(after, test.Len()), o.out)
	return nil
}

// withTeacher attaches the outputs of the teacher model to train: the
// model in the file teacher, or m itself (the unpruned model teaching its
// pruned self) when teacher is empty.
func withTeacher(train nn.Dataset, m *nn.Model, teacher, archArg string) (nn.Dataset, error) {
	t := m
	if teacher != "" {
		var err error
		if t, err = modelfile.Load(teacher, modelfile.Options{Arch: archArg}); err != nil {
			return train, err
		}
		if t.InputSize() != m.InputSize() || t.OutputSize() != m.OutputSize() {
			return train, fmt.Errorf("teacher %s maps %d inputs to %d outputs, the model %d to %d",
				teacher, t.InputSize(), t.OutputSize(), m.InputSize(), m.OutputSize())
		}
	}
	return train.WithTeacher(t)
}

// config builds the rules from a config file and flags (flags win).
func (o *pruneOptions) config() (prune.Config, error) {
	var cfg prune.Config
	if path := o.configPath; path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, err
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("prune config %s: %w", path, err)
		}
	}
	if o.layers != "" {
		if cfg.Layers == nil {
			cfg.Layers = map[string]prune.Rule{}
		}
		for _, kv := range strings.Split(o.layers, ",") {
			name, val, ok := strings.Cut(kv, "=")
			f, err := strconv.ParseFloat(val, 64)
			if !ok || err != nil {
				return cfg, fmt.Errorf("--layers wants NAME=FRACTION,..., got %q", kv)
			}
			cfg.Layers[strings.TrimSpace(name)] = prune.Rule{Keep: f}
		}
	}
	switch {
	case o.keep != 0:
		cfg.Default = prune.Rule{Keep: o.keep}
	case o.quality != 0:
		cfg.Default = prune.Rule{Quality: o.quality}
	}
	if o.globalKeep != 0 {
		cfg.GlobalKeep = o.globalKeep
	}
	if cfg.GlobalKeep == 0 && len(cfg.Layers) == 0 && cfg.Default == (prune.Rule{}) {
		return cfg, fmt.Errorf("say how much to prune: --config, --layers, --keep, --quality or --global-keep")
	}
	return cfg, nil
}

func pct(correct, total int) string {
	return fmt.Sprintf("%d/%d (%.2f%%)", correct, total, 100*float64(correct)/float64(max(total, 1)))
}
