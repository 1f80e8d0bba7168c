package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// maxModelSize is the protobuf limit on a serialized message (2 GiB).
const maxModelSize = 1<<31 - 1

// UnsupportedOpError reports a node whose operator Import cannot map onto
// an arch layer.
type UnsupportedOpError struct {
	Op     string // op_type, prefixed by its domain when not the default one
	Node   string // node name, or its position and output when unnamed
	Detail string // why, when the operator is supported in other contexts
}

func (e *UnsupportedOpError) Error() string {
	msg := fmt.Sprintf("onnx: unsupported operator %s in node %s", e.Op, e.Node)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg + " (supported: Gemm, MatMul [+ Add], Conv, MaxPool, AveragePool, Relu, Flatten, Reshape, Identity, Dropout, Softmax, Constant)"
}

// NodeError reports a supported node that Import cannot map: a bad
// attribute, a weight of the wrong shape, an input that is not a constant.
type NodeError struct {
	Node string
	Op   string
	Err  error
}

func (e *NodeError) Error() string { return fmt.Sprintf("onnx: node %s (%s): %v", e.Node, e.Op, e.Err) }
func (e *NodeError) Unwrap() error { return e.Err }

// Import reads an ONNX model and maps it onto an arch.Spec and its weights
// ("<layer>.weight" in arch layout, "<layer>.bias"). See the package
// documentation for the graphs it accepts. The Spec is named after the
// graph; strides equal to arch's defaults (1 for conv2d, the kernel for
// pools) are returned as zero, as in the built-in specs. Layer names come
// from "<name>.weight" initializers, else from the node names (sanitised),
// else "fc<k>"/"conv<k>", made unique.
func Import(r io.Reader) (arch.Spec, map[string][]float32, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxModelSize+1))
	if err != nil {
		return arch.Spec{}, nil, fmt.Errorf("onnx: %w", err)
	}
	if len(data) > maxModelSize {
		return arch.Spec{}, nil, fmt.Errorf("onnx: model larger than the 2 GiB protobuf limit")
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return arch.Spec{}, nil, fmt.Errorf("onnx: not a valid ONNX model: %w", err)
	}
	return ImportModel(m)
}

