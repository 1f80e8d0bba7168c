package onnx

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// diffGraphs describes the first difference between a and b, or returns ""
// when they are equal; floats compare by bits (NaN equals itself).
func diffGraphs(a, b *graph.Graph) string {
	if a.Name != b.Name || a.Opset != b.Opset {
		return fmt.Sprintf("name/opset %q/%d vs %q/%d", a.Name, a.Opset, b.Name, b.Opset)
	}
	if !reflect.DeepEqual(a.Meta, b.Meta) {
		return fmt.Sprintf("meta %+v vs %+v", a.Meta, b.Meta)
	}
	if !reflect.DeepEqual(a.Inputs, b.Inputs) {
		return fmt.Sprintf("inputs %+v vs %+v", a.Inputs, b.Inputs)
	}
	if !reflect.DeepEqual(a.Outputs, b.Outputs) {
		return fmt.Sprintf("outputs %+v vs %+v", a.Outputs, b.Outputs)
	}
	if len(a.Nodes) != len(b.Nodes) {
		return fmt.Sprintf("%d vs %d nodes", len(a.Nodes), len(b.Nodes))
	}
	for i := range a.Nodes {
		x, y := a.Nodes[i], b.Nodes[i]
		if x.Name != y.Name || x.Op != y.Op || x.Domain != y.Domain || !slices.Equal(x.Inputs, y.Inputs) || !slices.Equal(x.Outputs, y.Outputs) {
			return fmt.Sprintf("node %d: %+v vs %+v", i, x, y)
		}
		if len(x.Attrs) != len(y.Attrs) {
			return fmt.Sprintf("node %d: %d vs %d attributes", i, len(x.Attrs), len(y.Attrs))
		}
		for k, u := range x.Attrs {
			v, ok := y.Attrs[k]
			if !ok || !sameAttr(u, v) {
				return fmt.Sprintf("node %d: attribute %s: %+v vs %+v", i, k, u, v)
			}
		}
	}
	if len(a.Params) != len(b.Params) {
		return fmt.Sprintf("%d vs %d params", len(a.Params), len(b.Params))
	}
	for k, t := range a.Params {
		if !sameTensor(t, b.Params[k]) {
			return fmt.Sprintf("param %s differs", k)
		}
	}
	return ""
}

func sameAttr(a, b graph.Attr) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case graph.AttrInt:
		return a.Int == b.Int
	case graph.AttrFloat:
		return math.Float32bits(a.Float) == math.Float32bits(b.Float)
	case graph.AttrString:
		return a.Str == b.Str
	case graph.AttrInts:
		return slices.Equal(a.Ints, b.Ints)
	case graph.AttrFloats:
		return sameBits(a.Floats, b.Floats)
	case graph.AttrStrings:
		return slices.Equal(a.Strings, b.Strings)
	case graph.AttrTensor:
		return sameTensor(a.Tensor, b.Tensor)
	}
	return false
}

func sameTensor(a, b *graph.Tensor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && sameBits(a.F, b.F) && slices.Equal(a.I, b.I)
}

