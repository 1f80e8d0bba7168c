package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// The default-domain operator set versions ImportGraph accepts and
// ModelFromGraph writes.
const (
	MinGraphOpset = 7
	MaxGraphOpset = 21
)

// minIRVersion is the first IR version with opset_import (IR 3); files that
// leave ir_version out are older than every opset ImportGraph accepts.
const minIRVersion = 3

// Field numbers of ONNX fields that onnx_subset.proto does not declare but
// that the graph importer must notice (they arrive as unknown fields).
const (
	fieldModelFunctions    = 25 // ModelProto.functions
	fieldGraphSparseInit   = 15 // GraphProto.sparse_initializer
	fieldTensorSegment     = 3  // TensorProto.segment
	fieldTensorDoubleData  = 10 // TensorProto.double_data
	fieldAttrGraph         = 6  // AttributeProto.g
	fieldAttrGraphs        = 11 // AttributeProto.graphs
	fieldAttrSparseTensor  = 22 // AttributeProto.sparse_tensor
	fieldAttrSparseTensors = 23 // AttributeProto.sparse_tensors
	fieldAttrTypeProto     = 14 // AttributeProto.tp
	fieldAttrTypeProtos    = 15 // AttributeProto.type_protos
	fieldAttrRefAttrName   = 21 // AttributeProto.ref_attr_name
	fieldTypeSequence      = 4  // TypeProto.sequence_type
	fieldTypeMap           = 5  // TypeProto.map_type
	fieldTypeSparse        = 8  // TypeProto.sparse_tensor_type
	fieldTypeOptional      = 9  // TypeProto.optional_type
)

// ImportGraph reads an ONNX model into a graph.Graph, keeping every node as
// it is (see GraphFromModel). The input is read whole, up to the 2 GiB
// protobuf limit or the memory budget, whichever is smaller.
func ImportGraph(r io.Reader) (*graph.Graph, error) {
	limit := min(int64(maxModelSize), budget.Default.Limit())
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if int64(len(data)) > limit {
		if limit == maxModelSize {
			return nil, errors.New("onnx: model larger than the 2 GiB protobuf limit")
		}
		return nil, fmt.Errorf("onnx: %w", budget.Default.Check("reading the ONNX model", int64(len(data)), 1))
	}
	// Decoding turns every small field into a Go value (a 2-byte empty
	// node into a struct of some 150 bytes), so its memory is bounded
	// before it starts.
	cost, err := decodeCost(data, (&onnxpb.ModelProto{}).ProtoReflect().Descriptor())
	if err != nil {
		return nil, fmt.Errorf("onnx: not a valid ONNX model: %w", err)
	}
	if err := budget.Default.Check("onnx: decoding the model", cost, 1); err != nil {
		return nil, err
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("onnx: not a valid ONNX model: %w", err)
	}
	return GraphFromModel(m)
}

// Memory charged per decoded field by decodeCost: a message (its struct
// and the pointer to it), a string or bytes header, a scalar.
const (
	costMessage = 256
	costString  = 32
	costScalar  = 16
)

// decodeCost bounds the memory proto.Unmarshal needs to decode b as a
// message of type md: a walk of the wire format that allocates nothing.
// Unknown fields count their bytes; packed repeated scalars 8 bytes per
// byte (a one-byte varint becomes an int64).
func decodeCost(b []byte, md protoreflect.MessageDescriptor) (int64, error) {
	var cost int64
	for len(b) > 0 {
		num, typ, tl := protowire.ConsumeTag(b)
		if tl < 0 {
			return 0, protowire.ParseError(tl)
		}
		vl := protowire.ConsumeFieldValue(num, typ, b[tl:])
		if vl < 0 {
			return 0, protowire.ParseError(vl)
		}
		fd := md.Fields().ByNumber(num)
		switch {
		case fd == nil:
			cost += int64(tl + vl)
		case typ != protowire.BytesType:
			cost += costScalar
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			v, _ := protowire.ConsumeBytes(b[tl:])
			c, err := decodeCost(v, fd.Message())
			if err != nil {
				return 0, err
			}
			cost += costMessage + c
		case fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind:
			cost += costString + int64(vl)
		default: // packed repeated scalars
			cost += costString + 8*int64(vl)
		}
		b = b[tl+vl:]
	}
	return cost, nil
}

