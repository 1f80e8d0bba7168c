package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// ExportGraph writes g as an ONNX model (see ModelFromGraph). The bytes
// depend only on g: the encoding is deterministic.
func ExportGraph(w io.Writer, g *graph.Graph) error {
	m, err := ModelFromGraph(g)
	if err != nil {
		return err
	}
	if size := proto.Size(m); size > maxModelSize {
		return fmt.Errorf("onnx: the model needs %d bytes, over the 2 GiB protobuf limit", size)
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

// ExportGraphFile writes g to path atomically (see ExportGraph): readers see
// the old file or the whole new one.
func ExportGraphFile(path string, g *graph.Graph) error {
	return atomicfile.Write(path, func(w io.Writer) error { return ExportGraph(w, g) })
}

// ModelFromGraph builds the ONNX model of g, the inverse of GraphFromModel:
// inputs and outputs with their declared shapes (symbolic dimensions as
// dim_param), the nodes with their names, domains and attributes (written
// in name order), the default operator set g.Opset (7 to 21) and the
// others of g.Meta.OtherOpsets, and the rest of g.Meta (ir_version, or the
// IR version of g.Opset's ONNX release when it is 0; producer; domain;
// model_version; doc_string; metadata_props).
//
// Every parameter becomes an initializer in raw_data, in name order:
// graph.Float32 as FLOAT, graph.Int64 as INT64. For IR versions below 4 the
// initializers are also listed as graph inputs, as those versions require.
// Nodes keep their order when it is topological, else they are written in
// g.Order()'s order. g must be well formed (g.Order() succeeds), no input
// may share its name with a parameter, and every parameter's data must
// match its shape.
func ModelFromGraph(g *graph.Graph) (*onnxpb.ModelProto, error) {
	if g.Opset < MinGraphOpset || g.Opset > MaxGraphOpset {
		return nil, fmt.Errorf("onnx: graph operator set %d is not supported (want %d to %d)", g.Opset, MinGraphOpset, MaxGraphOpset)
	}
	order, err := g.Order()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	for _, v := range g.Inputs {
		if _, ok := g.Params[v.Name]; ok {
			// ONNX would read it as an input whose initializer is only a
			// default, and ImportGraph as a parameter.
			return nil, fmt.Errorf("onnx: input %s is also a parameter", graph.Short(v.Name))
		}
	}
	if topological(g) {
		for i := range order {
			order[i] = i // the graph's own order
		}
	}
	gp := &onnxpb.GraphProto{Name: optString(g.Name)}
	gp.Node = make([]*onnxpb.NodeProto, 0, len(g.Nodes))
	for _, i := range order {
		n := &g.Nodes[i]
		np := &onnxpb.NodeProto{
			Input: n.Inputs, Output: n.Outputs,
			Name: optString(n.Name), OpType: ptr(n.Op), Domain: optString(n.Domain),
		}
		names := make([]string, 0, len(n.Attrs))
		for name := range n.Attrs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ap, err := exportAttr(name, n.Attrs[name])
			if err != nil {
				return nil, &NodeError{Node: graph.Short(g.Label(i)), Op: graph.Short(n.Op), Err: err}
			}
			np.Attribute = append(np.Attribute, ap)
		}
		gp.Node = append(gp.Node, np)
	}
	for _, name := range g.ParamNames() {
		tp, err := exportTensor(name, g.Params[name])
		if err != nil {
			return nil, fmt.Errorf("onnx: parameter %s: %w", graph.Short(name), err)
		}
		gp.Initializer = append(gp.Initializer, tp)
	}
	for _, v := range g.Inputs {
		vp, err := exportValue(v)
		if err != nil {
			return nil, err
		}
		gp.Input = append(gp.Input, vp)
	}
	for _, v := range g.Outputs {
		vp, err := exportValue(v)
		if err != nil {
			return nil, err
		}
		gp.Output = append(gp.Output, vp)
	}
	ir := g.Meta.IRVersion
	if ir == 0 {
		ir = irVersionOf(g.Opset)
	}
	if ir < 4 {
		for _, name := range g.ParamNames() {
			t := g.Params[name]
			v := graph.Value{Name: name, DType: t.DType, Shape: make([]graph.Dim, len(t.Shape))}
			for i, d := range t.Shape {
				v.Shape[i] = graph.Dim{Size: d}
			}
			vp, err := exportValue(v)
			if err != nil {
				return nil, err
			}
			gp.Input = append(gp.Input, vp)
		}
	}
	m := &onnxpb.ModelProto{
		IrVersion:       ptr(ir),
		ProducerName:    optString(g.Meta.ProducerName),
		ProducerVersion: optString(g.Meta.ProducerVersion),
		Domain:          optString(g.Meta.Domain),
		DocString:       optString(g.Meta.DocString),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(g.Opset))}},
		Graph:           gp,
	}
	if g.Meta.ModelVersion != 0 {
		m.ModelVersion = ptr(g.Meta.ModelVersion)
	}
	for _, o := range g.Meta.OtherOpsets {
		v, err := strconv.ParseInt(o[1], 10, 64)
		if err != nil || o[0] == "" || o[0] == "ai.onnx" {
			return nil, fmt.Errorf("onnx: operator set %q version %q: want another domain than the default one and a number", graph.Short(o[0]), graph.Short(o[1]))
		}
		m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: ptr(o[0]), Version: ptr(v)})
	}
	for _, p := range g.Meta.Props {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: ptr(p[0]), Value: ptr(p[1])})
	}
	return m, nil
}

