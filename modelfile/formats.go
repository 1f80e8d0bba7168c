package modelfile

import (
	"fmt"

	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/onnx"
)

// loadONNX reads a layer chain as before (so every earlier result holds),
// and any other graph through the graph engine.
func loadONNX(path string, opt Options) (*nn.Model, error) {
	spec, weights, err := onnx.ImportFile(path)
	if err != nil {
		g, gerr := onnx.ImportGraphFile(path)
		if gerr != nil {
			return nil, gerr
		}
		return nn.FromGraph(g, nil, opt.Seed)
	}
	m, err := Build(spec, weights, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %s: %w", path, err)
	}
	return m, nil
}
