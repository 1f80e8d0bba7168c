package nn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Dataset is n samples of dim floats each, back to back, with labels.
type Dataset struct {
	X      []float32
	Labels []uint8
	Dim    int
	// Teacher, when set, holds a teacher model's logits for every sample,
	// back to back, for training with distillation (TrainConfig.Distill).
	Teacher []float32
	// Augment, when set, changes each training batch in place (n samples
	// back to back) before it is used, drawing from rng: random shifts of
	// images, say. With a teacher, set OnlineTeacher too, so that the
	// teacher sees the same changed samples.
	Augment func(x []float32, n int, rng *rand.Rand)
	// OnlineTeacher, when set, computes the teacher's outputs of every
	// training batch as it is drawn (its logits, or its outputs for MSE)
	// instead of reading Teacher.
	OnlineTeacher *Model
}

// Len is the number of samples.
func (d Dataset) Len() int {
	if d.Labels == nil && d.Dim > 0 {
		return len(d.X) / d.Dim
	}
	return len(d.Labels)
}

// Schedule names a learning-rate schedule.
type Schedule string

// Learning-rate schedules.
const (
	Constant Schedule = "constant" // lr
	Step     Schedule = "step"     // lr * gamma^floor(epoch/stepEpochs)
	Cosine   Schedule = "cosine"   // lr * (1 + cos(pi*t)) / 2, t the fraction of training done
)

// TrainConfig is a training recipe.
type TrainConfig struct {
	Epochs     int
	Batch      int
	LR         float32
	Schedule   Schedule
	Gamma      float32 // step decay factor
	StepEpochs int     // step decay period
	Momentum   float32
	L2, L1     float32
	Seed       uint64
	// Distill is the weight of the teacher's term in the loss (see
	// Distillation), 0 for plain cross-entropy; it needs Dataset.Teacher.
	Distill     float32
	Temperature float32 // of the distillation, 1 if 0
	// MSE trains the model to match Dataset.Teacher's outputs by squared
	// error instead (for outputs that are not class scores); it needs no
	// labels.
	MSE bool
	// Start, if set, resumes a run after Start.Epoch epochs; the model
	// (parameters, masks, velocities) and the optimizer must be as they
	// were then. The run ends exactly as an uninterrupted one would.
	Start *TrainState
	// AfterEpoch, if set, is called at the end of every epoch but the
	// last with the state to resume from, to checkpoint it; an error
	// stops training.
	AfterEpoch func(TrainState) error
}

// TrainState is where a run stands between two epochs besides the
// model's parameters: the epochs done, the state of the generator that
// shuffles the samples (and draws the augmentations), the last epoch's
// sample order, which the next shuffle permutes, and the model's dropout
// generators (Model.RandomState).
type TrainState struct {
	Epoch   int
	RNG     []byte // rand.PCG.MarshalBinary
	Order   []int
	Dropout []byte
}

// LRAt is the learning rate after `done` of `total` steps, epoch being the
// current epoch (0-based).
func (c TrainConfig) LRAt(epoch, done, total int) float32 {
	switch c.Schedule {
	case Step:
		if c.StepEpochs > 0 {
			return c.LR * float32(math.Pow(float64(c.Gamma), float64(epoch/c.StepEpochs)))
		}
	case Cosine:
		t := float64(done) / float64(max(total, 1))
		return c.LR * float32(0.5*(1+math.Cos(math.Pi*t)))
	}
	return c.LR
}

// Validate rejects recipes that cannot train.
func (c TrainConfig) Validate() error {
	switch {
	case c.Epochs < 0:
		return fmt.Errorf("nn: epochs %d < 0", c.Epochs)
	case c.Batch <= 0:
		return fmt.Errorf("nn: batch size %d must be positive", c.Batch)
	case !(c.LR >= 0) || math.IsInf(float64(c.LR), 0):
		return fmt.Errorf("nn: learning rate %v must be a non-negative number", c.LR)
	case c.Schedule != "" && c.Schedule != Constant && c.Schedule != Step && c.Schedule != Cosine:
		return fmt.Errorf("nn: unknown schedule %q (want constant, step or cosine)", c.Schedule)
	}
	return c.distillation().Validate()
}

func (c TrainConfig) distillation() *Distillation {
	return &Distillation{Alpha: c.Distill, Temperature: c.Temperature, MSE: c.MSE}
}

// Progress is reported after every batch.
type Progress struct {
	Epoch, Epochs  int
	Batch, Batches int     // within the epoch
	Loss           float32 // running mean over the epoch
	Accuracy       float32 // running training accuracy over the epoch
	LR             float32
	Samples        int           // seen in this epoch
	Elapsed        time.Duration // since the epoch started
}