// ImportGraphFile imports the ONNX model at path (see ImportGraph). Only
// that file is opened: models whose tensors live in external files are
// refused.
func ImportGraphFile(path string) (*graph.Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if err := budget.Default.Check("reading the ONNX model "+graph.Short(path), st.Size(), 1); err != nil {
			return nil, fmt.Errorf("onnx: %w", err)
		}
	}
	g, err := ImportGraph(f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, graph.Short(path))
	}
	return g, nil
}

// GraphFromModel converts a decoded ONNX model into a graph.Graph and
// validates it (graph.Graph.Order: every value has one source, no cycles).
//
// Nodes keep their operator type, domain ("ai.onnx" is written ""), name,
// inputs, outputs and attributes, in file order. Attributes of type INT,
// FLOAT, STRING, INTS, FLOATS, STRINGS and TENSOR are kept; subgraphs
// (GRAPH, GRAPHS: If, Loop, Scan), sparse tensors, TENSORS and type protos
// are refused with an error naming the node.
//
// Initializers become Params, as do the values of Constant nodes (value,
// value_float(s), value_int(s)), which are then dropped from Nodes; export
// writes them back as initializers. FLOAT tensors are read from float_data
// or raw_data; FLOAT16, BFLOAT16 and DOUBLE are converted to float32 (so the
// original element type is not kept); INT64, INT32, INT16, UINT16, INT8,
// UINT8 and BOOL become graph.Int64 tensors. Other element types, string
// tensors and external data (data_location EXTERNAL, external_data) are
// refused: no path named in the file is ever opened.
//
// Graph inputs that are also initializers (as older exporters list them)
// are not graph inputs. Inputs and outputs must be FLOAT or INT64 tensors;
// a dim_param becomes graph.Dim{Size: -1, Param: name}, a dimension with
// neither value nor name (or a negative value) Size -1.
//
// The default-domain operator set must be 7 to 21 and ir_version at least
// 3; other domains' operator sets go to Meta.OtherOpsets, and ir_version,
// producer, domain, model_version, doc_string and metadata_props to Meta.
// Model-local functions are refused; training information (training_info)
// is ignored, as is value_info (the declared types of intermediate values).
//
// Every size in the file is checked before anything is allocated (dims,
// element counts, data lengths, the memory budget of package budget), so
// a hostile file gives an error, never a panic or a huge allocation. The
// work is linear in the size of the file.
func GraphFromModel(m *onnxpb.ModelProto) (*graph.Graph, error) {
	gp := m.GetGraph()
	if gp == nil {
		return nil, errors.New("onnx: model has no graph")
	}
	if err := refuseUnknown(m, "the model", map[protowire.Number]string{
		fieldModelFunctions: "model-local functions",
	}); err != nil {
		return nil, err
	}
	if err := refuseUnknown(gp, "the graph", map[protowire.Number]string{
		fieldGraphSparseInit: "sparse initializers",
	}); err != nil {
		return nil, err
	}
	g := &graph.Graph{
		Name:   gp.GetName(),
		Params: make(map[string]*graph.Tensor, len(gp.GetInitializer())),
		Meta: graph.Meta{
			IRVersion:       m.GetIrVersion(),
			ProducerName:    m.GetProducerName(),
			ProducerVersion: m.GetProducerVersion(),
			Domain:          m.GetDomain(),
			ModelVersion:    m.GetModelVersion(),
			DocString:       m.GetDocString(),
		},
	}
	for _, p := range m.GetMetadataProps() {
		g.Meta.Props = append(g.Meta.Props, [2]string{p.GetKey(), p.GetValue()})
	}
	if err := importOpsets(g, m.GetOpsetImport()); err != nil {
		return nil, err
	}
	if g.Meta.IRVersion < minIRVersion {
		return nil, fmt.Errorf("onnx: ir_version %d is older than IR version %d, the first with operator sets", g.Meta.IRVersion, minIRVersion)
	}
	im := &graphImporter{}
	for _, t := range gp.GetInitializer() {
		name := t.GetName()
		if name == "" {
			return nil, errors.New("onnx: an initializer has no name")
		}
		if _, dup := g.Params[name]; dup {
			return nil, fmt.Errorf("onnx: initializer %s is declared twice", graph.Short(name))
		}
		pt, err := im.tensor(t, "initializer "+graph.Short(name))
		if err != nil {
			return nil, err
		}
		g.Params[name] = pt
	}
	g.Nodes = make([]graph.Node, 0, len(gp.GetNode()))
	constants := map[string]bool{}
	for i, np := range gp.GetNode() {
		n, err := im.node(np, i)
		if err != nil {
			return nil, err
		}
		if n.Op == "Constant" && n.Domain == "" {
			label := nodeLabel(np, i)
			t, err := constantTensor(np, n)
			if err != nil {
				return nil, &NodeError{Node: label, Op: "Constant", Err: err}
			}
			out := np.GetOutput()[0]
			if _, dup := g.Params[out]; dup {
				return nil, &NodeError{Node: label, Op: "Constant", Err: fmt.Errorf("output %s is already an initializer or another Constant's output", graph.Short(out))}
			}
			g.Params[out] = t
			constants[out] = true
			continue
		}
		g.Nodes = append(g.Nodes, n)
	}
	for _, vp := range gp.GetInput() {
		name := vp.GetName()
		if _, isParam := g.Params[name]; isParam {
			if constants[name] {
				return nil, fmt.Errorf("onnx: graph input %s is also the output of a Constant node", graph.Short(name))
			}
			continue // an initializer listed as an input (IR < 4 style)
		}
		v, err := importValue(vp, "input")
		if err != nil {
			return nil, err
		}
		g.Inputs = append(g.Inputs, v)
	}
	for _, vp := range gp.GetOutput() {
		v, err := importValue(vp, "output")
		if err != nil {
			return nil, err
		}
		g.Outputs = append(g.Outputs, v)
	}
	if _, err := g.Order(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return g, nil
}

// graphImporter carries what the import accumulates across tensors.
type graphImporter struct {
	paramBytes int64 // bytes of all tensors converted so far
}

// importOpsets sets g.Opset from the default domain's entry and records the
// others in g.Meta.OtherOpsets.
func importOpsets(g *graph.Graph, sets []*onnxpb.OperatorSetIdProto) error {
	found := false
	seen := map[string]bool{}
	for _, op := range sets {
		d, v := op.GetDomain(), op.GetVersion()
		if d != "" && d != "ai.onnx" {
			if seen[d] {
				return fmt.Errorf("onnx: operator set of domain %s is imported twice", graph.Short(d))
			}
			seen[d] = true
			g.Meta.OtherOpsets = append(g.Meta.OtherOpsets, [2]string{d, strconv.FormatInt(v, 10)})
			continue
		}
		if found && int64(g.Opset) != v {
			return fmt.Errorf("onnx: the default operator set is imported twice, as versions %d and %d", g.Opset, v)
		}
		if v < MinGraphOpset || v > MaxGraphOpset {
			return fmt.Errorf("onnx: default-domain operator set version %d is not supported (want %d to %d)", v, MinGraphOpset, MaxGraphOpset)
		}
		g.Opset, found = int(v), true
	}
	if !found {
		return errors.New("onnx: the model imports no default-domain (ai.onnx) operator set")
	}
	return nil
}

// nodeLabel names node i for messages: its name, or "#i" when it has none.
func nodeLabel(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return graph.Short(n.GetName())
	}
	return fmt.Sprintf("#%d", i)
}

