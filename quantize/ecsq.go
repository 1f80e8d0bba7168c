package quantize

import (
	"math"
	"slices"
)

// Entropy-constrained scalar quantization (ECSQ; Chou, Lookabaugh and
// Gray, "Entropy-constrained vector quantization", IEEE Trans. ASSP 37(1),
// 1989), the rate-aware weight sharing of Options.Lambda.
//
// The indices are entropy coded, so a cluster's real cost is not only the
// squared error of its values but also the bits of its index. ECSQ
// minimises the Lagrangian
//
//	J = sum_i (x_i - c_{a(i)})^2 + lambda * s^2 * sum_i L_{a(i)},
//	L_k = -log2 p_k,  p_k = n_k / n,
//
// where L_k is the ideal code length of index k under the index
// frequencies and s^2 the variance of the values, so that lambda is free
// of the weights' scale: one bit of index is worth lambda*s^2 of squared
// error. It alternates three steps, none of which can raise J:
//
//	(a) assign each x to argmin_k (x - c_k)^2 + lambda*s^2*L_k,
//	(b) move each c_k to the mean of its values,
//	(c) set p_k to the frequencies of (a), dropping clusters left empty,
//
// until (a) changes nothing. Rare clusters have long codes, so they lose
// their border values to their neighbours and may vanish: the codebook
// can end smaller than 2^b, and the indices' entropy falls while the
// distortion rises, by an amount lambda sets.
//
// The assignment stays a partition of the sorted values into runs: the
// costs f_k(x) = x^2 - 2c_k x + c_k^2 + a_k (a_k = lambda*s^2*L_k) are
// parabolas of equal curvature, so f_j - f_m is linear in x and the
// minimum over k is the lower envelope of the lines -2c_k x + c_k^2 + a_k.
// Their slopes fall as c_k rises, so the envelope visits the clusters in
// ascending order of c_k, each over one interval, cluster j giving way to
// the next cluster m on it at
//
//	x_jm = (c_m^2 + a_m - c_j^2 - a_j) / (2 (c_m - c_j)),
//
// which for a_j = a_m is the midpoint of Lloyd's algorithm. A cluster
// whose line is nowhere lowest (the convex-hull trick drops it in O(k))
// gets no values. Each iteration then costs O(k log n), as Lloyd's does.
//
// ECSQ starts from the k-means result (Lloyd's fixed point or the optimal
// clustering), so lambda = 0 is exactly that result.

// ecsq refines the ascending centroids c, each with at least one value,
// by entropy-constrained iterations (see above) and returns the final
// centroids, the upper breakpoint of each one's interval (the last is
// +Inf), the ends of their runs in the sorted values, the iterations run
// and whether they reached a fixed point.
func (s *sortedData) ecsq(c []float64, lambda float64, maxIter int) (cent, cuts []float64, ends []int, iters int, converged bool) {
	if maxIter == 0 {
		maxIter = DefaultMaxIter
	}
	weight := lambda * s.variance()
	cent = slices.Clone(c)
	ends = make([]int, len(cent))
	s.partition(cent, ends)
	for it := 1; it <= maxIter; it++ {
		nc, ncuts, nends := s.ecsqAssign(cent, runLengths(ends), weight)
		if slices.Equal(nends, ends) {
			return cent, ncuts, ends, it, true
		}
		cent, cuts, ends = nc, ncuts, nends
		start := 0
		for j, e := range ends {
			cent[j] = s.rangeSum(start, e) / float64(e-start)
			start = e
		}
	}
	// Not converged: the breakpoints of the last centroids, for the
	// last run ends.
	cent, cuts, ends = s.ecsqAssign(cent, runLengths(ends), weight)
	return cent, cuts, ends, maxIter, false
}

// ecsqAssign is step (a): it partitions the sorted values by the lower
// envelope of the costs (x - c_k)^2 + weight*L_k, L_k from the run sizes
// cnt, and returns the clusters that get values, the breakpoint ending
// each one's interval and the ends of their runs.
func (s *sortedData) ecsqAssign(c []float64, cnt []int, weight float64) ([]float64, []float64, []int) {
	hc, hcuts := envelope(c, codeCosts(cnt, s.n(), weight))
	hends := make([]int, len(hc))
	lo := 0
	for j, b := range hcuts {
		lo = s.upper(lo, b)
		hends[j] = lo
	}
	return dropEmpty(hc, hcuts, hends)
}

