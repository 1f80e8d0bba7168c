package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
)

// Options configure a Model.
type Options struct {
	// Train compiles programs for training: activations are kept for
	// Backward, dropout is active, and nothing is folded.
	Train bool
	// Frozen names parameters that training must not change, beyond those
	// the operators mark as hyperparameters.
	Frozen map[string]bool
	// Budget bounds the buffers one program allocates (nil means
	// budget.Default): the total is checked before anything is allocated.
	Budget *budget.Budget
	// Seed seeds dropout.
	Seed uint64
	// NoFold turns off folding BatchNormalization into the Conv before it.
	NoFold bool
	// LiveParams keeps inference programs reading the float parameters in
	// place, folding nothing computed from them, so that values changed by
	// the caller (an optimizer) are seen by the next run without
	// Invalidate. Training programs always do.
	LiveParams bool
	// InputGrads makes training programs compute dL/d(input) too
	// (Program.InputGrad), as gradient checks need.
	InputGrads bool
}

// Model runs a graph. It keeps one compiled Program per set of input
// shapes seen (the last few), sharing the graph's parameters: changing
// their values between runs is seen by training programs at once and by
// inference programs (which may have folded them) after Invalidate. A
// Model is not safe for concurrent use.
type Model struct {
	Graph *graph.Graph
	opt   Options
	order []int
	rng   *rand.Rand
	// grads holds dL/dparam for trainable parameters, shared by every
	// training program so that a change of batch size keeps them.
	grads    map[string]*graph.Tensor
	programs []*Program
}

// programCache is how many compiled shapes a Model keeps.
const programCache = 4

// New checks the graph's structure and operators and returns a Model.
func New(g *graph.Graph, opt Options) (*Model, error) {
	order, err := g.Order()
	if err != nil {
		return nil, err
	}
	for i, n := range g.Nodes {
		if n.Domain != "" && n.Domain != "ai.onnx" || !Supported(n.Op) {
			return nil, &UnsupportedOpError{Node: g.Label(i), Op: n.Op, Domain: n.Domain}
		}
	}
	return &Model{Graph: g, opt: opt, order: order, grads: map[string]*graph.Tensor{},
		rng: rand.New(rand.NewPCG(opt.Seed, 0x2545f4914f6cdd1d))}, nil
}

// Invalidate forgets every compiled program, so that the next run sees
// parameters changed in place by the caller.
func (m *Model) Invalidate() { m.programs = nil }

// Run binds the inputs, compiles (or reuses) the program for their shapes
// and runs it forward. The outputs are owned by the program and valid until
// the next run.
func (m *Model) Run(inputs map[string]*graph.Tensor) (map[string]*graph.Tensor, error) {
	p, err := m.ProgramFor(shapesOf(inputs))
	if err != nil {
		return nil, err
	}
	return p.Run(inputs)
}

func shapesOf(inputs map[string]*graph.Tensor) map[string][]int {
	s := make(map[string][]int, len(inputs))
	for k, t := range inputs {
		if t != nil {
			s[k] = t.Shape
		}
	}
	return s
}

// ProgramFor returns the program for the given input shapes, compiling it
// if it is not cached.
func (m *Model) ProgramFor(shapes map[string][]int) (*Program, error) {
	bound, err := m.Bind(shapes)
	if err != nil {
		return nil, err
	}
	for i, p := range m.programs {
		if p.sameShapes(bound) {
			if i > 0 { // most recent first
				copy(m.programs[1:i+1], m.programs[:i])
				m.programs[0] = p
			}
			return p, nil
		}
	}
	p, err := m.compile(bound)
	if err != nil {
		return nil, err
	}
	m.programs = append([]*Program{p}, m.programs[:min(len(m.programs), programCache-1)]...)
	return p, nil
}

// Bind checks the given shapes against the graph's declared inputs and
// returns the shape of every input: fixed dimensions must match, and each
// symbolic dimension takes one size wherever it appears.
func (m *Model) Bind(shapes map[string][]int) ([][]int, error) {
	g := m.Graph
	for name := range shapes {
		if !slices.ContainsFunc(g.Inputs, func(v graph.Value) bool { return v.Name == name }) {
			return nil, fmt.Errorf("engine: the graph has no input %s (its inputs: %s)", graph.Short(name), inputNames(g))
		}
	}
	syms := map[string]int{}
	out := make([][]int, len(g.Inputs))
	for i, v := range g.Inputs {
		s, ok := shapes[v.Name]
		if !ok {
			return nil, fmt.Errorf("engine: no value given for input %s %s", graph.Short(v.Name), v.ShapeString())
		}
		if err := bindShape(v, s, syms); err != nil {
			return nil, err
		}
		out[i] = slices.Clone(s)
	}
	return out, nil
}

func bindShape(v graph.Value, s []int, syms map[string]int) error {
	if v.Shape != nil && len(v.Shape) != len(s) {
		return fmt.Errorf("engine: input %s has %d dimensions, the graph declares %s", graph.Short(v.Name), len(s), v.ShapeString())
	}
	for k, d := range s {
		if d < 0 {
			return fmt.Errorf("engine: input %s: negative dimension %d", graph.Short(v.Name), d)
		}
		if v.Shape == nil {
			continue
		}
		decl := v.Shape[k]
		switch {
		case decl.Param != "":
			if prev, seen := syms[decl.Param]; seen && prev != d {
				return fmt.Errorf("engine: input %s: dimension %s is %d here and %d elsewhere", graph.Short(v.Name), graph.Short(decl.Param), d, prev)
			}
			syms[decl.Param] = d
		case decl.Size >= 0 && decl.Size != d:
			return fmt.Errorf("engine: input %s: dimension %d is %d, the graph declares %s", graph.Short(v.Name), k, d, v.ShapeString())
		}
	}
	return nil
}

func inputNames(g *graph.Graph) string {
	names := make([]string, len(g.Inputs))
	for i, v := range g.Inputs {
		names[i] = graph.Short(v.Name)
	}
	return strings.Join(names, ", ")
}

// Grad returns dL/dparam accumulated by the training programs' Backward,
// or nil when the parameter is not trainable or no backward has run.
func (m *Model) Grad(name string) *graph.Tensor { return m.grads[name] }

// ZeroGrads clears every accumulated parameter gradient.
func (m *Model) ZeroGrads() {
	for _, t := range m.grads {
		clear(t.F)
	}
}
