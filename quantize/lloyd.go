package quantize

import (
	"container/heap"
	"math"
	"slices"
)

// lloyd runs Lloyd's algorithm from the ascending centroids c, updating
// them in place, and returns the iterations run and whether it stopped
// before MaxIter. Iterations follow scikit-learn's loop: assign, update,
// stop if the assignment equals the previous one or (for Tol > 0) the
// centroids moved by at most Tol*variance in total (squared).
func (s *sortedData) lloyd(c []float64, opt Options) (int, bool) {
	maxIter := opt.MaxIter
	if maxIter == 0 {
		maxIter = DefaultMaxIter
	}
	tol := -1.0 // no move is that small
	if opt.Tol > 0 {
		tol = opt.Tol * s.variance()
	}
	k := len(c)
	ends, prev := make([]int, k), make([]int, k)
	st := &lloydState{sum: make([]float64, k), cnt: make([]int, k), same: make([]bool, k)}
	for it := 1; it <= maxIter; it++ {
		if it == 1 {
			s.partition(c, ends)
		} else {
			s.repartition(c, ends, prev, st.same)
			if slices.Equal(ends, prev) {
				return it, true
			}
		}
		moved := s.update(c, ends, prev, st)
		ends, prev = prev, ends
		if moved <= tol {
			return it, true
		}
	}
	return maxIter, false
}

// lloydState is what one iteration leaves to the next. Near a fixed point
// most runs and centroids stay as they were or move by a few values;
// updating their sums by those values and galloping from the old ends
// makes an iteration cost little more than O(k).
type lloydState struct {
	sum   []float64 // per cluster sum of x over its run
	cnt   []int
	same  []bool // centroid j did not move in the last update
	valid bool   // sum holds the sums of the runs ending at prev
	empty []int
	moved []relocation
}

// relocation records that the empty cluster's centroid moves onto x.
type relocation struct {
	cluster int
	x       float64
}

// partition sets ends[j] to the end of cluster j in the sorted values:
// cluster j is the run of values in ((c_{j-1}+c_j)/2, (c_j+c_{j+1})/2], found
// by binary search, so a value halfway between goes to the lower centroid.
func (s *sortedData) partition(c []float64, ends []int) {
	lo := 0
	for j := range len(c) - 1 {
		lo = s.upper(lo, (c[j]+c[j+1])/2)
		ends[j] = lo
	}
	ends[len(c)-1] = s.n()
}

// repartition is partition for centroids that moved little since the
// runs ended at old: an end between two centroids that did not move stays,
// the others are found by galloping from their old place, in O(log d) for
// a move of d values, instead of O(log n).
func (s *sortedData) repartition(c []float64, ends, old []int, same []bool) {
	for j := range len(c) - 1 {
		if same[j] && same[j+1] {
			ends[j] = old[j]
		} else {
			ends[j] = s.upperNear(old[j], (c[j]+c[j+1])/2)
		}
	}
	ends[len(c)-1] = s.n()
}

// update moves every centroid to the mean of its run, relocates the
// centroids of empty runs, keeps c ascending and returns
// sum_j (c_j' - c_j)^2. The sums of the runs are updated from those of
// the runs ending at prev when st.valid.
func (s *sortedData) update(c []float64, ends, prev []int, st *lloydState) float64 {
	st.empty = st.empty[:0]
	start, pstart := 0, 0
	for j, e := range ends {
		if st.valid {
			st.sum[j] = s.resum(st.sum[j], pstart, prev[j], start, e)
		} else {
			st.sum[j] = s.rangeSum(start, e)
		}
		st.cnt[j] = e - start
		if e == start {
			st.empty = append(st.empty, j)
		}
		start, pstart = e, prev[j]
	}
	st.moved = st.moved[:0]
	if len(st.empty) > 0 {
		s.relocate(c, ends, st)
	}
	moved := 0.0
	for j := range c {
		st.same[j] = true
		if st.cnt[j] > 0 {
			nc := st.sum[j] / float64(st.cnt[j])
			moved += (nc - c[j]) * (nc - c[j])
			st.same[j] = nc == c[j]
			c[j] = nc
		}
	}
	for _, r := range st.moved {
		moved += (r.x - c[r.cluster]) * (r.x - c[r.cluster])
		c[r.cluster] = r.x
	}
	// A relocation changed sums and, after sorting, the order of the
	// centroids: the next iteration starts afresh.
	st.valid = len(st.moved) == 0
	if !st.valid {
		slices.Sort(c)
		clear(st.same)
	}
	return moved
}

