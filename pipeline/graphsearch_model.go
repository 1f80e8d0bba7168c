package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/finetune"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/report"
)

// GraphSearch sets up SearchGraph: the goal (exactly one of MaxDrop and
// TargetRatio) and how candidates are tried.
//
// A candidate is a tolerance of the sensitivity pass, mapped through the
// per-weight curves to kept fractions (the paper's method, one knob for
// the whole model), and a pair of bit widths. It is measured cheaply: the
// original pruned to those fractions at once, briefly retrained on part
// of the training data, shared with those bits (codebooks as briefly
// fine-tuned) and coded (exact bytes), then measured on the held-out data. The best candidate then gets the
// full recipe (gradual pruning, codebook fine-tuning), which is checked
// against the goal again.
type GraphSearch struct {
	// MaxDrop bounds the held-out loss of the file: points of top-1
	// accuracy lost against the original's when the samples have labels,
	// else of top-1 agreement with the original (classifiers), or points
	// of relative error (other outputs).
	MaxDrop float64 `json:"max_drop,omitempty"`
	// TargetRatio asks for a file at most (float32 weights)/TargetRatio
	// bytes, every byte counted; the lowest loss that fits is sought.
	TargetRatio float64 `json:"target_ratio,omitempty"`
	// Tolerances is the ladder of sensitivity tolerances (points, rising);
	// ones giving the same kept fractions as a smaller one are dropped.
	Tolerances []float64 `json:"tolerances"`
	// Bits are the (conv, fc) index widths tried.
	Bits [][2]int `json:"bits"`
	// Retrain is the brief retraining of each candidate, on at most
	// RetrainSamples of the training samples (no augmentation).
	Retrain        Recipe `json:"retrain"`
	RetrainSamples int    `json:"retrain_samples"`
	// Slack: the first full run is of the smallest candidate whose
	// brief-retraining loss is at most Slack * MaxDrop, the full
	// retraining recovering more than the brief one; the full run is
	// checked against MaxDrop itself. 0 picks it by the kind of output
	// (see autoSlack).
	Slack float64 `json:"slack"`
	// Retries bounds the full runs after the first, each bisecting the
	// ladder further (see Refine).
	Retries int `json:"retries"`
}

// DefaultGraphSearch is the search `compress --max-drop/--target-ratio`
// runs: a ladder of tolerances a factor sqrt(2) apart up to 128 points
// (past all agreement), 4 or 5 bits.
func DefaultGraphSearch() GraphSearch {
	var tol []float64
	for t := 0.25; t <= 128; t *= math.Sqrt2 {
		tol = append(tol, math.Round(t*100)/100)
	}
	return GraphSearch{
		Tolerances: tol,
		Bits:       [][2]int{{5, 5}, {4, 4}},
		Retrain:    Recipe{Epochs: 1, Batch: 32, LR: 0.005, Momentum: 0.9, Schedule: nn.Cosine, Temperature: 2, Distill: 1},
		// 2000 samples: about a tenth of a full run's training per candidate.
		RetrainSamples: 2000,
		Retries:        2,
	}
}

// Validate rejects a search that cannot run.
func (s GraphSearch) Validate() error {
	switch {
	case (s.MaxDrop > 0) == (s.TargetRatio > 0):
		return errors.New("pipeline: the search needs exactly one of max_drop (points) and target_ratio (> 0)")
	case math.IsNaN(s.MaxDrop) || math.IsInf(s.MaxDrop, 0) || math.IsNaN(s.TargetRatio) || math.IsInf(s.TargetRatio, 0):
		return errors.New("pipeline: max_drop and target_ratio must be finite")
	case len(s.Tolerances) == 0 || len(s.Bits) == 0:
		return errors.New("pipeline: the search needs tolerances and bits to try")
	case !(s.Slack >= 1 || s.Slack == 0):
		return fmt.Errorf("pipeline: search slack %v must be at least 1 (or 0: by the kind of output)", s.Slack)
	case s.Retries < 0 || s.RetrainSamples < 0:
		return errors.New("pipeline: search retries and retrain_samples must not be negative")
	}
	for i, t := range s.Tolerances {
		if !(t >= 0) || (i > 0 && t <= s.Tolerances[i-1]) {
			return fmt.Errorf("pipeline: search tolerances %v must be non-negative and rising", s.Tolerances)
		}
	}
	for _, b := range s.Bits {
		if b[0] < 1 || b[0] > 16 || b[1] < 1 || b[1] > 16 {
			return fmt.Errorf("pipeline: search bits %v outside 1..16", b)
		}
	}
	return s.Retrain.TrainConfig(1).Validate()
}

