package dataset

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Set is N model inputs, back to back, with optional labels.
type Set struct {
	// X holds N samples of SampleSize() values each.
	X []float32
	// Shape is the shape of one sample, e.g. [1 28 28] (NCHW) or the
	// shape of a float .npy array without its first dimension.
	Shape []int
	// Labels holds N class indices, or is nil when unlabelled.
	Labels []int
	// Classes names the classes of an image folder (index = label); nil
	// for the other sources.
	Classes []string
	// Names holds the image file of each sample of an image folder; nil
	// for arrays (.npy, IDX), whose samples are numbered in file order.
	Names []string
	// Pre is the preprocessing applied to make X, normalised; nil when X
	// was taken as it is (a float .npy array).
	Pre *Preprocess
	// Skipped lists the files of an image folder that were not read: not
	// images by their name, hidden, or (with Options.SkipBad) failing to
	// decode, each with the reason after ": ".
	Skipped []string
}

// SampleSize is the number of values of one sample, the product of Shape.
func (s *Set) SampleSize() int {
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// Len is the number of samples.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	if n := s.SampleSize(); n > 0 {
		return len(s.X) / n
	}
	return len(s.Labels)
}

// Sample returns sample i (a sub-slice of X).
func (s *Set) Sample(i int) []float32 {
	n := s.SampleSize()
	return s.X[i*n : (i+1)*n : (i+1)*n]
}

// Subset returns a new Set of the samples at idx, in that order (X is
// copied; Shape, Classes and Pre are shared).
func (s *Set) Subset(idx []int) *Set {
	n := s.SampleSize()
	out := &Set{Shape: s.Shape, Classes: s.Classes, Pre: s.Pre, Skipped: s.Skipped,
		X: make([]float32, 0, len(idx)*n)}
	if s.Labels != nil {
		out.Labels = make([]int, 0, len(idx))
	}
	if s.Names != nil {
		out.Names = make([]string, 0, len(idx))
	}
	for _, i := range idx {
		out.X = append(out.X, s.Sample(i)...)
		if s.Labels != nil {
			out.Labels = append(out.Labels, s.Labels[i])
		}
		if s.Names != nil {
			out.Names = append(out.Names, s.Names[i])
		}
	}
	return out
}

// Validate checks that the fields agree with each other.
func (s *Set) Validate() error {
	n := s.SampleSize()
	for _, d := range s.Shape {
		if d <= 0 {
			return fmt.Errorf("dataset: sample shape %v has a dimension < 1", s.Shape)
		}
	}
	if len(s.X)%n != 0 {
		return fmt.Errorf("dataset: %d values are not a whole number of %d-value samples", len(s.X), n)
	}
	N := len(s.X) / n
	if s.Labels != nil && len(s.Labels) != N {
		return fmt.Errorf("dataset: %d labels for %d samples", len(s.Labels), N)
	}
	if s.Names != nil && len(s.Names) != N {
		return fmt.Errorf("dataset: %d names for %d samples", len(s.Names), N)
	}
	for i, l := range s.Labels {
		if l < 0 || (s.Classes != nil && l >= len(s.Classes)) {
			return fmt.Errorf("dataset: label %d of sample %d is out of range", l, i)
		}
	}
	return nil
}

// Split divides s at random into a training part and a held-out part of
// round(heldOut*N) samples (heldOut is clamped to [0, 1]; NaN means 0),
// with the permutation drawn from seed: the same seed gives the same
// split. When 0 < heldOut < 1, the training part keeps at least one
// sample, and the held-out part gets at least one when N >= 2. Both parts keep the samples in the order of s. The held-out
// part measures the compressed model's agreement with the original on
// inputs that retraining did not see.
func Split(s *Set, heldOut float64, seed uint64) (train, held *Set) {
	N := s.Len()
	if math.IsNaN(heldOut) {
		heldOut = 0
	}
	heldOut = min(max(heldOut, 0), 1)
	k := int(math.Round(heldOut * float64(N)))
	if heldOut > 0 && heldOut < 1 {
		if N >= 2 {
			k = max(k, 1)
		}
		k = min(k, max(N-1, 0))
	}
	perm := permutation(N, seed)
	h, t := slices.Clone(perm[:k]), slices.Clone(perm[k:])
	slices.Sort(h)
	slices.Sort(t)
	return s.Subset(t), s.Subset(h)
}

// permutation is a seeded Fisher-Yates shuffle of 0..n-1 (PCG, so the
// result is the same on every platform and Go version).
func permutation(n int, seed uint64) []int {
	r := rand.NewPCG(seed, 0x9e3779b97f4a7c15)
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(bounded(r, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// bounded draws uniformly from [0, n) (Lemire's multiply-and-reject),
// written here so that the draws never depend on the Go version.
func bounded(r *rand.PCG, n uint64) uint64 {
	threshold := -n % n
	for {
		hi, lo := bits.Mul64(r.Uint64(), n)
		if lo >= threshold {
			return hi
		}
	}
}

// pick returns the indices of the samples that Options.Max keeps out of n:
// all of them when max <= 0 or max >= n, else a seeded random subset,
// sorted.
func pick(n, maxN int, seed uint64) []int {
	if maxN <= 0 || maxN >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := slices.Clone(permutation(n, seed)[:maxN])
	slices.Sort(idx)
	return idx
}