// ImportFile imports the ONNX model at path (see Import).
func ImportFile(path string) (arch.Spec, map[string][]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return arch.Spec{}, nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	spec, w, err := Import(f)
	if err != nil {
		return arch.Spec{}, nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return spec, w, nil
}

// ImportModel maps a decoded model (see Import).
func ImportModel(m *onnxpb.ModelProto) (arch.Spec, map[string][]float32, error) {
	g := m.GetGraph()
	if g == nil {
		return arch.Spec{}, nil, errors.New("onnx: model has no graph")
	}
	im := &importer{opset: 13, consts: map[string]*onnxpb.TensorProto{}, weights: map[string][]float32{}, names: map[string]bool{}}
	for _, op := range m.GetOpsetImport() {
		if d := op.GetDomain(); d == "" || d == "ai.onnx" {
			im.opset = op.GetVersion()
		}
	}
	if err := im.collectConstants(g); err != nil {
		return arch.Spec{}, nil, err
	}
	if err := im.input(g); err != nil {
		return arch.Spec{}, nil, err
	}
	im.spec.Name = g.GetName()
	if err := im.walk(g.GetNode()); err != nil {
		return arch.Spec{}, nil, err
	}
	if err := im.finish(g); err != nil {
		return arch.Spec{}, nil, err
	}
	return im.spec, im.weights, nil
}

// importer walks a chain of nodes, building the Spec layer by layer.
type importer struct {
	opset   int64
	consts  map[string]*onnxpb.TensorProto // initializers and Constant outputs
	spec    arch.Spec
	weights map[string][]float32
	names   map[string]bool // layer names in use
	batch   int64           // static batch size of the input, 0 if symbolic
	cur     string          // the value the next node must consume
	shape   []int           // its per-sample shape
}

func (im *importer) collectConstants(g *onnxpb.GraphProto) error {
	for _, t := range g.GetInitializer() {
		name := t.GetName()
		if name == "" {
			return errors.New("onnx: initializer without a name")
		}
		if _, dup := im.consts[name]; dup {
			return fmt.Errorf("onnx: duplicate initializer %q", name)
		}
		im.consts[name] = t
	}
	for i, n := range g.GetNode() {
		if n.GetOpType() != "Constant" || !defaultDomain(n) {
			continue
		}
		t, err := constantValue(n)
		if err != nil {
			return &NodeError{Node: nodeName(n, i), Op: "Constant", Err: err}
		}
		if len(n.GetOutput()) != 1 {
			return &NodeError{Node: nodeName(n, i), Op: "Constant", Err: errors.New("want one output")}
		}
		im.consts[n.GetOutput()[0]] = t
	}
	return nil
}

// constantValue turns a Constant node's attribute into a tensor.
func constantValue(n *onnxpb.NodeProto) (*onnxpb.TensorProto, error) {
	if len(n.GetAttribute()) != 1 {
		return nil, errors.New("want exactly one value attribute")
	}
	at := n.GetAttribute()[0]
	switch at.GetName() {
	case "value":
		if at.GetT() == nil {
			return nil, errors.New(`attribute "value" holds no tensor`)
		}
		return at.GetT(), nil
	case "value_float":
		return &onnxpb.TensorProto{DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), FloatData: []float32{at.GetF()}}, nil
	case "value_floats":
		return &onnxpb.TensorProto{DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{int64(len(at.GetFloats()))}, FloatData: at.GetFloats()}, nil
	case "value_int":
		return &onnxpb.TensorProto{DataType: ptr(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{at.GetI()}}, nil
	case "value_ints":
		return &onnxpb.TensorProto{DataType: ptr(int32(onnxpb.TensorProto_INT64)), Dims: []int64{int64(len(at.GetInts()))}, Int64Data: at.GetInts()}, nil
	}
	return nil, fmt.Errorf("attribute %q is not supported", at.GetName())
}

// input finds the graph's one data input (older models also list the
// initializers as inputs) and takes the per-sample shape from its type.
func (im *importer) input(g *onnxpb.GraphProto) error {
	var in *onnxpb.ValueInfoProto
	for _, v := range g.GetInput() {
		if _, isConst := im.consts[v.GetName()]; isConst {
			continue
		}
		if in != nil {
			return fmt.Errorf("onnx: graph has several inputs (%q, %q); want one", in.GetName(), v.GetName())
		}
		in = v
	}
	if in == nil {
		return errors.New("onnx: graph has no input")
	}
	tt := in.GetType().GetTensorType()
	if tt == nil || tt.GetShape() == nil {
		return fmt.Errorf("onnx: graph input %q has no tensor type with a shape", in.GetName())
	}
	if et := tt.GetElemType(); et != int32(onnxpb.TensorProto_FLOAT) {
		return fmt.Errorf("onnx: graph input %q has element type %s, want FLOAT", in.GetName(), dataTypeName(et))
	}
	dims := tt.GetShape().GetDim()
	if len(dims) < 2 {
		return fmt.Errorf("onnx: graph input %q has rank %d; want a batch dimension and at least one more", in.GetName(), len(dims))
	}
	im.batch = dims[0].GetDimValue() // 0 when symbolic
	for i, d := range dims[1:] {
		v, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue)
		if !ok || v.DimValue <= 0 || v.DimValue > maxElements {
			return fmt.Errorf("onnx: graph input %q: dimension %d must be a positive number, got %v", in.GetName(), i+1, d.GetValue())
		}
		im.spec.Input = append(im.spec.Input, int(v.DimValue))
	}
	im.cur = in.GetName()
	im.shape = slices.Clone(im.spec.Input)
	return nil
}

