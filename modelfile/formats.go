package modelfile

import (
	"fmt"

	"github.com/deepcompress/deepcompress/nn"
)

func loadONNX(path string, opt Options) (*nn.Model, error) {
	return nil, fmt.Errorf("modelfile: %s: ONNX not wired yet", path)
}

func loadDCZ(path string, opt Options) (*nn.Model, error) {
	return nil, fmt.Errorf("modelfile: %s: .dcz not wired yet", path)
}