// GraphTrial is one candidate the search measured.
type GraphTrial struct {
	Tolerance        float64
	ConvBits, FCBits int
	Bytes            int64
	Ratio            float64
	// Loss is after the brief retraining, unless only the size was
	// measured (SizeOnly).
	Loss     float64
	SizeOnly bool `json:",omitempty"`
}

// GraphAttempt is one full run on a chosen candidate.
type GraphAttempt struct {
	GraphTrial
	Met bool
}

// GraphSearchReport is what SearchGraph tried and whether the goal held.
type GraphSearchReport struct {
	Goal     string
	Trials   []GraphTrial
	Attempts []GraphAttempt
	Met      bool
}

// SearchGraph compresses g with settings it searches for: the sensitivity
// pass (once), then the cheap candidates, then the full recipe, at most
// 1 + s.Retries times, bisecting the ladder of the chosen bits (see
// Refine). With a loss bound the first full run is of the smallest
// candidate within Slack times the bound; a miss bisects back towards the
// smallest within the bound itself, a hit on towards the ladder's end.
// With a size bound (exact from the cheap measure, up to the coding of
// other positions) a miss steps one tolerance further. The result is the
// best full run that met the goal, written to out, or, when none did, the
// nearest: Search.Met says which (a miss is not an error). Config names
// every setting chosen.
func (c *GraphCompressor) SearchGraph(ctx context.Context, g *graph.Graph, data Samples, out string, s GraphSearch) (*GraphResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	r, student, err := c.begin(g, data)
	if err != nil {
		return nil, err
	}
	curves, err := r.sensitivity(ctx, student, s.Tolerances[len(s.Tolerances)-1])
	if err != nil {
		return nil, err
	}
	space := newGraphSpace(r, student, curves, s)
	goal, cheap := SearchGoal{MaxMetric: s.MaxDrop}, SearchGoal{MaxMetric: s.MaxDrop * r.slack(s.Slack)}
	rep := &GraphSearchReport{Goal: fmt.Sprintf("held-out loss at most %g points", s.MaxDrop)}
	if s.TargetRatio > 0 {
		goal = SearchGoal{MaxBytes: int64(float64(r.denseBytes) / s.TargetRatio)}
		cheap = goal
		rep.Goal = fmt.Sprintf("ratio at least %gx (at most %d bytes)", s.TargetRatio, goal.MaxBytes)
	}
	r.c.logf("search: %s; %d candidate tolerances x %d bit widths", rep.Goal, space.Steps(), space.Options())
	searcher := NewSearcher(space, func(t SearchTrial) {
		gt := space.trial(t)
		rep.Trials = append(rep.Trials, gt)
		r.c.logf("search: %s  at %s", space.describe(gt), time.Since(r.start).Round(time.Second))
	})
	found, err := searcher.Search(ctx, cheap)
	if err != nil {
		return nil, err
	}
	safe := found.Best.Step
	if !found.Feasible {
		r.c.logf("search: no candidate meets the goal; starting from the nearest")
	} else if s.MaxDrop > 0 {
		// The smallest candidate within the bound itself: where a miss
		// of the optimistic one bisects back to.
		t, ok, err := searcher.Boundary(ctx, goal, found.Best.Option)
		if err != nil {
			return nil, err
		}
		safe = map[bool]int{true: t.Step, false: 0}[ok]
	}
	return r.refine(ctx, g, space, goal, found.Best.SearchPoint, safe, out, rep)
}

