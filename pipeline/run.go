package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/deepcompress/deepcompress/dataset"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/finetune"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
	"github.com/deepcompress/deepcompress/settings"
	"github.com/deepcompress/deepcompress/sparse"
)

// ErrWorkDirTaken is wrapped by the error of Run when its work directory
// holds a run of another model or config.
var ErrWorkDirTaken = errors.New("pipeline: the work directory is taken")

// Runner compresses one model. Train is needed for retraining and
// fine-tuning; Test measures each stage's accuracy. A recipe that distills
// learns from Train.Teacher when it is set, and otherwise from the input
// model's outputs.
type Runner struct {
	Config  Config
	WorkDir string
	Train   nn.Dataset
	Test    nn.Dataset
	// Log receives one line per step (nil: discard).
	Log io.Writer
	// Progress, if non-nil, returns the training reporter for a step.
	Progress func(step string) func(nn.Progress)

	// teacher is a copy of the input model for the recipes that distill
	// on shifted images (Recipe.Shift): it runs on each shifted batch.
	teacher *nn.Model

	// afterCheckpoint, if set, runs after each checkpoint is written; the
	// tests use it to interrupt a run at every possible point.
	afterCheckpoint func() error
}

func (r *Runner) checkpointed() error {
	if r.afterCheckpoint != nil {
		return r.afterCheckpoint()
	}
	return nil
}

// Stage is one row of the stage table.
type Stage struct {
	Name     string  `json:"stage"`
	Correct  int     `json:"correct"`
	Total    int     `json:"total"`
	Accuracy float64 `json:"accuracy"`
	Bytes    int64   `json:"bytes"`
	Ratio    float64 `json:"ratio"`
	// Measured is false when Bytes is the computed size of that stage's
	// storage rather than a file's size or the plain 32-bit size of the
	// dense parameters (see SizeNotes).
	Measured bool `json:"measured"`
}

// SizeNotes explains how the stage table's sizes are counted.
const SizeNotes = `dense: 32 bits per parameter. pruned: 32-bit values plus the index gaps (and filler
entries) of the sparse format, 32-bit biases. quantized: b-bit indices plus the gaps, 32-bit
codebooks and biases (16-bit where stored in float16). huffman: the .dcz file's size on disk,
every byte counted.`

// Result is what a run produced.
type Result struct {
	Stages []Stage
	Out    string
	Layers []PruneRow // kept weights per layer after pruning
	// Weights before and after pruning, by parameter name, for the report.
	Before, Pruned map[string][]float32
	// File is the quantized model as written.
	File *dcz.Model
}

// PruneRow is a layer's pruning result.
type PruneRow = prune.LayerStat

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

func (r *Runner) progress(step string) func(nn.Progress) {
	if r.Progress == nil {
		return nil
	}
	return r.Progress(step)
}

// Run compresses m into the .dcz file out. m is changed in place (it ends
// as the quantized model).
//
// Once ctx is done, Run stops at the next training batch (or between
// steps) and returns an *Interrupted error wrapping ctx.Err(); the work
// directory then holds every step completed before, each checkpoint
// written atomically, so a later Run with the same model, config and work
// directory resumes from there and writes the same file, byte for byte.
func (r *Runner) Run(ctx context.Context, m *nn.Model, out string) (*Result, error) {
	res, err := r.run(ctx, m, out)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil, &Interrupted{WorkDir: r.WorkDir, Err: err}
	}
	return res, err
}

// Interrupted is Run's error when its context was cancelled.
type Interrupted struct {
	WorkDir string
	Err     error
}

func (e *Interrupted) Error() string {
	return fmt.Sprintf("pipeline: interrupted (%v); the work directory %s keeps the completed steps", e.Err, e.WorkDir)
}

func (e *Interrupted) Unwrap() error { return e.Err }

func (r *Runner) run(ctx context.Context, m *nn.Model, out string) (*Result, error) {
	if err := r.Config.Validate(m); err != nil {
		return nil, err
	}
	if err := r.prepareWorkDir(m); err != nil {
		return nil, err
	}
	if err := r.attachTeacher(m); err != nil {
		return nil, err
	}
	res := &Result{Out: out, Before: copyWeights(m)}
	dense := denseBytes(m)
	s, err := r.stage("dense", m, dense, dense, true)
	if err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, s)

	if err := r.pruneStage(ctx, m); err != nil {
		return nil, err
	}
	res.Layers, _ = prune.Stats(m)
	res.Pruned = copyWeights(m)
	if s, err = r.stage("pruned", m, prunedBytes(m, r.indexBits(m)), dense, false); err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, s)

	file, err := r.quantizeStage(ctx, m)
	if err != nil {
		return nil, err
	}
	res.File = file
	if s, err = r.stage("quantized", m, quantizedBytes(file), dense, false); err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, s)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err = r.encodeStage(file, out, dense)
	if err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, s)
	return res, nil
}

