// Package graph describes a neural network as a directed acyclic graph of
// operators: the successor of arch.Spec, and the form that ONNX import and
// export, the engine and the .dcz container share.
//
// The vocabulary is ONNX's (https://onnx.ai/onnx/operators/): a node names
// an operator ("Conv", "Add", ...), its attributes, the values it reads and
// the values it writes; every value is written by exactly one node, or is a
// graph input, or a parameter (ONNX's initializers). Operator semantics
// follow the default-domain operator set named by Graph.Opset. Tensors are
// row-major; activations are NCHW float32. Declared input shapes may have
// symbolic dimensions ("batch") that are bound when the graph is run.
package graph

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// DType is the element type of a Tensor.
type DType uint8

// Element types. Float32 carries activations and parameters; Int64 carries
// the shape arithmetic that exporters emit around Reshape.
const (
	Float32 DType = iota
	Int64
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Tensor is a dense row-major tensor of float32 values (F) or int64 values
// (I), as DType says. A scalar has an empty Shape and one element.
type Tensor struct {
	Shape []int
	DType DType
	F     []float32
	I     []int64
}

// NewFloat wraps data (not copied) as a float32 tensor of the given shape.
func NewFloat(shape []int, data []float32) *Tensor {
	return &Tensor{Shape: slices.Clone(shape), DType: Float32, F: data}
}

// NewInt wraps data (not copied) as an int64 tensor of the given shape.
func NewInt(shape []int, data []int64) *Tensor {
	return &Tensor{Shape: slices.Clone(shape), DType: Int64, I: data}
}

// Len is the number of elements the data holds.
func (t *Tensor) Len() int {
	if t.DType == Int64 {
		return len(t.I)
	}
	return len(t.F)
}

// Clone copies the tensor and its data.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: slices.Clone(t.Shape), DType: t.DType, F: slices.Clone(t.F), I: slices.Clone(t.I)}
}

// Dim is one dimension of a declared shape: a fixed Size, or a symbolic
// dimension named Param (ONNX's dim_param) bound at run time. Size < 0 with
// no Param is a dimension nothing is known about.
type Dim struct {
	Size  int
	Param string
}

// Fixed reports whether the dimension has a known size.
func (d Dim) Fixed() bool { return d.Param == "" && d.Size >= 0 }

func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Size < 0:
		return "?"
	}
	return fmt.Sprint(d.Size)
}

// Value declares a graph input or output: its name, element type and shape.
// A nil Shape means the rank is not declared.
type Value struct {
	Name  string
	DType DType
	Shape []Dim
}

// ShapeString formats the declared shape, e.g. "[batch,1,28,28]".
func (v Value) ShapeString() string {
	if v.Shape == nil {
		return "[unknown rank]"
	}
	parts := make([]string, len(v.Shape))
	for i, d := range v.Shape {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Node is one operator application.
type Node struct {
	Name    string
	Op      string // operator type, e.g. "Conv"
	Domain  string // "" for the default ONNX domain
	Inputs  []string
	Outputs []string
	Attrs   map[string]Attr
}

// Graph is a whole network.
type Graph struct {
	Name    string
	Opset   int // version of the default-domain operator set
	Inputs  []Value
	Outputs []Value
	Nodes   []Node
	// Params holds the parameters and constant tensors by value name.
	Params map[string]*Tensor
	// Meta keeps what the original file said about itself (ONNX's
	// producer, IR version, metadata properties), so export can say it
	// again.
	Meta Meta
}

// Meta is descriptive data carried from an imported file to its export.
type Meta struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Props           [][2]string // key, value
	// OtherOpsets lists the operator sets of non-default domains.
	OtherOpsets [][2]string // domain, version
}

// ParamNames lists the parameter names in sorted order.
func (g *Graph) ParamNames() []string {
	names := make([]string, 0, len(g.Params))
	for n := range g.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Clone copies the graph, its attributes and its parameters' data.
func (g *Graph) Clone() *Graph {
	c := *g
	c.Inputs = cloneValues(g.Inputs)
	c.Outputs = cloneValues(g.Outputs)
	c.Nodes = make([]Node, len(g.Nodes))
	for i, n := range g.Nodes {
		c.Nodes[i] = n.clone()
	}
	c.Params = make(map[string]*Tensor, len(g.Params))
	for k, t := range g.Params {
		c.Params[k] = t.Clone()
	}
	c.Meta.Props = slices.Clone(g.Meta.Props)
	c.Meta.OtherOpsets = slices.Clone(g.Meta.OtherOpsets)
	return &c
}

func cloneValues(vs []Value) []Value {
	out := make([]Value, len(vs))
	for i, v := range vs {
		v.Shape = slices.Clone(v.Shape)
		out[i] = v
	}
	return out
}

func (n Node) clone() Node {
	n.Inputs = slices.Clone(n.Inputs)
	n.Outputs = slices.Clone(n.Outputs)
	if n.Attrs != nil {
		attrs := make(map[string]Attr, len(n.Attrs))
		for k, a := range n.Attrs {
			attrs[k] = a.clone()
		}
		n.Attrs = attrs
	}
	return n
}