// node converts one NodeProto.
func (im *graphImporter) node(np *onnxpb.NodeProto, i int) (graph.Node, error) {
	label := nodeLabel(np, i)
	n := graph.Node{
		Name:    np.GetName(),
		Op:      np.GetOpType(),
		Domain:  np.GetDomain(),
		Inputs:  np.GetInput(),
		Outputs: np.GetOutput(),
	}
	if n.Domain == "ai.onnx" {
		n.Domain = ""
	}
	if n.Op == "" {
		return n, &NodeError{Node: label, Op: "?", Err: errors.New("no op_type")}
	}
	if len(np.GetAttribute()) > 0 {
		n.Attrs = make(map[string]graph.Attr, len(np.GetAttribute()))
	}
	for _, ap := range np.GetAttribute() {
		name := ap.GetName()
		if name == "" {
			return n, &NodeError{Node: label, Op: graph.Short(n.Op), Err: errors.New("an attribute has no name")}
		}
		if _, dup := n.Attrs[name]; dup {
			return n, &NodeError{Node: label, Op: graph.Short(n.Op), Err: fmt.Errorf("attribute %s is given twice", graph.Short(name))}
		}
		a, err := im.attr(ap, label)
		if err != nil {
			return n, &NodeError{Node: label, Op: graph.Short(n.Op), Err: fmt.Errorf("attribute %s: %w", graph.Short(name), err)}
		}
		n.Attrs[name] = a
	}
	return n, nil
}