// roundTrip exports g, imports it again and requires the same graph and,
// on a second export, the same bytes.
func roundTrip(t testing.TB, g *graph.Graph) *graph.Graph {
	t.Helper()
	var b1 bytes.Buffer
	if err := ExportGraph(&b1, g); err != nil {
		t.Fatalf("export: %v", err)
	}
	g2, err := ImportGraph(bytes.NewReader(b1.Bytes()))
	if err != nil {
		t.Fatalf("import of our own export: %v", err)
	}
	if d := diffGraphs(g, g2); d != "" {
		t.Fatalf("round trip changed the graph: %s", d)
	}
	var b2 bytes.Buffer
	if err := ExportGraph(&b2, g2); err != nil {
		t.Fatalf("second export: %v", err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatalf("export is not deterministic: %d vs %d bytes", b1.Len(), b2.Len())
	}
	return g2
}

func importGraphModel(t testing.TB, m *onnxpb.ModelProto) (*graph.Graph, error) {
	return ImportGraph(bytes.NewReader(encode(t, m)))
}

func TestGraphLeNet300(t *testing.T) {
	g, err := ImportGraphFile(lenet300ONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	ops := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ops[i] = n.Op
	}
	if want := []string{"Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm"}; !slices.Equal(ops, want) {
		t.Errorf("ops %v, want %v", ops, want)
	}
	if g.Opset != 13 || g.Meta.IRVersion != 7 || g.Meta.ProducerName != "pytorch" || len(g.Params) != 6 {
		t.Errorf("opset %d, meta %+v, %d params", g.Opset, g.Meta, len(g.Params))
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "input" || len(g.Outputs) != 1 || g.Outputs[0].Name != "logits" {
		t.Errorf("inputs %+v outputs %+v", g.Inputs, g.Outputs)
	}
	if w := g.Params["fc1.weight"]; w == nil || !slices.Equal(w.Shape, []int{300, 784}) || len(w.F) != 300*784 {
		t.Errorf("fc1.weight %v", w)
	}
	// The arch importer reads the same weights.
	_, weights, err := ImportFile(lenet300ONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(weights["fc2.weight"], g.Params["fc2.weight"].F) {
		t.Error("fc2.weight differs from the arch import")
	}
	roundTrip(t, g)
}

// allGraphModel builds a model using every attribute kind, Constant form,
// initializer type and value declaration the importer supports.
func allGraphModel() *onnxpb.ModelProto {
	dim := func(v any) *onnxpb.TensorShapeProto_Dimension {
		switch v := v.(type) {
		case int:
			return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}}
		case string:
			return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}}
		}
		return &onnxpb.TensorShapeProto_Dimension{}
	}
	vi := func(name string, et onnxpb.TensorProto_DataType, dims ...*onnxpb.TensorShapeProto_Dimension) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: ptr(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: ptr(int32(et)), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}
	}
	raw := func(name string, dt onnxpb.TensorProto_DataType, dims []int64, data []byte) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: ptr(name), DataType: ptr(int32(dt)), Dims: dims, RawData: data}
	}
	i32 := func(name string, dt onnxpb.TensorProto_DataType, data ...int32) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: ptr(name), DataType: ptr(int32(dt)), Dims: []int64{int64(len(data))}, Int32Data: data}
	}
	double := &onnxpb.TensorProto{Name: ptr("double_data"), DataType: ptr(int32(onnxpb.TensorProto_DOUBLE)), Dims: []int64{2}}
	var dd []byte
	dd = protowire.AppendTag(dd, fieldTensorDoubleData, protowire.BytesType)
	dd = protowire.AppendBytes(dd, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.5)), math.Float64bits(-3)))
	double.ProtoReflect().SetUnknown(dd)
	inits := []*onnxpb.TensorProto{
		mkFloat("w", []int{2, 3}, seq(6)),
		{Name: ptr("float_data"), DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{2}, FloatData: []float32{1.5, float32(math.Inf(-1))}},
		raw("half", onnxpb.TensorProto_FLOAT16, []int64{4}, []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c}), // 1, -2, 2^-24, +Inf
		i32("half32", onnxpb.TensorProto_FLOAT16, 0x3800),                        // 0.5
		raw("bf16", onnxpb.TensorProto_BFLOAT16, []int64{1}, []byte{0x80, 0x3f}), // 1
		raw("double", onnxpb.TensorProto_DOUBLE, []int64{1}, binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.25))),
		double,
		mkInt64("shape", 0, -1),
		raw("i64raw", onnxpb.TensorProto_INT64, []int64{1}, binary.LittleEndian.AppendUint64(nil, uint64(1<<40))),
		i32("i32", onnxpb.TensorProto_INT32, -7, 8),
		raw("i16", onnxpb.TensorProto_INT16, []int64{1}, []byte{0xff, 0xff}),
		raw("u16", onnxpb.TensorProto_UINT16, []int64{1}, []byte{0xff, 0xff}),
		raw("i8", onnxpb.TensorProto_INT8, []int64{2}, []byte{0x80, 0x7f}),
		raw("u8", onnxpb.TensorProto_UINT8, []int64{2}, []byte{0x80, 0x7f}),
		raw("bool", onnxpb.TensorProto_BOOL, []int64{3}, []byte{0, 1, 2}),
		i32("bool32", onnxpb.TensorProto_BOOL, 0, 5),
		raw("scalar", onnxpb.TensorProto_FLOAT, nil, []byte{0, 0, 0x80, 0x3f}),
		raw("empty", onnxpb.TensorProto_FLOAT, []int64{0, 3}, []byte{}),
	}
	tensorAttr := &onnxpb.AttributeProto{Name: ptr("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: mkFloat("", []int{1}, []float32{0})}
	nodes := []*onnxpb.NodeProto{
		{OpType: ptr("Constant"), Output: []string{"c_tensor"}, Attribute: []*onnxpb.AttributeProto{
			{Name: ptr("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: mkInt64("", 1, 2, 3)}}},
		{OpType: ptr("Constant"), Output: []string{"c_float"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_float"), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: ptr(float32(2.5))}}},
		{OpType: ptr("Constant"), Output: []string{"c_floats"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_floats"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: []float32{1, 2}}}},
		{OpType: ptr("Constant"), Output: []string{"c_int"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_int"), I: ptr(int64(-4))}}}, // no type: IR < 3 style
		{OpType: ptr("Constant"), Output: []string{"c_ints"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_ints"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: []int64{5, 6}}}},
		mkNode("Reshape", "reshape", []string{"x", "shape"}, []string{"flat"}),
		mkNode("Gemm", "gemm", []string{"flat", "w", ""}, []string{"y"},
			floatAttr("alpha", 0.5), intAttr("transB", 1), intsAttr("perm", 3, 1),
			&onnxpb.AttributeProto{Name: ptr("mode"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte("constant")},
			&onnxpb.AttributeProto{Name: ptr("scales"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: []float32{1, float32(math.NaN())}},
			&onnxpb.AttributeProto{Name: ptr("names"), Type: onnxpb.AttributeProto_STRINGS.Enum(), Strings: [][]byte{[]byte("a"), []byte("")}},
			tensorAttr),
		{OpType: ptr("Custom"), Domain: ptr("com.example"), Input: []string{"y", "c_float"}, Output: []string{"z", ""}},
		{OpType: ptr("Shape"), Domain: ptr("ai.onnx"), Input: []string{"z"}, Output: []string{"s"}},
	}
	m := mkModel([]int{3}, "z", inits, nodes...)
	m.IrVersion = ptr(int64(8))
	m.ProducerName, m.ProducerVersion, m.Domain, m.DocString = ptr("test"), ptr("0.1"), ptr("org.example"), ptr("a model")
	m.ModelVersion = ptr(int64(42))
	m.MetadataProps = []*onnxpb.StringStringEntryProto{{Key: ptr("k"), Value: ptr("v")}, {Key: ptr("a"), Value: ptr("")}}
	m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: ptr("com.example"), Version: ptr(int64(2))})
	m.Graph.Input[0] = vi("x", onnxpb.TensorProto_FLOAT, dim("batch"), dim(nil), dim(3))
	m.Graph.Input = append(m.Graph.Input, vi("w", onnxpb.TensorProto_FLOAT, dim(2), dim(3))) // an initializer listed as an input
	m.Graph.Output = []*onnxpb.ValueInfoProto{
		vi("z", onnxpb.TensorProto_FLOAT, dim("batch"), dim(-1)),
		vi("s", onnxpb.TensorProto_INT64, dim(2)),
		{Name: ptr("c_ints")}, // no type at all
		vi("scalar", onnxpb.TensorProto_FLOAT),
	}
	m.Graph.Output[3].Type.GetTensorType().Shape = &onnxpb.TensorShapeProto{} // rank 0
	return m
}

func TestGraphAllKinds(t *testing.T) {
	g, err := importGraphModel(t, allGraphModel())
	if err != nil {
		t.Fatal(err)
	}
	wantF := map[string][]float32{
		"float_data":  {1.5, float32(math.Inf(-1))},
		"half":        {1, -2, 1.0 / (1 << 24), float32(math.Inf(1))},
		"half32":      {0.5},
		"bf16":        {1},
		"double":      {0.25},
		"double_data": {0.5, -3},
		"scalar":      {1},
		"empty":       {},
		"c_float":     {2.5},
		"c_floats":    {1, 2},
	}
	wantI := map[string][]int64{
		"shape": {0, -1}, "i64raw": {1 << 40}, "i32": {-7, 8}, "i16": {-1}, "u16": {65535},
		"i8": {-128, 127}, "u8": {128, 127}, "bool": {0, 1, 1}, "bool32": {0, 1},
		"c_tensor": {1, 2, 3}, "c_int": {-4}, "c_ints": {5, 6},
	}
	for name, want := range wantF {
		p := g.Params[name]
		if p == nil || p.DType != graph.Float32 || !sameBits(p.F, want) {
			t.Errorf("param %s = %+v, want float32 %v", name, p, want)
		}
	}
	for name, want := range wantI {
		p := g.Params[name]
		if p == nil || p.DType != graph.Int64 || !slices.Equal(p.I, want) {
			t.Errorf("param %s = %+v, want int64 %v", name, p, want)
		}
	}
	if n := len(g.Params); n != len(wantF)+len(wantI)+1 { // + w
		t.Errorf("%d params", n)
	}
	if s := g.Params["scalar"].Shape; len(s) != 0 {
		t.Errorf("scalar shape %v", s)
	}
	if s := g.Params["c_floats"].Shape; !slices.Equal(s, []int{2}) {
		t.Errorf("c_floats shape %v", s)
	}
	if len(g.Nodes) != 4 {
		t.Fatalf("%d nodes, want the 4 that are not Constant", len(g.Nodes))
	}
	gemm := g.Nodes[1]
	if gemm.Name != "gemm" || !slices.Equal(gemm.Inputs, []string{"flat", "w", ""}) {
		t.Errorf("gemm %+v", gemm)
	}
	if a, _ := gemm.AttrFloat("alpha", 0); a != 0.5 {
		t.Errorf("alpha %v", a)
	}
	if s, _ := gemm.AttrString("mode", ""); s != "constant" {
		t.Errorf("mode %q", s)
	}
	if v := gemm.Attrs["names"]; v.Kind != graph.AttrStrings || !slices.Equal(v.Strings, []string{"a", ""}) {
		t.Errorf("names %+v", v)
	}
	if v, _ := gemm.AttrTensor("value"); v == nil || !sameBits(v.F, []float32{0}) {
		t.Errorf("value %+v", v)
	}
	if c := g.Nodes[2]; c.Domain != "com.example" || !slices.Equal(c.Outputs, []string{"z", ""}) {
		t.Errorf("custom %+v", c)
	}
	if c := g.Nodes[3]; c.Domain != "" {
		t.Errorf("ai.onnx domain kept as %q", c.Domain)
	}
	wantIn := []graph.Value{{Name: "x", DType: graph.Float32, Shape: []graph.Dim{{Size: -1, Param: "batch"}, {Size: -1}, {Size: 3}}}}
	if !reflect.DeepEqual(g.Inputs, wantIn) {
		t.Errorf("inputs %+v", g.Inputs)
	}
	wantOut := []graph.Value{
		{Name: "z", DType: graph.Float32, Shape: []graph.Dim{{Size: -1, Param: "batch"}, {Size: -1}}},
		{Name: "s", DType: graph.Int64, Shape: []graph.Dim{{Size: 2}}},
		{Name: "c_ints", DType: graph.Float32},
		{Name: "scalar", DType: graph.Float32, Shape: []graph.Dim{}},
	}
	if !reflect.DeepEqual(g.Outputs, wantOut) {
		t.Errorf("outputs %+v", g.Outputs)
	}
	wantMeta := graph.Meta{IRVersion: 8, ProducerName: "test", ProducerVersion: "0.1", Domain: "org.example", ModelVersion: 42,
		DocString: "a model", Props: [][2]string{{"k", "v"}, {"a", ""}}, OtherOpsets: [][2]string{{"com.example", "2"}}}
	if !reflect.DeepEqual(g.Meta, wantMeta) || g.Opset != 13 || g.Name != "g" {
		t.Errorf("meta %+v opset %d name %q", g.Meta, g.Opset, g.Name)
	}
	roundTrip(t, g)

	// The export writes the Constants as initializers, in name order.
	m, err := ModelFromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range m.GetGraph().GetInitializer() {
		names = append(names, in.GetName())
		if in.RawData == nil {
			t.Errorf("initializer %s not in raw_data", in.GetName())
		}
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "c_tensor") {
		t.Errorf("initializers %v", names)
	}
}

// TestGraphIRVersion3 checks that a model whose initializers are listed as
// inputs (IR 3) imports without them and exports them as inputs again.
func TestGraphIRVersion3(t *testing.T) {
	m := mkModel([]int{2}, "y", []*onnxpb.TensorProto{mkFloat("b", []int{2}, seq(2))}, mkNode("Add", "add", []string{"x", "b"}, []string{"y"}))
	m.IrVersion = ptr(int64(3))
	m.OpsetImport[0].Version = ptr(int64(7))
	m.Graph.Input = append(m.Graph.Input, valueInfo("b", nil))
	g, err := importGraphModel(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 {
		t.Errorf("inputs %+v", g.Inputs)
	}
	out, err := ModelFromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	if in := out.GetGraph().GetInput(); len(in) != 2 || in[1].GetName() != "b" {
		t.Errorf("IR 3 export inputs %v", in)
	}
	roundTrip(t, g)
}

// TestGraphNodeOrder: nodes out of topological order import as they are
// and export in an order the ONNX checker accepts.
func TestGraphNodeOrder(t *testing.T) {
	m := mkModel([]int{2}, "z", nil,
		mkNode("Relu", "second", []string{"y"}, []string{"z"}),
		mkNode("Relu", "first", []string{"x"}, []string{"y"}))
	g, err := importGraphModel(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if g.Nodes[0].Name != "second" {
		t.Errorf("file order not kept: %+v", g.Nodes)
	}
	out, err := ModelFromGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	if n := out.GetGraph().GetNode(); n[0].GetName() != "first" || n[1].GetName() != "second" {
		t.Errorf("export order %v", n)
	}
}

func TestGraphFromSpec(t *testing.T) {
	for _, spec := range []arch.Spec{arch.LeNet300(), arch.LeNet5(), allKinds()} {
		weights := randomWeights(t, spec, 7)
		g, err := graph.FromSpec(spec, weights)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ExportGraph(&buf, g); err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		// The arch importer reads the graph export back to the spec.
		spec2, weights2, err := Import(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		if !reflect.DeepEqual(spec2, spec) || !reflect.DeepEqual(weights2, weights) {
			t.Errorf("%s: arch import of the graph export differs", spec.Name)
		}
		// ExportModel and the graph export describe the same graph (only
		// the order of initializers and attributes differs).
		var old bytes.Buffer
		if err := Export(&old, spec, weights); err != nil {
			t.Fatal(err)
		}
		g1, err := ImportGraph(&old)
		if err != nil {
			t.Fatal(err)
		}
		g2, err := ImportGraph(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffGraphs(g1, g2); d != "" {
			t.Errorf("%s: ExportModel and ExportGraph(FromSpec) differ: %s", spec.Name, d)
		}
		roundTrip(t, g2)
	}
}

func TestGraphFiles(t *testing.T) {
	g, err := importGraphModel(t, allGraphModel())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "all.onnx")
	if err := ExportGraphFile(path, g); err != nil {
		t.Fatal(err)
	}
	g2, err := ImportGraphFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffGraphs(g, g2); d != "" {
		t.Error(d)
	}
	if _, err := ImportGraphFile(filepath.Join(t.TempDir(), "absent.onnx")); err == nil {
		t.Error("absent file imported")
	}
}

// hostileCase mutates a valid model; the import must fail with want.
type hostileCase struct {
	name   string
	mutate func(m *onnxpb.ModelProto)
	want   string
}

func baseModel() *onnxpb.ModelProto {
	return mkModel([]int{2}, "z", []*onnxpb.TensorProto{mkFloat("b", []int{2}, seq(2))},
		mkNode("Add", "add", []string{"x", "b"}, []string{"y"}),
		mkNode("Relu", "relu", []string{"y"}, []string{"z"}))
}

func withUnknown(m proto.Message, num protowire.Number, payload []byte) {
	var b []byte
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendBytes(b, payload)
	m.ProtoReflect().SetUnknown(append(m.ProtoReflect().GetUnknown(), b...))
}

func hostileCases() []hostileCase {
	long := strings.Repeat("n", 100000)
	return []hostileCase{
		{"cycle", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Input[0] = "z" }, "cycle"},
		{"input never produced", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input[0] = "nowhere" }, "input nowhere is produced by no node"},
		{"long missing name", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input[0] = long }, "is produced by no node"},
		{"output never produced", func(m *onnxpb.ModelProto) { m.Graph.Output[0].Name = ptr("nowhere") }, "output nowhere is produced by no node"},
		{"duplicate output", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output[0] = "y" }, "output y is already produced"},
		{"output shadows input", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output[0] = "x" }, "output x is already produced"},
		{"input declared twice", func(m *onnxpb.ModelProto) { m.Graph.Input = append(m.Graph.Input, m.Graph.Input[0]) }, "declared twice"},
		{"duplicate initializer", func(m *onnxpb.ModelProto) { m.Graph.Initializer = append(m.Graph.Initializer, m.Graph.Initializer[0]) }, "initializer b is declared twice"},
		{"initializer without name", func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].Name = nil }, "initializer has no name"},
		{"constant shadows initializer", func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: ptr("Constant"), Output: []string{"b"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_int"), Type: onnxpb.AttributeProto_INT.Enum(), I: ptr(int64(1))}}})
		}, "already an initializer"},
		{"constant shadows input", func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: ptr("Constant"), Output: []string{"x"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_int"), Type: onnxpb.AttributeProto_INT.Enum(), I: ptr(int64(1))}}})
		}, "also the output of a Constant"},
		{"constant without value", func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: ptr("Constant"), Output: []string{"c"}})
		}, "want exactly one value attribute"},
		{"constant string", func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: ptr("Constant"), Output: []string{"c"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_string"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte("s")}}})
		}, "value_string is not supported"},
		{"constant sparse", func(m *onnxpb.ModelProto) {
			at := &onnxpb.AttributeProto{Name: ptr("sparse_value"), Type: onnxpb.AttributeProto_SPARSE_TENSOR.Enum()}
			withUnknown(at, fieldAttrSparseTensor, nil)
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: ptr("Constant"), Name: ptr("sp"), Output: []string{"c"}, Attribute: []*onnxpb.AttributeProto{at}})
		}, "node sp (Constant): attribute sparse_value: is a sparse tensor"},
		{"huge dims, no data", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: ptr("b"), DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{1 << 20, 1 << 20}}
		}, "float_data holds 0 values; its dims need 1099511627776"},
		{"overflowing dims", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: ptr("b"), DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), Dims: slices.Repeat([]int64{1 << 40}, 5000)}
		}, "its 5000 dims hold more than"},
		{"negative dim", func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].Dims = []int64{-2, -1} }, "dimension 0 is negative"},
		{"raw_data too short", func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].RawData = m.Graph.Initializer[0].RawData[:7] }, "raw_data holds 7 bytes; 2 elements of FLOAT need 8"},
		{"raw_data too long", func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].RawData = make([]byte, 9) }, "raw_data holds 9 bytes"},
		{"float_data count", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].RawData, m.Graph.Initializer[0].FloatData = nil, []float32{1, 2, 3}
		}, "float_data holds 3 values; its dims need 2"},
		{"int64_data count", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: ptr("b"), DataType: ptr(int32(onnxpb.TensorProto_INT64)), Dims: []int64{3}, Int64Data: []int64{1}}
		}, "int64_data holds 1 values; its dims need 3"},
		{"double_data count", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: ptr("b"), DataType: ptr(int32(onnxpb.TensorProto_DOUBLE)), Dims: []int64{3}}
			withUnknown(m.Graph.Initializer[0], fieldTensorDoubleData, make([]byte, 8))
		}, "double_data holds 1 values; its dims need 3"},
		{"string tensor", func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].DataType = ptr(int32(onnxpb.TensorProto_STRING)) }, "data type STRING is not supported"},
		{"uint64 tensor", func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].DataType = ptr(int32(onnxpb.TensorProto_UINT64)) }, "data type UINT64 is not supported"},
		{"unknown data type", func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].DataType = ptr(int32(1234)) }, "data type type 1234 is not supported"},
		{"segment", func(m *onnxpb.ModelProto) { withUnknown(m.Graph.Initializer[0], fieldTensorSegment, nil) }, "segmented tensors"},
		{"external data", func(m *onnxpb.ModelProto) {
			in := m.Graph.Initializer[0]
			in.RawData = nil
			in.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			in.ExternalData = []*onnxpb.StringStringEntryProto{{Key: ptr("location"), Value: ptr("../../etc/passwd")}, {Key: ptr("length"), Value: ptr("8")}}
		}, "initializer b: its data lives in an external file"},
		{"external data entries only", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].ExternalData = []*onnxpb.StringStringEntryProto{{Key: ptr("location"), Value: ptr("/etc/passwd")}}
		}, "external file"},
		{"external data in an attribute", func(m *onnxpb.ModelProto) {
			tp := mkFloat("t", []int{1}, []float32{1})
			tp.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: ptr("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: tp}}
		}, "node relu (Relu): attribute value: onnx: the tensor of an attribute of node relu: its data lives in an external file"},
		{"graph attribute", func(m *onnxpb.ModelProto) {
			at := &onnxpb.AttributeProto{Name: ptr("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum()}
			withUnknown(at, fieldAttrGraph, nil)
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{at}
		}, "node relu (Relu): attribute then_branch: is a subgraph (GRAPH)"},
		{"untyped graph attribute", func(m *onnxpb.ModelProto) {
			at := &onnxpb.AttributeProto{Name: ptr("body")}
			withUnknown(at, fieldAttrGraph, nil)
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{at}
		}, "node relu (Relu): attribute body: is a subgraph (GRAPH)"},
		{"sparse attribute", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: ptr("s"), Type: onnxpb.AttributeProto_SPARSE_TENSORS.Enum()}}
		}, "is a sparse tensor (SPARSE_TENSORS)"},
		{"tensors attribute", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: ptr("ts"), Type: onnxpb.AttributeProto_TENSORS.Enum()}}
		}, "has type TENSORS, which is not supported"},
		{"unknown attribute type", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: ptr("a"), Type: onnxpb.AttributeProto_AttributeType(99).Enum(), I: ptr(int64(1))}}
		}, "has type 99, which is not supported"},
		{"attribute without type or value", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: ptr("a")}}
		}, "has neither a type nor a value"},
		{"attribute with two untyped values", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: ptr("a"), I: ptr(int64(1)), F: ptr(float32(1))}}
		}, "values of several types"},
		{"duplicate attribute", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{intAttr("a", 1), intAttr("a", 2)}
		}, "attribute a is given twice"},
		{"attribute without name", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{I: ptr(int64(1))}} }, "an attribute has no name"},
		{"no op type", func(m *onnxpb.ModelProto) { m.Graph.Node[1].OpType = nil }, "node relu (?): no op_type"},
		{"long node name", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Name, m.Graph.Node[1].OpType, m.Graph.Node[1].Input[0] = ptr(long), ptr(long), long
		}, "nnnn…"},
		{"opset 6", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = ptr(int64(6)) }, "operator set version 6 is not supported (want 7 to 21)"},
		{"opset 22", func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Domain = ptr("ai.onnx")
			m.OpsetImport[0].Version = ptr(int64(22))
		}, "version 22 is not supported"},
		{"no default opset", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Domain = ptr("com.example") }, "imports no default-domain"},
		{"two default opsets", func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: ptr("ai.onnx"), Version: ptr(int64(14))})
		}, "imported twice, as versions 13 and 14"},
		{"two opsets of a domain", func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: ptr("d"), Version: ptr(int64(1))}, &onnxpb.OperatorSetIdProto{Domain: ptr("d"), Version: ptr(int64(1))})
		}, "domain d is imported twice"},
		{"no ir_version", func(m *onnxpb.ModelProto) { m.IrVersion = nil }, "ir_version 0 is older"},
		{"no graph", func(m *onnxpb.ModelProto) { m.Graph = nil }, "model has no graph"},
		{"functions", func(m *onnxpb.ModelProto) { withUnknown(m, fieldModelFunctions, nil) }, "model-local functions"},
		{"sparse initializer", func(m *onnxpb.ModelProto) { withUnknown(m.Graph, fieldGraphSparseInit, nil) }, "sparse initializers"},
		{"input of type double", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().ElemType = ptr(int32(onnxpb.TensorProto_DOUBLE))
		}, "graph input x has element type DOUBLE"},
		{"sequence input", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type = &onnxpb.TypeProto{}
			withUnknown(m.Graph.Input[0].Type, fieldTypeSequence, nil)
		}, "graph input x is not a dense tensor"},
		{"huge declared input dim", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 50}
		}, "dimension 1 is 1125899906842624, beyond any real tensor"},
		{"unnamed input", func(m *onnxpb.ModelProto) { m.Graph.Input[0].Name = nil }, "graph input has no name"},
		{"unnamed output", func(m *onnxpb.ModelProto) { m.Graph.Output[0].Name = nil }, "graph output has no name"},
	}
}

