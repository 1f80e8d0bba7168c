package modelfile

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/settings"
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
		return nil, ErrTensorsOnly
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
// model: each weight tensor named in bits (by its full name, as
// MetaQuantized records it) becomes a layer whose codebook is its distinct
// non-zero values (exact, no re-clustering); see Pack for the rest.
func ToDCZ(m *nn.Model, bits, indexBits map[string]int) (*dcz.Model, error) {
	var layers []*quantize.Layer
	for _, p := range m.Weights() {
		b, ok := bits[p.Name]
		if !ok {
			continue
		}
		if d := distinctNonZero(p.Data); d > 1<<b {
			return nil, fmt.Errorf("modelfile: %s has %d distinct values, more than 2^%d: quantize it first", p.Name, d, b)
		}
		l, err := quantize.QuantizeTensor(p.Name, p.Shape, p.Data, quantize.Options{Bits: b})
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return Pack(m, layers, indexBits)
}

// Pack builds the compressed model of m from its weight-shared tensors:
// each of layers becomes a layer of the file, its gap width from
// indexBits (keyed by weight name, layer name or pattern, see
// settings.Lookup; unnamed: the paper's width for its kind, 8 bits for a
// convolution and 5 for any other weight), and every other float32
// parameter is stored raw. Names in indexBits that match no weight are an
// error. The file holds m's description, or its graph for a model built
// from one, and shares m's memory: m must not change until it is written.
func Pack(m *nn.Model, layers []*quantize.Layer, indexBits map[string]int) (*dcz.Model, error) {
	var names []string
	for _, p := range m.Weights() {
		names = append(names, p.Name)
	}
	if err := settings.Check(indexBits, names); err != nil {
		return nil, fmt.Errorf("modelfile: index bits: %w", err)
	}
	f := &dcz.Model{Spec: m.Spec}
	if g := m.Graph(); g != nil {
		f = &dcz.Model{Graph: g}
	}
	shared := map[string]bool{}
	for _, l := range layers {
		if m.Param(l.Name) == nil {
			return nil, fmt.Errorf("modelfile: the model has no parameter %s", l.Name)
		}
		kind := m.WeightKind(l.Name)
		ib, ok := settings.Lookup(indexBits, l.Name)
		if !ok {
			ib = settings.PaperBits(kind)
		}
		f.Layers = append(f.Layers, dcz.Layer{Layer: *l, Kind: kind, IndexBits: ib})
		shared[l.Name] = true
	}
	if f.Graph != nil {
		for _, name := range f.Graph.ParamNames() {
			if p := f.Graph.Params[name]; p.DType == graph.Float32 && !shared[name] {
				f.Raw = append(f.Raw, dcz.Tensor{Name: name, Shape: p.Shape, Data: p.F})
			}
		}
		return f, nil
	}
	for _, p := range m.Params() {
		if !shared[p.Name] {
			f.Raw = append(f.Raw, dcz.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
		}
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
