package engine

// Fusing elementwise tails into the kernel that produces their operand.
//
// In an inference program, a Conv whose output is read only by an Add
// (a residual connection: Conv(x) + r with r of the same shape, computed
// before the Conv runs) and/or by a unary activation (Relu, Clip,
// HardSigmoid, HardSwish, ...) computes y = act(conv + r) itself, as it
// writes each block of its output while the block is still in cache: the
// Add and activation steps disappear, and so do their passes over memory.
// The formulas are those of the operators (unaryApply), applied in the
// same order, so results do not change. Training programs are never
// fused: their backward passes need the intermediate values.

import (
	"slices"

	"github.com/deepcompress/deepcompress/graph"
)

// epilogue is the elementwise tail a kernel applies to its output.
type epilogue struct {
	res         bool // add the residual input first
	act         bool // then apply op
	op          unaryOp
	alpha, beta float32
}

// apply sets y = act(y + res) (res nil: no residual).
func (e *epilogue) apply(y, res []float32) {
	if res != nil {
		res = res[:len(y)]
		for i, v := range res {
			y[i] += v
		}
	}
	if e.act {
		unaryApply(e.op, e.alpha, e.beta, y, y)
	}
}

// fuser is a kernel that can take an epilogue. fuseResidual is asked
// before any activation; the residual becomes the kernel's input
// residualInput.
type fuser interface {
	fuseResidual() (input int, ok bool)
	fuseActivation(op unaryOp, alpha, beta float32) bool
}

// fuse merges residual Adds and activations into the kernels before
// them (inference programs only).
func (c *compiler) fuse() {
	steps := c.p.steps
	readers := map[*slot]int{}
	consumer := map[*slot]int{}
	producer := map[*slot]int{}
	for i, st := range steps {
		for _, s := range st.ins {
			if s != nil {
				readers[s]++
				consumer[s] = i
			}
		}
		for _, s := range st.outs {
			producer[s] = i
		}
	}
	for _, s := range c.p.outputs {
		readers[s] += 2 // never fused away
	}
	removed := make([]bool, len(steps))
	for i, st := range steps {
		f, ok := st.k.(fuser)
		if !ok || removed[i] || len(st.outs) != 1 {
			continue
		}
		for {
			out := st.outs[0]
			if readers[out] != 1 {
				break
			}
			j := consumer[out]
			next := steps[j]
			if other := residualOperand(next, out); other != nil && availableBefore(other, i, producer) {
				idx, ok := f.fuseResidual()
				if !ok {
					break
				}
				for len(st.ins) <= idx {
					st.ins = append(st.ins, nil)
				}
				st.ins[idx] = other
				st.inputIsTrainable = append(st.inputIsTrainable, make([]bool, len(st.ins)-len(st.inputIsTrainable))...)
				absorb(st, i, next, j, removed, producer, readers)
				continue
			}
			if u, ok := next.k.(*unaryKernel); ok && next.ins[0] == out && out.meta.DType == graph.Float32 {
				if f.fuseActivation(u.op, u.alpha, u.beta) {
					absorb(st, i, next, j, removed, producer, readers)
				}
			}
			break
		}
	}
	kept := steps[:0]
	for i, st := range steps {
		if !removed[i] {
			kept = append(kept, st)
		}
	}
	c.p.steps = kept
}

// absorb makes step i (st) write next's output and drops next (step j).
func absorb(st *step, i int, next *step, j int, removed []bool, producer, readers map[*slot]int) {
	removed[j] = true
	st.outs[0] = next.outs[0]
	producer[st.outs[0]] = i
	for _, s := range next.ins {
		if s != nil {
			readers[s]--
		}
	}
}

// residualOperand returns the other operand of next when next is an Add
// of out and a float value of the same shape (no broadcasting), else nil.
func residualOperand(next *step, out *slot) *slot {
	if next.op != "Add" || len(next.ins) != 2 || len(next.outs) != 1 {
		return nil
	}
	a, b := next.ins[0], next.ins[1]
	if a == nil || b == nil || a == b {
		return nil
	}
	other := a
	if a == out {
		other = b
	} else if b != out {
		return nil
	}
	if other.meta.DType != graph.Float32 || !slices.Equal(other.meta.Shape, out.meta.Shape) || !slices.Equal(next.outs[0].meta.Shape, out.meta.Shape) {
		return nil
	}
	return other
}

// availableBefore reports whether s is computed before step i runs (or
// is an input, parameter or constant).
func availableBefore(s *slot, i int, producer map[*slot]int) bool {
	p, ok := producer[s]
	return !ok || p < i
}
