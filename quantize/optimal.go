package quantize

import (
	"fmt"
	"math"
)

// MaxOptimalCells bounds the back-pointer table of the exact clustering,
// (k-1)*(d-k+1) int32 entries for d distinct values: 2^27 entries is 512
// MiB, enough for 10^6 distinct values and k = 128.
const MaxOptimalCells = 1 << 27

// optimal returns the centroids of a globally optimal clustering of the
// values into k clusters (k < distinct values), by the dynamic programme
// of Ckmeans.1d.dp (Wang and Song, The R Journal 3(2), 2011):
//
//	D[m][i] = min_{m-1 <= j < i} D[m-1][j] + cost(j, i)
//
// over the d distinct values with their multiplicities, where cost(j, i)
// is the sum of squared deviations from their mean of distinct values j..i-1,
// O(1) from prefix sums. The optimal j is nondecreasing in i, so each row
// is solved by divide and conquer in O(d log d): O(k d log d) in all.
func (s *sortedData) optimal(k int) ([]float64, error) {
	p := s.distinctPrefix()
	d := len(p.cnt) - 1
	width := d - k + 1 // row m holds i = m..m+width-1 (each cluster needs a value)
	if cells := int64(k-1) * int64(width); cells > MaxOptimalCells {
		return nil, fmt.Errorf("quantize: optimal clustering of %d distinct values into %d clusters needs %d back pointers; the limit is %d (use Lloyd's algorithm)", d, k, cells, MaxOptimalCells)
	}
	prev, cur := make([]float64, d+1), make([]float64, d+1)
	for i := 1; i <= d; i++ {
		prev[i] = p.cost(0, i)
	}
	back := make([]int32, (k-1)*width)
	for m := 2; m <= k; m++ {
		row := back[(m-2)*width : (m-1)*width]
		dc := dcRow{p: p, prev: prev, cur: cur, back: row, m: m}
		dc.solve(m, m+width-1, m-1, m+width-2)
		prev, cur = cur, prev
	}
	// The means come from tree sums over the runs, not from the prefix
	// sums, which lose small values after large ones.
	c := make([]float64, k)
	i := d
	for m := k; m >= 1; m-- {
		j := 0
		if m > 1 {
			j = int(back[(m-2)*width+i-m])
		}
		a, e := int(p.cnt[j]), int(p.cnt[i])
		c[m-1] = s.rangeSum(a, e) / float64(e-a)
		i = j
	}
	return c, nil
}

// distinctPrefix holds prefix sums over the distinct values: cnt[i], s1[i]
// and s2[i] are the count, sum of x-shift and sum of (x-shift)^2 of the
// values smaller than the i-th distinct value.
type distinctPrefix struct {
	shift       float64
	cnt, s1, s2 []float64
}

func (s *sortedData) distinctPrefix() *distinctPrefix {
	p := &distinctPrefix{shift: s.shift}
	p.cnt = make([]float64, 1, s.distinct+1)
	p.s1 = make([]float64, 1, s.distinct+1)
	p.s2 = make([]float64, 1, s.distinct+1)
	for i := range s.bits {
		x := s.at(i)
		d := x - s.shift
		last := len(p.cnt) - 1
		if i == 0 || x != s.at(i-1) {
			p.cnt = append(p.cnt, p.cnt[last])
			p.s1 = append(p.s1, p.s1[last])
			p.s2 = append(p.s2, p.s2[last])
			last++
		}
		p.cnt[last]++
		p.s1[last] += d
		p.s2[last] += d * d
	}
	return p
}

// cost is the sum of squared deviations from their mean of distinct values
// j..i-1 (with multiplicity): S2 - S1^2/n, clamped at 0 against rounding.
func (p *distinctPrefix) cost(j, i int) float64 {
	n := p.cnt[i] - p.cnt[j]
	s1 := p.s1[i] - p.s1[j]
	return max(p.s2[i]-p.s2[j]-s1*s1/n, 0)
}

// dcRow computes one row of the programme by divide and conquer.
type dcRow struct {
	p         *distinctPrefix
	prev, cur []float64
	back      []int32
	m         int
}

// solve fills cur[i] for lo <= i <= hi, knowing that the best split of
// each lies in [optLo, optHi].
func (r *dcRow) solve(lo, hi, optLo, optHi int) {
	for lo <= hi {
		mid := int(uint(lo+hi) >> 1)
		best, bestJ := math.Inf(1), optLo
		for j := optLo; j <= min(optHi, mid-1); j++ {
			if v := r.prev[j] + r.p.cost(j, mid); v < best {
				best, bestJ = v, j
			}
		}
		r.cur[mid] = best
		r.back[mid-r.m] = int32(bestJ)
		// Recurse on the shorter side, loop on the longer, to bound the depth.
		if mid-lo < hi-mid {
			r.solve(lo, mid-1, optLo, bestJ)
			lo, optLo = mid+1, bestJ
		} else {
			r.solve(mid+1, hi, bestJ, optHi)
			hi, optHi = mid-1, bestJ
		}
	}
}
