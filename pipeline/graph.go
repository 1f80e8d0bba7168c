package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dataset"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/finetune"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/report"
	"github.com/deepcompress/deepcompress/settings"
)

// GraphConfig is the recipe for compressing a graph with the user's own
// inputs: the original model is the teacher, so no labels are needed.
type GraphConfig struct {
	// Keep gives kept fractions by weight name, layer name (the weight
	// name without ".weight") or pattern ("conv*", "re:..."; see
	// settings.Lookup); weights not named get theirs from the sensitivity
	// pass. A name that stands for no weight is an error.
	Keep map[string]float64 `json:"keep,omitempty"`
	// Tolerance is what the sensitivity pass lets pruning one weight
	// alone, without retraining, cost on the held-out data: points of
	// top-1 agreement for classifiers, points of relative error (100 *
	// ||student - teacher|| / ||teacher||) for other outputs.
	Tolerance float64 `json:"tolerance"`
	// MinKeep is the smallest kept fraction the sensitivity pass tries.
	MinKeep float64 `json:"min_keep"`
	// MinPrunable is the size under which a weight is not pruned (it is
	// still shared): positions cost more than they save on tiny tensors.
	MinPrunable int `json:"min_prunable"`
	// ConvBits and FCBits are the shared-value index widths.
	ConvBits int `json:"conv_bits"`
	FCBits   int `json:"fc_bits"`
	// Prune is the retraining while pruning gradually; FineTune the
	// training of the codebooks. Both learn from the teacher.
	Prune    Recipe `json:"prune"`
	FineTune Recipe `json:"finetune"`
	// Shift augments image inputs ([C, H, W]) with random shifts of up to
	// this many pixels while training; the teacher sees the same shifted
	// images (0: no augmentation).
	Shift int `json:"shift"`
	// HeldOut is the fraction of the data kept aside to measure agreement.
	HeldOut float64 `json:"held_out"`
	Seed    uint64  `json:"seed"`
	// Coder is the entropy coder of the shared weights (dcz.Coder; the
	// default is Huffman).
	Coder dcz.Coder `json:"coder,omitempty"`
	// HalfCodebooks and HalfRaw store the codebooks and the raw tensors
	// in float16 where that loses nothing measurable (as EncodeConfig's).
	HalfCodebooks bool `json:"half_codebooks,omitempty"`
	HalfRaw       bool `json:"half_raw,omitempty"`
}

// DefaultGraphConfig is the recipe `compress --data` starts from.
func DefaultGraphConfig() GraphConfig {
	return GraphConfig{
		Tolerance: 2, MinKeep: 0.03, MinPrunable: 2048,
		ConvBits: 5, FCBits: 4,
		Prune:    Recipe{Epochs: 12, Batch: 32, LR: 0.01, Momentum: 0.9, Schedule: nn.Cosine, Temperature: 2, Distill: 1},
		FineTune: Recipe{Epochs: 3, Batch: 32, LR: 0.001, Momentum: 0.9, Schedule: nn.Cosine, Temperature: 2, Distill: 1},
		Shift:    2, HeldOut: 0.1, Seed: 1,
	}
}

// Validate rejects settings that cannot run.
func (c GraphConfig) Validate() error {
	switch {
	case !(c.Tolerance >= 0):
		return fmt.Errorf("pipeline: tolerance %v must be a non-negative number", c.Tolerance)
	case !(c.MinKeep > 0 && c.MinKeep <= 1):
		return fmt.Errorf("pipeline: min_keep %v outside (0, 1]", c.MinKeep)
	case c.ConvBits < 1 || c.ConvBits > 16 || c.FCBits < 1 || c.FCBits > 16:
		return fmt.Errorf("pipeline: bits %d/%d outside 1..16", c.ConvBits, c.FCBits)
	case c.Shift < 0:
		return fmt.Errorf("pipeline: shift %d must not be negative", c.Shift)
	case !(c.HeldOut > 0 && c.HeldOut < 1):
		return fmt.Errorf("pipeline: held_out %v outside (0, 1)", c.HeldOut)
	}
	for name, k := range c.Keep {
		if !(k > 0 && k <= 1) {
			return fmt.Errorf("pipeline: keep %v for %s outside (0, 1]", k, name)
		}
	}
	for _, r := range []Recipe{c.Prune, c.FineTune} {
		if err := r.TrainConfig(c.Seed).Validate(); err != nil {
			return err
		}
	}
	return nil
}

