package modelfile

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx"
)

// LoadGraph reads a model as a graph for the engine, choosing the format by
// the file's extension: an ONNX file is imported as it is (any operator the
// graph IR can hold); a .dcz file is decoded to dense weights and a
// safetensors checkpoint read with its architecture (opt.Arch, else its
// "arch" metadata entry), both then turned into a graph by graph.FromSpec.
// opt.Seed is not used: the graph's randomness is the engine's.
func LoadGraph(path string, opt Options) (*graph.Graph, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		return onnx.ImportGraphFile(path)
	case ".dcz":
		f, err := dcz.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if f.Graph != nil {
			return f.WithWeights()
		}
		g, err := graph.FromSpec(f.Spec, f.DenseWeights())
		if err != nil {
			return nil, fmt.Errorf("modelfile: %s: %w", path, err)
		}
		return g, nil
	case ".safetensors":
		_, spec, weights, err := readSafetensors(path, opt)
		if err != nil {
			return nil, err
		}
		g, err := graph.FromSpec(spec, weights)
		if err != nil {
			return nil, fmt.Errorf("modelfile: %s: %w", path, err)
		}
		return g, nil
	}
	return nil, fmt.Errorf("modelfile: %s: unknown model format (want .onnx, .dcz or .safetensors)", path)
}
