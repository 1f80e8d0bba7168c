package main

import (
	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// onnxCases: ONNX models whose initializers declare huge or impossible
// shapes for the data they hold, and broken files.
func (c *corpus) onnxCases() error {
	m, err := modelfile.FromDCZ(baseDCZ(c.dir), 1)
	if err != nil {
		return err
	}
	model := func(edit func(*onnxpb.ModelProto)) []byte {
		p, err := onnx.ExportModel(m.Spec, m.WeightMap())
		if err != nil {
			panic(err)
		}
		edit(p)
		b, err := proto.Marshal(p)
		if err != nil {
			panic(err)
		}
		return b
	}
	files := map[string][]byte{
		"onnx-dims-huge": model(func(p *onnxpb.ModelProto) {
			p.Graph.Initializer[0].Dims = []int64{1 << 40, 1 << 40}
		}),
		"onnx-dims-negative": model(func(p *onnxpb.ModelProto) {
			p.Graph.Initializer[0].Dims = []int64{-1, 784}
		}),
		"onnx-dims-many": model(func(p *onnxpb.ModelProto) {
			p.Graph.Initializer[0].Dims = make([]int64, 100000)
		}),
		"onnx-garbage":   []byte("\x0a\xff\xff\xff\xff\x0f this is not a protobuf"),
		"onnx-truncated": model(func(*onnxpb.ModelProto) {})[:1000],
	}
	for name, data := range files {
		f := c.file("onnx/"+name+".onnx", data)
		c.cmd(name, "onnx", "eval", "--model", f)
		c.cmd(name, "onnx", "export", "--model", f, "--out", "out/"+name+".safetensors")
	}
	return nil
}