// LoadGraphConfig reads a recipe written as JSON (what WriteGraphConfig
// and `compress print-graph-config` write): the defaults, overridden by
// the file's fields; an unknown field is an error, so that a misspelt
// setting is not silently ignored.
func LoadGraphConfig(path string) (GraphConfig, error) {
	cfg := DefaultGraphConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("pipeline: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("pipeline: graph config %s: %w", path, err)
	}
	return cfg, cfg.Validate()
}

// WriteGraphConfig writes cfg as indented JSON (atomically), for
// LoadGraphConfig or `compress --graph-config` to repeat a run.
func WriteGraphConfig(path string, cfg GraphConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// Samples are the user's inputs, back to back, each of shape Shape, with
// labels when the user has them (nil otherwise).
type Samples struct {
	X      []float32
	Shape  []int
	Labels []uint8
}

// Len is the number of samples.
func (s Samples) Len() int { return len(s.X) / max(arch.Numel(s.Shape), 1) }

// Fidelity is how closely a model follows the original on the held-out
// samples.
type Fidelity struct {
	// Classifier: top-1 agreement with the original, and accuracy against
	// the labels when there are labels (else -1).
	Agreement, Accuracy float64
	// Any output: ||student - teacher|| / ||teacher|| over all held-out
	// outputs, and the largest per-sample value.
	RelError, MaxRelError float64
}

// GraphStage is one row of the stage table of a graph compression.
type GraphStage struct {
	Name     string
	Fidelity Fidelity
	Bytes    int64
	Ratio    float64
	Measured bool
	Elapsed  time.Duration
}

// GraphResult is what CompressGraph produced.
type GraphResult struct {
	Classifier bool
	Stages     []GraphStage
	Keep       map[string]float64 // the kept fraction chosen per weight
	Layers     []PruneRow
	File       *dcz.Model
	// Config is the recipe this result came from, every kept fraction
	// named: given back to CompressGraph it repeats the run.
	Config GraphConfig
	// Search is what the settings search tried (nil without a search).
	Search *GraphSearchReport
}

// GraphCompressor compresses graphs; Log and Progress, when set, receive
// what a long run reports.
type GraphCompressor struct {
	Config   GraphConfig
	Log      io.Writer
	Progress func(step string) func(nn.Progress)
	// Ancillary is stored in the file: the preprocessing of the user's
	// data and the original model's metadata. The compressor adds the
	// held-out fidelity of the quantized model to Meta.
	Ancillary dcz.Ancillary
}

func (c *GraphCompressor) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

func (c *GraphCompressor) progress(step string) func(nn.Progress) {
	if c.Progress == nil {
		return nil
	}
	return c.Progress(step)
}

// graphRun holds the state of one compression.
type graphRun struct {
	c           *GraphCompressor
	cfg         GraphConfig // the settings of this run (the search changes Keep and the bits)
	classifier  bool
	train, held nn.Dataset
	heldTeacher []float32
	outSize     int
	denseBytes  int64
	sample      []int
	start       time.Time
	stages      []GraphStage
}

// CompressGraph prunes, shares and codes g with the user's samples, the
// original graph teaching its compressed self, and returns the .dcz model
// (graph included) and the stage table. g is not changed.
//
// With out set the file is written there (atomically) and read back, and
// the last stage measures it.
func (c *GraphCompressor) CompressGraph(ctx context.Context, g *graph.Graph, data Samples, out string) (*GraphResult, error) {
	r, student, err := c.begin(g, data)
	if err != nil {
		return nil, err
	}
	curves, err := r.sensitivity(ctx, student, r.cfg.Tolerance)
	if err != nil {
		return nil, err
	}
	keep := r.keepsAt(curves, r.cfg.Tolerance, true)
	return r.finish(ctx, student, keep, out)
}

// begin validates the settings, computes the teacher's outputs, splits the
// samples and measures the original: what every compression of g with
// these samples shares. It returns the student, a copy of g.
func (c *GraphCompressor) begin(g *graph.Graph, data Samples) (*graphRun, *nn.Model, error) {
	cfg := c.Config
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	teacher, err := nn.FromGraph(g, data.Shape, cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	r := &graphRun{c: c, cfg: cfg, start: time.Now(), outSize: teacher.OutputSize(), sample: slices.Clone(data.Shape)}
	if err := r.split(teacher, data); err != nil {
		return nil, nil, err
	}
	student, err := nn.FromGraph(g.Clone(), data.Shape, cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	r.denseBytes = floatParamBytes(g)
	r.stage("original", student, r.denseBytes, true)
	return r, student, nil
}

// finish prunes the student to keep while it learns from the teacher,
// shares and fine-tunes its weights with r.cfg's bits, and builds (and
// with out set writes and measures) the file.
func (r *graphRun) finish(ctx context.Context, student *nn.Model, keep map[string]float64, out string) (*GraphResult, error) {
	if err := r.prune(ctx, student, keep); err != nil {
		return nil, err
	}
	file, err := r.quantize(ctx, student)
	if err != nil {
		return nil, err
	}
	file.Ancillary = r.ancillary()
	file.SetCoder(r.cfg.Coder)
	layers, _ := prune.Stats(student)
	used := r.cfg
	used.Keep = keep
	res := &GraphResult{Classifier: r.classifier, Keep: keep, Layers: layers, File: file, Config: used}
	if out != "" {
		if err := r.encode(file, out, r.sample); err != nil {
			return nil, err
		}
	}
	res.Stages = slices.Clone(r.stages)
	return res, nil
}

// encode writes the file atomically, reads it back and measures what was
// written: the last row of the stage table is the file itself.
func (r *graphRun) encode(file *dcz.Model, out string, sample []int) error {
	if err := dcz.WriteFile(out, file); err != nil {
		return err
	}
	back, err := dcz.ReadFile(out)
	if err != nil {
		return fmt.Errorf("pipeline: reading back %s: %w", out, err)
	}
	g, err := back.WithWeights()
	if err != nil {
		return err
	}
	m, err := nn.FromGraph(g, sample, r.cfg.Seed)
	if err != nil {
		return err
	}
	info, err := os.Stat(out)
	if err != nil {
		return err
	}
	r.stage("huffman", m, info.Size(), true)
	return nil
}

// floatParamBytes is the float32 size of g's float parameters: what the
// ratio divides (the original file's weights).
func floatParamBytes(g *graph.Graph) int64 {
	var n int64
	for _, p := range g.Params {
		if p.DType == graph.Float32 {
			n += 4 * int64(len(p.F))
		}
	}
	return n
}

// split computes the teacher's outputs and divides the samples into the
// training part and the held-out part.
func (r *graphRun) split(teacher *nn.Model, data Samples) error {
	n, dim := data.Len(), arch.Numel(data.Shape)
	if n < 2 || len(data.X) != n*dim {
		return fmt.Errorf("pipeline: need at least 2 samples of shape %v, have %d values", data.Shape, len(data.X))
	}
	if data.Labels != nil && len(data.Labels) != n {
		return fmt.Errorf("pipeline: %d labels for %d samples", len(data.Labels), n)
	}
	r.classifier = len(teacher.OutputShape()) == 1 && r.outSize > 1
	outs, err := outputs(teacher, data.X, n)
	if err != nil {
		return err
	}
	perm := rand.New(rand.NewPCG(r.cfg.Seed, 0x51ed270b)).Perm(n)
	nHeld := max(1, int(math.Round(r.cfg.HeldOut*float64(n))))
	pick := func(idx []int) nn.Dataset {
		d := nn.Dataset{Dim: dim, X: make([]float32, 0, len(idx)*dim), Teacher: make([]float32, 0, len(idx)*r.outSize)}
		if data.Labels != nil {
			d.Labels = make([]uint8, 0, len(idx))
		}
		for _, i := range idx {
			d.X = append(d.X, data.X[i*dim:(i+1)*dim]...)
			d.Teacher = append(d.Teacher, outs[i*r.outSize:(i+1)*r.outSize]...)
			if data.Labels != nil {
				d.Labels = append(d.Labels, data.Labels[i])
			}
		}
		return d
	}
	r.held, r.train = pick(perm[:nHeld]), pick(perm[nHeld:])
	r.heldTeacher = r.held.Teacher
	if shift := r.cfg.Shift; shift > 0 && len(data.Shape) == 3 {
		shape := slices.Clone(data.Shape)
		r.train.Augment = func(x []float32, n int, rng *rand.Rand) { dataset.Shift(x, n, shape, shift, rng) }
		r.train.OnlineTeacher = teacher
	}
	r.c.logf("data: %d samples, %d for training, %d held out; the model is a %s", n, r.train.Len(), r.held.Len(),
		map[bool]string{true: "classifier (top-1 agreement measured)", false: "map (relative error measured)"}[r.classifier])
	return nil
}

// outputs runs m (inference, final softmax included) on n samples.
func outputs(m *nn.Model, x []float32, n int) ([]float32, error) {
	k := m.OutputSize()
	out := make([]float32, n*k)
	err := nn.Predict(m, x, n, 64, func(i int, o []float32) { copy(out[i*k:], o) })
	return out, err
}

// fidelity measures m against the teacher on the held-out samples.
func (r *graphRun) fidelity(m *nn.Model) Fidelity {
	bad := Fidelity{Agreement: math.NaN(), Accuracy: math.NaN(), RelError: math.NaN(), MaxRelError: math.NaN()}
	out, err := outputs(m, r.held.X, r.held.Len())
	if err != nil {
		return bad
	}
	f := Fidelity{Accuracy: -1}
	k := r.outSize
	if f.RelError, err = dataset.RelError(out, r.heldTeacher); err != nil {
		return bad
	}
	if f.MaxRelError, err = dataset.MaxRelError(out, r.heldTeacher, k); err != nil {
		return bad
	}
	if f.Agreement, err = dataset.Top1Agreement(out, r.heldTeacher, k); err != nil {
		return bad
	}
	if r.held.Labels != nil {
		labels := make([]int, len(r.held.Labels))
		for i, l := range r.held.Labels {
			labels[i] = int(l)
		}
		if f.Accuracy, err = dataset.Top1Accuracy(out, k, labels); err != nil {
			return bad
		}
	}
	return f
}

// loss is what the sensitivity pass and the reports compare: points of
// agreement lost (classifier) or of relative error (maps).
func (r *graphRun) loss(f Fidelity) float64 {
	if r.classifier {
		return 100 * (1 - f.Agreement)
	}
	return 100 * f.RelError
}

func (r *graphRun) stage(name string, m *nn.Model, bytes int64, measured bool) {
	f := r.fidelity(m)
	s := GraphStage{Name: name, Fidelity: f, Bytes: bytes, Ratio: float64(r.denseBytes) / float64(max(bytes, 1)), Measured: measured, Elapsed: time.Since(r.start)}
	r.stages = append(r.stages, s)
	r.c.logf("%-10s %s  %d bytes (%.1fx)  at %s", name, r.describe(f), bytes, s.Ratio, s.Elapsed.Round(time.Second))
}

func (r *graphRun) describe(f Fidelity) string {
	if r.classifier {
		s := fmt.Sprintf("agreement %.2f%%", 100*f.Agreement)
		if f.Accuracy >= 0 {
			s += fmt.Sprintf(", accuracy %.2f%%", 100*f.Accuracy)
		}
		return s
	}
	return fmt.Sprintf("relative error %.3f%% (max %.3f%%)", 100*f.RelError, 100*f.MaxRelError)
}

// sensitivityKeeps are the kept fractions the sensitivity pass tries, in
// decreasing order.
var sensitivityKeeps = []float64{0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05, 0.03, 0.02, 0.01}

// sensitivityCurve is what pruning one weight alone, without retraining,
// costs on the held-out data: Cost[i] at kept fraction Keeps[i]
// (decreasing), measured until the cost first exceeds the pass's limit.
// A user-set fraction is a curve of one point at cost 0 (Fixed).
type sensitivityCurve struct {
	Name  string
	Size  int
	Fixed bool
	Keeps []float64
	Costs []float64
}

// keepAt is the smallest kept fraction whose cost, and every larger
// fraction's, is at most tolerance (1 when none is): monotone in
// tolerance, so a larger tolerance never keeps more.
func (c sensitivityCurve) keepAt(tolerance float64) float64 {
	best := 1.0
	for i, k := range c.Keeps {
		if c.Costs[i] > tolerance {
			break
		}
		best = k
	}
	return best
}

// sensitivity is the paper's sensitivity analysis: for each prunable
// weight (user-set ones aside) the cost of pruning it alone to each of
// sensitivityKeeps, down to MinKeep, stopping past limit.
func (r *graphRun) sensitivity(ctx context.Context, m *nn.Model, limit float64) ([]sensitivityCurve, error) {
	cfg := r.cfg
	var names []string
	for _, p := range m.Weights() {
		names = append(names, p.Name)
	}
	if err := settings.Check(cfg.Keep, names); err != nil {
		return nil, fmt.Errorf("pipeline: keep: %w", err)
	}
	base := r.loss(r.fidelity(m))
	var curves []sensitivityCurve
	for _, p := range m.Weights() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := sensitivityCurve{Name: p.Name, Size: len(p.Data)}
		if k, ok := settings.Lookup(cfg.Keep, p.Name); ok {
			c.Fixed, c.Keeps, c.Costs = true, []float64{k}, []float64{0}
			curves = append(curves, c)
			continue
		}
		if len(p.Data) < cfg.MinPrunable {
			continue
		}
		saved := slices.Clone(p.Data)
		for _, k := range sensitivityKeeps {
			if k < cfg.MinKeep {
				break
			}
			magnitudePrune(p.Data, k)
			cost := r.loss(r.fidelity(m)) - base
			copy(p.Data, saved)
			c.Keeps, c.Costs = append(c.Keeps, k), append(c.Costs, cost)
			if cost > limit {
				break
			}
		}
		curves = append(curves, c)
	}
	return curves, nil
}

// keepsAt maps one tolerance to every curve's kept fraction (user-set
// fractions as set); with log set it reports the choice per weight.
func (r *graphRun) keepsAt(curves []sensitivityCurve, tolerance float64, log bool) map[string]float64 {
	keep := map[string]float64{}
	for _, c := range curves {
		if c.Fixed {
			keep[c.Name] = c.Keeps[0]
			continue
		}
		keep[c.Name] = c.keepAt(tolerance)
		if log {
			r.c.logf("sensitivity: %s (%d weights) keeps %.0f%%", c.Name, c.Size, 100*keep[c.Name])
		}
	}
	return keep
}

// magnitudePrune zeroes the weights of w that pruning to the kept
// fraction keep removes (below prune.Threshold, the rule the pruning
// stage applies), so that the sensitivity pass measures that pruning.
func magnitudePrune(w []float32, keep float64) {
	t := prune.Threshold(w, prune.Rule{Keep: keep})
	for i, v := range w {
		if float32(math.Abs(float64(v))) < t {
			w[i] = 0
		}
	}
}

// prune prunes gradually to the chosen fractions while the student learns
// from the teacher.
func (r *graphRun) prune(ctx context.Context, m *nn.Model, keep map[string]float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rules := prune.Config{Layers: map[string]prune.Rule{}}
	for name, k := range keep {
		if k < 1 {
			rules.Layers[name] = prune.Rule{Keep: k}
		}
	}
	if len(rules.Layers) > 0 {
		tc := r.trainConfig(r.cfg.Prune)
		if err := prune.TrainGradually(ctx, m, r.train, rules, tc, r.c.progress("prune")); err != nil {
			return err
		}
		if err := r.reachKeeps(m, keep); err != nil {
			return err
		}
	}
	r.stage("pruned", m, prunedBytes(m, r.indexBits(m)), false)
	return nil
}

// reachKeeps prunes by magnitude, at once, each weight the gradual
// schedule left above its kept fraction by more than one weight in a
// thousand: it prunes every 100 steps, so a run of fewer steps prunes
// nothing and the last step stops a little short. The file then has the
// fractions chosen (those the settings search measured).
func (r *graphRun) reachKeeps(m *nn.Model, keep map[string]float64) error {
	rules := prune.Config{Layers: map[string]prune.Rule{}}
	for _, p := range m.Weights() {
		k, ok := keep[p.Name]
		if !ok || k >= 1 {
			continue
		}
		if want := k * float64(len(p.Data)); float64(p.Kept()) > want*1.001+1 {
			rules.Layers[p.Name] = prune.Rule{Keep: want / float64(p.Kept())} // a fraction of the survivors
			r.c.logf("prune: %s kept %d weights after the schedule, pruned at once to %.0f", p.Name, p.Kept(), want)
		}
	}
	if len(rules.Layers) == 0 {
		return nil
	}
	return prune.Apply(m, rules)
}

// trainConfig turns a recipe into training against the teacher: soft
// targets for a classifier, squared error for any other output.
func (r *graphRun) trainConfig(rc Recipe) nn.TrainConfig {
	tc := rc.TrainConfig(r.cfg.Seed)
	if !r.classifier {
		tc.Distill, tc.MSE = 0, true
	} else if r.train.Labels == nil {
		tc.Distill = 1
	}
	return tc
}

// indexBits is the paper's gap width of each weight, by its layer's kind:
// the widths the file will use (modelfile.Pack's defaults).
func (r *graphRun) indexBits(m *nn.Model) map[string]int {
	bits := map[string]int{}
	for _, p := range m.Weights() {
		bits[p.Name] = settings.PaperBits(m.WeightKind(p.Name))
	}
	return bits
}

// quantize shares each weight's values through a codebook, fine-tunes the
// codebooks against the teacher, and builds the file: the shared weights
// as layers with the paper's gap widths, every other float parameter raw.
func (r *graphRun) quantize(ctx context.Context, m *nn.Model) (*dcz.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := r.cfg
	layers, err := shareWeights(m, cfg.ConvBits, cfg.FCBits, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if err := finetune.Tune(ctx, m, layers, r.train, r.trainConfig(cfg.FineTune), r.c.progress("fine-tune")); err != nil {
		return nil, err
	}
	file, err := modelfile.Pack(m, layers, nil)
	if err != nil {
		return nil, err
	}
	if err := halveFile(m, file, cfg.HalfCodebooks, cfg.HalfRaw, r.c.logf); err != nil {
		return nil, err
	}
	r.stage("quantized", m, quantizedBytes(file), false)
	return file, nil
}

// ancillary is the caller's ancillary data with the fidelity measured on
// the held-out samples after quantization.
func (r *graphRun) ancillary() dcz.Ancillary {
	a := r.c.Ancillary
	meta := map[string]string{}
	for k, v := range a.Meta {
		meta[k] = v
	}
	if n := len(r.stages); n > 0 {
		f := r.stages[n-1].Fidelity
		if r.classifier {
			meta["held_out_agreement"] = fmt.Sprintf("%.4f", f.Agreement)
		}
		meta["held_out_relative_error"] = fmt.Sprintf("%.6f", f.RelError)
		meta["held_out_samples"] = fmt.Sprint(r.held.Len())
	}
	a.Meta = meta
	return a
}

// GraphStageTable is the stage table of a graph compression: fidelity to
// the original on the held-out samples, size and ratio after each stage.
func GraphStageTable(res *GraphResult) report.Table {
	t := report.Table{Header: []string{"stage", "agreement", "relative error", "accuracy", "bytes", "ratio", "elapsed"}}
	for _, s := range res.Stages {
		agree, acc := "-", "-"
		if res.Classifier {
			agree = fmt.Sprintf("%.2f%%", 100*s.Fidelity.Agreement)
		}
		if s.Fidelity.Accuracy >= 0 {
			acc = fmt.Sprintf("%.2f%%", 100*s.Fidelity.Accuracy)
		}
		size := fmt.Sprint(s.Bytes)
		if !s.Measured {
			size += " (computed)"
		}
		t.Rows = append(t.Rows, []string{s.Name, agree, fmt.Sprintf("%.3f%%", 100*s.Fidelity.RelError), acc, size,
			fmt.Sprintf("%.1fx", s.Ratio), s.Elapsed.Round(time.Second).String()})
	}
	return t
}