// topological reports whether every node of g comes after the producers of
// its inputs (g is known to be well formed).
func topological(g *graph.Graph) bool {
	ready := make(map[string]bool, len(g.Inputs)+len(g.Params)+len(g.Nodes))
	for _, v := range g.Inputs {
		ready[v.Name] = true
	}
	for name := range g.Params {
		ready[name] = true
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != "" && !ready[in] {
				return false
			}
		}
		for _, out := range n.Outputs {
			ready[out] = true
		}
	}
	return true
}

// irVersionOf is the IR version of the ONNX release that introduced the
// default operator set opset.
func irVersionOf(opset int) int64 {
	switch {
	case opset <= 8:
		return 3 + int64(opset-7) // 1.2: IR 3, opset 7; 1.3: IR 3, opset 8
	case opset <= 10:
		return 4 + int64(opset-9) // 1.4: IR 4, opset 9; 1.5: IR 5, opset 10
	case opset == 11:
		return 6
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	}
	return 10
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// exportAttr encodes one attribute.
func exportAttr(name string, a graph.Attr) (*onnxpb.AttributeProto, error) {
	ap := &onnxpb.AttributeProto{Name: ptr(name)}
	switch a.Kind {
	case graph.AttrInt:
		ap.Type, ap.I = onnxpb.AttributeProto_INT.Enum(), ptr(a.Int)
	case graph.AttrFloat:
		ap.Type, ap.F = onnxpb.AttributeProto_FLOAT.Enum(), ptr(a.Float)
	case graph.AttrString:
		ap.Type, ap.S = onnxpb.AttributeProto_STRING.Enum(), []byte(a.Str)
	case graph.AttrInts:
		ap.Type, ap.Ints = onnxpb.AttributeProto_INTS.Enum(), a.Ints
	case graph.AttrFloats:
		ap.Type, ap.Floats = onnxpb.AttributeProto_FLOATS.Enum(), a.Floats
	case graph.AttrStrings:
		ap.Type = onnxpb.AttributeProto_STRINGS.Enum()
		ap.Strings = make([][]byte, len(a.Strings))
		for i, s := range a.Strings {
			ap.Strings[i] = []byte(s)
		}
	case graph.AttrTensor:
		if a.Tensor == nil {
			return nil, fmt.Errorf("attribute %s is a tensor attribute without a tensor", graph.Short(name))
		}
		t, err := exportTensor("", a.Tensor)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", graph.Short(name), err)
		}
		ap.Type, ap.T = onnxpb.AttributeProto_TENSOR.Enum(), t
	default:
		return nil, fmt.Errorf("attribute %s has unknown kind %v", graph.Short(name), a.Kind)
	}
	return ap, nil
}

// exportTensor encodes t in raw_data (little-endian).
func exportTensor(name string, t *graph.Tensor) (*onnxpb.TensorProto, error) {
	if t == nil {
		return nil, errors.New("no tensor")
	}
	n, err := budget.Elems(t.Shape...)
	if err != nil {
		return nil, err
	}
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	tp := &onnxpb.TensorProto{Name: optString(name), Dims: dims}
	switch t.DType {
	case graph.Float32:
		if int64(len(t.F)) != n {
			return nil, fmt.Errorf("holds %d float32 values; shape %s needs %d", len(t.F), budget.Shape(t.Shape), n)
		}
		tp.DataType = ptr(int32(onnxpb.TensorProto_FLOAT))
		tp.RawData = make([]byte, 4*n)
		for i, v := range t.F {
			binary.LittleEndian.PutUint32(tp.RawData[4*i:], math.Float32bits(v))
		}
	case graph.Int64:
		if int64(len(t.I)) != n {
			return nil, fmt.Errorf("holds %d int64 values; shape %s needs %d", len(t.I), budget.Shape(t.Shape), n)
		}
		tp.DataType = ptr(int32(onnxpb.TensorProto_INT64))
		tp.RawData = make([]byte, 8*n)
		for i, v := range t.I {
			binary.LittleEndian.PutUint64(tp.RawData[8*i:], uint64(v))
		}
	default:
		return nil, fmt.Errorf("element type %v cannot be written", t.DType)
	}
	return tp, nil
}

// exportValue declares a graph input or output.
func exportValue(v graph.Value) (*onnxpb.ValueInfoProto, error) {
	var et onnxpb.TensorProto_DataType
	switch v.DType {
	case graph.Float32:
		et = onnxpb.TensorProto_FLOAT
	case graph.Int64:
		et = onnxpb.TensorProto_INT64
	default:
		return nil, fmt.Errorf("onnx: value %s has element type %v, which cannot be written", graph.Short(v.Name), v.DType)
	}
	tt := &onnxpb.TypeProto_Tensor{ElemType: ptr(int32(et))}
	if v.Shape != nil {
		tt.Shape = &onnxpb.TensorShapeProto{Dim: make([]*onnxpb.TensorShapeProto_Dimension, len(v.Shape))}
		for i, d := range v.Shape {
			dp := &onnxpb.TensorShapeProto_Dimension{}
			switch {
			case d.Param != "":
				dp.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
			case d.Size >= 0:
				dp.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d.Size)}
			}
			tt.Shape.Dim[i] = dp
		}
	}
	return &onnxpb.ValueInfoProto{
		Name: ptr(v.Name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}},
	}, nil
}