// runLengths returns the size of each run given the run ends.
func runLengths(ends []int) []int {
	cnt := make([]int, len(ends))
	start := 0
	for j, e := range ends {
		cnt[j] = e - start
		start = e
	}
	return cnt
}

// codeCosts returns a_k = weight * -log2(cnt_k / n): the rate term of
// each cluster, +Inf for an empty one.
func codeCosts(cnt []int, n int, weight float64) []float64 {
	a := make([]float64, len(cnt))
	for k, m := range cnt {
		if m == 0 {
			a[k] = math.Inf(1)
			continue
		}
		a[k] = -weight * math.Log2(float64(m)/float64(n))
	}
	return a
}

// envelope returns the clusters of the lower envelope of the costs
// (x - c_k)^2 + a_k over x, in ascending order, and the upper breakpoint
// of each one's interval (+Inf for the last): x <= cut goes to the lower
// cluster, so a value at a breakpoint takes the lower one, as in Lloyd's
// partition. c must be strictly ascending.
func envelope(c, a []float64) (hc, cuts []float64) {
	type line struct{ c, b float64 } // cost x^2 - 2c x + b
	var st []line
	var bp []float64 // bp[i]: where st[i+1] takes over from st[i]
	for k, ck := range c {
		if math.IsInf(a[k], 1) {
			continue
		}
		l := line{ck, ck*ck + a[k]}
		if n := len(st); n > 0 && st[n-1].c == l.c { // equal centroids: the cheaper one
			if l.b >= st[n-1].b {
				continue
			}
			st = st[:n-1]
			if len(bp) > 0 {
				bp = bp[:len(bp)-1]
			}
		}
		for len(st) > 0 {
			top := st[len(st)-1]
			x := (l.b - top.b) / (2 * (l.c - top.c))
			if len(bp) > 0 && bp[len(bp)-1] >= x {
				st, bp = st[:len(st)-1], bp[:len(bp)-1]
				continue
			}
			bp = append(bp, x)
			break
		}
		st = append(st, l)
	}
	hc = make([]float64, len(st))
	for i, l := range st {
		hc[i] = l.c
	}
	return hc, append(bp, math.Inf(1))
}

// dropEmpty keeps the clusters whose run is not empty, each with the
// breakpoint that ends its run. A dropped cluster's interval held no
// value, so every value keeps its cluster.
func dropEmpty(c, cuts []float64, ends []int) ([]float64, []float64, []int) {
	var kc, kcuts []float64
	var kends []int
	start := 0
	for j, e := range ends {
		if e > start {
			kc, kcuts, kends = append(kc, c[j]), append(kcuts, cuts[j]), append(kends, e)
		} else if len(kcuts) > 0 {
			// The previous kept cluster's run also ends at this
			// breakpoint: no value lies between the two.
			kcuts[len(kcuts)-1] = cuts[j]
		}
		start = e
	}
	if len(kcuts) > 0 {
		kcuts[len(kcuts)-1] = math.Inf(1)
	}
	return kc, kcuts, kends
}

// finishECSQ is finish for an entropy-constrained result: the centroids
// are rounded to float32 (two that meet are merged into one run) and each
// value goes to the run between the breakpoints, not to its nearest
// centroid.
func (s *sortedData) finishECSQ(values []float32, cent, cuts []float64, ends []int, workers int) ([]float32, []uint16, float64) {
	var kept []float32
	var kcuts []float64
	var kends []int
	for j, c := range cent {
		c32 := float32(c)
		if len(kept) > 0 && kept[len(kept)-1] == c32 {
			kcuts[len(kcuts)-1], kends[len(kends)-1] = cuts[j], ends[j]
			continue
		}
		kept, kcuts, kends = append(kept, c32), append(kcuts, cuts[j]), append(kends, ends[j])
	}
	inertia := s.inertia(kept, kends, workers)
	return kept, assignCuts(values, kcuts[:len(kcuts)-1], workers), inertia
}