// Train runs cfg.Epochs epochs of minibatch training on data, updating the
// model through opt (an *SGD built from the config when opt is nil).
// report, if non-nil, is called after every batch. It is TrainContext
// without a way to stop it.
func Train(m *Model, data Dataset, cfg TrainConfig, opt Optimizer, report func(Progress)) error {
	return TrainContext(context.Background(), m, data, cfg, opt, report)
}

// TrainContext is Train stopping before the next batch once ctx is done:
// it returns an error wrapping ctx.Err(), the model left part-way through
// an epoch (callers that resume keep their own checkpoints). A batch of
// the networks trained here takes milliseconds, so a stop is prompt.
func TrainContext(ctx context.Context, m *Model, data Dataset, cfg TrainConfig, opt Optimizer, report func(Progress)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if data.Dim != m.InputSize() {
		return fmt.Errorf("nn: data has %d values per sample, the model takes %d", data.Dim, m.InputSize())
	}
	if data.Len() == 0 {
		return fmt.Errorf("nn: no training data")
	}
	classes := m.OutputSize()
	teacherOnly := cfg.MSE || cfg.Distill == 1
	if data.Labels == nil && !teacherOnly {
		return fmt.Errorf("nn: data without labels trains only against a teacher (distillation 1, or MSE)")
	}
	if (cfg.Distill > 0 || cfg.MSE) && data.OnlineTeacher == nil && len(data.Teacher) != data.Len()*classes {
		return fmt.Errorf("nn: distillation needs %d teacher logits (%d samples x %d classes), have %d",
			data.Len()*classes, data.Len(), classes, len(data.Teacher))
	}
	objective := cfg.distillation()
	if opt == nil {
		opt = &SGD{Params: m.Params(), Momentum: cfg.Momentum, L2: cfg.L2, L1: cfg.L1}
	}
	src := rand.NewPCG(cfg.Seed, 0x5851f42d4c957f2d)
	rng := rand.New(src)

	n := data.Len()
	batches := (n + cfg.Batch - 1) / cfg.Batch
	rows := min(cfg.Batch, n) // a batch larger than the data holds the data
	if err := m.checkTraining(rows, n%rows); err != nil {
		return fmt.Errorf("nn: training with batch %d: %w", cfg.Batch, err)
	}
	if t := data.OnlineTeacher; t != nil {
		if t.OutputSize() != classes || t.InputSize() != data.Dim {
			return fmt.Errorf("nn: the teacher maps %d values to %d, the student %d to %d", t.InputSize(), t.OutputSize(), data.Dim, classes)
		}
		for _, k := range []int{rows, n % rows} {
			if err := t.Prepare(k, false); k > 0 && err != nil {
				return fmt.Errorf("nn: teacher: %w", err)
			}
		}
	}
	xb := make([]float32, rows*data.Dim)
	yb := make([]uint8, rows)
	var tb []float32
	if cfg.Distill > 0 || cfg.MSE {
		tb = make([]float32, rows*classes)
	}
	if data.Labels == nil {
		yb = nil
	}
	var grad Tensor
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	first, err := cfg.resume(m, src, perm)
	if err != nil {
		return err
	}
	for epoch := first; epoch < cfg.Epochs; epoch++ {
		if err := cfg.endOfEpoch(m, epoch, src, perm); err != nil {
			return err
		}
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		start := time.Now()
		var lossSum float64
		correct := 0
		for b := 0; b < batches; b++ {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("nn: training stopped in epoch %d/%d, batch %d/%d: %w", epoch+1, cfg.Epochs, b+1, batches, err)
			}
			idx := perm[b*cfg.Batch : min((b+1)*cfg.Batch, n)]
			for k, s := range idx {
				copy(xb[k*data.Dim:(k+1)*data.Dim], data.X[s*data.Dim:(s+1)*data.Dim])
				if yb != nil {
					yb[k] = data.Labels[s]
				}
				if tb != nil && data.OnlineTeacher == nil {
					copy(tb[k*classes:(k+1)*classes], data.Teacher[s*classes:(s+1)*classes])
				}
			}
			if data.Augment != nil {
				data.Augment(xb[:len(idx)*data.Dim], len(idx), rng)
			}
			if tb != nil && data.OnlineTeacher != nil {
				copy(tb, teacherOutputs(data.OnlineTeacher, xb, len(idx), cfg.MSE))
			}
			out := m.Forward(xb, len(idx), true)
			var labels []uint8
			if yb != nil {
				labels = yb[:len(idx)]
			}
			loss, c := objective.Loss(out, labels, tb[:min(len(tb), len(idx)*classes)], &grad)
			if math.IsNaN(float64(loss)) {
				return fmt.Errorf("nn: training diverged (loss NaN) in epoch %d; lower the learning rate", epoch+1)
			}
			m.Backward(&grad)
			lr := cfg.LRAt(epoch, epoch*batches+b, cfg.Epochs*batches)
			opt.Step(lr)
			lossSum += float64(loss) * float64(len(idx))
			correct += c
			if report != nil {
				seen := min((b+1)*cfg.Batch, n)
				report(Progress{Epoch: epoch, Epochs: cfg.Epochs, Batch: b + 1, Batches: batches,
					Loss: float32(lossSum / float64(seen)), Accuracy: float32(correct) / float32(seen),
					LR: lr, Samples: seen, Elapsed: time.Since(start)})
			}
		}
	}
	return nil
}

