package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/deepcompress/deepcompress/graph"
)

// Meta is what compilation knows about a value before any data flows: its
// shape and element type, and its contents when they do not depend on the
// graph's inputs (a parameter, or a folded constant).
type Meta struct {
	Shape []int
	DType graph.DType
	Value *graph.Tensor
}

// Const reports whether the value is known at compile time.
func (m *Meta) Const() bool { return m != nil && m.Value != nil }

// Build is what an operator's builder sees of one node.
type Build struct {
	Node  *graph.Node
	Opset int
	// In holds the inputs' metas, nil for an absent optional input.
	In []*Meta
	// Out has one entry per node output; the builder sets each Shape (and
	// DType when not Float32), and may set Value when it can compute the
	// output from metas alone (Shape does).
	Out []*Meta
	// NoGrad marks inputs that are hyperparameters rather than things to
	// learn (BatchNormalization's statistics, Clip's bounds, Pow's
	// exponent, shape operands): set by the builder, NoGrad[i] keeps
	// parameter i frozen and asks the kernel for no dL/d(input i).
	NoGrad []bool
	Train  bool
	// Frozen is set in inference programs whose parameters cannot change
	// (no Options.LiveParams): a kernel may then prepare its constant
	// inputs (Meta.Value) once, such as packing weights for gemm.
	Frozen bool
	Rand   *rand.Rand
}

// InShape returns input i's shape, or an error when the input is absent.
func (b *Build) InShape(i int) ([]int, error) {
	if i >= len(b.In) || b.In[i] == nil {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	return b.In[i].Shape, nil
}

// ConstInts returns input i's value as int64s (converting floats), for
// operands such as Reshape's shape that must be known at compile time.
// ok is false when the input is absent.
func (b *Build) ConstInts(i int) (v []int64, ok bool, err error) {
	if i >= len(b.In) || b.In[i] == nil {
		return nil, false, nil
	}
	m := b.In[i]
	if m.Value == nil {
		return nil, true, fmt.Errorf("input %d (%s) must be a constant: values computed from the graph's inputs are not supported here", i, graph.Short(b.Node.Input(i)))
	}
	if m.Value.DType == graph.Int64 {
		return m.Value.I, true, nil
	}
	out := make([]int64, len(m.Value.F))
	for k, f := range m.Value.F {
		out[k] = int64(f)
	}
	return out, true, nil
}

// ConstFloats returns input i's value as float32s, for operands such as
// Clip's bounds. ok is false when the input is absent.
func (b *Build) ConstFloats(i int) (v []float32, ok bool, err error) {
	if i >= len(b.In) || b.In[i] == nil {
		return nil, false, nil
	}
	m := b.In[i]
	if m.Value == nil {
		return nil, true, fmt.Errorf("input %d (%s) must be a constant", i, graph.Short(b.Node.Input(i)))
	}
	if m.Value.DType == graph.Float32 {
		return m.Value.F, true, nil
	}
	out := make([]float32, len(m.Value.I))
	for k, x := range m.Value.I {
		out[k] = float32(x)
	}
	return out, true, nil
}

// Kernel computes a node's outputs. out[i] arrives with its Shape set and
// storage of the right size (F or I by DType); a kernel that merely
// relabels its input (Reshape, Identity) may instead point out[i].F at the
// input's storage. Kernels may keep scratch buffers: a Program is not safe
// for concurrent use.
type Kernel interface {
	Forward(in, out []*graph.Tensor)
}

// Differentiable is a Kernel with a backward pass.
type Differentiable interface {
	Kernel
	// Backward adds dL/d(in[i]) into din[i] for every non-nil din[i],
	// given the inputs and outputs of the last Forward and dL/d(out).
	Backward(in, out, dout, din []*graph.Tensor)
}

// Builder checks a node, infers its outputs and returns its kernel.
type Builder func(b *Build) (Kernel, error)

var registry = map[string]Builder{}

// register adds operators; op files call it from init.
func register(b Builder, ops ...string) {
	for _, op := range ops {
		if _, dup := registry[op]; dup {
			panic("engine: operator registered twice: " + op)
		}
		registry[op] = b
	}
}

// Ops lists the operators the engine implements, sorted.
func Ops() []string {
	ops := make([]string, 0, len(registry))
	for op := range registry {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// Supported reports whether the engine implements op in the default domain.
func Supported(op string) bool { _, ok := registry[op]; return ok }

// UnsupportedOpError reports a node whose operator the engine lacks.
type UnsupportedOpError struct {
	Node, Op, Domain string
}

func (e *UnsupportedOpError) Error() string {
	op := e.Op
	if e.Domain != "" {
		op = e.Domain + "." + op
	}
	return fmt.Sprintf("engine: node %s: operator %s is not supported; supported operators: %s",
		graph.Short(e.Node), graph.Short(op), strings.Join(Ops(), ", "))
}
