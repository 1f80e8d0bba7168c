package quantize

import (
	"math"
	"slices"
)

// finish turns the final centroids into the Result fields: it rounds them
// to float32, merges equal ones, drops those nearest to no value, computes the inertia over
// the sorted values and maps every input value to its centroid.
//
// The nearest centroid of x is the number of midpoints (c_j + c_{j+1})/2
// below x, so a value halfway goes to the lower centroid. Dropping a
// centroid with no value changes no value's nearest centroid.
func (s *sortedData) finish(values []float32, cent []float64, workers int) ([]float32, []uint16, float64) {
	c32 := slices.Compact(roundCentroids(cent))
	ends := make([]int, len(c32))
	s.partition(widen(c32), ends)
	kept := c32[:0]
	start := 0
	for j, e := range ends {
		if e > start {
			kept = append(kept, c32[j])
		}
		start = e
	}
	ends = ends[:len(kept)]
	s.partition(widen(kept), ends)
	inertia := s.inertia(kept, ends, workers)
	return kept, assign(values, kept, workers), inertia
}

func widen(c []float32) []float64 {
	out := make([]float64, len(c))
	for j, v := range c {
		out[j] = float64(v)
	}
	return out
}

// inertiaChunk is the run of sorted values whose squared errors are summed
// together; chunks are then added in order, so the inertia does not depend
// on the number of workers.
const inertiaChunk = 1 << 14

// inertia is sum_j sum_{x in run j} (x - c_j)^2 over the runs ending at ends.
func (s *sortedData) inertia(c []float32, ends []int, workers int) float64 {
	n := s.n()
	nchunks := (n + inertiaChunk - 1) / inertiaChunk
	partial := make([]float64, nchunks)
	parallel(nchunks, workers, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			a, b := ch*inertiaChunk, min((ch+1)*inertiaChunk, n)
			j, _ := slices.BinarySearch(ends, a+1) // first run ending after a
			acc := 0.0
			for a < b {
				e := min(ends[j], b)
				acc += sqErr(s.bits[a:e], float64(c[j]))
				a = e
				j++
			}
			partial[ch] = acc
		}
	})
	sum := 0.0
	for _, p := range partial {
		sum += p
	}
	return sum
}

// sqErr is sum (x - c)^2, with four accumulators to hide the add latency.
func sqErr(bits []uint32, c float64) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(bits); i += 4 {
		d0 := float64(math.Float32frombits(bits[i])) - c
		d1 := float64(math.Float32frombits(bits[i+1])) - c
		d2 := float64(math.Float32frombits(bits[i+2])) - c
		d3 := float64(math.Float32frombits(bits[i+3])) - c
		a0 += d0 * d0
		a1 += d1 * d1
		a2 += d2 * d2
		a3 += d3 * d3
	}
	for ; i < len(bits); i++ {
		d := float64(math.Float32frombits(bits[i])) - c
		a0 += d * d
	}
	return (a0 + a1) + (a2 + a3)
}

// assign returns the index of the nearest of the strictly ascending
// centroids c for every value.
func assign(values []float32, c []float32, workers int) []uint16 {
	mid := make([]float64, len(c)-1)
	for j := range mid {
		mid[j] = (float64(c[j]) + float64(c[j+1])) / 2
	}
	return assignCuts(values, mid, workers)
}

// assignCuts returns for every value the number of the ascending cuts
// below it: the index of its run when the runs end at the cuts.
func assignCuts(values []float32, mid []float64, workers int) []uint16 {
	idx := make([]uint16, len(values))
	if len(values) < minTable {
		for i, x := range values {
			idx[i] = uint16(countBelow(mid, float64(x)))
		}
		return idx
	}
	t := newBucketTable(mid)
	parallel(len(values), workers, func(_, lo, hi int) {
		t.lookup(values[lo:hi], idx[lo:hi], mid)
	})
	return idx
}

// countBelow is the number of midpoints below x, by binary search. The
// loop body compiles to a conditional move, so the search does not
// mispredict on random data.
func countBelow(mid []float64, x float64) int {
	n := len(mid)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		base += half & -b2i(mid[base+half] < x)
		n -= half
	}
	return base + b2i(mid[base] < x)
}

// b2i is 1 for true and 0 for false; it compiles to a SETcc.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// minTable is the input size from which a bucket table pays for itself.
const minTable = 1 << 15

// bucketTable maps the top 16 bits of a value's order-preserving key
// (sign, exponent and 7 mantissa bits: 1/128 of a binade) to its cluster.
// Only the few buckets that a midpoint cuts need a search, which is then
// limited to the midpoints inside the bucket. A branchy binary search over
// all midpoints for every value mispredicts about half its branches; the
// table costs one cached load.
type bucketTable struct {
	first []uint16 // cluster of the bucket's smallest value
	cut   []uint16 // number of midpoints inside the bucket
}

func newBucketTable(mid []float64) *bucketTable {
	t := &bucketTable{first: make([]uint16, 1<<16), cut: make([]uint16, 1<<16)}
	j := 0
	for b := range 1 << 16 {
		lo := float64(math.Float32frombits(keyFloat(uint32(b) << 16)))
		hi := float64(math.Float32frombits(keyFloat(uint32(b)<<16 | 0xffff)))
		for j < len(mid) && lo > mid[j] { // NaN buckets compare false and hold no values
			j++
		}
		t.first[b] = uint16(j)
		for j < len(mid) && hi > mid[j] {
			j++
		}
		t.cut[b] = uint16(j - int(t.first[b]))
	}
	return t
}

func (t *bucketTable) lookup(xs []float32, idx []uint16, mid []float64) {
	idx = idx[:len(xs)]
	for i, x := range xs {
		b := floatKey(math.Float32bits(x)) >> 16
		j := int(t.first[b])
		if n := int(t.cut[b]); n != 0 {
			j += countBelow(mid[j:j+n], float64(x))
		}
		idx[i] = uint16(j)
	}
}
