// Package modelfile loads and saves whole models in every format the tool
// reads: safetensors checkpoints (the network description in the
// "arch" metadata entry, or given by the caller), ONNX graphs, and
// compressed .dcz files. It is the one place that knows which format a
// path holds.
package modelfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/safetensors"
)

// Metadata keys of deepcompress checkpoints.
const (
	MetaArch   = "arch"   // the arch.Spec as JSON
	MetaPruned = "pruned" // "true" when zero weights are pruned ones (masks recoverable)
)

// ErrNoArch is wrapped by the error of Load for a checkpoint that records
// no architecture when Options.Arch names none either.
var ErrNoArch = errors.New("modelfile: the checkpoint records no architecture")

// ErrTensorsOnly is the error of Load for a .dcz file of named tensors
// without a network (datafree.Compress writes them): datafree.Decode
// expands it to safetensors.
var ErrTensorsOnly = errors.New("modelfile: the file holds tensors, not a network: decode it to .safetensors")

// Options tell Load what a file cannot say itself.
type Options struct {
	// Arch names a built-in architecture (lenet300, lenet5) or a JSON file
	// describing the layers; needed for safetensors files without an
	// "arch" metadata entry.
	Arch string
	// Seed for layers with randomness (dropout).
	Seed uint64
}

// Load reads a model, choosing the format by the file's extension.
func Load(path string, opt Options) (*nn.Model, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors":
		return loadSafetensors(path, opt)
	case ".onnx":
		return loadONNX(path, opt)
	case ".dcz":
		return loadDCZ(path, opt)
	}
	return nil, fmt.Errorf("modelfile: %s: unknown model format (want .safetensors, .onnx or .dcz)", path)
}

// ResolveArch turns a built-in name or a JSON file path into a Spec.
func ResolveArch(name string) (arch.Spec, error) {
	if s, err := arch.Builtin(name); err == nil {
		return s, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return arch.Spec{}, fmt.Errorf("modelfile: architecture %q is neither lenet300, lenet5 nor a readable JSON description: %w", name, err)
	}
	return arch.Parse(data)
}

// Build makes a model from a spec and its weights by name.
func Build(spec arch.Spec, weights map[string][]float32, seed uint64) (*nn.Model, error) {
	m, err := nn.New(spec, seed)
	if err != nil {
		return nil, err
	}
	if err := m.SetWeights(weights); err != nil {
		return nil, err
	}
	return m, nil
}

func loadSafetensors(path string, opt Options) (*nn.Model, error) {
	f, spec, weights, err := readSafetensors(path, opt)
	if err != nil {
		return nil, err
	}
	m, err := Build(spec, weights, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %s: %w", path, err)
	}
	if f.Metadata[MetaPruned] == "true" {
		for _, p := range m.Weights() {
			p.MaskFromZeros()
		}
	}
	return m, nil
}

// readSafetensors reads a checkpoint, its architecture (opt.Arch, else the
// "arch" metadata entry) and its tensors by name.
func readSafetensors(path string, opt Options) (*safetensors.File, arch.Spec, map[string][]float32, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, arch.Spec{}, nil, err
	}
	var spec arch.Spec
	switch {
	case opt.Arch != "":
		spec, err = ResolveArch(opt.Arch)
	case f.Metadata[MetaArch] != "":
		spec, err = arch.Parse([]byte(f.Metadata[MetaArch]))
	default:
		err = fmt.Errorf("%w: %s (give Options.Arch: lenet300, lenet5 or a JSON description)", ErrNoArch, path)
	}
	if err != nil {
		return nil, arch.Spec{}, nil, err
	}
	weights := make(map[string][]float32, len(f.Tensors))
	for _, t := range f.Tensors {
		weights[t.Name] = t.Data
	}
	return f, spec, weights, nil
}

// SaveCheckpoint writes the model's parameters and description to a
// safetensors file, atomically. Pruned models are marked so that their
// masks come back on Load.
func SaveCheckpoint(path string, m *nn.Model, meta map[string]string) error {
	return SaveCheckpointAs(path, m, meta, safetensors.F32)
}

// SaveCheckpointAs is SaveCheckpoint with the element type of the file
// (F32, or F16/BF16 rounded to nearest even).
func SaveCheckpointAs(path string, m *nn.Model, meta map[string]string, dtype safetensors.DType) error {
	f := &safetensors.File{Metadata: map[string]string{"format": "pt", MetaArch: string(m.Spec.JSON())}}
	for k, v := range meta {
		f.Metadata[k] = v
	}
	for _, p := range m.Params() {
		if p.Mask != nil {
			f.Metadata[MetaPruned] = "true"
		}
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data, DType: dtype})
	}
	return safetensors.WriteFile(path, f)
}
