package quantize

import (
	"math/rand/v2"
	"slices"
)

// initial computes the k initial centroids of opt.Init, ascending and
// rounded to float32. The values must have more than k distinct values.
func (s *sortedData) initial(k int, opt Options) ([]float32, error) {
	var c []float64
	switch opt.Init {
	case "", Linear:
		c = s.linear(k)
	case Density:
		c = s.density(k)
	case Forgy:
		c = s.forgy(k, newRand(opt.Seed))
	case KMeansPP:
		c = s.kmeansPP(k, newRand(opt.Seed))
	}
	return roundCentroids(c), nil
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// linear returns c_j = min + j*(max-min)/(k-1), with c_{k-1} = max exactly
// (numpy.linspace); for k = 1 it returns min.
func (s *sortedData) linear(k int) []float64 {
	lo, hi := s.at(0), s.at(s.n()-1)
	c := make([]float64, k)
	for j := range c {
		c[j] = lo + float64(j)*(hi-lo)/float64(max(k-1, 1))
	}
	if k > 1 {
		c[k-1] = hi
	}
	return c
}

// density returns the values of rank floor((j+1/2)*n/k), the midpoints of k
// equal-probability bins of the empirical CDF.
func (s *sortedData) density(k int) []float64 {
	n := s.n()
	c := make([]float64, k)
	for j := range c {
		c[j] = s.at((2*j + 1) * n / (2 * k))
	}
	return c
}

// forgy returns the values at k distinct positions drawn uniformly (Floyd's
// sampling), ascending.
func (s *sortedData) forgy(k int, r *rand.Rand) []float64 {
	n := s.n()
	chosen := make(map[int]bool, k)
	for j := n - k; j < n; j++ {
		t := r.IntN(j + 1)
		if chosen[t] {
			t = j
		}
		chosen[t] = true
	}
	c := make([]float64, 0, k)
	for t := range chosen {
		c = append(c, s.at(t))
	}
	slices.Sort(c)
	return c
}

// ppCell is the run [lo, hi) of sorted values nearest to one k-means++
// centre, and w = sum (x - c)^2 over it.
type ppCell struct {
	c      float64
	lo, hi int
	w      float64
}

// kmeansPP draws centres by D^2 sampling. The centres stay sorted, so a
// new centre changes only its own cell and its two neighbours'; each
// cell's weight comes from the prefix sums, and a draw inside a cell is a
// binary search over its cumulative weight: O(k^2 + k*blockLen*log n).
func (s *sortedData) kmeansPP(k int, r *rand.Rand) []float64 {
	cells := []ppCell{{c: s.at(r.IntN(s.n())), lo: 0, hi: s.n()}}
	cells[0].w = s.sqDist(cells[0].c, 0, s.n())
	for len(cells) < k {
		x := s.drawD2(cells, r)
		p, _ := slices.BinarySearchFunc(cells, x, func(c ppCell, x float64) int {
			if c.c < x {
				return -1
			}
			if c.c > x {
				return 1
			}
			return 0
		})
		cells = slices.Insert(cells, p, ppCell{c: x})
		for i := max(p-1, 0); i <= min(p+1, len(cells)-1); i++ {
			s.setCell(cells, i)
		}
	}
	c := make([]float64, k)
	for i, cell := range cells {
		c[i] = cell.c
	}
	return c
}

// drawD2 draws a value with probability proportional to its squared
// distance to the nearest centre. Should rounding in the prefix sums land
// the draw on a value that already is a centre, it takes the value
// farthest from its centre instead.
func (s *sortedData) drawD2(cells []ppCell, r *rand.Rand) float64 {
	total := 0.0
	for _, c := range cells {
		total += c.w
	}
	u := r.Float64() * total
	i := 0
	for ; i < len(cells)-1 && u >= cells[i].w; i++ {
		u -= cells[i].w
	}
	cell := cells[i]
	base1, base2 := s.sums(cell.lo)
	d := cell.c - s.shift
	lo, hi := cell.lo, cell.hi-1
	for lo < hi { // smallest t with sum_{lo <= j <= t} (x_j - c)^2 > u
		m := int(uint(lo+hi) >> 1)
		a1, a2 := s.sums(m + 1)
		a1, a2 = a1-base1, a2-base2
		if a2-2*d*a1+d*d*float64(m+1-cell.lo) > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if x := s.at(lo); x != cell.c {
		return x
	}
	best, far := -1.0, 0.0
	for _, c := range cells {
		for _, t := range [2]int{c.lo, c.hi - 1} {
			if t >= c.lo && t < c.hi {
				x := s.at(t)
				if dd := (x - c.c) * (x - c.c); dd > best {
					best, far = dd, x
				}
			}
		}
	}
	return far
}

// setCell recomputes the run and weight of cells[i] from its neighbours.
func (s *sortedData) setCell(cells []ppCell, i int) {
	c := &cells[i]
	c.lo, c.hi = 0, s.n()
	if i > 0 {
		c.lo = s.upper(0, (cells[i-1].c+c.c)/2)
	}
	if i < len(cells)-1 {
		c.hi = s.upper(c.lo, (c.c+cells[i+1].c)/2)
	}
	c.w = s.sqDist(c.c, c.lo, c.hi)
}

// sqDist is sum_{lo <= j < hi} (x_j - c)^2, from the prefix sums.
func (s *sortedData) sqDist(c float64, lo, hi int) float64 {
	if lo >= hi {
		return 0
	}
	a1, a2 := s.sums(lo)
	b1, b2 := s.sums(hi)
	d := c - s.shift
	return max((b2-a2)-2*d*(b1-a1)+d*d*float64(hi-lo), 0)
}
