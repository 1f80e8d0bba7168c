package onnx

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/internal/testmodel"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
	"github.com/deepcompress/deepcompress/safetensors"
)

// lenet300ONNX and lenet300ST are the PyTorch-exported reference model and
// its weights as safetensors (package testmodel finds them).
func lenet300ONNX(tb testing.TB) string { return testmodel.Path(tb, "lenet300.onnx") }
func lenet300ST(tb testing.TB) string   { return testmodel.Path(tb, "lenet300.safetensors") }

func TestImportLeNet300(t *testing.T) {
	spec, weights, err := ImportFile(lenet300ONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	want := arch.LeNet300()
	if !reflect.DeepEqual(spec.Input, want.Input) || !reflect.DeepEqual(spec.Layers, want.Layers) {
		t.Fatalf("spec %+v\nwant %+v", spec, want)
	}
	st, err := safetensors.ReadFile(lenet300ST(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(weights) != len(st.Tensors) {
		t.Errorf("%d weights, safetensors has %d", len(weights), len(st.Tensors))
	}
	for _, tt := range st.Tensors {
		w := weights[tt.Name]
		if len(w) != len(tt.Data) {
			t.Fatalf("%s: %d values, want %d", tt.Name, len(w), len(tt.Data))
		}
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(tt.Data[i]) {
				t.Fatalf("%s[%d] = %v, safetensors has %v", tt.Name, i, w[i], tt.Data[i])
			}
		}
	}
}

// TestSchemaRoundTripLeNet300 decodes and re-encodes the reference file:
// every byte survives, declared fields or not.
func TestSchemaRoundTripLeNet300(t *testing.T) {
	orig, err := os.ReadFile(lenet300ONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(orig, m); err != nil {
		t.Fatal(err)
	}
	again, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(orig, again) {
		t.Errorf("re-encoded model differs (%d vs %d bytes)", len(again), len(orig))
	}
}

func TestUnknownFieldsSurvive(t *testing.T) {
	m, err := ExportModel(arch.LeNet300(), randomWeights(t, arch.LeNet300(), 1))
	if err != nil {
		t.Fatal(err)
	}
	// ModelProto.training_info (20) and GraphProto.sparse_initializer (15)
	// are real ONNX fields the schema does not declare; 99 is made up.
	var extra []byte
	extra = protowire.AppendTag(extra, 20, protowire.BytesType)
	extra = protowire.AppendBytes(extra, []byte("training info"))
	extra = protowire.AppendTag(extra, 99, protowire.VarintType)
	extra = protowire.AppendVarint(extra, 12345)
	m.ProtoReflect().SetUnknown(extra)
	var gextra []byte
	gextra = protowire.AppendTag(gextra, 15, protowire.BytesType)
	gextra = protowire.AppendBytes(gextra, []byte{0x0a, 0x00})
	m.Graph.ProtoReflect().SetUnknown(gextra)
	b1 := encode(t, m)

	read := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b1, read); err != nil {
		t.Fatal(err)
	}
	if got := read.ProtoReflect().GetUnknown(); !bytes.Equal(got, extra) {
		t.Errorf("model unknown fields %x, want %x", got, extra)
	}
	if got := read.GetGraph().ProtoReflect().GetUnknown(); !bytes.Equal(got, gextra) {
		t.Errorf("graph unknown fields %x, want %x", got, gextra)
	}
	if b2 := encode(t, read); !bytes.Equal(b1, b2) {
		t.Error("read-write round trip changed the bytes")
	}
	if _, _, err := Import(bytes.NewReader(b1)); err != nil {
		t.Errorf("unknown fields broke the import: %v", err)
	}
}

func TestMatMulAdd(t *testing.T) {
	// W [in=2, out=3] as MatMul stores it; arch wants [3, 2].
	w := mkFloat("proj_w", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	b := mkFloat("proj_b", []int{3}, []float32{0.5, -1, 2})
	wantW := []float32{1, 4, 2, 5, 3, 6}
	for _, order := range [][]string{{"y", "proj_b"}, {"proj_b", "y"}} {
		m := mkModel([]int{2}, "z", []*onnxpb.TensorProto{w, b},
			mkNode("MatMul", "/proj/MatMul", []string{"x", "proj_w"}, []string{"y"}),
			mkNode("Add", "/proj/Add", order, []string{"z"}))
		spec, weights, err := importModel(t, m)
		if err != nil {
			t.Fatal(err)
		}
		want := []arch.Layer{{Kind: arch.Dense, Name: "proj_MatMul", Out: 3}}
		if !reflect.DeepEqual(spec.Layers, want) || !reflect.DeepEqual(spec.Input, []int{2}) {
			t.Errorf("spec %+v", spec)
		}
		if !reflect.DeepEqual(weights["proj_MatMul.weight"], wantW) || !reflect.DeepEqual(weights["proj_MatMul.bias"], []float32{0.5, -1, 2}) {
			t.Errorf("weights %v", weights)
		}
	}
	// Without the Add: no bias.
	m := mkModel([]int{2}, "y", []*onnxpb.TensorProto{w}, mkNode("MatMul", "", []string{"x", "proj_w"}, []string{"y"}))
	spec, weights, err := importModel(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if l := spec.Layers[0]; !l.NoBias || l.Name != "fc1" || !reflect.DeepEqual(weights["fc1.weight"], wantW) || len(weights) != 1 {
		t.Errorf("spec %+v weights %v", spec, weights)
	}
}

func TestGemmFolding(t *testing.T) {
	b := mkFloat("fc.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}) // transB=0: [in=2, out=3]
	c := mkFloat("fc.bias", []int{1, 3}, []float32{1, 1, 2})
	m := mkModel([]int{2}, "y", []*onnxpb.TensorProto{b, c},
		mkNode("Gemm", "g", []string{"x", "fc.weight", "fc.bias"}, []string{"y"}, floatAttr("alpha", 2), floatAttr("beta", 0.5)))
	spec, weights, err := importModel(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec.Layers, []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 3}}) {
		t.Errorf("spec %+v", spec)
	}
	if !reflect.DeepEqual(weights["fc.weight"], []float32{2, 8, 4, 10, 6, 12}) || !reflect.DeepEqual(weights["fc.bias"], []float32{0.5, 0.5, 1}) {
		t.Errorf("weights %v", weights)
	}
	// A scalar bias broadcasts.
	m.Graph.Initializer[1] = mkFloat("fc.bias", []int{}, []float32{3})
	if _, weights, err := importModel(t, m); err != nil || !reflect.DeepEqual(weights["fc.bias"], []float32{1.5, 1.5, 1.5}) {
		t.Errorf("scalar bias: %v %v", weights["fc.bias"], err)
	}
}

func TestImportErrors(t *testing.T) {
	w23 := mkFloat("fc.weight", []int{3, 2}, seq(6))
	gemm := func(at ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return mkNode("Gemm", "fc", []string{"x", "fc.weight"}, []string{"y"}, at...)
	}
	conv := func(at ...*onnxpb.AttributeProto) *onnxpb.ModelProto {
		return mkModel([]int{1, 6, 6}, "y", []*onnxpb.TensorProto{mkFloat("c.weight", []int{2, 1, 3, 3}, seq(18))},
			mkNode("Conv", "c", []string{"x", "c.weight"}, []string{"y"}, at...))
	}
	pool := func(op string, at ...*onnxpb.AttributeProto) *onnxpb.ModelProto {
		return mkModel([]int{1, 6, 6}, "y", nil, mkNode(op, "p", []string{"x"}, []string{"y"}, at...))
	}
	external := mkFloat("fc.weight", []int{3, 2}, nil)
	external.RawData = nil
	external.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
	external.ExternalData = []*onnxpb.StringStringEntryProto{{Key: ptr("location"), Value: ptr("w.bin")}}
	doubles := mkFloat("fc.weight", []int{3, 2}, nil)
	doubles.DataType = ptr(int32(onnxpb.TensorProto_DOUBLE))
	huge := mkFloat("fc.weight", []int{1 << 20, 1 << 19}, seq(6))
	twoIn := mkModel([]int{2}, "y", []*onnxpb.TensorProto{w23}, gemm(intAttr("transB", 1)))
	twoIn.Graph.Input = append(twoIn.Graph.Input, valueInfo("x2", []int{2}))

	tests := []struct {
		name string
		m    *onnxpb.ModelProto
		want string
	}{
		{"unsupported op", mkModel([]int{2}, "y", nil, mkNode("Sigmoid", "act1", []string{"x"}, []string{"y"})), "unsupported operator Sigmoid in node act1"},
		{"custom domain", mkModel([]int{2}, "y", nil, &onnxpb.NodeProto{OpType: ptr("Relu"), Domain: ptr("com.acme"), Input: []string{"x"}, Output: []string{"y"}}), `unsupported operator com.acme.Relu in node #0 (output "y")`},
		{"lone add", mkModel([]int{2}, "y", []*onnxpb.TensorProto{mkFloat("b", []int{2}, seq(2))}, mkNode("Add", "a", []string{"x", "b"}, []string{"y"})), "Add is only supported as the bias of a preceding MatMul"},
		{"transA", mkModel([]int{3}, "y", []*onnxpb.TensorProto{w23}, gemm(intAttr("transA", 1))), "transA = 1"},
		{"gemm shape", mkModel([]int{5}, "y", []*onnxpb.TensorProto{w23}, gemm(intAttr("transB", 1))), `weight "fc.weight" expects 2 inputs, but the previous layer gives 5`},
		{"gemm unflat", mkModel([]int{1, 2}, "y", []*onnxpb.TensorProto{w23}, gemm(intAttr("transB", 1))), "needs a flat input"},
		{"weight not const", mkModel([]int{2}, "y", nil, gemm()), `input 1 "fc.weight" is not a constant`},
		{"external", mkModel([]int{2}, "y", []*onnxpb.TensorProto{external}, gemm(intAttr("transB", 1))), "external file"},
		{"double", mkModel([]int{2}, "y", []*onnxpb.TensorProto{doubles}, gemm(intAttr("transB", 1))), "data type DOUBLE, want FLOAT"},
		{"huge dims", mkModel([]int{2}, "y", []*onnxpb.TensorProto{huge}, gemm(intAttr("transB", 1))), "raw_data holds 24 bytes, dims [1048576 524288] need 2199023255552"},
		{"unknown attr", mkModel([]int{2}, "y", []*onnxpb.TensorProto{w23}, gemm(intAttr("transB", 1), intAttr("foo", 1))), `attribute "foo" is not supported`},
		{"attr type", mkModel([]int{2}, "y", []*onnxpb.TensorProto{w23}, gemm(floatAttr("transB", 1))), `attribute "transB" has type FLOAT, want INT`},
		{"group", conv(intAttr("group", 2)), "group 2 is not supported"},
		{"dilation", conv(intsAttr("dilations", 2, 2)), "dilations [2 2] are not supported"},
		{"asymmetric pads", conv(intsAttr("pads", 1, 1, 0, 0)), "only symmetric"},
		{"same stride 2", conv(&onnxpb.AttributeProto{Name: ptr("auto_pad"), S: []byte("SAME_UPPER")}, intsAttr("strides", 2, 2)), "is not symmetric padding"},
		{"kernel mismatch", conv(intsAttr("kernel_shape", 5, 5)), "does not match weight"},
		{"ceil", pool("MaxPool", intsAttr("kernel_shape", 2, 2), intAttr("ceil_mode", 1)), "ceil_mode = 1"},
		{"count pad", pool("AveragePool", intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1), intAttr("count_include_pad", 1)), "count_include_pad = 1"},
		{"no kernel", pool("MaxPool"), "kernel_shape []"},
		{"flatten axis", pool("Flatten", intAttr("axis", 2)), "axis 2 is not supported"},
		{"softmax axis", pool("Softmax", intAttr("axis", 1)), "only the last axis"},
		{"not a chain", mkModel([]int{2}, "z", nil,
			mkNode("Relu", "r1", []string{"x"}, []string{"y"}),
			mkNode("Relu", "r2", []string{"x"}, []string{"z"})), `first input "x" is not the output "y" of the previous node`},
		{"wrong output", mkModel([]int{2}, "q", nil, mkNode("Relu", "r1", []string{"x"}, []string{"y"})), `graph output "q" is not the end`},
		{"two inputs", twoIn, "several inputs"},
		{"no graph", &onnxpb.ModelProto{}, "no graph"},
		{"no layers", mkModel([]int{2}, "y", nil, mkNode("Identity", "i", []string{"x"}, []string{"y"})), "at least one layer"},
		{"reshape batch", mkModel([]int{2, 3}, "y", []*onnxpb.TensorProto{mkInt64("s", 6)}, mkNode("Reshape", "r", []string{"x", "s"}, []string{"y"})), "drops the batch dimension"},
		{"reshape 2d", mkModel([]int{6}, "y", []*onnxpb.TensorProto{mkInt64("s", -1, 2, 3)}, mkNode("Reshape", "r", []string{"x", "s"}, []string{"y"})), "only flattening"},
		{"reshape count", mkModel([]int{6}, "y", []*onnxpb.TensorProto{mkInt64("s", -1, 5)}, mkNode("Reshape", "r", []string{"x", "s"}, []string{"y"})), "holds 5 elements per sample"},
		{"dropout training", mkModel([]int{2}, "y", []*onnxpb.TensorProto{mkFloat("r", nil, []float32{0.5}), {Name: ptr("t"), DataType: ptr(int32(onnxpb.TensorProto_BOOL)), RawData: []byte{1}}},
			mkNode("Dropout", "d", []string{"x", "r", "t"}, []string{"y"})), "training_mode = true"},
	}
	for _, tt := range tests {
		_, _, err := importModel(t, tt.m)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	var uo *UnsupportedOpError
	if _, _, err := importModel(t, tests[0].m); !errors.As(err, &uo) || uo.Op != "Sigmoid" || uo.Node != "act1" {
		t.Errorf("unsupported op: got %#v", err)
	}
}

func TestHostileInput(t *testing.T) {
	good := encode(t, must(ExportModel(arch.LeNet5(), randomWeights(t, arch.LeNet5(), 2))))
	for _, cut := range []int{1, 2, 10, 100, len(good) / 2, len(good) - 1} {
		if _, _, err := Import(bytes.NewReader(good[:cut])); err == nil {
			t.Errorf("model truncated to %d bytes accepted", cut)
		}
	}
	// A length prefix claiming far more bytes than present.
	var claim []byte
	claim = protowire.AppendTag(claim, 7, protowire.BytesType)
	claim = protowire.AppendVarint(claim, 1<<40)
	claim = append(claim, 1, 2, 3)
	// A packed float field claiming 2^31 elements.
	var packed []byte
	packed = protowire.AppendTag(packed, 4, protowire.BytesType)
	packed = protowire.AppendVarint(packed, 1<<33)
	for _, b := range [][]byte{claim, packed, {0xff, 0xff, 0xff}, []byte("not a model at all")} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Import(bytes.NewReader(b))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%x accepted", b)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
			t.Errorf("%x: allocated %d bytes", b, a)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// allKinds uses every layer kind and non-default window settings, with
// default strides written as zero (the form Import returns).
func allKinds() arch.Spec {
	return arch.Spec{Name: "all", Input: []int{2, 12, 10}, Layers: []arch.Layer{
		{Kind: arch.Conv2D, Name: "conv1", Out: 4, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}},
		{Kind: arch.ReLU},
		{Kind: arch.MaxPool, Kernel: [2]int{2, 2}},
		{Kind: arch.Conv2D, Name: "conv2", Out: 3, Kernel: [2]int{3, 2}, Stride: [2]int{2, 0}, NoBias: true},
		{Kind: arch.AvgPool, Kernel: [2]int{2, 2}, Stride: [2]int{1, 0}, Pad: [2]int{1, 0}},
		{Kind: arch.Flatten},
		{Kind: arch.Dropout, Rate: 0.25},
		{Kind: arch.Dense, Name: "classifier.0", Out: 7},
		{Kind: arch.ReLU},
		{Kind: arch.Dense, Name: "head", Out: 5, NoBias: true},
		{Kind: arch.Softmax},
	}}
}

func TestExportImportRoundTrip(t *testing.T) {
	for _, spec := range []arch.Spec{arch.LeNet300(), arch.LeNet5(), allKinds()} {
		weights := randomWeights(t, spec, 3)
		var buf bytes.Buffer
		if err := Export(&buf, spec, weights); err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		got, gotW, err := Import(&buf)
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		if !reflect.DeepEqual(got, spec) {
			t.Errorf("%s: spec changed\n got %+v\nwant %+v", spec.Name, got, spec)
		}
		if !reflect.DeepEqual(gotW, weights) {
			t.Errorf("%s: weights changed", spec.Name)
		}
	}
}

func TestExportErrors(t *testing.T) {
	spec := arch.LeNet300()
	w := randomWeights(t, spec, 4)
	delete(w, "fc2.bias")
	if err := Export(&bytes.Buffer{}, spec, w); err == nil || !strings.Contains(err.Error(), "missing parameter fc2.bias") {
		t.Errorf("missing: %v", err)
	}
	w = randomWeights(t, spec, 4)
	w["fc1.weight"] = w["fc1.weight"][1:]
	if err := Export(&bytes.Buffer{}, spec, w); err == nil || !strings.Contains(err.Error(), "fc1.weight has 235199 values") {
		t.Errorf("short: %v", err)
	}
	w = randomWeights(t, spec, 4)
	w["extra"] = nil
	if err := Export(&bytes.Buffer{}, spec, w); err == nil || !strings.Contains(err.Error(), "weight extra is not a parameter") {
		t.Errorf("extra: %v", err)
	}
}

func TestReshapeAndConstants(t *testing.T) {
	tests := []struct {
		name   string
		shape  *onnxpb.NodeProto // a Constant node producing "s", or nil for an initializer
		init   []*onnxpb.TensorProto
		sample []int
		want   []arch.Layer
	}{
		{"flatten -1", nil, []*onnxpb.TensorProto{mkInt64("s", 0, -1)}, []int{2, 3}, []arch.Layer{{Kind: arch.Flatten}}},
		{"batch -1", nil, []*onnxpb.TensorProto{mkInt64("s", -1, 6)}, []int{2, 3}, []arch.Layer{{Kind: arch.Flatten}}},
		{"constant node", &onnxpb.NodeProto{OpType: ptr("Constant"), Output: []string{"s"}, Attribute: []*onnxpb.AttributeProto{{Name: ptr("value_ints"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: []int64{0, 6}}}},
			nil, []int{2, 3}, []arch.Layer{{Kind: arch.Flatten}}},
		{"same shape", nil, []*onnxpb.TensorProto{mkInt64("s", 0, 0, -1)}, []int{2, 3}, nil},
	}
	for _, tt := range tests {
		nodes := []*onnxpb.NodeProto{}
		if tt.shape != nil {
			nodes = append(nodes, tt.shape)
		}
		nodes = append(nodes, mkNode("Reshape", "r", []string{"x", "s"}, []string{"y"}), mkNode("Relu", "", []string{"y"}, []string{"z"}))
		spec, _, err := importModel(t, mkModel(tt.sample, "z", tt.init, nodes...))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		want := append(tt.want, arch.Layer{Kind: arch.ReLU})
		if !reflect.DeepEqual(spec.Layers, want) {
			t.Errorf("%s: layers %+v, want %+v", tt.name, spec.Layers, want)
		}
	}
}

func TestLayerNames(t *testing.T) {
	im := &importer{names: map[string]bool{}}
	for _, tt := range []struct{ weight, node, want string }{
		{"fc1.weight", "x", "fc1"},
		{"features.0.weight", "", "features.0"},
		{"onnx::Gemm_12", "/fc/Gemm", "fc_Gemm"},
		{"W", "", "fc4"},
		{"fc1.weight", "", "fc1_2"},
		{"we ird/name.weight", "", "we_ird_name"},
	} {
		if got := im.layerName(tt.weight, tt.node, "fc"); got != tt.want {
			t.Errorf("layerName(%q, %q) = %q, want %q", tt.weight, tt.node, got, tt.want)
		}
	}
}

// checkDir, when set, keeps TestExportFiles' exports there, for the
// official ONNX checker that bench/onnx_checker.sh runs on them (Python is
// for bench scripts only, so go test does not call it).
var checkDir = flag.String("onnx.checkdir", "", "write TestExportFiles' ONNX files to this folder")

// TestExportFiles exports the reference lenet300 and a network of every
// layer kind to files, which must import back to the same network.
func TestExportFiles(t *testing.T) {
	dir := *checkDir
	if dir == "" {
		dir = t.TempDir()
	}
	spec, weights, err := ImportFile(lenet300ONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file    string
		spec    arch.Spec
		weights map[string][]float32
	}{
		{"lenet300.onnx", spec, weights},
		{"all.onnx", allKinds(), randomWeights(t, allKinds(), 5)},
	} {
		path := filepath.Join(dir, c.file)
		if err := ExportFile(path, c.spec, c.weights); err != nil {
			t.Fatal(err)
		}
		got, gotW, err := ImportFile(path)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if !reflect.DeepEqual(got.Layers, c.spec.Layers) || !reflect.DeepEqual(gotW, c.weights) {
			t.Errorf("%s: the network changed through the file", c.file)
		}
	}
}

func BenchmarkImportLeNet300(b *testing.B) {
	data, err := os.ReadFile(lenet300ONNX(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Import(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExportLeNet300(b *testing.B) {
	spec := arch.LeNet300()
	w := randomWeights(b, spec, 1)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Export(&buf, spec, w); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}
