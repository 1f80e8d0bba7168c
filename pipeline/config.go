// Package pipeline runs the whole of Deep Compression on a model: prune and
// retrain, quantize by weight sharing and fine-tune the codebooks, then
// encode the result with relative sparse indices and Huffman coding into a
// .dcz file (Han, Mao, Dally, ICLR 2016, figure 1). It keeps a checkpoint
// after every completed step in a work directory, so an interrupted run
// resumes where it stopped and ends with the same file.
package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/settings"
	"github.com/deepcompress/deepcompress/sparse"
)

// Config drives one compression run. It is read from JSON; the zero value
// of a section skips that part (no pruning, default bits, ...).
type Config struct {
	Prune    PruneConfig    `json:"prune"`
	Quantize QuantizeConfig `json:"quantize"`
	Encode   EncodeConfig   `json:"encode"`
	// Seed makes the run reproducible: same input, config and seed, same
	// .dcz byte for byte.
	Seed uint64 `json:"seed"`
}

// PruneConfig is stage 1.
type PruneConfig struct {
	prune.Config
	// Rounds of prune-then-retrain; the rules tighten each round.
	Rounds int `json:"rounds"`
	// Retrain is the recipe of each round's retraining (Epochs per round).
	Retrain Recipe `json:"retrain"`
	// Gradual prunes while training instead of in rounds: Retrain.Epochs
	// epochs in all, the kept fraction falling on Zhu and Gupta's cubic
	// schedule over the first 80 % of the steps (Keep rules only).
	Gradual bool `json:"gradual,omitempty"`
}

// QuantizeConfig is stage 2.
type QuantizeConfig struct {
	// Bits by layer name, weight name or pattern (see settings.Lookup);
	// unnamed layers get the paper's 8 bits (conv) or 5 (dense).
	Bits map[string]int `json:"bits,omitempty"`
	// Init is the centroid initialisation: linear (default), density,
	// forgy or kmeans++.
	Init quantize.Init `json:"init,omitempty"`
	// Optimal uses the exact dynamic-programming clustering instead of
	// Lloyd's algorithm.
	Optimal bool `json:"optimal,omitempty"`
	// Lambda is the rate weight of rate-aware weight sharing by layer
	// name, weight name or pattern ("*": every layer): each weight goes
	// to the shared value of least squared error plus lambda * variance
	// times its index's code length (quantize.Options.Lambda). Unnamed
	// layers get 0, plain k-means.
	Lambda map[string]float64 `json:"lambda,omitempty"`
	// FineTune trains the shared values (Epochs 0: no fine-tuning).
	FineTune Recipe `json:"finetune"`
	// Skip leaves the weights unquantized (32-bit values in the file).
	Skip bool `json:"skip,omitempty"`
}

// EncodeConfig is stage 3.
type EncodeConfig struct {
	// IndexBits is the width of the relative index (gap) by layer name,
	// weight name or pattern; unnamed layers get the paper's 8 bits (conv)
	// or 5 (dense).
	IndexBits map[string]int `json:"index_bits,omitempty"`
	// Coder is the entropy coder of the shared weights: huffman (the
	// default, the paper's), arith (package cabac) or auto, the smaller
	// per layer (dcz.Coder).
	Coder dcz.Coder `json:"coder,omitempty"`
	// HalfCodebooks stores the fine-tuned codebooks in float16
	// (dcz.Model.SetFloat16): 2 bytes a shared value instead of 4, each
	// value moved by at most 2^-11 of itself, entries that meet merged.
	// The quantized stage is measured on the rounded model.
	HalfCodebooks bool `json:"half_codebooks,omitempty"`
	// HalfRaw stores the raw tensors (biases) in float16 where that moves
	// no value by more than 2^-11 of the tensor's largest magnitude
	// (dcz.Float16Fits).
	HalfRaw bool `json:"half_raw,omitempty"`
}

// Recipe is a training schedule in JSON form.
type Recipe struct {
	Epochs   int         `json:"epochs"`
	Batch    int         `json:"batch,omitempty"`
	LR       float32     `json:"lr"`
	Schedule nn.Schedule `json:"schedule,omitempty"`
	// Gamma and StepEpochs shape the step schedule: lr * gamma^(epoch/StepEpochs).
	Gamma      float32 `json:"gamma,omitempty"`
	StepEpochs int     `json:"step_epochs,omitempty"`
	Momentum   float32 `json:"momentum,omitempty"`
	L2         float32 `json:"l2,omitempty"`
	L1         float32 `json:"l1,omitempty"`
	// Distill mixes into the loss, with this weight, the cross-entropy
	// against the input model's outputs softened by Temperature: the
	// unpruned model teaches its compressed self (see nn.Distillation).
	Distill     float32 `json:"distill,omitempty"`
	Temperature float32 `json:"temperature,omitempty"`
	// Shift augments each training batch with random shifts of up to
	// Shift pixels of image inputs (dataset.Shift; models whose input is
	// [C, H, W]); the teacher of a distilling recipe then sees the same
	// shifted images.
	Shift int `json:"shift,omitempty"`
}

