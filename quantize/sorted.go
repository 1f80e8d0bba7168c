package quantize

import (
	"math"
	"math/bits"
	"sync"
)

// sortedData is the input of the clustering: the values in ascending
// order, kept as float32 bit patterns, with sums over blocks of blockLen
// values. Blocks keep the sums small enough to stay in cache (1/64 of the
// data) while a sum still costs at most 2*blockLen adds for the partial
// blocks at its ends.
//
// Two kinds of sums: prefix sums of x - shift and its square (for the
// variance and k-means++, where rounding only blurs a sampling weight),
// and a segment tree of the plain block sums for Lloyd's cluster means. A
// difference of prefix sums loses the bits of small values that follow
// large ones (a run of 1e-10 after two -7e15 gets a mean of 0); a tree sum
// adds only values inside the run, so a mean is as accurate as the run's
// own values allow.
type sortedData struct {
	bits     []uint32  // float32 bits, ascending by value
	shift    float64   // the median
	s1, s2   []float64 // s1[b] = sum_{i < b*blockLen} (x_i - shift), s2 likewise of squares
	tree     []float64 // tree[size+b] = sum of block b; tree[i] = tree[2i] + tree[2i+1]
	size     int       // leaves of tree, a power of two
	distinct int       // number of distinct values
}

const blockLen = 64

func (s *sortedData) n() int { return len(s.bits) }

// at returns the i-th smallest value.
func (s *sortedData) at(i int) float64 { return float64(math.Float32frombits(s.bits[i])) }

// newSorted sorts values (refusing NaN and ±Inf) and builds the block sums.
func newSorted(values []float32, workers int) (*sortedData, error) {
	bits, err := radixSort(values, workers)
	if err != nil {
		return nil, err
	}
	s := &sortedData{bits: bits, shift: float64(math.Float32frombits(bits[len(bits)/2]))}
	s.prefix(workers)
	return s, nil
}

// prefix fills s1, s2, tree and distinct. Blocks are summed in parallel,
// then accumulated in order, so the sums do not depend on the workers.
func (s *sortedData) prefix(workers int) {
	n := s.n()
	nb := n/blockLen + 1
	s.s1 = make([]float64, nb)
	s.s2 = make([]float64, nb)
	s.size = 1 << bits.Len(uint(nb-1))
	s.tree = make([]float64, 2*s.size)
	changes := make([]int, workers)
	parallel(nb-1, workers, func(w, lo, hi int) {
		prev := float32(math.NaN())
		if lo > 0 {
			prev = math.Float32frombits(s.bits[lo*blockLen-1])
		}
		ch := 0
		for b := lo; b < hi; b++ {
			blk := s.bits[b*blockLen : (b+1)*blockLen]
			s.tree[s.size+b], s.s1[b+1], s.s2[b+1] = blockSums(blk, s.shift)
			for _, u := range blk {
				x := math.Float32frombits(u)
				ch += b2i(x != prev)
				prev = x
			}
		}
		changes[w] += ch
	})
	// The tail after the last full block is counted here, not summed.
	for i := (nb - 1) * blockLen; i < n; i++ {
		if i == 0 || s.at(i) != s.at(i-1) {
			changes[0]++
		}
	}
	for b := 1; b < nb; b++ {
		s.s1[b] += s.s1[b-1]
		s.s2[b] += s.s2[b-1]
	}
	for i := s.size - 1; i > 0; i-- {
		s.tree[i] = s.tree[2*i] + s.tree[2*i+1]
	}
	for _, c := range changes {
		s.distinct += c
	}
}

// blockSums returns sum x, sum (x - shift) and sum (x - shift)^2 over blk,
// whose length is a multiple of 4, with four accumulators each to hide the
// add latency.
func blockSums(blk []uint32, shift float64) (float64, float64, float64) {
	var p0, p1, p2, p3, a0, a1, a2, a3, q0, q1, q2, q3 float64
	for i := 0; i+4 <= len(blk); i += 4 {
		x0 := float64(math.Float32frombits(blk[i]))
		x1 := float64(math.Float32frombits(blk[i+1]))
		x2 := float64(math.Float32frombits(blk[i+2]))
		x3 := float64(math.Float32frombits(blk[i+3]))
		p0, p1, p2, p3 = p0+x0, p1+x1, p2+x2, p3+x3
		d0, d1, d2, d3 := x0-shift, x1-shift, x2-shift, x3-shift
		a0, a1, a2, a3 = a0+d0, a1+d1, a2+d2, a3+d3
		q0, q1, q2, q3 = q0+d0*d0, q1+d1*d1, q2+d2*d2, q3+d3*d3
	}
	return (p0 + p1) + (p2 + p3), (a0 + a1) + (a2 + a3), (q0 + q1) + (q2 + q3)
}