// resum returns the sum over the run [a, e) given the sum over the run
// [pa, pe): unchanged if the run is, else updated by the values that
// entered or left when they are few, else summed afresh. An update that
// cancels more than 8 bits of the old sum (large values left, small ones
// stay) is redone afresh, so that the rounding stays that of the run's own
// values.
func (s *sortedData) resum(sum float64, pa, pe, a, e int) float64 {
	if a == pa && e == pe {
		return sum
	}
	if abs(a-pa)+abs(e-pe) > 4*blockLen {
		return s.rangeSum(a, e)
	}
	ns := sum
	if a < pa {
		ns += s.direct(a, pa)
	} else {
		ns -= s.direct(pa, a)
	}
	if e > pe {
		ns += s.direct(pe, e)
	} else {
		ns -= s.direct(e, pe)
	}
	if math.Abs(ns)*256 < math.Abs(sum) {
		return s.rangeSum(a, e)
	}
	return ns
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// relocate gives each empty cluster, as scikit-learn does, one of the
// values farthest from the centroid of their cluster, taking that value
// out of its cluster's sum. In one dimension the farthest values sit at
// the two ends of each run, so a heap over the 2k run ends yields them in
// order. Only distinct values are taken, so that two relocated centroids
// never coincide.
func (s *sortedData) relocate(c []float64, ends []int, st *lloydState) {
	h := &frontHeap{}
	start := 0
	for j, e := range ends {
		if e > start {
			h.add(s, front{pos: start, end: e, step: 1, cluster: j, c: c[j]})
			h.add(s, front{pos: e - 1, end: start - 1, step: -1, cluster: j, c: c[j]})
		}
		start = e
	}
	heap.Init(h)
	for _, e := range st.empty {
		if h.Len() == 0 || (*h)[0].dist == 0 {
			return
		}
		f := heap.Pop(h).(front)
		x := s.at(f.pos)
		st.sum[f.cluster] -= x
		st.cnt[f.cluster]--
		st.moved = append(st.moved, relocation{e, x})
		for f.pos != f.end && s.at(f.pos) == x {
			f.pos += f.step
		}
		if f.valid(s) {
			f.dist = (s.at(f.pos) - f.c) * (s.at(f.pos) - f.c)
			heap.Push(h, f)
		}
	}
}

// front walks one end of a cluster's run towards its centroid: the left
// front over values <= c, the right front over values > c, so that the
// two never meet and distances only shrink.
type front struct {
	pos, end, step int // next position, the position past the run, +1 or -1
	cluster        int
	c, dist        float64
}

func (f *front) valid(s *sortedData) bool {
	if f.pos == f.end {
		return false
	}
	if f.step > 0 {
		return s.at(f.pos) <= f.c
	}
	return s.at(f.pos) > f.c
}

type frontHeap []front

func (h *frontHeap) add(s *sortedData, f front) {
	if f.valid(s) {
		f.dist = (s.at(f.pos) - f.c) * (s.at(f.pos) - f.c)
		*h = append(*h, f)
	}
}

func (h frontHeap) Len() int           { return len(h) }
func (h frontHeap) Less(i, j int) bool { return h[i].dist > h[j].dist }
func (h frontHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *frontHeap) Push(x any)        { *h = append(*h, x.(front)) }
func (h *frontHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	*h = old[:len(old)-1]
	return f
}
