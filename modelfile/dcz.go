package modelfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
)

// MetaQuantized marks a checkpoint whose weights are shared values; it holds
// the bits of each quantized weight tensor as JSON, {"fc1.weight": 6, ...}.
const MetaQuantized = "quantized_bits"

// loadDCZ decodes a compressed file into a dense model; the pruned
// positions come back as masks.
func loadDCZ(path string, opt Options) (*nn.Model, error) {
	f, err := dcz.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return FromDCZ(f, opt.Seed)
}

// FromDCZ expands a compressed model into a dense one with masks.
func FromDCZ(f *dcz.Model, seed uint64) (*nn.Model, error) {
	if f.Graph != nil {
		return fromGraphDCZ(f, seed)
	}
	if dcz.TensorsOnly(f.Spec) {
		return nil, errors.New("modelfile: the file holds tensors, not a network (made by compress --data-free): decode it to .safetensors")
	}
	// The expanded weights, and the model's values, gradients and masks.
	if err := f.Spec.CheckBudget(nil, 4, 1); err != nil {
		return nil, fmt.Errorf("modelfile: %w", err)
	}
	m, err := Build(f.Spec, f.DenseWeights(), seed)
	if err != nil {
		return nil, err
	}
	for _, l := range f.Layers {
		mask := make([]float32, arch.Numel(l.Shape))
		for _, p := range l.Pos {
			mask[p] = 1
		}
		m.Param(l.Name).SetMask(mask)
	}
	return m, nil
}

// ToDCZ packs a model whose weights are already shared into a compressed
// model: each weight tensor named in bits becomes a layer whose codebook
// is its distinct non-zero values (exact, no re-clustering), with the
// given index bits (0: the default for its kind); all other parameters
// are stored raw.
func ToDCZ(m *nn.Model, bits, indexBits map[string]int) (*dcz.Model, error) {
	f := &dcz.Model{Spec: m.Spec}
	for _, p := range m.Params() {
		b, ok := bits[p.Name]
		if !ok || !p.Weight {
			f.Raw = append(f.Raw, dcz.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
			continue
		}
		if d := distinctNonZero(p.Data); d > 1<<b {
			return nil, fmt.Errorf("modelfile: %s has %d distinct values, more than 2^%d: quantize it first", p.Name, d, b)
		}
		l, err := quantize.QuantizeTensor(p.Name, p.Shape, p.Data, quantize.Options{Bits: b})
		if err != nil {
			return nil, err
		}
		f.Layers = append(f.Layers, dcz.Layer{Layer: *l, IndexBits: indexBits[strings.TrimSuffix(p.Name, ".weight")]})
	}
	return f, nil
}

func distinctNonZero(w []float32) int {
	seen := map[uint32]bool{}
	for _, v := range w {
		if v != 0 {
			seen[math.Float32bits(v)] = true
		}
	}
	return len(seen)
}

// QuantizedBits reads the MetaQuantized entry of checkpoint metadata.
func QuantizedBits(meta map[string]string) (map[string]int, error) {
	bits := map[string]int{}
	s, ok := meta[MetaQuantized]
	if !ok {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(s), &bits); err != nil {
		return nil, fmt.Errorf("modelfile: bad %s metadata: %w", MetaQuantized, err)
	}
	return bits, nil
}

// fromGraphDCZ runs a graph file: the graph with its tensors decoded, the
// pruned positions as masks.
func fromGraphDCZ(f *dcz.Model, seed uint64) (*nn.Model, error) {
	g, err := f.WithWeights()
	if err != nil {
		return nil, err
	}
	m, err := nn.FromGraph(g, nil, seed)
	if err != nil {
		return nil, err
	}
	for _, l := range f.Layers {
		if p := m.Param(l.Name); p != nil {
			mask := make([]float32, len(p.Data))
			for _, pos := range l.Pos {
				mask[pos] = 1
			}
			p.SetMask(mask)
		}
	}
	return m, nil
}