// rangeSum is sum_{a <= i < e} x_i: the partial blocks at the ends value
// by value, the whole blocks between from the tree, in O(blockLen + log n).
func (s *sortedData) rangeSum(a, e int) float64 {
	ba, be := (a+blockLen-1)/blockLen, e/blockLen
	if ba >= be {
		return s.direct(a, e)
	}
	sum := s.direct(a, ba*blockLen) + s.direct(be*blockLen, e)
	l, r := ba+s.size, be+s.size
	for l < r {
		if l&1 == 1 {
			sum += s.tree[l]
			l++
		}
		if r&1 == 1 {
			r--
			sum += s.tree[r]
		}
		l, r = l>>1, r>>1
	}
	return sum
}

// direct is sum_{a <= i < e} x_i, value by value, with four accumulators
// to hide the add latency.
func (s *sortedData) direct(a, e int) float64 {
	var a0, a1, a2, a3 float64
	b := s.bits[a:e]
	i := 0
	for ; i+4 <= len(b); i += 4 {
		a0 += float64(math.Float32frombits(b[i]))
		a1 += float64(math.Float32frombits(b[i+1]))
		a2 += float64(math.Float32frombits(b[i+2]))
		a3 += float64(math.Float32frombits(b[i+3]))
	}
	for ; i < len(b); i++ {
		a0 += float64(math.Float32frombits(b[i]))
	}
	return (a0 + a1) + (a2 + a3)
}

// sums returns sum_{j<i} (x_j - shift) and the same of squares.
func (s *sortedData) sums(i int) (float64, float64) {
	b := i / blockLen
	a1, a2 := s.s1[b], s.s2[b]
	for _, u := range s.bits[b*blockLen : i] {
		d := float64(math.Float32frombits(u)) - s.shift
		a1 += d
		a2 += d * d
	}
	return a1, a2
}

// variance is the population variance of the values.
func (s *sortedData) variance() float64 {
	a1, a2 := s.sums(s.n())
	m := a1 / float64(s.n())
	return max(a2/float64(s.n())-m*m, 0)
}

// upper returns the first index i >= lo with x_i > b, or n.
func (s *sortedData) upper(lo int, b float64) int {
	hi := s.n()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.at(m) > b {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// upperNear returns the first index i with x_i > b, searching outwards
// from the guess g in steps 1, 2, 4, ... then by bisection.
func (s *sortedData) upperNear(g int, b float64) int {
	n := s.n()
	if g < n && s.at(g) <= b { // the answer is above g
		lo, step := g+1, 1
		for lo+step-1 < n && s.at(lo+step-1) <= b {
			lo += step
			step *= 2
		}
		hi := min(lo+step-1, n)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if s.at(m) > b {
				hi = m
			} else {
				lo = m + 1
			}
		}
		return lo
	}
	// x_g > b (or g = n): the answer is at most g.
	hi, step := g, 1
	for hi-step >= 0 && s.at(hi-step) > b {
		hi -= step
		step *= 2
	}
	lo := max(hi-step+1, 0)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.at(m) > b {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// distinctValues lists the distinct values in ascending order.
func (s *sortedData) distinctValues() []float64 {
	out := make([]float64, 0, s.distinct)
	for i := range s.bits {
		if x := s.at(i); len(out) == 0 || x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

// parallel splits [0, n) into at most workers contiguous ranges and runs f
// on each, worker w getting the w-th range.
func parallel(n, workers int, f func(w, lo, hi int)) {
	if workers <= 1 || n < 2 {
		f(0, 0, n)
		return
	}
	workers = min(workers, n)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w, lo, hi)
		}()
	}
	wg.Wait()
}