// attr converts one attribute. Its type comes from the type field, or, for
// files that leave it out, from the one value field that is set.
func (im *graphImporter) attr(ap *onnxpb.AttributeProto, node string) (graph.Attr, error) {
	typ := ap.GetType()
	if typ == onnxpb.AttributeProto_UNDEFINED {
		var set []onnxpb.AttributeProto_AttributeType
		if ap.F != nil {
			set = append(set, onnxpb.AttributeProto_FLOAT)
		}
		if ap.I != nil {
			set = append(set, onnxpb.AttributeProto_INT)
		}
		if ap.S != nil {
			set = append(set, onnxpb.AttributeProto_STRING)
		}
		if ap.T != nil {
			set = append(set, onnxpb.AttributeProto_TENSOR)
		}
		if len(ap.Floats) > 0 {
			set = append(set, onnxpb.AttributeProto_FLOATS)
		}
		if len(ap.Ints) > 0 {
			set = append(set, onnxpb.AttributeProto_INTS)
		}
		if len(ap.Strings) > 0 {
			set = append(set, onnxpb.AttributeProto_STRINGS)
		}
		if len(ap.Tensors) > 0 {
			set = append(set, onnxpb.AttributeProto_TENSORS)
		}
		for num, kind := range map[protowire.Number]onnxpb.AttributeProto_AttributeType{
			fieldAttrGraph: onnxpb.AttributeProto_GRAPH, fieldAttrGraphs: onnxpb.AttributeProto_GRAPHS,
			fieldAttrSparseTensor: onnxpb.AttributeProto_SPARSE_TENSOR, fieldAttrSparseTensors: onnxpb.AttributeProto_SPARSE_TENSORS,
			fieldAttrTypeProto: onnxpb.AttributeProto_TYPE_PROTO, fieldAttrTypeProtos: onnxpb.AttributeProto_TYPE_PROTOS,
		} {
			if hasUnknown(ap, num) {
				set = append(set, kind)
			}
		}
		switch {
		case len(set) == 0 && hasUnknown(ap, fieldAttrRefAttrName):
			return graph.Attr{}, errors.New("refers to a function attribute (ref_attr_name), which is only meaningful inside functions")
		case len(set) == 0:
			return graph.Attr{}, errors.New("has neither a type nor a value")
		case len(set) > 1:
			return graph.Attr{}, fmt.Errorf("has no type and values of several types (%v, %v)", set[0], set[1])
		}
		typ = set[0]
	}
	switch typ {
	case onnxpb.AttributeProto_INT:
		return graph.Int(ap.GetI()), nil
	case onnxpb.AttributeProto_FLOAT:
		return graph.Float(ap.GetF()), nil
	case onnxpb.AttributeProto_STRING:
		return graph.String(string(ap.GetS())), nil
	case onnxpb.AttributeProto_INTS:
		return graph.Attr{Kind: graph.AttrInts, Ints: ap.GetInts()}, nil
	case onnxpb.AttributeProto_FLOATS:
		return graph.Attr{Kind: graph.AttrFloats, Floats: ap.GetFloats()}, nil
	case onnxpb.AttributeProto_STRINGS:
		s := make([]string, len(ap.GetStrings()))
		for i, b := range ap.GetStrings() {
			s[i] = string(b)
		}
		return graph.Attr{Kind: graph.AttrStrings, Strings: s}, nil
	case onnxpb.AttributeProto_TENSOR:
		if ap.GetT() == nil {
			return graph.Attr{}, errors.New("is a TENSOR attribute without a tensor")
		}
		t, err := im.tensor(ap.GetT(), "the tensor of an attribute of node "+node)
		if err != nil {
			return graph.Attr{}, err
		}
		return graph.Attr{Kind: graph.AttrTensor, Tensor: t}, nil
	case onnxpb.AttributeProto_GRAPH, onnxpb.AttributeProto_GRAPHS:
		return graph.Attr{}, fmt.Errorf("is a subgraph (%v): control flow (If, Loop, Scan) is not supported", typ)
	case onnxpb.AttributeProto_SPARSE_TENSOR, onnxpb.AttributeProto_SPARSE_TENSORS:
		return graph.Attr{}, fmt.Errorf("is a sparse tensor (%v), which is not supported", typ)
	}
	return graph.Attr{}, fmt.Errorf("has type %v, which is not supported (want INT, FLOAT, STRING, INTS, FLOATS, STRINGS or TENSOR)", typ)
}