// refine runs the full recipe on the candidates Refine picks and returns
// the best result, its file written to out.
func (r *graphRun) refine(ctx context.Context, g *graph.Graph, space *graphSpace, goal SearchGoal, from SearchPoint, safe int, out string, rep *GraphSearchReport) (*GraphResult, error) {
	budget := 1 + space.s.Retries
	var results []*GraphResult
	full := func(ctx context.Context, p SearchPoint) (SearchMeasure, error) {
		if n := len(results); n > 0 {
			r.c.logf("search: full run %d of at most %d (bisecting the ladder of bits %d/%d)", n+1, budget, space.s.Bits[p.Option][0], space.s.Bits[p.Option][1])
		}
		res, err := r.fullRun(ctx, g, space, p, out)
		if err != nil {
			return SearchMeasure{}, err
		}
		results = append(results, res)
		last := res.Stages[len(res.Stages)-1]
		m := SearchMeasure{Bytes: last.Bytes, Metric: r.searchLoss(last.Fidelity)}
		a := GraphAttempt{GraphTrial: space.trial(SearchTrial{p, m}), Met: goal.Meets(m)}
		rep.Attempts = append(rep.Attempts, a)
		r.c.logf("search: full run %d: %s, %s", len(results), space.describe(a.GraphTrial), map[bool]string{true: "goal met", false: "goal missed"}[a.Met])
		return m, nil
	}
	best, met, err := refineKeep(ctx, goal, space.Steps(), from, safe, budget, full)
	if err != nil {
		return nil, err
	}
	rep.Met = met
	if !met {
		r.c.logf("search: goal missed after %d full runs; keeping the nearest, full run %d", len(results), best+1)
	} else {
		r.c.logf("search: keeping full run %d", best+1)
	}
	res := results[best]
	if best != len(results)-1 && out != "" {
		if err := dcz.WriteFile(out, res.File); err != nil {
			return nil, err
		}
	}
	res.Search = rep
	return res, nil
}

// nearest is the index of the try nearest the goal: the lowest metric
// (the smaller file on a tie), or the smallest file.
func nearest(goal SearchGoal, tries []SearchTrial) int {
	best := 0
	for i, t := range tries {
		b := tries[best]
		if goal.MaxBytes > 0 && t.Bytes < b.Bytes ||
			goal.MaxMetric > 0 && (t.Metric < b.Metric || t.Metric == b.Metric && t.Bytes < b.Bytes) {
			best = i
		}
	}
	return best
}

// autoSlack is the slack of a search that sets none, measured on the zoo:
// a classifier's agreement recovers far more in the full retraining than
// in the brief one (ResNet: 3.2 and 4.6 points lost after the brief one
// were 0.2 and 0.8 after the full one; MobileNet: 2.4 and 3.2 were 0.6
// and 0.8), a map's relative error much less (U-Net: 20.3 points were
// 11.0, about 6 were 4.0). Too much slack costs full runs bisecting back,
// too little full runs bisecting on.
var autoSlack = map[bool]float64{true: 8, false: 1.5}

func (r *graphRun) slack(s float64) float64 {
	if s == 0 {
		return autoSlack[r.classifier]
	}
	return s
}

// searchLoss is what a max-drop goal bounds: points of held-out accuracy
// lost against the original's when the samples have labels, else r.loss
// (points of agreement lost, or of relative error).
func (r *graphRun) searchLoss(f Fidelity) float64 {
	if orig := r.stages[0].Fidelity.Accuracy; r.classifier && orig >= 0 && f.Accuracy >= 0 {
		return 100 * (orig - f.Accuracy)
	}
	return r.loss(f)
}