func TestGraphHostile(t *testing.T) {
	if _, err := importGraphModel(t, baseModel()); err != nil {
		t.Fatalf("base model: %v", err)
	}
	for _, tc := range hostileCases() {
		m := baseModel()
		tc.mutate(m)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := importGraphModel(t, m)
		runtime.ReadMemStats(&after)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q, want it to contain %q", tc.name, graph.Short(err.Error()), tc.want)
		case len(err.Error()) > 500:
			t.Errorf("%s: error message of %d bytes", tc.name, len(err.Error()))
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 8<<20 {
			t.Errorf("%s: allocated %d bytes", tc.name, a)
		}
	}
}

// TestGraphHostileBytes feeds truncated and garbage protobuf.
func TestGraphHostileBytes(t *testing.T) {
	good := encode(t, allGraphModel())
	if _, err := ImportGraph(bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(good); cut++ {
		if _, err := ImportGraph(bytes.NewReader(good[:cut])); err == nil {
			// A cut at a field boundary can leave a valid model; it must
			// then be a complete graph, which Order checked.
			continue
		}
	}
	var claim []byte
	claim = protowire.AppendTag(claim, 7, protowire.BytesType)
	claim = protowire.AppendVarint(claim, 1<<40)
	claim = append(claim, 1, 2, 3)
	var packed []byte
	packed = protowire.AppendTag(packed, 4, protowire.BytesType)
	packed = protowire.AppendVarint(packed, 1<<33)
	for _, b := range [][]byte{nil, claim, packed, {0xff, 0xff, 0xff}, []byte("not a model at all"), good[:len(good)/2]} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ImportGraph(bytes.NewReader(b))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%x accepted", b[:min(len(b), 32)])
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
			t.Errorf("%x: allocated %d bytes", b[:min(len(b), 32)], a)
		}
	}
}

