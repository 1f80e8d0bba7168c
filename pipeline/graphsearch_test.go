package pipeline

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/onnx"
)

// synthSpace is a known space: along the ladder the size falls and the
// metric rises, at rates set per option, with a bump that is not monotone
// in the option (so no option dominates).
type synthSpace struct {
	steps int
	calls int
}

func (s *synthSpace) Options() int { return 3 }
func (s *synthSpace) Steps() int   { return s.steps }
func (s *synthSpace) Evaluate(_ context.Context, p SearchPoint, withMetric bool) (SearchMeasure, error) {
	s.calls++
	return synthAt(p), nil
}

func synthAt(p SearchPoint) SearchMeasure {
	size := []float64{1000, 800, 900}[p.Option]
	slope := []float64{0.1, 0.35, 0.15}[p.Option]
	return SearchMeasure{Bytes: int64(size * math.Pow(0.9, float64(p.Step))), Metric: slope * float64(p.Step)}
}

// bruteForce is the optimum by measuring every point.
func bruteForce(steps int, goal SearchGoal) (SearchPoint, bool) {
	var best SearchTrial
	found := false
	for o := range 3 {
		for s := range steps {
			t := SearchTrial{SearchPoint{o, s}, synthAt(SearchPoint{o, s})}
			if goal.Meets(t.SearchMeasure) && (!found || goal.better(t, best)) {
				best, found = t, true
			}
		}
	}
	return best.SearchPoint, found
}