// fullRun is the full recipe on candidate p from a fresh copy of g.
func (r *graphRun) fullRun(ctx context.Context, g *graph.Graph, space *graphSpace, p SearchPoint, out string) (*GraphResult, error) {
	student, err := nn.FromGraph(g.Clone(), r.sample, r.cfg.Seed)
	if err != nil {
		return nil, err
	}
	r.stages = r.stages[:1] // the original's row stays
	b := space.s.Bits[p.Option]
	r.cfg.ConvBits, r.cfg.FCBits = b[0], b[1]
	r.cfg.Tolerance = space.tols[p.Step]
	return r.finish(ctx, student, r.keepsAt(space.curves, space.tols[p.Step], true), out)
}

// graphSpace is the SearchSpace of a graph: ladder steps are the distinct
// tolerances, options the bit widths.
type graphSpace struct {
	r      *graphRun
	m      *nn.Model
	orig   nn.Snapshot
	curves []sensitivityCurve
	tols   []float64
	s      GraphSearch
	sub    nn.Dataset
}

func newGraphSpace(r *graphRun, m *nn.Model, curves []sensitivityCurve, s GraphSearch) *graphSpace {
	sp := &graphSpace{r: r, m: m, orig: m.Snapshot(), curves: curves, s: s, sub: r.train}
	var prev map[string]float64
	for _, t := range s.Tolerances {
		k := r.keepsAt(curves, t, false)
		if prev == nil || !sameKeeps(k, prev) {
			sp.tols = append(sp.tols, t)
		}
		prev = k
	}
	n := sp.sub.Len()
	if s.RetrainSamples > 0 && s.RetrainSamples < n {
		n = s.RetrainSamples
	}
	sp.sub.X = sp.sub.X[:n*sp.sub.Dim]
	sp.sub.Teacher = sp.sub.Teacher[:n*r.outSize]
	if sp.sub.Labels != nil {
		sp.sub.Labels = sp.sub.Labels[:n]
	}
	sp.sub.Augment, sp.sub.OnlineTeacher = nil, nil
	return sp
}

func sameKeeps(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (sp *graphSpace) Options() int { return len(sp.s.Bits) }
func (sp *graphSpace) Steps() int   { return len(sp.tols) }

// Evaluate prunes the original to p's fractions at once, retrains briefly
// when the metric is wanted, shares with p's bits and codes the file: its
// exact size, and the held-out loss. The student is restored after.
func (sp *graphSpace) Evaluate(ctx context.Context, p SearchPoint, withMetric bool) (SearchMeasure, error) {
	r, m := sp.r, sp.m
	defer m.Restore(sp.orig)
	rules := prune.Config{Layers: map[string]prune.Rule{}}
	for name, k := range r.keepsAt(sp.curves, sp.tols[p.Step], false) {
		if k < 1 {
			rules.Layers[name] = prune.Rule{Keep: k}
		}
	}
	if err := prune.Apply(m, rules); err != nil {
		return SearchMeasure{}, err
	}
	if withMetric && sp.s.Retrain.Epochs > 0 {
		tc := r.trainConfig(sp.s.Retrain)
		if err := nn.TrainContext(ctx, m, sp.sub, tc, nil, nil); err != nil {
			return SearchMeasure{}, err
		}
	}
	b := sp.s.Bits[p.Option]
	layers, err := shareWeights(m, b[0], b[1], r.cfg.Seed)
	if err != nil {
		return SearchMeasure{}, err
	}
	if withMetric {
		if err := sp.fineTune(ctx, layers); err != nil {
			return SearchMeasure{}, err
		}
	}
	file, err := modelfile.Pack(m, layers, nil)
	if err != nil {
		return SearchMeasure{}, err
	}
	file.Ancillary = r.ancillary()
	var n countWriter
	if err := dcz.Write(&n, file); err != nil {
		return SearchMeasure{}, err
	}
	meas := SearchMeasure{Bytes: int64(n), Metric: math.NaN()}
	if withMetric {
		meas.Metric = r.searchLoss(r.fidelity(m))
	}
	return meas, nil
}

// fineTune trains the codebooks as briefly as the pruned weights were
// (the full recipe's codebook schedule, Retrain's epochs): without it
// fewer bits look far worse than the full run makes them.
func (sp *graphSpace) fineTune(ctx context.Context, layers []*quantize.Layer) error {
	rc := sp.r.cfg.FineTune
	if rc.Epochs == 0 || sp.s.Retrain.Epochs == 0 {
		return nil
	}
	rc.Epochs = sp.s.Retrain.Epochs
	ft, err := finetune.New(sp.m, layers, rc.Momentum)
	if err != nil {
		return err
	}
	return nn.TrainContext(ctx, sp.m, sp.sub, sp.r.trainConfig(rc), ft, nil)
}

// trial is the graph form of a measured candidate.
func (sp *graphSpace) trial(t SearchTrial) GraphTrial {
	b := sp.s.Bits[t.Option]
	g := GraphTrial{Tolerance: sp.tols[t.Step], ConvBits: b[0], FCBits: b[1], Bytes: t.Bytes,
		Ratio: float64(sp.r.denseBytes) / float64(max(t.Bytes, 1)), Loss: t.Metric}
	if math.IsNaN(t.Metric) {
		g.Loss, g.SizeOnly = 0, true
	}
	return g
}

func (sp *graphSpace) describe(t GraphTrial) string {
	s := fmt.Sprintf("tolerance %g, bits %d/%d: %d bytes (%.1fx)", t.Tolerance, t.ConvBits, t.FCBits, t.Bytes, t.Ratio)
	if !t.SizeOnly {
		s += fmt.Sprintf(", loss %.2f points", t.Loss)
	}
	return s
}

// countWriter counts what is written to it.
type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countWriter)(nil)

