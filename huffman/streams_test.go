package huffman

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Synthetic stand-ins for the streams of a pruned, quantized layer
// (LeNet-300-100 fc1: ~21K survivors of 235K weights at 8 %).

// bellIndices draws n codebook indices of b bits whose frequencies follow
// the bell shape of trained weights: a Laplacian-like density sampled by
// linearly spaced centroids (the paper's linear initialisation).
func bellIndices(n, b int, seed uint64) []uint16 {
	r := rand.New(rand.NewPCG(seed, 1))
	k := 1 << b
	out := make([]uint16, n)
	for i := range out {
		// Laplace(0, 1) clipped to [-5, 5], mapped to k bins.
		x := r.ExpFloat64()
		if r.IntN(2) == 0 {
			x = -x
		}
		x = max(-5, min(5, x))
		j := int((x + 5) / 10 * float64(k))
		out[i] = uint16(min(j, k-1))
	}
	return out
}

// geometricGaps draws n gaps between survivors of a layer that keeps a
// fraction p of its weights, capped at 2^b as the sparse coder does (a
// longer gap becomes fillers of 2^b plus a remainder).
func geometricGaps(n, b int, p float64, seed uint64) []uint16 {
	r := rand.New(rand.NewPCG(seed, 2))
	span := 1 << b
	out := make([]uint16, 0, n)
	for len(out) < n {
		g := 1 + int(math.Floor(math.Log(1-r.Float64())/math.Log(1-p)))
		for g > span && len(out) < n {
			out = append(out, uint16(span))
			g -= span
		}
		if len(out) < n {
			out = append(out, uint16(g))
		}
	}
	return out
}

// entropyBits is n times the empirical entropy of syms, in bits.
func entropyBits[S Symbol](syms []S) float64 {
	counts := map[S]float64{}
	for _, s := range syms {
		counts[s]++
	}
	n := float64(len(syms))
	h := 0.0
	for _, c := range counts {
		h -= c * math.Log2(c/n)
	}
	return h
}

// histogram counts symbol occurrences over 0..max(syms).
func histogram[S Symbol](syms []S) []uint64 {
	top := 0
	for _, s := range syms {
		top = max(top, int(s))
	}
	c := make([]uint64, top+1)
	for _, s := range syms {
		c[s]++
	}
	return c
}

// appendUvarint and uvarint are the LEB128 varints of encoding/binary.
func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func uvarint(b []byte) (uint64, int)          { return binary.Uvarint(b) }
