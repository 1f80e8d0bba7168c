package dcz

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx"
)

// Version 2 sections.
const (
	secGraph      = 'G' // the whole graph, without its float tensors
	secPreprocess = 'p' // ancillary: how raw inputs become model inputs (JSON)
	secMeta       = 'm' // ancillary: the original model's metadata (JSON)
)

// MaxGraphBytes bounds the uncompressed graph description.
const MaxGraphBytes = 64 << 20

// ancillary reports whether a section type may be skipped by a reader
// that does not know it: lower-case ASCII letters, as PNG's ancillary
// chunks. Upper-case types are critical.
func ancillary(typ byte) bool { return typ >= 'a' && typ <= 'z' }

// graphParams lists the float parameters of g, each with its shape and
// the layer kind the writer labels it with (conv2d for convolution
// kernels): the tensors a graph file stores in its own sections.
func graphParams(g *graph.Graph) (*paramTable, error) {
	t := &paramTable{info: map[string]arch.ParamInfo{}, kind: map[string]arch.Kind{}}
	conv := map[string]bool{}
	for _, w := range g.Weights() {
		conv[w.Param] = w.Conv
	}
	for _, name := range g.ParamNames() {
		p := g.Params[name]
		if p.DType != graph.Float32 {
			continue
		}
		if name == "" || len(name) > MaxNameLen || len(p.Shape) > MaxDims || numel(p.Shape) < 0 {
			return nil, fmt.Errorf("parameter %s: name or shape %s outside the limits", graph.Short(name), budget.Shape(p.Shape))
		}
		t.info[name] = arch.ParamInfo{Name: name, Shape: slices.Clone(p.Shape), Weight: conv[name]}
		t.kind[name] = arch.Dense
		if conv[name] {
			t.kind[name] = arch.Conv2D
		}
		t.order = append(t.order, name)
	}
	return t, nil
}

// graphBody encodes the graph section: method (0 stored, 1 DEFLATE),
// uvarint length of the payload, payload. The payload is the uvarint
// length of an ONNX ModelProto, that ModelProto (the graph with an empty
// [0] stand-in for every float parameter), then the float parameters'
// table: uvarint count, and per parameter its uvarint name length, name,
// uvarint rank and uvarint dimensions.
func graphBody(g *graph.Graph, t *paramTable) ([]byte, error) {
	stripped := *g
	stripped.Params = make(map[string]*graph.Tensor, len(g.Params))
	for name, p := range g.Params {
		if p.DType == graph.Float32 {
			p = graph.NewFloat([]int{0}, nil)
		}
		stripped.Params[name] = p
	}
	var model bytes.Buffer
	if err := onnx.ExportGraph(&model, &stripped); err != nil {
		return nil, err
	}
	payload := binary.AppendUvarint(nil, uint64(model.Len()))
	payload = append(payload, model.Bytes()...)
	payload = binary.AppendUvarint(payload, uint64(len(t.order)))
	for _, name := range t.order {
		payload = appendHeader(payload, name, t.info[name].Shape, false, 0)
	}
	if len(payload) > MaxGraphBytes {
		return nil, fmt.Errorf("dcz: graph description of %d bytes exceeds %d", len(payload), MaxGraphBytes)
	}
	return compressedBody(payload), nil
}

// compressedBody is method, uvarint length, data: DEFLATE when smaller.
func compressedBody(payload []byte) []byte {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestCompression) // level is valid: cannot fail
	fw.Write(payload)                                   // writes to a bytes.Buffer cannot fail
	fw.Close()
	method, data := byte(specDeflate), z.Bytes()
	if len(data) >= len(payload) {
		method, data = specStored, payload
	}
	body := []byte{method}
	body = binary.AppendUvarint(body, uint64(len(payload)))
	return append(body, data...)
}

// inflateBody reverses compressedBody, refusing a declared size over max
// or over what the compressed bytes can hold, before allocating.
func inflateBody(f *Frame, max uint64, what string) ([]byte, error) {
	c := f.cursor()
	method, _ := c.byte(what + " method")
	size, _ := c.uvarint(what + " length")
	data := c.rest()
	if c.err != nil {
		return nil, c.err
	}
	if size > max {
		return nil, c.fail("%s of %d bytes exceeds %d", what, size, max)
	}
	switch method {
	case specStored:
		if uint64(len(data)) != size {
			return nil, c.fail("%s of %d bytes declared as %d", what, len(data), size)
		}
		return data, nil
	case specDeflate:
		if size > deflateRatio*uint64(len(data)) {
			return nil, c.fail("%d compressed bytes cannot inflate to %d", len(data), size)
		}
		if err := budget.Default.Check(what, int64(size), 1); err != nil {
			return nil, &FormatError{Offset: f.Offset, What: what, Err: err}
		}
		out := make([]byte, size)
		fr := flate.NewReader(bytes.NewReader(data))
		_, err := io.ReadFull(fr, out)
		if err == nil {
			if _, extra := fr.Read(make([]byte, 1)); extra != io.EOF {
				err = errors.New("inflates to more bytes than declared")
			}
		}
		if err != nil {
			return nil, c.fail("compressed %s: %v", what, err)
		}
		return out, nil
	}
	return nil, c.fail("unknown %s method %d", what, method)
}

