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

func pruneCmd() *cobra.Command {
	var (
		data       dataFlags
		model, out string
		teacher    string
		archArg    string
		configPath string
		layers     string
		keep       float64
		quality    float64
		globalKeep float64
		rounds     int
		gradual    bool
		until      float64
		retrain    nn.TrainConfig
		schedule   string
	)
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := pruneConfig(configPath, layers, keep, quality, globalKeep)
			if err != nil {
				return err
			}
			m, err := modelfile.Load(model, modelfile.Options{Arch: archArg})
			if err != nil {
				return err
			}
			retrain.Schedule = nn.Schedule(schedule)
			if err := retrain.Validate(); err != nil {
				return err
			}
			if gradual {
				if err := prune.ValidateGradual(m, cfg); err != nil {
					return err
				}
			} else if err := cfg.Validate(m); err != nil {
				return err
			}
			train, test, err := data.both()
			if err != nil {
				return err
			}
			before, err := nn.Evaluate(m, test, 500)
			if err != nil {
				return err
			}
			if retrain.Distill > 0 {
				if train, err = withTeacher(train, m, teacher, archArg); err != nil {
					return err
				}
			}
			if gradual {
				err = prune.TrainGraduallyUntil(cmd.Context(), m, train, cfg, retrain, until, trainingBar("gradual"))
			} else {
				err = prune.Iterative(cmd.Context(), m, train, cfg, rounds, retrain, trainingBar("retrain"), nil)
			}
			if err != nil {
				return err
			}
			after, err := nn.Evaluate(m, test, 500)
			if err != nil {
				return err
			}
			if err := modelfile.SaveCheckpoint(out, m, nil); err != nil {
				return err
			}
			layers, total := prune.Stats(m)
			fmt.Fprint(cmd.OutOrStdout(), pipeline.PruneTable(append(layers, total)).Text())
			fmt.Fprintf(cmd.OutOrStdout(), "test accuracy: before %s, after %s\nwrote %s\n",
				pct(before, test.Len()), pct(after, test.Len()), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "input model (.safetensors, .onnx or .dcz)")
	f.StringVar(&out, "out", "", "pruned checkpoint to write (.safetensors)")
	f.StringVar(&archArg, "arch", "", "architecture for safetensors files that record none")
	f.StringVar(&configPath, "config", "", "JSON file with per-layer rules")
	f.StringVar(&layers, "layers", "", "per-layer kept fractions, NAME=FRACTION,...")
	f.Float64Var(&keep, "keep", 0, "kept fraction for every layer not named otherwise")
	f.Float64Var(&quality, "quality", 0, "threshold = QUALITY x std(W) for every layer not named otherwise")
	f.Float64Var(&globalKeep, "global-keep", 0, "one threshold for all layers keeping this fraction of all weights")
	f.IntVar(&rounds, "rounds", 3, "prune/retrain rounds")
	f.BoolVar(&gradual, "gradual", false, "prune gradually during training (Zhu & Gupta polynomial schedule) instead of in rounds")
	f.Float64Var(&until, "prune-until", 0.8, "with --gradual: the fraction of the run over which pruning proceeds; the rest fine-tunes the final network")
	f.IntVar(&retrain.Epochs, "epochs", 5, "retraining epochs per round (with --gradual: in all)")
	f.IntVar(&retrain.Batch, "batch", 64, "minibatch size")
	f.Float32Var(&retrain.LR, "lr", 0.01, "retraining learning rate")
	f.StringVar(&schedule, "schedule", "cosine", "learning-rate schedule: constant, step or cosine")
	f.Float32Var(&retrain.Gamma, "gamma", 0.1, "step schedule: multiply the learning rate by GAMMA every --step-epochs")
	f.IntVar(&retrain.StepEpochs, "step-epochs", 0, "step schedule: epochs between learning-rate drops")
	f.Float32Var(&retrain.Momentum, "momentum", 0.9, "SGD momentum")
	f.Float32Var(&retrain.L2, "l2", 5e-5, "L2 weight decay while retraining")
	f.Float32Var(&retrain.L1, "l1", 0, "L1 weight decay while retraining")
	f.Uint64Var(&retrain.Seed, "seed", 1, "random seed")
	f.Float32Var(&retrain.Distill, "distill", 0, "weight in [0,1] of distillation from the unpruned model while retraining (0: labels only)")
	f.Float32Var(&retrain.Temperature, "temperature", 1, "with --distill: softmax temperature of the distillation")
	f.StringVar(&teacher, "teacher", "", "with --distill: the model to distill from (default: the input model as loaded)")
	data.register(cmd)
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("out")
	return cmd
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

// pruneConfig builds the rules from a config file and flags (flags win).
func pruneConfig(path, layers string, keep, quality, global float64) (prune.Config, error) {
	var cfg prune.Config
	if path != "" {
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
	if layers != "" {
		if cfg.Layers == nil {
			cfg.Layers = map[string]prune.Rule{}
		}
		for _, kv := range strings.Split(layers, ",") {
			name, val, ok := strings.Cut(kv, "=")
			f, err := strconv.ParseFloat(val, 64)
			if !ok || err != nil {
				return cfg, fmt.Errorf("--layers wants NAME=FRACTION,..., got %q", kv)
			}
			cfg.Layers[strings.TrimSpace(name)] = prune.Rule{Keep: f}
		}
	}
	switch {
	case keep != 0:
		cfg.Default = prune.Rule{Keep: keep}
	case quality != 0:
		cfg.Default = prune.Rule{Quality: quality}
	}
	if global != 0 {
		cfg.GlobalKeep = global
	}
	if cfg.GlobalKeep == 0 && len(cfg.Layers) == 0 && cfg.Default == (prune.Rule{}) {
		return cfg, fmt.Errorf("say how much to prune: --config, --layers, --keep, --quality or --global-keep")
	}
	return cfg, nil
}

func pct(correct, total int) string {
	return fmt.Sprintf("%d/%d (%.2f%%)", correct, total, 100*float64(correct)/float64(max(total, 1)))
}
