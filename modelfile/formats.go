package modelfile

import (
	"fmt"

	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/onnx"
)

func loadONNX(path string, opt Options) (*nn.Model, error) {
	spec, weights, err := onnx.ImportFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Build(spec, weights, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %s: %w", path, err)
	}
	return m, nil
}