// walk maps the nodes in order; each must consume the previous output.
func (im *importer) walk(nodes []*onnxpb.NodeProto) error {
	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		if n.GetOpType() == "Constant" && defaultDomain(n) {
			continue
		}
		name := nodeName(n, i)
		if !defaultDomain(n) {
			return &UnsupportedOpError{Op: n.GetDomain() + "." + n.GetOpType(), Node: name}
		}
		if len(n.GetInput()) == 0 || n.GetInput()[0] != im.cur {
			return &NodeError{Node: name, Op: n.GetOpType(), Err: fmt.Errorf(
				"its first input %q is not the output %q of the previous node: only chains of layers are supported", first(n.GetInput()), im.cur)}
		}
		if len(n.GetOutput()) == 0 || n.GetOutput()[0] == "" {
			return &NodeError{Node: name, Op: n.GetOpType(), Err: errors.New("no output")}
		}
		var next *onnxpb.NodeProto
		if i+1 < len(nodes) {
			next = nodes[i+1]
		}
		skip, err := im.node(n, name, next)
		if err != nil {
			var uo *UnsupportedOpError
			if errors.As(err, &uo) {
				return err
			}
			return &NodeError{Node: name, Op: n.GetOpType(), Err: err}
		}
		i += skip
	}
	return nil
}

// node maps one node; it reports how many following nodes it consumed too
// (the Add of a MatMul + Add pair).
func (im *importer) node(n *onnxpb.NodeProto, name string, next *onnxpb.NodeProto) (int, error) {
	im.cur = n.GetOutput()[0]
	switch n.GetOpType() {
	case "Gemm":
		return 0, im.gemm(n, n.GetName())
	case "MatMul":
		return im.matmul(n, n.GetName(), next)
	case "Conv":
		return 0, im.conv(n, n.GetName())
	case "MaxPool", "AveragePool":
		return 0, im.pool(n)
	case "Relu":
		if _, err := nodeAttrs(n); err != nil {
			return 0, err
		}
		return 0, im.simple(n, arch.Layer{Kind: arch.ReLU})
	case "Flatten":
		return 0, im.flatten(n)
	case "Reshape":
		return 0, im.reshape(n)
	case "Identity":
		if len(n.GetInput()) != 1 {
			return 0, fmt.Errorf("want 1 input, got %d", len(n.GetInput()))
		}
		_, err := nodeAttrs(n)
		return 0, err
	case "Dropout":
		return 0, im.dropout(n)
	case "Softmax":
		return 0, im.softmax(n)
	case "Add":
		return 0, &UnsupportedOpError{Op: "Add", Node: name, Detail: "Add is only supported as the bias of a preceding MatMul"}
	}
	return 0, &UnsupportedOpError{Op: n.GetOpType(), Node: name}
}

// push appends a layer and updates the current shape, letting arch check
// that the layer fits its input.
// Only the new layer is checked here, so that import is linear in the
// node count; finish checks the whole network once.
func (im *importer) push(l arch.Layer) error {
	im.spec.Layers = append(im.spec.Layers, l)
	next, err := l.OutShape(im.shape)
	if err != nil {
		return fmt.Errorf("arch: layer %d (%s %s): %w", len(im.spec.Layers)-1, l.Kind, l.Name, err)
	}
	im.shape = next
	return nil
}

// simple maps a single-input operator whose attributes have been checked.
func (im *importer) simple(n *onnxpb.NodeProto, l arch.Layer) error {
	if len(n.GetInput()) != 1 {
		return fmt.Errorf("want 1 input, got %d", len(n.GetInput()))
	}
	return im.push(l)
}

// constFloat returns the float32 constant named by input i of n.
func (im *importer) constFloat(n *onnxpb.NodeProto, i int) (*onnxpb.TensorProto, []int, []float32, error) {
	name := n.GetInput()[i]
	t, ok := im.consts[name]
	if !ok {
		return nil, nil, nil, fmt.Errorf("input %d %q is not a constant (initializer or Constant node)", i, name)
	}
	shape, data, err := floatTensor(t)
	return t, shape, data, err
}

// constInputs checks that the inputs of n after the first are constants or
// absent ("").
func (im *importer) constInputs(n *onnxpb.NodeProto, max int) error {
	in := n.GetInput()
	if len(in) > max {
		return fmt.Errorf("want at most %d inputs, got %d", max, len(in))
	}
	for i, name := range in[1:] {
		if _, ok := im.consts[name]; !ok && name != "" {
			return fmt.Errorf("input %d %q is not a constant (initializer or Constant node)", i+1, name)
		}
	}
	return nil
}

