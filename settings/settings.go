// Package settings is the one home of how a weight tensor is compressed:
// the per-tensor Setting (how much to keep, the widths of the shared-value
// indices and of the gaps, how the shared values are placed), the paper's
// defaults for it, and the matcher that says which tensors a name in a
// config or on a command line stands for.
//
// Every stage reads its per-tensor choices through this package: pruning
// (the Keep/Quality part), weight sharing (Bits, Grid), the container
// (IndexBits), the pipeline, the data-free compressor and the command
// line. It imports no training code, so the container and the runtime can
// use it too.
package settings

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/sparse"
)

// Setting is how one weight tensor is compressed. A zero field is unset;
// Fill completes a setting from defaults.
type Setting struct {
	// Keep is the fraction of the tensor's weights kept, in (0, 1]: the
	// round(Keep*n) largest magnitudes (ties at the threshold are kept
	// too).
	Keep float64 `json:"keep,omitempty"`
	// Quality q prunes |w| < q*std(W) instead (the NIPS 2015 rule, with
	// the population standard deviation over the whole tensor). At most
	// one of Keep and Quality is set.
	Quality float64 `json:"quality,omitempty"`
	// Bits is the weight index width b: at most 2^b shared values, 1..16.
	Bits int `json:"bits,omitempty"`
	// IndexBits is the width of the gap between survivors,
	// 1..sparse.MaxBits.
	IndexBits int `json:"index_bits,omitempty"`
	// Grid is how the 2^Bits shared values are placed: GridKMeans (the
	// default, 1-D k-means to a fixed point: the paper's weight sharing)
	// or GridUniform (evenly spaced from the smallest to the largest
	// survivor, each weight to the nearest, only the values used kept: a
	// linear quantizer whose indices the Huffman coding then compresses,
	// better than k-means for the same file size at 6 bits and more).
	Grid string `json:"grid,omitempty"`
}

// Grids.
const (
	GridKMeans  = "kmeans"
	GridUniform = "uniform"
)

// MaxBits is the widest shared-value index: 2^16 shared values.
const MaxBits = 16

// Validate checks the set fields' ranges; unset (zero) fields pass.
func (s Setting) Validate() error {
	if err := s.Pruning().Validate(); err != nil {
		return err
	}
	switch {
	case s.Bits < 0 || s.Bits > MaxBits:
		return fmt.Errorf("bits %d outside 1..%d", s.Bits, MaxBits)
	case s.IndexBits < 0 || s.IndexBits > sparse.MaxBits:
		return fmt.Errorf("index_bits %d outside 1..%d", s.IndexBits, sparse.MaxBits)
	case s.Grid != "" && s.Grid != GridKMeans && s.Grid != GridUniform:
		return fmt.Errorf("grid %q: want %q or %q", s.Grid, GridKMeans, GridUniform)
	}
	return nil
}

// Pruning is the pruning part of a Setting: how much of a tensor to keep.
// At most one of Keep and Quality is set; both zero prunes nothing.
type Pruning struct {
	// Quality q sets the threshold to q * std(W) over the tensor.
	Quality float64 `json:"quality,omitempty"`
	// Keep is the fraction of the tensor's weights to keep, in (0, 1].
	Keep float64 `json:"keep,omitempty"`
}

// Pruning returns the pruning part of s.
func (s Setting) Pruning() Pruning { return Pruning{Quality: s.Quality, Keep: s.Keep} }

// IsZero reports whether p prunes nothing because neither field is set.
func (p Pruning) IsZero() bool { return p == Pruning{} }

// Validate checks that at most one of Keep and Quality is set and that
// the one set is in range.
func (p Pruning) Validate() error {
	switch {
	case p.Keep != 0 && p.Quality != 0:
		return fmt.Errorf("give keep or quality, not both")
	case p.Keep < 0 || p.Keep > 1 || math.IsNaN(p.Keep):
		return fmt.Errorf("keep %v outside (0, 1]", p.Keep)
	case p.Quality < 0 || math.IsNaN(p.Quality) || math.IsInf(p.Quality, 0):
		return fmt.Errorf("quality %v is not a finite non-negative number", p.Quality)
	}
	return nil
}

// Fill completes s from d: each unset field takes d's. Keep and Quality
// are one choice and are taken together.
func (s Setting) Fill(d Setting) Setting {
	if s.Keep == 0 && s.Quality == 0 {
		s.Keep, s.Quality = d.Keep, d.Quality
	}
	if s.Bits == 0 {
		s.Bits = d.Bits
	}
	if s.IndexBits == 0 {
		s.IndexBits = d.IndexBits
	}
	if s.Grid == "" {
		s.Grid = d.Grid
	}
	return s
}

// Paper is the paper's setting for a weight of a layer of kind k (Deep
// Compression, section 5: "8 bits for each CONV layer, and 5 bits for
// each FC layer", for both the shared-value indices and the relative
// position gaps): 8 and 8 for a convolution, 5 and 5 for anything else.
// It keeps every weight; Keep and Quality are left unset.
func Paper(k arch.Kind) Setting {
	b := PaperBits(k)
	return Setting{Bits: b, IndexBits: b}
}

// PaperBits is the paper's width, of the shared-value indices and of the
// gaps alike, for a weight of a layer of kind k: 8 for a convolution, 5
// for any other layer (the fully connected ones).
func PaperBits(k arch.Kind) int {
	if k == arch.Conv2D {
		return 8
	}
	return 5
}

// KindOfShape is the layer kind a tensor of that shape is taken for when
// nothing else says: rank 4 is a convolution kernel [out, in, kh, kw],
// anything else a fully connected weight.
func KindOfShape(shape []int) arch.Kind {
	if len(shape) == 4 {
		return arch.Conv2D
	}
	return arch.Dense
}
