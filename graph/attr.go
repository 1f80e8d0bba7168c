package graph

import (
	"fmt"
	"slices"
)

// AttrKind is the type of an attribute value.
type AttrKind uint8

// Attribute kinds (the ONNX attribute types the engine uses).
const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrStrings
	AttrTensor
)

func (k AttrKind) String() string {
	switch k {
	case AttrInt:
		return "int"
	case AttrFloat:
		return "float"
	case AttrString:
		return "string"
	case AttrInts:
		return "ints"
	case AttrFloats:
		return "floats"
	case AttrStrings:
		return "strings"
	case AttrTensor:
		return "tensor"
	}
	return fmt.Sprintf("attrkind(%d)", uint8(k))
}

// Attr is one attribute value; only the field Kind names is meaningful.
type Attr struct {
	Kind    AttrKind
	Int     int64
	Float   float32
	Str     string
	Ints    []int64
	Floats  []float32
	Strings []string
	Tensor  *Tensor
}

func (a Attr) clone() Attr {
	a.Ints = slices.Clone(a.Ints)
	a.Floats = slices.Clone(a.Floats)
	a.Strings = slices.Clone(a.Strings)
	if a.Tensor != nil {
		a.Tensor = a.Tensor.Clone()
	}
	return a
}

// Int, Float, Ints, ... build attributes.
func Int(v int64) Attr         { return Attr{Kind: AttrInt, Int: v} }
func Float(v float32) Attr     { return Attr{Kind: AttrFloat, Float: v} }
func String(v string) Attr     { return Attr{Kind: AttrString, Str: v} }
func Ints(v ...int64) Attr     { return Attr{Kind: AttrInts, Ints: v} }
func Floats(v ...float32) Attr { return Attr{Kind: AttrFloats, Floats: v} }

// AttrError reports an attribute of the wrong kind.
type AttrError struct {
	Name       string
	Want, Have AttrKind
}

func (e *AttrError) Error() string {
	return fmt.Sprintf("attribute %s is %v, want %v", e.Name, e.Have, e.Want)
}

func (n *Node) attr(name string, want AttrKind) (Attr, bool, error) {
	a, ok := n.Attrs[name]
	if !ok {
		return Attr{}, false, nil
	}
	if a.Kind != want {
		return Attr{}, false, &AttrError{Name: name, Want: want, Have: a.Kind}
	}
	return a, true, nil
}

// Has reports whether the node sets the attribute.
func (n *Node) Has(name string) bool { _, ok := n.Attrs[name]; return ok }

// AttrInt returns an int attribute, or def when absent.
func (n *Node) AttrInt(name string, def int64) (int64, error) {
	a, ok, err := n.attr(name, AttrInt)
	if !ok {
		return def, err
	}
	return a.Int, nil
}

// AttrFloat returns a float attribute, or def when absent.
func (n *Node) AttrFloat(name string, def float32) (float32, error) {
	a, ok, err := n.attr(name, AttrFloat)
	if !ok {
		return def, err
	}
	return a.Float, nil
}

// AttrString returns a string attribute, or def when absent.
func (n *Node) AttrString(name, def string) (string, error) {
	a, ok, err := n.attr(name, AttrString)
	if !ok {
		return def, err
	}
	return a.Str, nil
}

// AttrInts returns an ints attribute, or def when absent.
func (n *Node) AttrInts(name string, def []int64) ([]int64, error) {
	a, ok, err := n.attr(name, AttrInts)
	if !ok {
		return def, err
	}
	return a.Ints, nil
}

// AttrFloats returns a floats attribute, or def when absent.
func (n *Node) AttrFloats(name string, def []float32) ([]float32, error) {
	a, ok, err := n.attr(name, AttrFloats)
	if !ok {
		return def, err
	}
	return a.Floats, nil
}

// AttrTensor returns a tensor attribute, or nil when absent.
func (n *Node) AttrTensor(name string) (*Tensor, error) {
	a, ok, err := n.attr(name, AttrTensor)
	if !ok {
		return nil, err
	}
	return a.Tensor, nil
}

// Input returns the i-th input's value name, or "" when the node has
// fewer inputs or leaves that optional input out.
func (n *Node) Input(i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}
