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
	return NewSearcher(space, report).Search(ctx, goal)
}

// Searcher searches one space for one or more goals, measuring each point
// at most once across them.
type Searcher struct {
	space  SearchSpace
	report func(SearchTrial)
	seen   map[SearchPoint]SearchMeasure
	trials []SearchTrial
}

// NewSearcher is a searcher of space; report, when set, is called after
// every measurement.
func NewSearcher(space SearchSpace, report func(SearchTrial)) *Searcher {
	return &Searcher{space: space, report: report, seen: map[SearchPoint]SearchMeasure{}}
}

// Search is the package-level Search with this searcher's measurements;
// the outcome's Trials are all of them so far.
func (s *Searcher) Search(ctx context.Context, goal SearchGoal) (SearchOutcome, error) {
	if err := goal.Validate(); err != nil {
		return SearchOutcome{}, err
	}
	if s.space.Options() < 1 || s.space.Steps() < 1 {
		return SearchOutcome{}, errors.New("pipeline: the search space is empty")
	}
	var best *SearchTrial
	for o := range s.space.Options() {
		t, ok, err := s.Boundary(ctx, goal, o)
		if err != nil {
			return SearchOutcome{Trials: s.trials}, err
		}
		if ok && (best == nil || goal.better(t, *best)) {
			best = &t
		}
	}
	if best != nil {
		return SearchOutcome{Best: *best, Feasible: true, Trials: s.trials}, nil
	}
	return SearchOutcome{Best: s.nearestMiss(goal), Trials: s.trials}, nil
}

// better ranks two points that both meet the goal.
func (g SearchGoal) better(a, b SearchTrial) bool {
	if g.MaxBytes > 0 {
		return a.Metric < b.Metric || (a.Metric == b.Metric && a.Bytes < b.Bytes)
	}
	return a.Bytes < b.Bytes || (a.Bytes == b.Bytes && a.Metric < b.Metric)
}

// measure evaluates p once per kind (a size-only measure is redone when
// the metric is wanted).
func (s *Searcher) measure(ctx context.Context, p SearchPoint, withMetric bool) (SearchMeasure, error) {
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
	s.trials = append(s.trials, t)
	if s.report != nil {
		s.report(t)
	}
	return m, nil
}

// Boundary bisects option o's ladder for the goal's boundary: the last
// step within a metric bound, or the first within a size bound (then
// measuring its metric); false when no step is within.
func (s *Searcher) Boundary(ctx context.Context, goal SearchGoal, o int) (SearchTrial, bool, error) {
	if err := goal.Validate(); err != nil {
		return SearchTrial{}, false, err
	}
	n := s.space.Steps()
	sizeOnly := goal.MaxBytes > 0
	// Invariant: steps <= lo meet the goal and steps >= hi do not (the
	// metric bound), or the reverse (the size bound); -1 and n are virtual.
	lo, hi := -1, n
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		m, err := s.measure(ctx, SearchPoint{o, mid}, !sizeOnly)
		if err != nil {
			return SearchTrial{}, false, err
		}
		if goal.Meets(m) != sizeOnly {
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
func (s *Searcher) nearestMiss(goal SearchGoal) SearchTrial {
	var best SearchTrial
	for i, t := range s.trials {
		closer := t.Bytes < best.Bytes
		if goal.MaxMetric > 0 {
			closer = t.Metric < best.Metric || math.IsNaN(best.Metric)
		}
		if i == 0 || closer {
			best = t
		}
	}
	return best
}

// Refine checks candidates with a fuller, dearer measurement (full), at
// most budget times, along one option's ladder, by bisection. from is the
// point the cheap search chose; safe is the step it considers sure, on the
// cautious side of from (lower for a metric bound, higher for a size
// bound). from is tried first. While nothing met, Refine bisects between
// the lowest miss and safe, and past safe backs off one step at a time;
// once a point met, it bisects between it and the nearest miss, for a
// metric bound up to the ladder's end (the cheap metric is pessimistic,
// so from may be well within the bound), for a size bound not past from
// (the cheap size is exact up to the coding of other positions). It
// returns the tries in order and the index of the least cautious one that
// met the goal (-1 when none did).
func Refine(ctx context.Context, goal SearchGoal, steps int, from SearchPoint, safe int, budget int,
	full func(context.Context, SearchPoint) (SearchMeasure, error)) ([]SearchTrial, int, error) {
	if err := goal.Validate(); err != nil {
		return nil, -1, err
	}
	// In x = u(step), points that meet the goal come first, and larger x
	// compress more (metric bound) or lose less (size bound).
	u := func(step int) int { return step }
	top := steps - 1
	if goal.MaxBytes > 0 {
		u = func(step int) int { return steps - 1 - step }
		top = u(from.Step)
	}
	xSafe := min(u(safe), u(from.Step))
	lo, hi := -1, top+1 // the largest x that met (-1: none yet), the smallest that missed
	var tries []SearchTrial
	best := -1
	for x := u(from.Step); len(tries) < budget && x >= 0 && x <= top; {
		if err := ctx.Err(); err != nil {
			return tries, best, err
		}
		p := SearchPoint{from.Option, u(x)}
		m, err := full(ctx, p)
		if err != nil {
			return tries, best, err
		}
		tries = append(tries, SearchTrial{p, m})
		if goal.Meets(m) {
			lo, best = x, len(tries)-1
		} else {
			hi = x
		}
		switch {
		case lo >= 0 && hi-lo <= 1:
			return tries, best, nil
		case lo >= 0:
			x = lo + (hi-lo)/2
		case hi > xSafe:
			x = hi - (hi-xSafe+1)/2
		default:
			x = hi - 1
		}
	}
	return tries, best, nil
}

// refineKeep is Refine followed by the choice of the full run to keep: the
// least cautious that met the goal (met), or else the nearest miss. It
// fails when Refine made no full run.
func refineKeep(ctx context.Context, goal SearchGoal, steps int, from SearchPoint, safe int, budget int,
	full func(context.Context, SearchPoint) (SearchMeasure, error)) (keep int, met bool, err error) {
	tries, best, err := Refine(ctx, goal, steps, from, safe, budget, full)
	switch {
	case err != nil:
		return -1, false, err
	case len(tries) == 0:
		return -1, false, errors.New("pipeline: the search ran no full run")
	case best >= 0:
		return best, true, nil
	}
	return nearest(goal, tries), false, nil
}