// shareWeights shares m's weights through codebooks of convBits (conv
// kernels) or fcBits (the rest) bits and leaves the shared values in m.
func shareWeights(m *nn.Model, convBits, fcBits int, seed uint64) ([]*quantize.Layer, error) {
	bits := map[string]int{}
	for _, p := range m.Weights() {
		bits[p.Name] = fcBits
		if m.IsConv(p.Name) {
			bits[p.Name] = convBits
		}
	}
	layers, err := finetune.Quantize(m, bits, quantize.Options{Init: quantize.Linear, Seed: int64(seed)})
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		copy(m.Param(l.Name).Data, l.Dense())
	}
	return layers, nil
}

// GraphSearchTable is the search's table: every candidate measured, then
// every full run.
func GraphSearchTable(rep *GraphSearchReport) report.Table {
	t := report.Table{Header: []string{"run", "tolerance", "bits conv/fc", "bytes", "ratio", "held-out loss"}}
	row := func(kind string, g GraphTrial) {
		loss := "-"
		if !g.SizeOnly {
			loss = fmt.Sprintf("%.2f", g.Loss)
		}
		t.Rows = append(t.Rows, []string{kind, fmt.Sprint(g.Tolerance), fmt.Sprintf("%d/%d", g.ConvBits, g.FCBits),
			fmt.Sprint(g.Bytes), fmt.Sprintf("%.1fx", g.Ratio), loss})
	}
	for _, g := range rep.Trials {
		row(map[bool]string{true: "candidate (size)", false: "candidate"}[g.SizeOnly], g)
	}
	for i, a := range rep.Attempts {
		row(fmt.Sprintf("full %d (%s)", i+1, map[bool]string{true: "met", false: "missed"}[a.Met]), a.GraphTrial)
	}
	return t
}

// DescribeGraphSettings is one line naming the bits and every kept
// fraction of a recipe, by weight name.
func DescribeGraphSettings(cfg GraphConfig) string {
	names := slices.Sorted(maps.Keys(cfg.Keep))
	var b strings.Builder
	fmt.Fprintf(&b, "bits conv %d, fc %d; keep", cfg.ConvBits, cfg.FCBits)
	for _, n := range names {
		fmt.Fprintf(&b, " %s %.0f%%", n, 100*cfg.Keep[n])
	}
	return b.String()
}