// constantTensor returns the value of a Constant node n (np as read).
func constantTensor(np *onnxpb.NodeProto, n graph.Node) (*graph.Tensor, error) {
	if len(n.Outputs) != 1 || n.Outputs[0] == "" {
		return nil, fmt.Errorf("want one named output, got %d outputs", len(n.Outputs))
	}
	if len(n.Inputs) != 0 {
		return nil, fmt.Errorf("want no inputs, got %d", len(n.Inputs))
	}
	if len(n.Attrs) != 1 {
		return nil, fmt.Errorf("want exactly one value attribute, got %d attributes", len(n.Attrs))
	}
	name := np.GetAttribute()[0].GetName()
	a := n.Attrs[name]
	want := map[string]graph.AttrKind{
		"value": graph.AttrTensor, "value_float": graph.AttrFloat, "value_floats": graph.AttrFloats,
		"value_int": graph.AttrInt, "value_ints": graph.AttrInts,
	}
	k, ok := want[name]
	if !ok {
		return nil, fmt.Errorf("attribute %s is not supported (want value, value_float(s) or value_int(s))", graph.Short(name))
	}
	if a.Kind != k {
		return nil, fmt.Errorf("attribute %s is %v, want %v", name, a.Kind, k)
	}
	switch k {
	case graph.AttrTensor:
		return a.Tensor, nil
	case graph.AttrFloat:
		return graph.NewFloat(nil, []float32{a.Float}), nil
	case graph.AttrFloats:
		return graph.NewFloat([]int{len(a.Floats)}, a.Floats), nil
	case graph.AttrInt:
		return graph.NewInt(nil, []int64{a.Int}), nil
	default:
		return graph.NewInt([]int{len(a.Ints)}, a.Ints), nil
	}
}

// importValue converts a graph input or output declaration.
func importValue(vp *onnxpb.ValueInfoProto, role string) (graph.Value, error) {
	v := graph.Value{Name: vp.GetName(), DType: graph.Float32}
	if v.Name == "" {
		return v, fmt.Errorf("onnx: a graph %s has no name", role)
	}
	typ := vp.GetType()
	if typ == nil {
		return v, nil
	}
	tt := typ.GetTensorType()
	if tt == nil {
		for _, num := range []protowire.Number{fieldTypeSequence, fieldTypeMap, fieldTypeSparse, fieldTypeOptional} {
			if hasUnknown(typ, num) {
				return v, fmt.Errorf("onnx: graph %s %s is not a dense tensor (sequence, map, sparse or optional types are not supported)", role, graph.Short(v.Name))
			}
		}
		return v, nil
	}
	switch et := tt.GetElemType(); et {
	case int32(onnxpb.TensorProto_FLOAT), int32(onnxpb.TensorProto_UNDEFINED):
	case int32(onnxpb.TensorProto_INT64):
		v.DType = graph.Int64
	default:
		return v, fmt.Errorf("onnx: graph %s %s has element type %s; only FLOAT and INT64 are supported", role, graph.Short(v.Name), dataTypeName(et))
	}
	sp := tt.GetShape()
	if sp == nil {
		return v, nil
	}
	v.Shape = make([]graph.Dim, len(sp.GetDim()))
	for i, d := range sp.GetDim() {
		switch x := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			if x.DimValue > maxElements {
				return v, fmt.Errorf("onnx: graph %s %s: dimension %d is %d, beyond any real tensor", role, graph.Short(v.Name), i, x.DimValue)
			}
			v.Shape[i] = graph.Dim{Size: int(max(x.DimValue, -1))}
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			v.Shape[i] = graph.Dim{Size: -1, Param: x.DimParam}
		default:
			v.Shape[i] = graph.Dim{Size: -1}
		}
	}
	return v, nil
}