// TestGraphExternalDataNotOpened points external data at a FIFO next to the
// model: opening it would block forever, so a finished import proves that
// the importer never opened it.
func TestGraphExternalDataNotOpened(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "weights.bin"), 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	for _, loc := range []string{"weights.bin", "../../etc/passwd", filepath.Join(dir, "weights.bin")} {
		m := baseModel()
		in := m.Graph.Initializer[0]
		in.RawData = nil
		in.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		in.ExternalData = []*onnxpb.StringStringEntryProto{{Key: ptr("location"), Value: ptr(loc)}}
		path := filepath.Join(dir, "model.onnx")
		if err := os.WriteFile(path, encode(t, m), 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := ImportGraphFile(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "external file") {
				t.Errorf("%s: %v", loc, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the import blocked: it opened the external data", loc)
		}
	}
}

// TestGraphBudget: a tensor over the memory budget is refused before it is
// allocated, and so is a model whose tensors together pass it.
func TestGraphBudget(t *testing.T) {
	old := budget.Default.Limit()
	defer budget.Default.SetLimit(old)
	m := baseModel()
	// 2^18 int8 values (256 KiB in the file) are 2 MiB as int64.
	m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: ptr("b"), DataType: ptr(int32(onnxpb.TensorProto_INT8)), Dims: []int64{2, 1 << 17}, RawData: make([]byte, 1<<18)}
	data := encode(t, m)
	budget.Default.SetLimit(1 << 20)
	_, err := ImportGraph(bytes.NewReader(data))
	var ex *budget.ExceededError
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), "initializer b") {
		t.Errorf("over-budget tensor: %v", err)
	}
	// Eight int8 tensors of 256 KiB as int64: each fits, together they
	// do not (the file itself is 256 KiB).
	m = baseModel()
	for i := range 8 {
		m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{Name: ptr(fmt.Sprintf("p%d", i)),
			DataType: ptr(int32(onnxpb.TensorProto_INT8)), Dims: []int64{1 << 15}, RawData: make([]byte, 1<<15)})
	}
	_, err = importGraphModel(t, m)
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), "the model's tensors") {
		t.Errorf("over-budget model: %v", err)
	}
	budget.Default.SetLimit(old)
	if _, err := importGraphModel(t, m); err != nil {
		t.Error(err)
	}
}

