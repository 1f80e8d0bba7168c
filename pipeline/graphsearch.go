package pipeline

import (
	"context"
	"errors"
	"math"
)

// The settings search, independent of what is compressed: a space of
// candidate settings, each measured by its exact size in bytes and a
// metric (a loss: smaller is better), and a goal bounding one of the two.
//
// The space has two axes. Options are unordered alternatives (bit widths,
// say); Steps are an ordered ladder (a tolerance) along which, for any one
// option, the size falls and the metric rises. Monotone along the ladder,
// the boundary of the goal is found per option by bisection:
// ceil(log2(Steps+1)) measurements per option instead of Steps, and the
// best option's point is the answer. Measurements are cached, so a point
// is never measured twice.

// SearchPoint is one candidate: option Option at ladder step Step.
type SearchPoint struct{ Option, Step int }

// SearchMeasure is what a candidate costs: its exact size, and its metric
// (NaN when only the size was asked for).
type SearchMeasure struct {
	Bytes  int64
	Metric float64
}

// SearchSpace is what the search walks. Evaluate gives p's size, and its
// metric when withMetric is set (the size alone may be much cheaper).
type SearchSpace interface {
	Options() int
	Steps() int
	Evaluate(ctx context.Context, p SearchPoint, withMetric bool) (SearchMeasure, error)
}

// SearchGoal bounds the metric (the smallest file within it is sought) or
// the size (the lowest metric within it is sought): exactly one is set.
type SearchGoal struct {
	MaxMetric float64
	MaxBytes  int64
}

// Validate rejects a goal that bounds neither or both.
func (g SearchGoal) Validate() error {
	if (g.MaxMetric > 0) == (g.MaxBytes > 0) {
		return errors.New("pipeline: a search bounds either the metric or the size, exactly one of them, by a positive number")
	}
	return nil
}

// Meets says whether m is within the goal.
func (g SearchGoal) Meets(m SearchMeasure) bool {
	if g.MaxBytes > 0 {
		return m.Bytes <= g.MaxBytes
	}
	return m.Metric <= g.MaxMetric // false for NaN
}

// Backoff is the point to try after p failed the goal in a fuller
// measurement than the search's: one step less compression when the
// metric was bounded, one step more when the size was; false past the
// ladder's end.
func (g SearchGoal) Backoff(p SearchPoint, steps int) (SearchPoint, bool) {
	if g.MaxBytes > 0 {
		p.Step++
	} else {
		p.Step--
	}
	return p, p.Step >= 0 && p.Step < steps
}

// SearchTrial is one measured candidate.
type SearchTrial struct {
	SearchPoint
	SearchMeasure
}

// SearchOutcome is the search's answer: Best meets the goal when Feasible
// is set; otherwise it is the nearest miss (the lowest metric, or the
// smallest size, measured). Trials lists every measurement in order.
type SearchOutcome struct {
	Best     SearchTrial
	Feasible bool
	Trials   []SearchTrial
}

// Search finds the best point of space for goal: with a metric bound the
// smallest size whose metric is within it, with a size bound the lowest
// metric within it. report, when set, is called after every measurement.
func Search(ctx context.Context, space SearchSpace, goal SearchGoal, report func(SearchTrial)) (SearchOutcome, error) {
	if err := goal.Validate(); err != nil {
		return SearchOutcome{}, err
	}
	if space.Options() < 1 || space.Steps() < 1 {
		return SearchOutcome{}, errors.New("pipeline: the search space is empty")
	}
	s := &searcher{space: space, goal: goal, report: report, seen: map[SearchPoint]SearchMeasure{}}
	var best *SearchTrial
	for o := range space.Options() {
		t, ok, err := s.bestOf(ctx, o)
		if err != nil {
			return s.out, err
		}
		if ok && (best == nil || goal.better(t, *best)) {
			best = &t
		}
	}
	if best != nil {
		s.out.Best, s.out.Feasible = *best, true
		return s.out, nil
	}
	s.out.Best = s.nearestMiss()
	return s.out, nil
}

// better ranks two points that both meet the goal.
func (g SearchGoal) better(a, b SearchTrial) bool {
	if g.MaxBytes > 0 {
		return a.Metric < b.Metric || (a.Metric == b.Metric && a.Bytes < b.Bytes)
	}
	return a.Bytes < b.Bytes || (a.Bytes == b.Bytes && a.Metric < b.Metric)
}

type searcher struct {
	space  SearchSpace
	goal   SearchGoal
	report func(SearchTrial)
	seen   map[SearchPoint]SearchMeasure
	out    SearchOutcome
}

// measure evaluates p once per kind (a size-only measure is redone when
// the metric is wanted).
func (s *searcher) measure(ctx context.Context, p SearchPoint, withMetric bool) (SearchMeasure, error) {
	if m, ok := s.seen[p]; ok && (!withMetric || !math.IsNaN(m.Metric)) {
		return m, nil
	}
	if err := ctx.Err(); err != nil {
		return SearchMeasure{}, err
	}
	m, err := s.space.Evaluate(ctx, p, withMetric)
	if err != nil {
		return m, err
	}
	if !withMetric {
		m.Metric = math.NaN()
	}
	s.seen[p] = m
	t := SearchTrial{p, m}
	s.out.Trials = append(s.out.Trials, t)
	if s.report != nil {
		s.report(t)
	}
	return m, nil
}

// bestOf bisects option o's ladder for the goal's boundary: the last step
// within a metric bound, or the first within a size bound (then measuring
// its metric).
func (s *searcher) bestOf(ctx context.Context, o int) (SearchTrial, bool, error) {
	n := s.space.Steps()
	sizeOnly := s.goal.MaxBytes > 0
	// Invariant: steps <= lo meet the goal and steps >= hi do not (the
	// metric bound), or the reverse (the size bound); -1 and n are virtual.
	lo, hi := -1, n
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		m, err := s.measure(ctx, SearchPoint{o, mid}, !sizeOnly)
		if err != nil {
			return SearchTrial{}, false, err
		}
		if s.goal.Meets(m) != sizeOnly {
			lo = mid
		} else {
			hi = mid
		}
	}
	step := lo
	if sizeOnly {
		step = hi
	}
	if step < 0 || step >= n {
		return SearchTrial{}, false, nil
	}
	p := SearchPoint{o, step}
	m, err := s.measure(ctx, p, true)
	return SearchTrial{p, m}, err == nil, err
}

// nearestMiss is the measured point closest to the goal.
func (s *searcher) nearestMiss() SearchTrial {
	var best SearchTrial
	for i, t := range s.out.Trials {
		closer := t.Bytes < best.Bytes
		if s.goal.MaxMetric > 0 {
			closer = t.Metric < best.Metric || math.IsNaN(best.Metric)
		}
		if i == 0 || closer {
			best = t
		}
	}
	return best
}