// gemm maps Y = alpha * A * op(B) + beta * C with A the flat activations;
// name is the node's own name (possibly empty).
func (im *importer) gemm(n *onnxpb.NodeProto, name string) error {
	a, err := nodeAttrs(n, "alpha", "beta", "transA", "transB")
	if err != nil {
		return err
	}
	alpha, err1 := a.float("alpha", 1)
	beta, err2 := a.float("beta", 1)
	transA, err3 := a.int("transA", 0)
	transB, err4 := a.int("transB", 0)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return err
	}
	if transA != 0 {
		return errors.New("transA = 1 (transposed activations) is not supported")
	}
	if err := im.constInputs(n, 3); err != nil {
		return err
	}
	if len(n.GetInput()) < 2 {
		return errors.New("missing weight input B")
	}
	bt, bshape, b, err := im.constFloat(n, 1)
	if err != nil {
		return err
	}
	if len(bshape) != 2 {
		return fmt.Errorf("weight %q has shape %s, want 2-D", bt.GetName(), bounded(bshape))
	}
	out, in := bshape[0], bshape[1]
	if transB == 0 { // B is [in, out]
		in, out = out, in
		b = transpose(b, in, out)
	}
	w := scaled(b, alpha)
	var bias []float32
	if len(n.GetInput()) > 2 && n.GetInput()[2] != "" && beta != 0 {
		_, cshape, c, err := im.constFloat(n, 2)
		if err != nil {
			return err
		}
		if bias, err = broadcastBias(c, cshape, out); err != nil {
			return err
		}
		bias = scaled(bias, beta)
	}
	return im.dense(name, bt.GetName(), in, out, w, bias)
}

// matmul maps Y = X * W (W [in, out]) and, when the next node adds a
// constant to Y, takes it as the bias.
func (im *importer) matmul(n *onnxpb.NodeProto, name string, next *onnxpb.NodeProto) (int, error) {
	if _, err := nodeAttrs(n); err != nil {
		return 0, err
	}
	if len(n.GetInput()) != 2 {
		return 0, fmt.Errorf("want 2 inputs, got %d", len(n.GetInput()))
	}
	wt, wshape, w, err := im.constFloat(n, 1)
	if err != nil {
		return 0, err
	}
	if len(wshape) != 2 {
		return 0, fmt.Errorf("weight %q has shape %s, want 2-D [in, out]", wt.GetName(), bounded(wshape))
	}
	in, out := wshape[0], wshape[1]
	w = transpose(w, in, out)
	var bias []float32
	skip := 0
	if next != nil && next.GetOpType() == "Add" && defaultDomain(next) && len(next.GetInput()) == 2 && len(next.GetOutput()) >= 1 {
		y := n.GetOutput()[0]
		ins := next.GetInput()
		other := -1
		if ins[0] == y {
			other = 1
		} else if ins[1] == y {
			other = 0
		}
		if other >= 0 {
			if _, err := nodeAttrs(next); err != nil {
				return 0, fmt.Errorf("its Add: %w", err)
			}
			_, cshape, c, err := im.constFloat(next, other)
			if err != nil {
				return 0, fmt.Errorf("its Add: %w", err)
			}
			if bias, err = broadcastBias(c, cshape, out); err != nil {
				return 0, fmt.Errorf("its Add: %w", err)
			}
			im.cur = next.GetOutput()[0]
			skip = 1
		}
	}
	return skip, im.dense(name, wt.GetName(), in, out, w, bias)
}

// dense appends a dense layer with weight w [out, in] and optional bias.
func (im *importer) dense(node, weightName string, in, out int, w, bias []float32) error {
	if len(im.shape) != 1 {
		return fmt.Errorf("needs a flat input, got shape %s (add a Flatten before it)", bounded(im.shape))
	}
	if in != im.shape[0] {
		return fmt.Errorf("weight %q expects %d inputs, but the previous layer gives %d", weightName, in, im.shape[0])
	}
	name := im.layerName(weightName, node, "fc")
	if err := im.push(arch.Layer{Kind: arch.Dense, Name: name, Out: out, NoBias: bias == nil}); err != nil {
		return err
	}
	im.weights[name+".weight"] = w
	if bias != nil {
		im.weights[name+".bias"] = bias
	}
	return nil
}

