package quantize

import (
	"fmt"

	"github.com/deepcompress/deepcompress/arch"
)

// Layer is one weight tensor after pruning and weight sharing. Its dense
// form is W[Pos[i]] = Codebook[Idx[i]] for every surviving weight i, and
// zero everywhere else. This is what the compressed file stores.
type Layer struct {
	Name     string    // parameter name, e.g. "fc1.weight"
	Shape    []int     // dense shape, row-major
	Bits     int       // index width b: at most 2^b codebook entries
	Codebook []float32 // shared values, len(Codebook) <= 1<<Bits
	Pos      []uint32  // strictly ascending flat positions of surviving weights
	Idx      []uint16  // codebook index of each surviving weight, len(Idx) == len(Pos)
}

// Dense expands the layer to a row-major float32 tensor.
func (l *Layer) Dense() []float32 {
	w := make([]float32, arch.Numel(l.Shape))
	l.DenseInto(w)
	return w
}

// DenseInto writes the dense form into w, which must hold Numel(Shape) values.
func (l *Layer) DenseInto(w []float32) {
	clear(w)
	for i, p := range l.Pos {
		w[p] = l.Codebook[l.Idx[i]]
	}
}

// Validate checks the invariants listed on the fields.
func (l *Layer) Validate() error {
	n := arch.Numel(l.Shape)
	switch {
	case l.Bits < 1 || l.Bits > 16:
		return fmt.Errorf("quantize: layer %s: bits %d outside 1..16", l.Name, l.Bits)
	case len(l.Codebook) > 1<<l.Bits:
		return fmt.Errorf("quantize: layer %s: %d codebook entries exceed 2^%d", l.Name, len(l.Codebook), l.Bits)
	case len(l.Pos) != len(l.Idx):
		return fmt.Errorf("quantize: layer %s: %d positions but %d indices", l.Name, len(l.Pos), len(l.Idx))
	}
	for i, p := range l.Pos {
		if int(p) >= n || (i > 0 && p <= l.Pos[i-1]) {
			return fmt.Errorf("quantize: layer %s: position %d (%d) out of order or range", l.Name, i, p)
		}
		if int(l.Idx[i]) >= len(l.Codebook) {
			return fmt.Errorf("quantize: layer %s: index %d out of codebook range", l.Name, l.Idx[i])
		}
	}
	return nil
}

// CentroidGradients sets g[k] to the sum of grad over the weights of l
// whose index is k: the gradient of the loss with respect to shared value k.
func CentroidGradients(g []float64, grad []float32, l *Layer) {
	clear(g)
	for j, pos := range l.Pos {
		g[l.Idx[j]] += float64(grad[pos])
	}
}