// TrainConfig turns the recipe into the engine's form.
func (r Recipe) TrainConfig(seed uint64) nn.TrainConfig {
	c := nn.TrainConfig{Epochs: r.Epochs, Batch: r.Batch, LR: r.LR, Schedule: r.Schedule, Gamma: r.Gamma,
		StepEpochs: r.StepEpochs, Momentum: r.Momentum, L2: r.L2, L1: r.L1, Seed: seed,
		Distill: r.Distill, Temperature: r.Temperature}
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.Schedule == "" {
		c.Schedule = nn.Cosine
	}
	return c
}

// MaxRounds bounds prune.rounds: each round retrains the whole network, and
// the paper's schedules use at most a handful.
const MaxRounds = 100

// LoadConfig reads a JSON config file. Unknown fields are an error, so a
// misspelt setting is not silently ignored.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("pipeline: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("pipeline: config %s: %w", path, err)
	}
	return c, nil
}

// WriteConfig writes a recipe as indented JSON (atomically), loadable by
// LoadConfig.
func WriteConfig(path string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// ParseConfig decodes a JSON config, refusing unknown fields.
func ParseConfig(data []byte) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks the config against a model: layer names, ranges, recipes.
func (c Config) Validate(m *nn.Model) error {
	if c.Prune.Rounds < 0 || c.Prune.Rounds > MaxRounds {
		return fmt.Errorf("pipeline: prune rounds %d outside 0..%d", c.Prune.Rounds, MaxRounds)
	}
	for _, r := range []struct {
		what string
		r    Recipe
	}{{"prune retraining", c.Prune.Retrain}, {"fine-tuning", c.Quantize.FineTune}} {
		if err := m.Spec.CheckBudget(nil, 3, r.r.TrainConfig(0).Batch); err != nil {
			return fmt.Errorf("pipeline: %s: %w", r.what, err)
		}
		if r.r.Shift < 0 || r.r.Shift > 0 && len(m.Spec.Input) != 3 {
			return fmt.Errorf("pipeline: %s: shift %d needs a non-negative value and an image input [C, H, W] (this model's is %v)",
				r.what, r.r.Shift, m.Spec.Input)
		}
	}
	if c.Prune.Rounds > 0 {
		validate := c.Prune.Config.Validate
		if c.Prune.Gradual {
			validate = func(m *nn.Model) error { return prune.ValidateGradual(m, c.Prune.Config) }
		}
		if err := validate(m); err != nil {
			return err
		}
		if err := c.Prune.Retrain.TrainConfig(0).Validate(); err != nil {
			return fmt.Errorf("pipeline: prune retraining: %w", err)
		}
	}
	if err := c.Quantize.FineTune.TrainConfig(0).Validate(); err != nil {
		return fmt.Errorf("pipeline: fine-tuning: %w", err)
	}
	var weights []string
	for _, p := range m.Weights() {
		weights = append(weights, p.Name)
	}
	for _, set := range []struct {
		what string
		m    map[string]int
		lo   int
		hi   int
	}{{"quantize bits", c.Quantize.Bits, 1, settings.MaxBits}, {"index bits", c.Encode.IndexBits, 1, sparse.MaxBits}} {
		if err := settings.Check(set.m, weights); err != nil {
			return fmt.Errorf("pipeline: %s: %w", set.what, err)
		}
		for _, name := range sortedKeys(set.m) {
			if b := set.m[name]; b < set.lo || b > set.hi {
				return fmt.Errorf("pipeline: %s: layer %s: %d outside %d..%d", set.what, name, b, set.lo, set.hi)
			}
		}
	}
	if err := settings.Check(c.Quantize.Lambda, weights); err != nil {
		return fmt.Errorf("pipeline: quantize lambda: %w", err)
	}
	for _, name := range sortedKeys(c.Quantize.Lambda) {
		if err := quantize.CheckLambda(c.Quantize.Lambda[name]); err != nil {
			return fmt.Errorf("pipeline: layer %s: %w", name, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