// conv maps a 2-D convolution, group 1, dilation 1.
func (im *importer) conv(n *onnxpb.NodeProto, name string) error {
	a, err := nodeAttrs(n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
	if err != nil {
		return err
	}
	if group, err := a.int("group", 1); err != nil || group != 1 {
		return errors.Join(err, fmt.Errorf("group %d is not supported (only 1)", group))
	}
	if err := im.constInputs(n, 3); err != nil {
		return err
	}
	if len(n.GetInput()) < 2 {
		return errors.New("missing weight input W")
	}
	wt, wshape, w, err := im.constFloat(n, 1)
	if err != nil {
		return err
	}
	if len(wshape) != 4 {
		return fmt.Errorf("weight %q has shape %s, want 4-D [outC, inC, kh, kw] (only 2-D convolutions are supported)", wt.GetName(), bounded(wshape))
	}
	if len(im.shape) != 3 || wshape[1] != im.shape[0] {
		return fmt.Errorf("weight %q of shape %s does not fit input of shape %s", wt.GetName(), bounded(wshape), bounded(im.shape))
	}
	kernel := [2]int{wshape[2], wshape[3]}
	if ks, err := a.ints("kernel_shape", []int64{int64(kernel[0]), int64(kernel[1])}); err != nil || len(ks) != 2 || int(ks[0]) != kernel[0] || int(ks[1]) != kernel[1] {
		return errors.Join(err, fmt.Errorf("kernel_shape %s does not match weight %s", bounded(ks), bounded(wshape)))
	}
	stride, pad, err := window(a, kernel, [2]int{1, 1})
	if err != nil {
		return err
	}
	var bias []float32
	if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
		_, bshape, b, err := im.constFloat(n, 2)
		if err != nil {
			return err
		}
		if len(bshape) != 1 || bshape[0] != wshape[0] {
			return fmt.Errorf("bias has shape %s, want [%d]", bounded(bshape), wshape[0])
		}
		bias = b
	}
	lname := im.layerName(wt.GetName(), name, "conv")
	l := arch.Layer{Kind: arch.Conv2D, Name: lname, Out: wshape[0], Kernel: kernel, Stride: stride, Pad: pad, NoBias: bias == nil}
	if err := im.push(l); err != nil {
		return err
	}
	im.weights[lname+".weight"] = w
	if bias != nil {
		im.weights[lname+".bias"] = bias
	}
	return nil
}

// pool maps MaxPool and AveragePool over 2-D windows.
func (im *importer) pool(n *onnxpb.NodeProto) error {
	kind := arch.MaxPool
	known := []string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}
	if n.GetOpType() == "AveragePool" {
		kind = arch.AvgPool
		known = append(known[:len(known)-2], "count_include_pad", "strides")
	}
	a, err := nodeAttrs(n, known...)
	if err != nil {
		return err
	}
	if len(n.GetInput()) != 1 {
		return fmt.Errorf("want 1 input, got %d", len(n.GetInput()))
	}
	if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
		return errors.New("the Indices output is not supported")
	}
	ks, err := a.ints("kernel_shape", nil)
	if err != nil || len(ks) != 2 || ks[0] <= 0 || ks[1] <= 0 || ks[0] > maxElements || ks[1] > maxElements {
		return errors.Join(err, fmt.Errorf("kernel_shape %s: want 2 positive sizes", bounded(ks)))
	}
	kernel := [2]int{int(ks[0]), int(ks[1])}
	if ceil, err := a.int("ceil_mode", 0); err != nil || ceil != 0 {
		return errors.Join(err, errors.New("ceil_mode = 1 is not supported"))
	}
	stride, pad, err := window(a, kernel, kernel)
	if err != nil {
		return err
	}
	if cip, err := a.int("count_include_pad", 0); err != nil || (cip != 0 && pad != [2]int{}) {
		return errors.Join(err, errors.New("count_include_pad = 1 with padding is not supported"))
	}
	return im.push(arch.Layer{Kind: kind, Kernel: kernel, Stride: stride, Pad: pad})
}