// attachTeacher records the input model's outputs on the training set when
// a stage distills from it. m is still the input model here, also when the
// run resumes, so the teacher is the same either way.
func (r *Runner) attachTeacher(m *nn.Model) error {
	distills := r.Config.Prune.Rounds > 0 && r.Config.Prune.Retrain.Distill > 0 ||
		!r.Config.Quantize.Skip && r.Config.Quantize.FineTune.Epochs > 0 && r.Config.Quantize.FineTune.Distill > 0
	if !distills {
		return nil
	}
	if r.Config.Prune.Retrain.Shift > 0 || r.Config.Quantize.FineTune.Shift > 0 {
		t, err := nn.New(m.Spec, 0)
		if err == nil {
			err = t.SetWeights(m.WeightMap())
		}
		if err != nil {
			return fmt.Errorf("pipeline: copying the input model to teach: %w", err)
		}
		r.teacher = t
	}
	if r.Train.Teacher != nil {
		return nil
	}
	var err error
	r.Train, err = r.Train.WithTeacher(m)
	return err
}

// trainData is the training set of a stage trained by rc: with rc.Shift,
// each batch shifted at random, the teacher (if rc distills) run on it.
func (r *Runner) trainData(m *nn.Model, rc Recipe) nn.Dataset {
	d := r.Train
	if rc.Shift <= 0 {
		return d
	}
	shape, shift := m.Spec.Input, rc.Shift
	d.Augment = func(x []float32, n int, rng *rand.Rand) { dataset.Shift(x, n, shape, shift, rng) }
	if rc.Distill > 0 {
		d.OnlineTeacher = r.teacher
	}
	return d
}