// TestGraphDecodeBudget: a file of many tiny fields, whose decoding would
// take some 100 times its size, is refused before it is decoded.
func TestGraphDecodeBudget(t *testing.T) {
	old := budget.Default.Limit()
	defer budget.Default.SetLimit(old)
	var g []byte
	for range 1 << 18 {
		g = protowire.AppendTag(g, 1, protowire.BytesType) // an empty node
		g = protowire.AppendVarint(g, 0)
	}
	var data []byte
	data = protowire.AppendTag(data, 7, protowire.BytesType)
	data = protowire.AppendBytes(data, g)
	budget.Default.SetLimit(16 << 20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ImportGraph(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	var ex *budget.ExceededError
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), "decoding the model") {
		t.Errorf("%d-byte file of empty nodes: %v", len(data), err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 3*uint64(len(data)) {
		t.Errorf("allocated %d bytes for a %d-byte file", a, len(data))
	}
	budget.Default.SetLimit(old)
	if _, err := ImportGraph(bytes.NewReader(data)); err == nil || errors.As(err, &ex) {
		t.Errorf("within the budget: %v", err)
	}
}

// reluChain is a model of n Relu nodes in a chain.
func reluChain(n int) *onnxpb.ModelProto {
	nodes := make([]*onnxpb.NodeProto, n)
	prev := "x"
	for i := range nodes {
		out := fmt.Sprintf("v%d", i)
		nodes[i] = mkNode("Relu", fmt.Sprintf("relu%d", i), []string{prev}, []string{out})
		prev = out
	}
	return mkModel([]int{4}, prev, nil, nodes...)
}

func TestGraphImportLinear(t *testing.T) {
	const n = 40000
	data := encode(t, reluChain(n))
	best := time.Duration(math.MaxInt64)
	var g *graph.Graph
	for range 3 {
		start := time.Now()
		var err error
		if g, err = ImportGraph(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	t.Logf("import of a %d-node Relu chain (%d bytes): %v", n, len(data), best)
	if len(g.Nodes) != n {
		t.Fatalf("%d nodes", len(g.Nodes))
	}
	// About 35 ms on an idle 2-core machine; the bound leaves room for a
	// loaded one and still catches anything quadratic.
	if best > 2*time.Second {
		t.Errorf("import of %d nodes took %v; want well under a second", n, best)
	}
	start := time.Now()
	roundTrip(t, g)
	t.Logf("export and re-import: %v", time.Since(start))
}

// TestGraphImportWide: the other lists of a model (operator sets,
// attributes, initializers, inputs, outputs) are handled in linear time
// too.
func TestGraphImportWide(t *testing.T) {
	const n = 20000
	m := mkModel([]int{1}, "y", nil, mkNode("Relu", "r", []string{"x"}, []string{"y"}))
	for i := range n {
		name := fmt.Sprintf("v%d", i)
		m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: ptr("d" + name), Version: ptr(int64(1))})
		m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, intAttr(name, int64(i)))
		m.Graph.Initializer = append(m.Graph.Initializer, mkFloat("p"+name, nil, []float32{1}))
		m.Graph.Input = append(m.Graph.Input, valueInfo("i"+name, []int{1}))
		m.Graph.Output = append(m.Graph.Output, &onnxpb.ValueInfoProto{Name: ptr("p" + name)})
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: ptr(name)})
	}
	data := encode(t, m)
	start := time.Now()
	g, err := ImportGraph(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("import of %d opsets, attributes, initializers, inputs and outputs (%d bytes): %v", n, len(data), elapsed)
	if len(g.Meta.OtherOpsets) != n || len(g.Nodes[0].Attrs) != n || len(g.Params) != n || len(g.Inputs) != n+1 {
		t.Fatal("lists lost entries")
	}
	if elapsed > 4*time.Second {
		t.Errorf("took %v", elapsed)
	}
	roundTrip(t, g)
}