// window reads strides, pads, dilations and auto_pad for a 2-D kernel.
// Strides equal to the arch default (defStride) are stored as zero, as the
// built-in specs do; pads must be symmetric.
func window(a attrs, kernel, defStride [2]int) (stride, pad [2]int, err error) {
	st, err := a.ints("strides", []int64{1, 1})
	if err != nil || len(st) != 2 || st[0] <= 0 || st[1] <= 0 || st[0] > maxElements || st[1] > maxElements {
		return stride, pad, errors.Join(err, fmt.Errorf("strides %s: want 2 positive values", bounded(st)))
	}
	dil, err := a.ints("dilations", []int64{1, 1})
	if err != nil || len(dil) != 2 || dil[0] != 1 || dil[1] != 1 {
		return stride, pad, errors.Join(err, fmt.Errorf("dilations %s are not supported (only 1)", bounded(dil)))
	}
	ps, err := a.ints("pads", []int64{0, 0, 0, 0})
	if err != nil || len(ps) != 4 {
		return stride, pad, errors.Join(err, fmt.Errorf("pads %s: want 4 values", bounded(ps)))
	}
	if ps[0] != ps[2] || ps[1] != ps[3] || ps[0] < 0 || ps[1] < 0 || ps[0] > maxElements || ps[1] > maxElements {
		return stride, pad, fmt.Errorf("pads %s: only symmetric non-negative padding is supported", bounded(ps))
	}
	autoPad, err := a.str("auto_pad", "NOTSET")
	if err != nil {
		return stride, pad, err
	}
	switch autoPad {
	case "NOTSET":
		pad = [2]int{int(ps[0]), int(ps[1])}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		// Symmetric only for stride 1 and odd kernels.
		if st[0] != 1 || st[1] != 1 || kernel[0]%2 == 0 || kernel[1]%2 == 0 {
			return stride, pad, fmt.Errorf("auto_pad %s with strides %s and kernel %s is not symmetric padding", autoPad, bounded(st), bounded(kernel[:]))
		}
		pad = [2]int{kernel[0] / 2, kernel[1] / 2}
	default:
		return stride, pad, fmt.Errorf("unknown auto_pad %q", autoPad)
	}
	for i := range stride {
		if int(st[i]) != defStride[i] {
			stride[i] = int(st[i])
		}
	}
	return stride, pad, nil
}

func (im *importer) flatten(n *onnxpb.NodeProto) error {
	a, err := nodeAttrs(n, "axis")
	if err != nil {
		return err
	}
	axis, err := a.int("axis", 1)
	if err != nil {
		return err
	}
	if axis < 0 {
		axis += int64(len(im.shape) + 1)
	}
	if axis != 1 {
		return fmt.Errorf("axis %d is not supported (only 1: keep the batch dimension)", axis)
	}
	return im.simple(n, arch.Layer{Kind: arch.Flatten})
}

// reshape accepts a constant target shape that keeps the batch dimension
// and either flattens the sample or leaves it unchanged.
func (im *importer) reshape(n *onnxpb.NodeProto) error {
	a, err := nodeAttrs(n, "allowzero")
	if err != nil {
		return err
	}
	allowZero, err := a.int("allowzero", 0)
	if err != nil {
		return err
	}
	if len(n.GetInput()) != 2 {
		return fmt.Errorf("want 2 inputs, got %d", len(n.GetInput()))
	}
	t, ok := im.consts[n.GetInput()[1]]
	if !ok {
		return fmt.Errorf("shape input %q is not a constant", n.GetInput()[1])
	}
	target, err := intTensor(t)
	if err != nil {
		return err
	}
	ns, err := reshapeTarget(target, im.shape, im.batch, allowZero != 0)
	if err != nil {
		return err
	}
	switch {
	case slices.Equal(ns, im.shape):
		return nil // no change
	case len(ns) == 1:
		return im.push(arch.Layer{Kind: arch.Flatten})
	}
	return fmt.Errorf("reshape of %s to %s is not supported (only flattening)", bounded(im.shape), bounded(ns))
}