// fingerprint identifies the input model and config, so that a work
// directory is never resumed by a different run.
func fingerprint(m *nn.Model, c Config) string {
	h := sha256.New()
	h.Write(m.Spec.JSON())
	cj, _ := json.Marshal(c)
	h.Write(cj)
	for _, p := range m.Params() {
		h.Write([]byte(p.Name))
		binary.Write(h, binary.LittleEndian, p.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (r *Runner) prepareWorkDir(m *nn.Model) error {
	if err := os.MkdirAll(r.WorkDir, 0o755); err != nil {
		return fmt.Errorf("pipeline: work directory: %w", err)
	}
	want := fingerprint(m, r.Config)
	path := filepath.Join(r.WorkDir, "fingerprint")
	got, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return atomicfile.WriteBytes(path, []byte(want+"\n"))
	case err != nil:
		return fmt.Errorf("pipeline: %w", err)
	case strings.TrimSpace(string(got)) != want:
		return fmt.Errorf("%w: %s holds a run of another model or config; remove it or pick another", ErrWorkDirTaken, r.WorkDir)
	}
	r.logf("resuming from work directory %s", r.WorkDir)
	return nil
}

func (r *Runner) stage(name string, m *nn.Model, bytes, dense int64, measured bool) (Stage, error) {
	correct, err := nn.Evaluate(m, r.Test, 500)
	if err != nil {
		return Stage{}, err
	}
	s := Stage{Name: name, Correct: correct, Total: r.Test.Len(), Accuracy: float64(correct) / float64(max(r.Test.Len(), 1)),
		Bytes: bytes, Ratio: float64(dense) / float64(bytes), Measured: measured}
	r.logf("%-9s test accuracy %d/%d (%.2f%%), %d bytes, %.1fx", name, s.Correct, s.Total, 100*s.Accuracy, bytes, s.Ratio)
	return s, nil
}

func roundFile(dir string, round int) string {
	return filepath.Join(dir, fmt.Sprintf("pruned-round%d.safetensors", round))
}

// pruneStage runs the prune/retrain rounds, skipping those whose checkpoint
// is already in the work directory.
func (r *Runner) pruneStage(ctx context.Context, m *nn.Model) error {
	c := r.Config.Prune
	if c.Rounds == 0 {
		return nil
	}
	done := 0
	for round := c.Rounds; round >= 1 && done == 0; round-- {
		path := roundFile(r.WorkDir, round)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if err := loadInto(m, path); err != nil {
			r.discard(path, err)
			continue
		}
		done = round
		r.logf("prune: rounds 1-%d done earlier, loaded %s", done, path)
	}
	if done > 0 {
		r.roundDone(done) // a partial checkpoint the round's own one outdated
		if !c.Gradual {
			prune.ScaleDropout(m) // the rates round done trained with
		}
	}
	if c.Gradual && done == 0 {
		return r.pruneGradually(ctx, m)
	}
	for round := done + 1; round <= c.Rounds; round++ {
		r.logf("prune: round %d/%d, retraining %d epochs", round, c.Rounds, c.Retrain.Epochs)
		retrain := c.Retrain.TrainConfig(r.Config.Seed)
		retrain.Start, retrain.AfterEpoch = r.resumeRound(m, round), r.epochCheckpoints(m, round)
		if err := prune.Round(ctx, m, r.trainData(m, c.Retrain), c.Config, round, c.Rounds, retrain, r.progress(fmt.Sprintf("prune %d/%d", round, c.Rounds))); err != nil {
			return err
		}
		_, total := prune.Stats(m)
		r.logf("prune: round %d/%d keeps %.2f%% of the weights", round, c.Rounds, total.KeptPct)
		if err := r.saveRound(m, round); err != nil {
			return err
		}
	}
	return nil
}

// saveRound checkpoints a finished round in place of its partial one.
func (r *Runner) saveRound(m *nn.Model, round int) error {
	meta := map[string]string{metaRandomState: hex.EncodeToString(m.RandomState())}
	if err := modelfile.SaveCheckpoint(roundFile(r.WorkDir, round), m, meta); err != nil {
		return err
	}
	r.roundDone(round)
	return r.checkpointed()
}

// pruneGradually is the one-round form of the stage: prune while training
// on the Zhu-Gupta schedule, then checkpoint as the last round.
func (r *Runner) pruneGradually(ctx context.Context, m *nn.Model) error {
	c := r.Config.Prune
	r.logf("prune: gradually to the target over %d epochs", c.Retrain.Epochs)
	cfg := c.Retrain.TrainConfig(r.Config.Seed + 1)
	cfg.Start, cfg.AfterEpoch = r.resumeRound(m, c.Rounds), r.epochCheckpoints(m, c.Rounds)
	if err := prune.TrainGradually(ctx, m, r.trainData(m, c.Retrain), c.Config, cfg, r.progress("prune (gradual)")); err != nil {
		return err
	}
	return r.saveRound(m, c.Rounds)
}

// discard removes a checkpoint that failed to read, saying so: resuming
// heals itself by redoing that step instead of failing on every run.
func (r *Runner) discard(path string, err error) {
	r.logf("discarding unreadable checkpoint %s (%v); redoing that step", path, err)
	if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		r.logf("could not remove %s: %v", path, rmErr)
	}
}

// loadQuantized reloads a finished quantize stage into m; (nil, nil) means
// there is none to reload (a broken one is discarded).
func (r *Runner) loadQuantized(m *nn.Model) (*dcz.Model, error) {
	path := r.quantizedFile()
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	f, err := dcz.ReadFile(path)
	if err == nil {
		err = m.SetWeights(f.DenseWeights())
	}
	if err != nil {
		r.discard(path, err)
		return nil, nil
	}
	r.logf("quantize: done earlier, loaded %s", path)
	return f, nil
}

// loadInto replaces m's parameters (and masks) and its dropout generators
// by a checkpoint's.
func loadInto(m *nn.Model, path string) error {
	saved, err := modelfile.Load(path, modelfile.Options{})
	if err != nil {
		return err
	}
	for _, p := range m.Params() {
		if q := saved.Param(p.Name); q == nil || len(q.Data) != len(p.Data) {
			return fmt.Errorf("pipeline: %s does not hold parameter %s of this network", path, p.Name)
		}
	}
	rd, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	state, err := hex.DecodeString(rd.Metadata()[metaRandomState])
	rd.Close()
	if err == nil {
		err = m.SetRandomState(state) // checked before any parameter changes
	}
	if err != nil {
		return fmt.Errorf("pipeline: %s: %w", path, err)
	}
	for _, p := range m.Params() {
		q := saved.Param(p.Name)
		copy(p.Data, q.Data)
		p.SetMask(q.Mask)
		p.ResetMomentum()
	}
	return nil
}

func (r *Runner) quantizedFile() string { return filepath.Join(r.WorkDir, "quantized.dcz") }

// quantizeStage clusters, fine-tunes and returns the model as a dcz.Model.
// A finished stage is reloaded from the work directory.
func (r *Runner) quantizeStage(ctx context.Context, m *nn.Model) (*dcz.Model, error) {
	if f, err := r.loadQuantized(m); f != nil || err != nil {
		return f, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := r.Config.Quantize
	var layers []*quantize.Layer
	if !q.Skip {
		var err error
		if layers, err = finetune.QuantizeRate(m, q.Bits, q.Lambda, quantize.Options{Init: q.Init, Optimal: q.Optimal, Seed: int64(r.Config.Seed)}); err != nil {
			return nil, err
		}
		if q.FineTune.Epochs > 0 {
			r.logf("quantize: fine-tuning the shared weights %d epochs", q.FineTune.Epochs)
		}
		cfg := q.FineTune.TrainConfig(r.Config.Seed + 1000)
		if err := finetune.Tune(ctx, m, layers, r.trainData(m, q.FineTune), cfg, r.progress("fine-tune")); err != nil {
			return nil, err
		}
	}
	file, err := modelfile.Pack(m, layers, r.Config.Encode.IndexBits)
	if err != nil {
		return nil, err
	}
	if err := r.halve(m, file); err != nil {
		return nil, err
	}
	if err := dcz.WriteFile(r.quantizedFile(), file); err != nil {
		return nil, err
	}
	return file, r.checkpointed()
}

// halve stores file's codebooks and raw tensors in float16 as the encode
// settings ask (halveFile).
func (r *Runner) halve(m *nn.Model, file *dcz.Model) error {
	e := r.Config.Encode
	return halveFile(m, file, e.HalfCodebooks, e.HalfRaw, r.logf)
}

// halveFile stores file's codebooks (codebooks) and raw tensors (raw) in
// float16 (dcz.Model.SetFloat16) and gives m, the model file was packed
// from, the rounded values, so that every later figure (the quantized
// stage's accuracy) is the stored model's. Neither flag: nothing changes.
func halveFile(m *nn.Model, file *dcz.Model, codebooks, raw bool, logf func(string, ...any)) error {
	if !codebooks && !raw {
		return nil
	}
	layers, tensors := file.SetFloat16(codebooks, raw)
	logf("quantize: %d codebooks and %d raw tensors stored in float16", layers, tensors)
	return m.SetWeights(file.DenseWeights())
}

// indexBits maps each weight name to its gap width: the config's, else
// the paper's for the layer's kind.
func (r *Runner) indexBits(m *nn.Model) map[string]int {
	out := map[string]int{}
	for _, p := range m.Weights() {
		b, ok := settings.Lookup(r.Config.Encode.IndexBits, p.Name)
		if !ok {
			b = settings.PaperBits(m.WeightKind(p.Name))
		}
		out[p.Name] = b
	}
	return out
}

// encodeStage writes the final file and measures the decoded model.
func (r *Runner) encodeStage(file *dcz.Model, out string, dense int64) (Stage, error) {
	file.SetCoder(r.Config.Encode.Coder)
	if err := dcz.WriteFile(out, file); err != nil {
		return Stage{}, err
	}
	back, err := modelfile.Load(out, modelfile.Options{})
	if err != nil {
		return Stage{}, fmt.Errorf("pipeline: reading back %s: %w", out, err)
	}
	info, err := os.Stat(out)
	if err != nil {
		return Stage{}, err
	}
	return r.stage("huffman", back, info.Size(), dense, true)
}

func denseBytes(m *nn.Model) int64 {
	var n int64
	for _, p := range m.Params() {
		n += int64(len(p.Data)) * 4
	}
	return n
}

// prunedBytes is the size of the pruned model in the sparse format with
// 32-bit values: each entry (fillers included) costs 32 + gap bits.
func prunedBytes(m *nn.Model, indexBits map[string]int) int64 {
	var bits int64
	for _, p := range m.Params() {
		if !p.Weight {
			bits += 32 * int64(len(p.Data))
			continue
		}
		b := indexBits[p.Name]
		bits += int64(sparse.Entries(keptPositions(p), b)) * int64(32+b)
	}
	return (bits + 7) / 8
}

// keptPositions lists the flat positions of a parameter's live weights.
func keptPositions(p *nn.Param) []uint32 {
	var pos []uint32
	for i := range p.Data {
		if p.Mask == nil || p.Mask[i] != 0 {
			pos = append(pos, uint32(i))
		}
	}
	return pos
}

// quantizedBytes is the size of the P+Q storage: b-bit indices and gaps per
// entry, 32-bit codebooks and raw tensors.
func quantizedBytes(f *dcz.Model) int64 {
	var bits int64
	for _, l := range f.Layers {
		bits += int64(sparse.Entries(l.Pos, l.IndexBits))*int64(l.Bits+l.IndexBits) + valueBits(l.Precision)*int64(len(l.Codebook))
	}
	for _, t := range f.Raw {
		bits += valueBits(t.Precision) * int64(len(t.Data))
	}
	return (bits + 7) / 8
}

// valueBits is the bits of one value stored at precision p.
func valueBits(p dcz.Precision) int64 {
	if p == dcz.Float16 {
		return 16
	}
	return 32
}

func copyWeights(m *nn.Model) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range m.Weights() {
		out[p.Name] = append([]float32(nil), p.Data...)
	}
	return out
}
