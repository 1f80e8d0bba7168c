package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
)

// Run computes the outputs for inputs whose shapes are the program's. The
// inputs' data is read in place, not copied, and must not change during
// the call. The outputs are owned by the program and valid until its next
// Run.
func (p *Program) Run(inputs map[string]*graph.Tensor) (map[string]*graph.Tensor, error) {
	for i, s := range p.inputs {
		t := inputs[s.name]
		if t == nil {
			return nil, fmt.Errorf("engine: no value given for input %s", graph.Short(s.name))
		}
		if !slices.Equal(t.Shape, p.shapes[i]) {
			return nil, fmt.Errorf("engine: input %s has shape %s, the program was compiled for %s", graph.Short(s.name), ShapeString(t.Shape), ShapeString(p.shapes[i]))
		}
		if t.DType != graph.Float32 || len(t.F) != numel(t.Shape) {
			return nil, fmt.Errorf("engine: input %s must hold %d float32 values, has %d", graph.Short(s.name), numel(t.Shape), len(t.F))
		}
		s.t.F = t.F
	}
	switch {
	case p.split != nil && p.timing == nil:
		if err := p.runSplit(inputs); err != nil {
			return nil, err
		}
	case p.timing != nil:
		p.timedForward()
	default:
		for _, st := range p.steps {
			st.k.Forward(st.in, st.out)
		}
	}
	out := make(map[string]*graph.Tensor, len(p.outputs))
	for _, s := range p.outputs {
		out[s.name] = s.t
	}
	return out, nil
}

// Backward propagates dL/d(output) for the outputs named in dout (others
// get no gradient) back through the last Run, adding dL/dparam into the
// model's gradients (Model.Grad). The program must have been compiled for
// training.
func (p *Program) Backward(dout map[string]*graph.Tensor) error {
	if !p.train {
		return fmt.Errorf("engine: Backward on a program compiled for inference (set Options.Train)")
	}
	for _, s := range p.internal {
		clear(s.grad.F)
	}
	for name, d := range dout {
		s := p.outputSlot(name)
		if s == nil {
			return fmt.Errorf("engine: %s is not an output of the graph", graph.Short(name))
		}
		if s.grad == nil {
			continue // depends on nothing trainable
		}
		if len(d.F) != len(s.grad.F) {
			return fmt.Errorf("engine: gradient for %s has %d values, the output %d", graph.Short(name), len(d.F), len(s.grad.F))
		}
		for i, v := range d.F {
			s.grad.F[i] += v
		}
	}
	for i := len(p.steps) - 1; i >= 0; i-- {
		if st := p.steps[i]; st.backward {
			st.differentiable.Backward(st.in, st.out, st.dout, st.din)
		}
	}
	return nil
}

func (p *Program) outputSlot(name string) *slot {
	for _, s := range p.outputs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// InputGrad returns dL/d(input) from the last Backward of a program
// compiled with Options.InputGrads, or nil.
func (p *Program) InputGrad(name string) *graph.Tensor {
	for _, s := range p.inputs {
		if s.name == name {
			return s.grad
		}
	}
	return nil
}

// OutputShape returns the shape of the named output at this program's
// input shapes, or nil when there is no such output.
func (p *Program) OutputShape(name string) []int {
	if s := p.outputSlot(name); s != nil {
		return s.meta.Shape
	}
	return nil
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ShapeString formats a shape for a message, eliding the middle of a very
// long one.
func ShapeString(s []int) string { return budget.Shape(s) }

// OpTime is the time the steps of one operator type took.
type OpTime struct {
	Op    string
	Calls int
	Time  time.Duration
}

// StartTiming makes every later Run time each step; Timing returns the
// totals by operator, the slowest first.
func (p *Program) StartTiming() { p.timing = map[string]*OpTime{} }

// Timing returns the time spent per operator type since StartTiming.
func (p *Program) Timing() []OpTime {
	out := make([]OpTime, 0, len(p.timing))
	for _, t := range p.timing {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b OpTime) int { return int(b.Time - a.Time) })
	return out
}

func (p *Program) timedForward() {
	for _, st := range p.steps {
		start := time.Now()
		st.k.Forward(st.in, st.out)
		op := st.op
		t := p.timing[op]
		if t == nil {
			t = &OpTime{Op: op}
			p.timing[op] = t
		}
		t.Calls++
		t.Time += time.Since(start)
	}
}
