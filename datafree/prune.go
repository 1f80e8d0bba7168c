package datafree

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/quantize"
)

// Magnitudes are compared as keys: the float32 bits with the sign cleared.
// For finite values the unsigned order of the keys is the order of the
// magnitudes, so the threshold is found by radix selection on the keys: a
// histogram of their high 16 bits locates the bucket holding the k-th
// largest magnitude, and one of the low 16 bits within that bucket the
// exact key. Finite keys are below 0x7f800000.
const (
	keyMask   = 0x7fffffff
	infKey    = 0x7f800000
	hiBuckets = infKey>>16 + 1
	loBuckets = 1 << 16
)

// refineSize is the bucket size above which the threshold's bucket is
// refined by a third pass rather than collected whole.
var refineSize int64 = 1 << 20

func key(x float32) uint32 { return math.Float32bits(x) & keyMask }

// survivors is a pruned tensor: the flat positions (ascending) and values
// of the weights kept, those with |w| >= Threshold and w != 0.
type survivors struct {
	pos       []uint32
	vals      []float32
	threshold float32
}

// partStats is what the first pass learns about one part of a tensor.
type partStats struct {
	hist     []int64 // keys by their high 16 bits
	count    int
	mean, m2 float64 // mean and sum of squared deviations (quality rule)
	lo       []int64 // low 16 bits of the keys in the selected bucket (third pass)
}

// magnitudePrune returns the survivors of magnitude pruning by s: the
// round(s.Keep*n) largest magnitudes (and any tied with the smallest of
// them), or the magnitudes of at least s.Quality*std(W). The tensor is
// read twice, or three times when many magnitudes share the threshold's
// bucket.
func magnitudePrune(src *source, s Setting, workers int) (*survivors, error) {
	bounds := split(src.n, workers)
	parts := make([]partStats, len(bounds)-1)
	err := parallel(bounds, func(p, lo, hi int) error {
		return src.histogram(lo, hi, s.Quality > 0, &parts[p])
	})
	if err != nil {
		return nil, err
	}
	var hist [hiBuckets]int64
	for _, ps := range parts {
		for b, c := range ps.hist {
			hist[b] += c
		}
	}

	// The threshold key t, exact for a quality rule; for a keep rule only
	// its bucket is known so far, and need is how many keys of the bucket
	// are to be kept, counted from the largest.
	var t uint32
	exact := true
	need := int64(0)
	if s.Quality > 0 {
		tf := float32(s.Quality * math.Sqrt(mergeVariance(parts)))
		if t = key(tf); t >= infKey {
			return &survivors{threshold: tf}, nil
		}
	} else {
		k := int64(math.Round(s.Keep * float64(src.n)))
		switch {
		case k <= 0:
			return &survivors{threshold: float32(math.Inf(1))}, nil
		case k < int64(src.n):
			b := hiBuckets - 1
			for ; hist[b] < k; b-- {
				k -= hist[b]
			}
			t, need, exact = uint32(b)<<16, k, false
		}
	}
	bucket := int(t >> 16)

	minKey := uint32(bucket) << 16
	if hist[bucket] > refineSize {
		err := parallel(bounds, func(p, lo, hi int) error {
			return src.refine(lo, hi, uint32(bucket), &parts[p])
		})
		if err != nil {
			return nil, err
		}
		if !exact {
			var lo [loBuckets]int64
			for _, ps := range parts {
				for l, c := range ps.lo {
					lo[l] += c
				}
			}
			t |= kthLargest(lo[:], need)
			exact = true
		}
		minKey = t
	}

	// Every part writes its survivors into its own stretch of pos and vals.
	offs := make([]int, len(parts)+1)
	for p := range parts {
		offs[p+1] = offs[p] + parts[p].atLeast(minKey)
	}
	sv := &survivors{pos: make([]uint32, offs[len(parts)]), vals: make([]float32, offs[len(parts)])}
	err = parallel(bounds, func(p, lo, hi int) error {
		return src.collect(lo, hi, minKey, sv.pos[offs[p]:offs[p+1]], sv.vals[offs[p]:offs[p+1]])
	})
	if err != nil {
		return nil, err
	}
	if !exact {
		var lo [loBuckets]int64
		for _, v := range sv.vals {
			if k := key(v); int(k>>16) == bucket {
				lo[k&0xffff]++
			}
		}
		t |= kthLargest(lo[:], need)
	}
	sv.keepAtLeast(t)
	sv.threshold = math.Float32frombits(t)
	return sv, nil
}

