package onnx

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// Versions written by Export.
const (
	IRVersion = 7
	Opset     = 13
)

// Names of the exported graph's input and output.
const (
	InputName  = "input"
	OutputName = "logits"
)

// Export writes spec and its weights (exactly the parameters of
// spec.Params(), in arch layout) as an ONNX model; see ExportModel.
func Export(w io.Writer, spec arch.Spec, weights map[string][]float32) error {
	m, err := ExportModel(spec, weights)
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("onnx: encoding the model: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

// ExportFile writes the model to path atomically (see Export).
func ExportFile(path string, spec arch.Spec, weights map[string][]float32) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Export(w, spec, weights) })
}

// ExportModel builds the ONNX model of spec: IR version 7, opset 13, input
// "input" [N, spec.Input...] with a symbolic batch "N", output "logits".
// Dense layers become Gemm (transB = 1, weight [out, in]), conv2d Conv,
// pools MaxPool/AveragePool, dropout a Dropout with a constant ratio (the
// identity at inference), and initializers are named "<layer>.weight" and
// "<layer>.bias", stored in raw_data.
func ExportModel(spec arch.Spec, weights map[string][]float32) (*onnxpb.ModelProto, error) {
	shapes, err := spec.Shapes()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	params, err := spec.Params()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if err := checkWeights(params, weights); err != nil {
		return nil, err
	}
	g := &onnxpb.GraphProto{Name: ptr(cmp.Or(spec.Name, "deepcompress"))}
	for _, p := range params {
		g.Initializer = append(g.Initializer, rawFloatTensor(p.Name, p.Shape, weights[p.Name]))
	}
	used := map[string]bool{InputName: true, OutputName: true}
	for _, t := range g.Initializer {
		used[t.GetName()] = true
	}
	cur := InputName
	for i, l := range spec.Layers {
		name := unique(used, cmp.Or(l.Name, fmt.Sprintf("%s_%d", l.Kind, i)))
		out := OutputName
		if i < len(spec.Layers)-1 {
			out = unique(used, name+"_output")
		}
		n := &onnxpb.NodeProto{Name: ptr(name), Input: []string{cur}, Output: []string{out}}
		if err := exportLayer(g, n, l, used); err != nil {
			return nil, fmt.Errorf("onnx: layer %d (%s): %w", i, l.Kind, err)
		}
		g.Node = append(g.Node, n)
		cur = out
	}
	g.Input = []*onnxpb.ValueInfoProto{valueInfo(InputName, spec.Input)}
	g.Output = []*onnxpb.ValueInfoProto{valueInfo(OutputName, shapes[len(shapes)-1])}
	return &onnxpb.ModelProto{
		IrVersion:    ptr(int64(IRVersion)),
		ProducerName: ptr("deepcompress"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(Opset))}},
		Graph:        g,
	}, nil
}

// exportLayer fills in node n for layer l, adding any constant it needs to g.
func exportLayer(g *onnxpb.GraphProto, n *onnxpb.NodeProto, l arch.Layer, used map[string]bool) error {
	withParams := func() {
		n.Input = append(n.Input, l.Name+".weight")
		if !l.NoBias {
			n.Input = append(n.Input, l.Name+".bias")
		}
	}
	st := l.StrideOrDefault()
	switch l.Kind {
	case arch.Dense:
		n.OpType = ptr("Gemm")
		withParams()
		n.Attribute = []*onnxpb.AttributeProto{floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1)}
	case arch.Conv2D:
		n.OpType = ptr("Conv")
		withParams()
		n.Attribute = []*onnxpb.AttributeProto{
			intsAttr("dilations", 1, 1), intAttr("group", 1),
			intsAttr("kernel_shape", l.Kernel[0], l.Kernel[1]),
			intsAttr("pads", l.Pad[0], l.Pad[1], l.Pad[0], l.Pad[1]),
			intsAttr("strides", st[0], st[1]),
		}
	case arch.MaxPool, arch.AvgPool:
		n.OpType = ptr("MaxPool")
		n.Attribute = []*onnxpb.AttributeProto{
			intsAttr("kernel_shape", l.Kernel[0], l.Kernel[1]),
			intsAttr("pads", l.Pad[0], l.Pad[1], l.Pad[0], l.Pad[1]),
			intsAttr("strides", st[0], st[1]),
		}
		if l.Kind == arch.AvgPool {
			n.OpType = ptr("AveragePool")
			n.Attribute = append(n.Attribute, intAttr("count_include_pad", 0))
		}
	case arch.ReLU:
		n.OpType = ptr("Relu")
	case arch.Flatten:
		n.OpType = ptr("Flatten")
		n.Attribute = []*onnxpb.AttributeProto{intAttr("axis", 1)}
	case arch.Softmax:
		n.OpType = ptr("Softmax")
		n.Attribute = []*onnxpb.AttributeProto{intAttr("axis", -1)}
	case arch.Dropout:
		n.OpType = ptr("Dropout")
		ratio := unique(used, n.GetName()+".ratio")
		g.Initializer = append(g.Initializer, rawFloatTensor(ratio, nil, []float32{l.Rate}))
		n.Input = append(n.Input, ratio)
	default:
		return fmt.Errorf("layer kind %q has no ONNX mapping", l.Kind)
	}
	return nil
}

// checkWeights requires exactly the spec's parameters, each of its size.
func checkWeights(params []arch.ParamInfo, weights map[string][]float32) error {
	for _, p := range params {
		w, ok := weights[p.Name]
		if !ok {
			return fmt.Errorf("onnx: missing parameter %s", p.Name)
		}
		if len(w) != p.Size() {
			return fmt.Errorf("onnx: parameter %s has %d values, shape %v needs %d", p.Name, len(w), p.Shape, p.Size())
		}
	}
	if len(weights) != len(params) {
		for name := range weights {
			if !slices.ContainsFunc(params, func(p arch.ParamInfo) bool { return p.Name == name }) {
				return fmt.Errorf("onnx: weight %s is not a parameter of the network", name)
			}
		}
	}
	return nil
}

// valueInfo describes a float tensor [N, sample...] with a symbolic batch.
func valueInfo(name string, sample []int) *onnxpb.ValueInfoProto {
	dims := []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}}
	for _, d := range sample {
		dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{
		Name: ptr(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: ptr(int32(onnxpb.TensorProto_FLOAT)),
			Shape:    &onnxpb.TensorShapeProto{Dim: dims},
		}}},
	}
}

// unique returns name, or name with a numeric suffix, not yet in used.
func unique(used map[string]bool, name string) string {
	n := name
	for i := 2; used[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	used[n] = true
	return n
}
