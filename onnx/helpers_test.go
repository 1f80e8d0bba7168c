package onnx

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// Helpers that build small ONNX graphs by hand.

func mkNode(op, name string, in, out []string, at ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: ptr(op), Name: ptr(name), Input: in, Output: out, Attribute: at}
}

func mkFloat(name string, shape []int, data []float32) *onnxpb.TensorProto {
	return rawFloatTensor(name, shape, data)
}

func mkInt64(name string, data ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: ptr(name), Dims: []int64{int64(len(data))}, DataType: ptr(int32(onnxpb.TensorProto_INT64)), Int64Data: data}
}

// mkModel wraps nodes into a model with input "x" [N, sample...] and the
// given output.
func mkModel(sample []int, out string, inits []*onnxpb.TensorProto, nodes ...*onnxpb.NodeProto) *onnxpb.ModelProto {
	in := valueInfo("x", sample)
	return &onnxpb.ModelProto{
		IrVersion:   ptr(int64(7)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(13))}},
		Graph: &onnxpb.GraphProto{
			Name: ptr("g"), Node: nodes, Initializer: inits,
			Input:  []*onnxpb.ValueInfoProto{in},
			Output: []*onnxpb.ValueInfoProto{{Name: ptr(out)}},
		},
	}
}

func encode(t testing.TB, m *onnxpb.ModelProto) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func importModel(t testing.TB, m *onnxpb.ModelProto) (arch.Spec, map[string][]float32, error) {
	return Import(bytes.NewReader(encode(t, m)))
}

// randomWeights fills every parameter of spec with reproducible values.
func randomWeights(t testing.TB, spec arch.Spec, seed uint64) map[string][]float32 {
	params, err := spec.Params()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	w := map[string][]float32{}
	for _, p := range params {
		v := make([]float32, p.Size())
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		w[p.Name] = v
	}
	return w
}

func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i + 1)
	}
	return v
}