// kthLargest returns the largest l such that at least need counts lie at
// l or above.
func kthLargest(counts []int64, need int64) uint32 {
	l := len(counts) - 1
	for ; l > 0 && counts[l] < need; l-- {
		need -= counts[l]
	}
	return uint32(l)
}

// keepAtLeast drops, in place, the survivors whose key is below t, and the
// zeros (which are what pruned weights decode to anyway).
func (sv *survivors) keepAtLeast(t uint32) {
	j := 0
	for i, v := range sv.vals {
		if k := key(v); k >= t && k != 0 {
			sv.pos[j], sv.vals[j] = sv.pos[i], v
			j++
		}
	}
	sv.pos, sv.vals = sv.pos[:j], sv.vals[:j]
}

// atLeast is the number of keys at or above minKey in the part, from the
// histograms of the first and third passes.
func (ps *partStats) atLeast(minKey uint32) int {
	b := int(minKey >> 16)
	var n int64
	for _, c := range ps.hist[b+1:] {
		n += c
	}
	if minKey&0xffff == 0 || ps.lo == nil {
		return int(n + ps.hist[b])
	}
	for _, c := range ps.lo[minKey&0xffff:] {
		n += c
	}
	return int(n)
}

// histogram is the first pass over [lo, hi): the key histogram, refusing
// NaN and infinities, and with moments the mean and squared deviations,
// merged chunk by chunk (Chan, Golub, LeVeque) so that they stay accurate
// whatever the mean.
func (src *source) histogram(lo, hi int, moments bool, ps *partStats) error {
	ps.hist = make([]int64, hiBuckets)
	return src.scan(lo, hi, func(start int, vals []float32) error {
		h := ps.hist
		for i, v := range vals {
			k := key(v)
			if k >= infKey {
				return &quantize.NonFiniteError{Name: src.name, Index: start + i, Value: v}
			}
			h[k>>16]++
		}
		if moments {
			ps.merge(vals)
		}
		return nil
	})
}

func (ps *partStats) merge(vals []float32) {
	var sum float64
	for _, v := range vals {
		sum += float64(v)
	}
	nb := float64(len(vals))
	mb := sum / nb
	var m2 float64
	for _, v := range vals {
		d := float64(v) - mb
		m2 += d * d
	}
	na := float64(ps.count)
	n := na + nb
	delta := mb - ps.mean
	ps.mean += delta * nb / n
	ps.m2 += m2 + delta*delta*na*nb/n
	ps.count += len(vals)
}

// mergeVariance is the population variance of the whole tensor.
func mergeVariance(parts []partStats) float64 {
	var all partStats
	for _, ps := range parts {
		if ps.count == 0 {
			continue
		}
		na, nb := float64(all.count), float64(ps.count)
		n := na + nb
		delta := ps.mean - all.mean
		all.mean += delta * nb / n
		all.m2 += ps.m2 + delta*delta*na*nb/n
		all.count += ps.count
	}
	if all.count == 0 {
		return 0
	}
	return all.m2 / float64(all.count)
}

// refine is the third pass: the histogram of the low key bits of the
// values in one high bucket.
func (src *source) refine(lo, hi int, bucket uint32, ps *partStats) error {
	ps.lo = make([]int64, loBuckets)
	return src.scan(lo, hi, func(_ int, vals []float32) error {
		for _, v := range vals {
			if k := key(v); k>>16 == bucket {
				ps.lo[k&0xffff]++
			}
		}
		return nil
	})
}

// collect is the last pass: it stores the positions and values of the
// keys at or above minKey, which must fill pos and vals exactly. A
// different count means the file changed between the passes.
func (src *source) collect(lo, hi int, minKey uint32, pos []uint32, vals []float32) error {
	j := 0
	err := src.scan(lo, hi, func(start int, chunk []float32) error {
		for i, v := range chunk {
			if key(v) >= minKey {
				if j == len(pos) {
					return src.changed()
				}
				pos[j], vals[j] = uint32(start+i), v
				j++
			}
		}
		return nil
	})
	if err == nil && j != len(pos) {
		err = src.changed()
	}
	return err
}

func (src *source) changed() error {
	return fmt.Errorf("datafree: tensor %q changed while it was being read", src.name)
}