func TestExportGraphErrors(t *testing.T) {
	base := func() *graph.Graph {
		g, err := importGraphModel(t, baseModel())
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	for _, tc := range []struct {
		name   string
		mutate func(g *graph.Graph)
		want   string
	}{
		{"opset", func(g *graph.Graph) { g.Opset = 0 }, "operator set 0 is not supported"},
		{"cycle", func(g *graph.Graph) { g.Nodes[0].Inputs[0] = "z" }, "cycle"},
		{"short param", func(g *graph.Graph) { g.Params["b"].F = g.Params["b"].F[:1] }, "parameter b: holds 1 float32 values; shape [2] needs 2"},
		{"negative param dim", func(g *graph.Graph) { g.Params["b"].Shape = []int{-2} }, "parameter b: impossible size"},
		{"bad dtype", func(g *graph.Graph) { g.Params["b"].DType = 9 }, "element type dtype(9) cannot be written"},
		{"nil param", func(g *graph.Graph) { g.Params["b"] = nil }, "parameter b: no tensor"},
		{"bad attribute", func(g *graph.Graph) { g.Nodes[1].Attrs = map[string]graph.Attr{"a": {}} }, "attribute a has unknown kind"},
		{"nil tensor attribute", func(g *graph.Graph) { g.Nodes[1].Attrs = map[string]graph.Attr{"t": {Kind: graph.AttrTensor}} }, "without a tensor"},
		{"other opset", func(g *graph.Graph) { g.Meta.OtherOpsets = [][2]string{{"d", "one"}} }, `operator set "d" version "one"`},
		{"value dtype", func(g *graph.Graph) { g.Outputs[0].DType = 7 }, "value z has element type"},
		{"input is a param", func(g *graph.Graph) { g.Inputs = append(g.Inputs, graph.Value{Name: "b"}) }, "input b is also a parameter"},
	} {
		g := base()
		tc.mutate(g)
		err := ExportGraph(&bytes.Buffer{}, g)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// zooManifest is where the PyTorch model zoo lists its exports.
const zooManifest = "../testdata/zoo/manifest.json"

// onnxPaths collects every string ending in ".onnx" anywhere in a decoded
// JSON document, so that the test does not depend on the manifest's layout.
func onnxPaths(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		if strings.HasSuffix(v, ".onnx") {
			*out = append(*out, v)
		}
	case []any:
		for _, x := range v {
			onnxPaths(x, out)
		}
	case map[string]any:
		for _, x := range v {
			onnxPaths(x, out)
		}
	}
}

// TestGraphZoo imports every model the zoo manifest lists, validates it and
// requires the export -> import round trip to give an equal graph. Without
// a manifest (the zoo not generated) there is nothing to check; with one,
// every model it names must be there.
func TestGraphZoo(t *testing.T) {
	data, err := os.ReadFile(zooManifest)
	if err != nil {
		t.Fatal(err) // the zoo is committed: testdata/zoo
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", zooManifest, err)
	}
	var paths []string
	onnxPaths(doc, &paths)
	slices.Sort(paths)
	paths = slices.Compact(paths)
	if len(paths) == 0 {
		t.Fatalf("%s names no .onnx file", zooManifest)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			// Paths are relative to the repository root, or to the
			// manifest's directory.
			var path string
			for _, cand := range []string{filepath.Join("..", p), filepath.Join(filepath.Dir(zooManifest), p), p} {
				if _, err := os.Stat(cand); err == nil {
					path = cand
					break
				}
			}
			if path == "" {
				t.Fatalf("%s lists %s, which is not there", zooManifest, p)
			}
			g, err := ImportGraphFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.Order(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d nodes, %d params, opset %d, producer %s %s", len(g.Nodes), len(g.Params), g.Opset, g.Meta.ProducerName, g.Meta.ProducerVersion)
			roundTrip(t, g)
		})
	}
}
