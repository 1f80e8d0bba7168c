package engine_test

import (
	"fmt"
	"testing"

	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx"
)

// BenchmarkZoo times inference of every zoo model (opset 17 exports) at
// batch 1 and 32.
func BenchmarkZoo(b *testing.B) {
	zoo := readZoo(b)
	for name, z := range zoo.Models {
		exp, ok := z.Exports["op17"]
		if !ok {
			continue
		}
		g, err := onnx.ImportGraphFile(zooPath(exp.File))
		if err != nil {
			b.Fatal(err)
		}
		x := readNpy(b, zooPath(z.Files.Input))
		per := len(x.F) / x.Shape[0]
		for _, batch := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/batch%d", name, batch), func(b *testing.B) {
				m, err := engine.New(g, engine.Options{})
				if err != nil {
					b.Fatal(err)
				}
				data := make([]float32, batch*per)
				for i := range batch {
					copy(data[i*per:], x.F[(i%x.Shape[0])*per:][:per])
				}
				in := map[string]*graph.Tensor{z.Input.Name: graph.NewFloat(append([]int{batch}, x.Shape[1:]...), data)}
				b.SetBytes(int64(4 * len(data)))
				for b.Loop() {
					if _, err := m.Run(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