// parseGraph decodes a graph section into the graph (float parameters as
// empty stand-ins) and the table of its float parameters.
func parseGraph(f *Frame) (*graph.Graph, *paramTable, error) {
	payload, err := inflateBody(f, MaxGraphBytes, "graph description")
	if err != nil {
		return nil, nil, err
	}
	pf := &Frame{Offset: f.Offset, typ: f.typ, body: payload}
	c := pf.cursor()
	n, _ := c.uvarint("graph model length")
	if c.err == nil && n > uint64(c.left()) {
		return nil, nil, c.fail("graph model of %d bytes, %d left", n, c.left())
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	model := payload[c.off : c.off+int(n)]
	c.off += int(n)
	g, err := onnx.ImportGraph(bytes.NewReader(model))
	if err != nil {
		return nil, nil, &FormatError{Offset: f.Offset, What: "graph description", Err: err}
	}
	count, _ := c.uvarint("graph parameter count")
	if c.err == nil && count > uint64(c.left()) { // each entry takes bytes
		return nil, nil, c.fail("%d parameters in %d bytes", count, c.left())
	}
	t := &paramTable{info: map[string]arch.ParamInfo{}, kind: map[string]arch.Kind{}}
	for i := uint64(0); i < count && c.err == nil; i++ {
		name, _, shape, err := c.header(secRaw) // laid out as a raw section's header
		if err != nil {
			return nil, nil, err
		}
		p := g.Params[name]
		if p == nil || p.DType != graph.Float32 || t.info[name].Name != "" {
			return nil, nil, c.fail("parameter table names %s, not a float parameter of the graph or named twice", graph.Short(name))
		}
		t.info[name] = arch.ParamInfo{Name: name, Shape: shape}
		t.order = append(t.order, name)
		g.Params[name] = graph.NewFloat(shape, nil) // the shape, without data
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	if c.left() != 0 {
		return nil, nil, c.fail("%d bytes after the parameter table", c.left())
	}
	for name, p := range g.Params {
		if p.DType == graph.Float32 && t.info[name].Name == "" {
			return nil, nil, &FormatError{Offset: f.Offset, What: fmt.Sprintf("float parameter %s of the graph is missing from its table", graph.Short(name))}
		}
	}
	for _, w := range g.Weights() {
		if w.Conv {
			t.kind[w.Param] = arch.Conv2D
		}
	}
	for _, name := range t.order {
		if t.kind[name] == "" {
			t.kind[name] = arch.Dense
		}
	}
	return g, t, nil
}

// Ancillary is the optional data of a version 2 file.
type Ancillary struct {
	// Preprocess says how raw inputs (images) become the model's input
	// tensor, as JSON (package dataset's Preprocess); opaque to dcz.
	Preprocess []byte
	// Meta is descriptive data about the original model (its file name,
	// size, producer, the agreement measured when compressing).
	Meta map[string]string
}

func (a Ancillary) frames() ([][]byte, error) {
	var out [][]byte
	if len(a.Preprocess) > 0 {
		if len(a.Preprocess) > MaxSpecBytes {
			return nil, fmt.Errorf("dcz: preprocessing of %d bytes exceeds %d", len(a.Preprocess), MaxSpecBytes)
		}
		out = append(out, appendFrame(nil, secPreprocess, compressedBody(a.Preprocess), 0))
	}
	if len(a.Meta) > 0 {
		js, err := json.Marshal(a.Meta) // sorted keys: deterministic
		if err != nil {
			return nil, fmt.Errorf("dcz: metadata: %w", err)
		}
		if len(js) > MaxSpecBytes {
			return nil, fmt.Errorf("dcz: metadata of %d bytes exceeds %d", len(js), MaxSpecBytes)
		}
		out = append(out, appendFrame(nil, secMeta, compressedBody(js), 0))
	}
	return out, nil
}

// NewGraphEncoder writes the header of a version 2 file holding graph g:
// a tensors-only description naming it, the graph section, and the
// ancillary sections of anc. Each float parameter of g must then be
// written (WriteLayer or WriteRaw) with its shape; other parameters
// (int64 shape constants) travel inside the graph section.
func NewGraphEncoder(w io.Writer, g *graph.Graph, anc Ancillary) (*Encoder, error) {
	if _, err := g.Order(); err != nil {
		return nil, fmt.Errorf("dcz: %w", err)
	}
	params, err := graphParams(g)
	if err != nil {
		return nil, fmt.Errorf("dcz: %w", err)
	}
	gb, err := graphBody(g, params)
	if err != nil {
		return nil, err
	}
	extra, err := anc.frames()
	if err != nil {
		return nil, err
	}
	spec := arch.Spec{Name: g.Name}
	sb, err := specBody(spec.JSON())
	if err != nil {
		return nil, err
	}
	head := append([]byte(Magic), Version)
	frame := appendFrame(head, secSpec, sb, crc32Checksum(head))
	frame = appendFrame(frame, secGraph, gb, 0)
	for _, x := range extra {
		frame = append(frame, x...)
	}
	e := &Encoder{w: w, params: params, written: map[string]bool{}}
	return e, e.write(frame)
}

// WithWeights returns the model's graph with every float parameter in its
// dense form (decoded from the tensor sections), or an error for a file
// that holds no graph.
func (m *Model) WithWeights() (*graph.Graph, error) {
	if m.Graph == nil {
		return nil, errors.New("dcz: the file holds a layer chain, not a graph (use its Spec)")
	}
	g := *m.Graph
	g.Params = make(map[string]*graph.Tensor, len(m.Graph.Params))
	for k, v := range m.Graph.Params {
		g.Params[k] = v
	}
	shapes := map[string][]int{}
	for _, l := range m.Layers {
		shapes[l.Name] = l.Shape
	}
	for _, t := range m.Raw {
		shapes[t.Name] = t.Shape
	}
	for name, data := range m.DenseWeights() {
		if p := g.Params[name]; p == nil || p.DType != graph.Float32 {
			return nil, fmt.Errorf("dcz: tensor %s is not a float parameter of the graph", graph.Short(name))
		}
		g.Params[name] = graph.NewFloat(shapes[name], data)
	}
	return &g, nil
}