// reshapeTarget resolves an ONNX Reshape target (0 copies the input
// dimension, -1 is inferred) for an input of shape [batch, sample...] and
// returns the new per-sample shape. The batch dimension must be kept.
func reshapeTarget(target []int64, sample []int, batch int64, allowZero bool) ([]int, error) {
	if len(target) < 2 {
		return nil, fmt.Errorf("target shape %s drops the batch dimension", bounded(target))
	}
	if allowZero && slices.Contains(target, 0) {
		return nil, fmt.Errorf("target shape %s with allowzero = 1 is not supported", bounded(target))
	}
	total := int64(arch.Numel(sample))
	full := append([]int{0}, sample...) // index 0: the batch, unknown here
	if t0 := target[0]; t0 != 0 && (batch == 0 || t0 != batch) && t0 != -1 {
		return nil, fmt.Errorf("target shape %s changes the batch dimension", bounded(target))
	}
	ns := make([]int, len(target)-1)
	infer := -1
	known := int64(1)
	for i, d := range target[1:] {
		switch {
		case d == 0 && i+1 < len(full):
			ns[i] = full[i+1]
		case d == -1 && infer < 0 && target[0] != -1:
			infer = i
			continue
		case d > 0 && d <= maxElements:
			ns[i] = int(d)
		default:
			return nil, fmt.Errorf("target shape %s: bad dimension %d", bounded(target), d)
		}
		known *= int64(ns[i])
		if known > maxElements {
			return nil, fmt.Errorf("target shape %s too large", bounded(target))
		}
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("target shape %s does not divide %d elements", bounded(target), total)
		}
		ns[infer] = int(total / known)
		known = total
	}
	if known != total {
		return nil, fmt.Errorf("target shape %s holds %d elements per sample, the input %s has %d", bounded(target), known, bounded(sample), total)
	}
	return ns, nil
}

// dropout maps Dropout, keeping its ratio for fine-tuning; at inference it
// is the identity.
func (im *importer) dropout(n *onnxpb.NodeProto) error {
	a, err := nodeAttrs(n, "ratio", "is_test", "seed")
	if err != nil {
		return err
	}
	ratio, err := a.float("ratio", 0.5)
	if err != nil {
		return err
	}
	if err := im.constInputs(n, 3); err != nil {
		return err
	}
	in := n.GetInput()
	if len(in) > 1 && in[1] != "" {
		_, shape, r, err := im.constFloat(n, 1)
		if err != nil {
			return err
		}
		if len(r) != 1 {
			return fmt.Errorf("ratio has shape %s, want a scalar", bounded(shape))
		}
		ratio = r[0]
	}
	if len(in) > 2 && in[2] != "" {
		mode, err := intOrBool(im.consts[in[2]])
		if err != nil || mode != 0 {
			return errors.Join(err, errors.New("training_mode = true is not supported in an imported graph"))
		}
	}
	if !(ratio >= 0 && ratio < 1) {
		return fmt.Errorf("ratio %v outside [0, 1)", ratio)
	}
	return im.push(arch.Layer{Kind: arch.Dropout, Rate: ratio})
}

// intOrBool reads a scalar BOOL or integer constant.
func intOrBool(t *onnxpb.TensorProto) (int64, error) {
	if t.GetDataType() == int32(onnxpb.TensorProto_BOOL) {
		if raw := t.GetRawData(); len(raw) == 1 {
			return int64(raw[0]), nil
		}
		if v := t.GetInt32Data(); len(v) == 1 {
			return int64(v[0]), nil
		}
		return 0, errors.New("bad BOOL scalar")
	}
	v, err := intTensor(t)
	if err != nil || len(v) != 1 {
		return 0, errors.Join(err, errors.New("want a scalar"))
	}
	return v[0], nil
}

