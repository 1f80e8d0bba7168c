package quantize

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
)

// QuantizeTensor shares the weights of one pruned tensor: the non-zero
// entries of w (zeros are pruned positions and stay exactly zero) are
// clustered into at most k = 2^opt.Bits values, and the result is a Layer
// with Pos the ascending flat positions of the non-zero weights, Idx their
// clusters and Codebook the centroids (ascending; see Result.Centroids
// for when it has fewer than k entries). A tensor with no non-zero weight
// gives a Layer with no positions and an empty codebook.
//
// w is row-major with the given shape. A NaN or infinite weight gives a
// *NonFiniteError naming the tensor and the position.
func QuantizeTensor(name string, shape []int, w []float32, opt Options) (*Layer, error) {
	if opt.Bits < 1 || opt.Bits > 16 {
		return nil, fmt.Errorf("quantize: layer %s: bits %d outside 1..16", name, opt.Bits)
	}
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("quantize: layer %s: negative dimension in shape %s", name, budget.Shape(shape))
		}
	}
	if n := arch.Numel(shape); n != len(w) {
		return nil, fmt.Errorf("quantize: layer %s: shape %s holds %d weights, got %d", name, budget.Shape(shape), n, len(w))
	}
	if len(w) > math.MaxUint32+1 {
		return nil, fmt.Errorf("quantize: layer %s: %d weights exceed the 2^32 positions a layer can index", name, len(w))
	}
	pos, vals, err := survivors(name, w)
	if err != nil {
		return nil, err
	}
	res, err := Cluster(vals, 1<<opt.Bits, opt)
	if err != nil {
		return nil, &layerError{name, err}
	}
	return &Layer{
		Name:     name,
		Shape:    slices.Clone(shape),
		Bits:     opt.Bits,
		Codebook: res.Centroids,
		Pos:      pos,
		Idx:      res.Assign,
	}, nil
}

// layerError names the layer in an error from Cluster.
type layerError struct {
	name string
	err  error
}

func (e *layerError) Error() string {
	return "quantize: layer " + e.name + ": " + strings.TrimPrefix(e.err.Error(), "quantize: ")
}

func (e *layerError) Unwrap() error { return e.err }

// survivors returns the positions and values of the non-zero weights,
// refusing NaN and infinities.
func survivors(name string, w []float32) ([]uint32, []float32, error) {
	n := 0
	for i, x := range w {
		if x != 0 {
			if !isFinite(math.Float32bits(x)) {
				return nil, nil, &NonFiniteError{Name: name, Index: i, Value: x}
			}
			n++
		}
	}
	pos := make([]uint32, 0, n)
	vals := make([]float32, 0, n)
	for i, x := range w {
		if x != 0 {
			pos = append(pos, uint32(i))
			vals = append(vals, x)
		}
	}
	return pos, vals, nil
}

// Inertia returns the squared distance between the layer's dense form and
// w: sum_i (Dense()_i - w_i)^2, accumulated in float64. For the tensor the
// layer was quantized from it is the k-means inertia of the survivors,
// since pruned positions are zero in both.
func (l *Layer) Inertia(w []float32) (float64, error) {
	if err := l.Validate(); err != nil {
		return 0, err
	}
	if n := arch.Numel(l.Shape); n != len(w) {
		return 0, fmt.Errorf("quantize: layer %s: shape %s holds %d weights, got %d", l.Name, budget.Shape(l.Shape), n, len(w))
	}
	sum, next := 0.0, 0
	for i, x := range w {
		d := float64(x)
		if next < len(l.Pos) && int(l.Pos[next]) == i {
			d -= float64(l.Codebook[l.Idx[next]])
			next++
		}
		sum += d * d
	}
	return sum, nil
}