func TestSearchFindsTheOptimum(t *testing.T) {
	for _, goal := range []SearchGoal{{MaxMetric: 1}, {MaxMetric: 2.05}, {MaxMetric: 0.01}, {MaxBytes: 300}, {MaxBytes: 500}, {MaxBytes: 150}} {
		space := &synthSpace{steps: 30}
		got, err := Search(context.Background(), space, goal, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := bruteForce(30, goal)
		if got.Feasible != ok || (ok && got.Best.SearchPoint != want) {
			t.Errorf("goal %+v: got %+v feasible %v, want %+v feasible %v", goal, got.Best, got.Feasible, want, ok)
		}
		if ok && !goal.Meets(got.Best.SearchMeasure) {
			t.Errorf("goal %+v: best %+v breaks the bound", goal, got.Best)
		}
		// Bisection: at most ceil(log2(31)) = 5 points per option, plus
		// the metric of each option's answer under a size bound.
		if space.calls > 3*6 || len(got.Trials) != space.calls {
			t.Errorf("goal %+v: %d evaluations, %d trials (exhaustive: 90)", goal, space.calls, len(got.Trials))
		}
	}
}

func TestSearchNearestMissAndErrors(t *testing.T) {
	// 0.001 bytes: unreachable; the nearest miss is the smallest file.
	got, err := Search(context.Background(), &synthSpace{steps: 10}, SearchGoal{MaxBytes: 1}, nil)
	if err != nil || got.Feasible || got.Best.Bytes != synthAt(SearchPoint{1, 9}).Bytes {
		t.Fatalf("unreachable size: %+v, %v", got, err)
	}
	if _, err := Search(context.Background(), &synthSpace{steps: 10}, SearchGoal{MaxMetric: 1, MaxBytes: 5}, nil); err == nil {
		t.Error("a goal bounding both accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Search(ctx, &synthSpace{steps: 10}, SearchGoal{MaxMetric: 1}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
}

// TestSearchGraphMeetsMaxDrop searches settings for the zoo's MLP with a
// few hundred of its own test-like inputs and checks the bound on what the
// run measures (the held-out loss of the file read back), the file's size
// against the report, and that the written settings repeat the run.
func TestSearchGraphMeetsMaxDrop(t *testing.T) {
	g, err := onnx.ImportGraphFile("../testdata/zoo/mlp_op17.onnx")
	if err != nil {
		t.Fatal(err)
	}
	data := mlpSamples(t, 300)
	cfg := DefaultGraphConfig()
	cfg.Prune.Epochs, cfg.FineTune.Epochs, cfg.HeldOut = 3, 1, 0.3
	s := DefaultGraphSearch()
	s.MaxDrop, s.RetrainSamples = 5, 100
	s.Tolerances = []float64{1, 4, 16, 64}
	c := &GraphCompressor{Config: cfg}
	out := filepath.Join(t.TempDir(), "mlp.dcz")
	res, err := c.SearchGraph(context.Background(), g, data, out, s)
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Search
	if rep == nil || len(rep.Trials) == 0 || len(rep.Attempts) == 0 || len(rep.Attempts) > 1+s.Retries {
		t.Fatalf("report %+v", rep)
	}
	last := res.Stages[len(res.Stages)-1]
	loss := 100 * (1 - last.Fidelity.Agreement)
	if !rep.Met || loss > s.MaxDrop || last.Name != "huffman" {
		t.Fatalf("goal met %v, %s loses %.2f points (bound %v)", rep.Met, last.Name, loss, s.MaxDrop)
	}
	if a := rep.Attempts[len(rep.Attempts)-1]; a.Bytes != last.Bytes || a.Loss != loss {
		t.Errorf("attempt %+v, file stage %+v", a, last)
	}
	if last.Ratio < 4 {
		t.Errorf("ratio %.1f: the search compressed little", last.Ratio)
	}
	if _, err := dcz.ReadFile(out); err != nil {
		t.Fatal(err)
	}
	// The settings chosen, given back as a recipe, repeat the file.
	again := &GraphCompressor{Config: res.Config}
	res2, err := again.CompressGraph(context.Background(), g, data, filepath.Join(t.TempDir(), "again.dcz"))
	if err != nil {
		t.Fatal(err)
	}
	if l2 := res2.Stages[len(res2.Stages)-1]; l2.Bytes != last.Bytes || l2.Fidelity != last.Fidelity {
		t.Errorf("rerun from the chosen settings: %+v, search's file %+v", l2, last)
	}
}

// mlpSamples are the first n MNIST test digits: inputs of the MLP's
// shape (it was trained on Fashion-MNIST, so it is the agreement with
// the original, not accuracy, that means something here).
func mlpSamples(t *testing.T, n int) Samples {
	t.Helper()
	test, err := mnist.LoadTest("")
	if err != nil {
		t.Fatal(err)
	}
	return Samples{X: test.Normalized(mnist.Mean, mnist.Std)[:n*784], Shape: []int{1, 28, 28}}
}

// TestRefineBisects checks the full-measurement phase on a ladder whose
// full metric is known: from the optimistic step it bisects back towards
// the safe one, or on towards the ladder's end, keeps the least cautious
// step that met, and stays within its budget.
func TestRefineBisects(t *testing.T) {
	goal := SearchGoal{MaxMetric: 1}
	full := func(limit int) func(context.Context, SearchPoint) (SearchMeasure, error) {
		return func(_ context.Context, p SearchPoint) (SearchMeasure, error) {
			m := 0.0
			if p.Step > limit {
				m = 2 // misses the bound
			}
			return SearchMeasure{Bytes: int64(100 - p.Step), Metric: m}, nil
		}
	}
	for _, c := range []struct {
		from, safe, limit, budget int
		steps                     []int // the steps tried, in order
		best                      int   // index into steps, -1: none met
	}{
		{from: 8, safe: 0, limit: 9, budget: 3, steps: []int{8, 9}, best: 1},
		{from: 4, safe: 0, limit: 7, budget: 3, steps: []int{4, 7, 8}, best: 1}, // onwards from a point that met
		{from: 8, safe: 0, limit: 5, budget: 3, steps: []int{8, 4, 6}, best: 1},
		{from: 8, safe: 0, limit: 5, budget: 4, steps: []int{8, 4, 6, 5}, best: 3},
		{from: 8, safe: 2, limit: 0, budget: 5, steps: []int{8, 5, 3, 2, 1}, best: -1},
		{from: 8, safe: 2, limit: 0, budget: 6, steps: []int{8, 5, 3, 2, 1, 0}, best: 5},
		{from: 3, safe: 3, limit: 1, budget: 3, steps: []int{3, 2, 1}, best: 2}, // one step at a time past safe
	} {
		tries, best, err := Refine(context.Background(), goal, 10, SearchPoint{1, c.from}, c.safe, c.budget, full(c.limit))
		if err != nil {
			t.Fatal(err)
		}
		var steps []int
		for _, tr := range tries {
			steps = append(steps, tr.Step)
			if tr.Option != 1 {
				t.Fatalf("option changed: %+v", tr)
			}
		}
		if !slices.Equal(steps, c.steps) || best != c.best {
			t.Errorf("%+v: tried %v, best %d", c, steps, best)
		}
	}
	// A size bound backs off towards more compression, one step a try.
	tries, best, _ := Refine(context.Background(), SearchGoal{MaxBytes: 95}, 10, SearchPoint{0, 2}, 2, 9,
		func(_ context.Context, p SearchPoint) (SearchMeasure, error) {
			return SearchMeasure{Bytes: int64(100 - p.Step)}, nil
		})
	if len(tries) != 4 || best != 3 || tries[3].Step != 5 {
		t.Errorf("size bound: %+v, best %d", tries, best)
	}
}