// resume checks the config's resumption settings against m, restores the
// generator and the sample order from Start and returns the first epoch
// to run.
func (c TrainConfig) resume(m *Model, src *rand.PCG, order []int) (int, error) {
	if c.Start == nil {
		return 0, nil
	}
	if c.Start.Epoch < 0 || c.Start.Epoch >= c.Epochs {
		return 0, fmt.Errorf("nn: cannot resume after epoch %d of %d", c.Start.Epoch, c.Epochs)
	}
	if len(c.Start.Order) != len(order) {
		return 0, fmt.Errorf("nn: resuming: a sample order of %d samples for %d", len(c.Start.Order), len(order))
	}
	seen := make([]bool, len(order))
	for _, i := range c.Start.Order {
		if i < 0 || i >= len(order) || seen[i] {
			return 0, fmt.Errorf("nn: resuming: the saved sample order is not a permutation")
		}
		seen[i] = true
	}
	if err := src.UnmarshalBinary(c.Start.RNG); err != nil {
		return 0, fmt.Errorf("nn: resuming: %w", err)
	}
	if err := m.SetRandomState(c.Start.Dropout); err != nil {
		return 0, err
	}
	copy(order, c.Start.Order)
	return c.Start.Epoch, nil
}

// endOfEpoch hands AfterEpoch the state before epoch (once one is done).
func (c TrainConfig) endOfEpoch(m *Model, epoch int, src *rand.PCG, order []int) error {
	if c.AfterEpoch == nil || c.Start != nil && epoch == c.Start.Epoch || epoch == 0 {
		return nil
	}
	state, err := src.MarshalBinary()
	if err != nil {
		return err
	}
	return c.AfterEpoch(TrainState{Epoch: epoch, RNG: state, Order: append([]int(nil), order...), Dropout: m.RandomState()})
}

// WithTeacher returns data with Teacher set to the logits of m (its
// outputs before any final softmax) on every sample, for distilling m into
// another model.
func (d Dataset) WithTeacher(m *Model) (Dataset, error) {
	classes, dim := m.OutputSize(), m.InputSize()
	if len(d.X) != d.Len()*dim {
		return d, fmt.Errorf("nn: %d input values for %d samples of %d", len(d.X), d.Len(), dim)
	}
	logits := make([]float32, d.Len()*classes)
	const batch = 500
	for _, k := range []int{min(batch, d.Len()), d.Len() % batch} {
		if err := m.Prepare(k, false); k > 0 && err != nil {
			return d, err
		}
	}
	for s := 0; s < d.Len(); s += batch {
		k := min(batch, d.Len()-s)
		copy(logits[s*classes:(s+k)*classes], m.Logits(d.X[s*dim:(s+k)*dim], k).Data)
	}
	d.Teacher = logits
	return d, nil
}

// Evaluate counts the samples whose predicted class (the argmax of the
// output) equals the label.
func Evaluate(m *Model, data Dataset, batch int) (correct int, err error) {
	err = Predict(m, data.X, data.Len(), batch, func(i int, out []float32) {
		if Argmax(out) == int(data.Labels[i]) {
			correct++
		}
	})
	return correct, err
}

// Predict runs the model in inference mode over n samples, calling visit
// with each sample's index and output row (valid only during the call).
func Predict(m *Model, x []float32, n, batch int, visit func(i int, out []float32)) error {
	dim := m.InputSize()
	if len(x) != n*dim {
		return fmt.Errorf("nn: %d input values for %d samples of %d", len(x), n, dim)
	}
	if batch <= 0 {
		batch = 256
	}
	for _, k := range []int{min(batch, n), n % batch} {
		if err := m.Prepare(k, false); k > 0 && err != nil {
			return err
		}
	}
	for s := 0; s < n; s += batch {
		k := min(batch, n-s)
		out := m.Forward(x[s*dim:(s+k)*dim], k, false)
		cols := out.rowLen()
		for i := 0; i < k; i++ {
			visit(s+i, out.Data[i*cols:(i+1)*cols])
		}
	}
	return nil
}

// teacherOutputs runs the teacher on a batch: its outputs when the student
// matches them by squared error, else its logits.
func teacherOutputs(t *Model, x []float32, n int, mse bool) []float32 {
	if mse {
		return t.Forward(x, n, false).Data
	}
	return t.Logits(x, n).Data
}