// elemSize is the stored size of one element of each supported data type.
var elemSize = map[onnxpb.TensorProto_DataType]int64{
	onnxpb.TensorProto_FLOAT: 4, onnxpb.TensorProto_FLOAT16: 2, onnxpb.TensorProto_BFLOAT16: 2, onnxpb.TensorProto_DOUBLE: 8,
	onnxpb.TensorProto_INT64: 8, onnxpb.TensorProto_INT32: 4, onnxpb.TensorProto_INT16: 2, onnxpb.TensorProto_UINT16: 2,
	onnxpb.TensorProto_INT8: 1, onnxpb.TensorProto_UINT8: 1, onnxpb.TensorProto_BOOL: 1,
}

// tensor converts a TensorProto, checking every size before allocating.
// what names it in errors (already shortened).
func (im *graphImporter) tensor(t *onnxpb.TensorProto, what string) (*graph.Tensor, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("onnx: %s: "+format, append([]any{what}, args...)...)
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, fail("its data lives in an external file, which is not supported (no path is opened): " +
			"re-save the model with its data embedded (onnx.save_model(..., save_as_external_data=False))")
	}
	if err := refuseUnknown(t, what, map[protowire.Number]string{fieldTensorSegment: "segmented tensors"}); err != nil {
		return nil, err
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	size, ok := elemSize[dt]
	if !ok {
		return nil, fail("data type %s is not supported (want FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, INT32, INT16, UINT16, INT8, UINT8 or BOOL)", dataTypeName(t.GetDataType()))
	}
	dims := t.GetDims()
	shape := make([]int, len(dims))
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return nil, fail("dimension %d is negative (%d)", i, d)
		}
		var ok bool
		if n, ok = budget.Mul(n, d); !ok || n > maxElements {
			return nil, fail("its %d dims hold more than %d elements", len(dims), int64(maxElements))
		}
		shape[i] = int(d)
	}
	if len(dims) == 0 {
		shape = nil
	}
	float := dt == onnxpb.TensorProto_FLOAT || dt == onnxpb.TensorProto_FLOAT16 || dt == onnxpb.TensorProto_BFLOAT16 || dt == onnxpb.TensorProto_DOUBLE
	// The stored values: raw_data, or the typed field of the data type.
	raw := t.RawData != nil
	var stored int64
	field := "raw_data"
	var doubles []byte // packed double_data, which the schema leaves undeclared
	switch {
	case raw:
		if int64(len(t.GetRawData())) != n*size {
			return nil, fail("raw_data holds %d bytes; %d elements of %s need %d", len(t.GetRawData()), n, dataTypeName(t.GetDataType()), n*size)
		}
		stored = n
	case dt == onnxpb.TensorProto_FLOAT:
		field, stored = "float_data", int64(len(t.GetFloatData()))
	case dt == onnxpb.TensorProto_INT64:
		field, stored = "int64_data", int64(len(t.GetInt64Data()))
	case dt == onnxpb.TensorProto_DOUBLE:
		var err error
		if doubles, err = unknownPacked64(t, fieldTensorDoubleData); err != nil {
			return nil, fail("double_data: %v", err)
		}
		field, stored = "double_data", int64(len(doubles)/8)
	default:
		field, stored = "int32_data", int64(len(t.GetInt32Data()))
	}
	if stored != n {
		return nil, fail("%s holds %d values; its dims need %d", field, stored, n)
	}
	outSize := int64(8)
	if float {
		outSize = 4
	}
	if err := budget.Default.Check("onnx: "+what, n, outSize); err != nil {
		return nil, err
	}
	total, ok := budget.Mul(n, outSize)
	if total += im.paramBytes; !ok || total < im.paramBytes {
		total = math.MaxInt64
	}
	if err := budget.Default.Check("onnx: the model's tensors", total, 1); err != nil {
		return nil, err
	}
	im.paramBytes = total
	rd := t.GetRawData()
	if float {
		out := make([]float32, n)
		switch {
		case dt == onnxpb.TensorProto_FLOAT && raw:
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(rd[4*i:]))
			}
		case dt == onnxpb.TensorProto_FLOAT:
			copy(out, t.GetFloatData())
		case dt == onnxpb.TensorProto_DOUBLE:
			src := rd
			if !raw {
				src = doubles
			}
			for i := range out {
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
			}
		default: // FLOAT16, BFLOAT16: 16-bit patterns in raw_data or int32_data
			for i := range out {
				var bits uint16
				if raw {
					bits = binary.LittleEndian.Uint16(rd[2*i:])
				} else {
					bits = uint16(t.GetInt32Data()[i])
				}
				if dt == onnxpb.TensorProto_BFLOAT16 {
					out[i] = math.Float32frombits(uint32(bits) << 16)
				} else {
					out[i] = halfToFloat(bits)
				}
			}
		}
		return graph.NewFloat(shape, out), nil
	}
	out := make([]int64, n)
	switch {
	case !raw && dt == onnxpb.TensorProto_INT64:
		copy(out, t.GetInt64Data())
	case !raw:
		for i, v := range t.GetInt32Data() {
			out[i] = int64(v)
		}
	default:
		for i := range out {
			switch dt {
			case onnxpb.TensorProto_INT64:
				out[i] = int64(binary.LittleEndian.Uint64(rd[8*i:]))
			case onnxpb.TensorProto_INT32:
				out[i] = int64(int32(binary.LittleEndian.Uint32(rd[4*i:])))
			case onnxpb.TensorProto_INT16:
				out[i] = int64(int16(binary.LittleEndian.Uint16(rd[2*i:])))
			case onnxpb.TensorProto_UINT16:
				out[i] = int64(binary.LittleEndian.Uint16(rd[2*i:]))
			case onnxpb.TensorProto_INT8:
				out[i] = int64(int8(rd[i]))
			case onnxpb.TensorProto_UINT8:
				out[i] = int64(rd[i])
			case onnxpb.TensorProto_BOOL:
				if rd[i] != 0 {
					out[i] = 1
				}
			}
		}
	}
	if dt == onnxpb.TensorProto_BOOL && !raw {
		for i, v := range out {
			if v != 0 {
				out[i] = 1
			}
		}
	}
	return graph.NewInt(shape, out), nil
}