// softmax accepts a softmax over the last axis.
func (im *importer) softmax(n *onnxpb.NodeProto) error {
	a, err := nodeAttrs(n, "axis")
	if err != nil {
		return err
	}
	def := int64(-1)
	if im.opset < 13 {
		def = 1 // older semantics: flatten from axis 1, equal to the last axis only for flat samples
	}
	axis, err := a.int("axis", def)
	if err != nil {
		return err
	}
	rank := int64(len(im.shape) + 1)
	if axis < 0 {
		axis += rank
	}
	if axis != rank-1 || (im.opset < 13 && rank != 2) {
		return fmt.Errorf("softmax over axis %d of a rank-%d tensor is not supported (only the last axis)", axis, rank)
	}
	return im.simple(n, arch.Layer{Kind: arch.Softmax})
}

// finish checks that the chain ends at the graph's one output and that the
// weights match the spec.
func (im *importer) finish(g *onnxpb.GraphProto) error {
	outs := g.GetOutput()
	if len(outs) != 1 {
		return fmt.Errorf("onnx: graph has %d outputs; want 1", len(outs))
	}
	if outs[0].GetName() != im.cur {
		return fmt.Errorf("onnx: graph output %q is not the end of the chain of layers (%q)", outs[0].GetName(), im.cur)
	}
	params, err := im.spec.Params()
	if err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	for _, p := range params {
		if len(im.weights[p.Name]) != p.Size() {
			return fmt.Errorf("onnx: parameter %s has %d values, want %d", p.Name, len(im.weights[p.Name]), p.Size())
		}
	}
	return nil
}

// layerName derives a unique layer name: the prefix of a "<name>.weight"
// initializer, else the sanitised node name, else prefix plus a number.
func (im *importer) layerName(weight, node, prefix string) string {
	base := ""
	if p, ok := strings.CutSuffix(weight, ".weight"); ok {
		base = sanitize(p, true)
	}
	if base == "" {
		base = sanitize(node, false)
	}
	if base == "" {
		base = fmt.Sprintf("%s%d", prefix, len(im.names)+1)
	}
	name := base
	for i := 2; im.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	im.names[name] = true
	return name
}

// sanitize keeps letters, digits and '_' (and '.' inside initializer
// prefixes such as "features.0"), replacing other runs by '_'.
func sanitize(s string, keepDots bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', keepDots && r == '.':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_.")
}

func defaultDomain(n *onnxpb.NodeProto) bool {
	d := n.GetDomain()
	return d == "" || d == "ai.onnx"
}

// nodeName names a node for messages and layer names.
func nodeName(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	return fmt.Sprintf("#%d (output %q)", i, first(n.GetOutput()))
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// transpose turns a row-major [rows, cols] matrix into [cols, rows].
func transpose(m []float32, rows, cols int) []float32 {
	t := make([]float32, len(m))
	for r := range rows {
		for c := range cols {
			t[c*rows+r] = m[r*cols+c]
		}
	}
	return t
}

// scaled returns s*v, or v itself when s is 1 (keeping the bits exact).
func scaled(v []float32, s float32) []float32 {
	if s == 1 {
		return v
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = s * x
	}
	return out
}

// broadcastBias accepts a bias of shape [out], [1, out] or a scalar.
func broadcastBias(c []float32, shape []int, out int) ([]float32, error) {
	switch {
	case len(c) == out && (len(shape) == 1 || len(shape) == 2 && shape[0] == 1):
		return c, nil
	case len(c) == 1 && len(shape) <= 2:
		b := make([]float32, out)
		for i := range b {
			b[i] = c[0]
		}
		return b, nil
	}
	return nil, fmt.Errorf("bias of shape %s does not broadcast to [%d]", bounded(shape), out)
}

// bounded formats a shape or attribute list from a file for an error
// message, eliding the middle of a long one.
func bounded[T int | int64](v []T) string {
	dims := make([]int, min(len(v), budget.MaxShapeDims+1))
	for i := range dims {
		dims[i] = int(v[i])
	}
	if len(v) > budget.MaxShapeDims {
		return fmt.Sprintf("%s (%d values)", budget.Shape(dims[:budget.MaxShapeDims]), len(v))
	}
	return budget.Shape(dims)
}