// halfToFloat converts an IEEE 754 binary16 bit pattern to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // zero
		return math.Float32frombits(sign)
	}
	// Subnormal: frac * 2^-24.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// hasUnknown reports whether m carries an unknown field numbered num.
func hasUnknown(m proto.Message, num protowire.Number) bool {
	b := m.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		n, _, l := protowire.ConsumeField(b)
		if l < 0 {
			return false
		}
		if n == num {
			return true
		}
		b = b[l:]
	}
	return false
}

// refuseUnknown fails when m carries one of the unknown fields in refused
// (field number -> what it holds).
func refuseUnknown(m proto.Message, what string, refused map[protowire.Number]string) error {
	if len(m.ProtoReflect().GetUnknown()) == 0 {
		return nil
	}
	for num, desc := range refused {
		if hasUnknown(m, num) {
			return fmt.Errorf("onnx: %s holds %s, which are not supported", what, desc)
		}
	}
	return nil
}

// unknownPacked64 gathers the 8-byte elements of the unknown repeated
// fixed64/double field num (packed or not) as little-endian bytes.
func unknownPacked64(m proto.Message, num protowire.Number) ([]byte, error) {
	b := m.ProtoReflect().GetUnknown()
	var out []byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeField(b)
		if l < 0 {
			return nil, protowire.ParseError(l)
		}
		if n == num {
			_, _, tl := protowire.ConsumeTag(b)
			switch typ {
			case protowire.BytesType:
				v, vl := protowire.ConsumeBytes(b[tl:])
				if vl < 0 || len(v)%8 != 0 {
					return nil, errors.New("malformed packed field")
				}
				out = append(out, v...)
			case protowire.Fixed64Type:
				out = append(out, b[tl:tl+8]...)
			default:
				return nil, fmt.Errorf("wire type %d", typ)
			}
		}
		b = b[l:]
	}
	return out, nil
}
