package engine

// Running a large batch as micro-batches, one stream per core.
//
// Layer by layer, a batch of 32 keeps each intermediate value for the
// whole batch (megabytes: more than a core's L2 cache) and hands every
// layer's work out to the cores and waits for it, some forty times per
// run. When every step of an inference program computes each sample from
// that sample alone, the batch can instead be cut into micro-batches that
// run through the whole network one after another, on each core its own
// stream: the values of a micro-batch stay in cache, and the cores never
// wait for each other. Each stream has programs of its own (kernels keep
// per-call state), compiled for the micro-batch sizes it meets; the
// results are copied into the outputs of the whole-batch program.

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/deepcompress/deepcompress/graph"
)

// splitMicro is the micro-batch size; splitMin the least batch split.
const (
	splitMicro = 8
	splitMin   = 2 * splitMicro
)

// batchSplit is the micro-batch plan of an inference program.
type batchSplit struct {
	model   *Model
	n       int     // the batch
	shapes  [][]int // of the whole program's inputs
	streams int
	progs   [][]*Program  // per stream: programs by micro-batch size (index)
	busy    []atomic.Bool // per stream: a helper is using its programs
	outputs []*slot
}

// batchwiseOps are the operators that compute each sample of their
// output from the same sample of their inputs, given the checks of
// batchwise.
var batchwiseOps = map[string]bool{
	"Conv": true, "ConvTranspose": true, "MaxPool": true, "AveragePool": true,
	"GlobalAveragePool": true, "GlobalMaxPool": true, "BatchNormalization": true,
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Max": true, "Min": true,
	"Gemm": true, "MatMul": true, "Flatten": true, "Reshape": true, "Identity": true,
	"Dropout": true, "Concat": true,
}

// planSplit returns the split plan of an inference program, or nil when
// the batch is small or some step might mix samples.
func (c *compiler) planSplit(shapes [][]int) *batchSplit {
	if c.p.train || runtime.GOMAXPROCS(0) < 2 || len(shapes) == 0 || len(shapes[0]) == 0 {
		return nil
	}
	n := shapes[0][0]
	if n < splitMin {
		return nil
	}
	for _, s := range shapes {
		if len(s) == 0 || s[0] != n {
			return nil
		}
	}
	for _, s := range c.p.outputs {
		if s == nil || s.meta.Value != nil || !batched(s, n) {
			return nil
		}
	}
	for _, st := range c.p.steps {
		if !c.batchwise(st, n) {
			return nil
		}
	}
	b := &batchSplit{model: c.m, n: n, shapes: shapes, streams: min(runtime.GOMAXPROCS(0), n/splitMicro), outputs: c.p.outputs}
	b.progs = make([][]*Program, b.streams)
	b.busy = make([]atomic.Bool, b.streams)
	// Compiled now, not by the streams: compiling reads the model's state
	// (its random source), which concurrent streams must not share.
	for w := range b.streams {
		for _, m := range []int{splitMicro, n % splitMicro} {
			if m > 0 {
				if _, err := b.program(w, m); err != nil {
					return nil
				}
			}
		}
	}
	return b
}

// batched reports whether a value has the batch as its first dimension.
func batched(s *slot, n int) bool {
	return len(s.meta.Shape) > 0 && s.meta.Shape[0] == n
}

// batchwise reports whether step st computes sample i of its outputs from
// sample i of its computed inputs only.
func (c *compiler) batchwise(st *step, n int) bool {
	node := &c.g.Nodes[st.node]
	_, unary := unaryOps[st.op]
	if !unary && !batchwiseOps[st.op] {
		return false
	}
	for j, s := range st.ins {
		if s == nil || s.meta.Value != nil {
			continue
		}
		if !batched(s, n) {
			return false
		}
		// The weights of a product must be constants, and its samples rows.
		if (st.op == "Gemm" || st.op == "MatMul") && j > 0 {
			return false
		}
	}
	for _, s := range st.outs {
		if s.meta.DType == graph.Float32 && !batched(s, n) {
			return false
		}
	}
	switch st.op {
	case "Gemm":
		if t, err := node.AttrInt("transA", 0); err != nil || t != 0 {
			return false
		}
	case "Concat":
		axis, err := node.AttrInt("axis", 0)
		if err != nil || axis == 0 || axis == -int64(len(st.outs[0].meta.Shape)) {
			return false
		}
	}
	return true
}

// program returns stream w's program for micro-batches of m, compiling
// it the first time (planSplit compiles all the streams will ask for).
func (b *batchSplit) program(w, m int) (*Program, error) {
	progs := b.progs[w]
	if m < len(progs) && progs[m] != nil {
		return progs[m], nil
	}
	shapes := make([][]int, len(b.shapes))
	for i, s := range b.shapes {
		shapes[i] = slices.Clone(s)
		shapes[i][0] = m
	}
	p, err := b.model.compileUnsplit(shapes)
	if err != nil {
		return nil, err
	}
	for len(progs) <= m {
		progs = append(progs, nil)
	}
	progs[m] = p
	b.progs[w] = progs
	return p, nil
}

// splitRun is one Run of a split program. Stream 0 is the caller; the
// others are goroutines started for the run, which take micro-batches
// while there are any left: one that starts late (its core busy with
// something else) finds none and ends. When the caller runs out of
// micro-batches while a helper still computes one, it takes that one
// over and computes it too, rather than wait for a core the machine may
// have given to another process; whichever finishes first copies its
// result, the other drops its own.
type splitRun struct {
	b         *batchSplit
	inputs    map[string]*graph.Tensor
	micros    int
	next      atomic.Int64   // the next micro-batch to claim
	state     []atomic.Int32 // per micro-batch: microFree, ...
	completed atomic.Int64
	done      chan struct{} // closed when every micro-batch is completed
	mu        sync.Mutex
	err       error
}

// The states of a micro-batch.
const (
	microFree    = iota
	microHelper  // a helper computes it
	microStolen  // the caller computes it (too)
	microCopying // its result is being copied into the outputs
	microDone
)

// runSplit computes p's outputs micro-batch by micro-batch.
func (p *Program) runSplit(inputs map[string]*graph.Tensor) error {
	b := p.split
	for _, s := range b.outputs {
		if n := numel(s.meta.Shape); len(s.t.F) != n { // a relabelled view, never run
			s.t.F = make([]float32, n)
		}
	}
	micros := (b.n + splitMicro - 1) / splitMicro
	r := &splitRun{b: b, inputs: inputs, micros: micros, state: make([]atomic.Int32, micros), done: make(chan struct{})}
	for w := 1; w < b.streams; w++ {
		go r.helper(w)
	}
	for {
		i := int(r.next.Add(1)) - 1
		if i >= micros {
			break
		}
		r.state[i].Store(microStolen)
		r.compute(0, i, microStolen)
	}
	for i := range r.state {
		if r.state[i].CompareAndSwap(microHelper, microStolen) {
			r.compute(0, i, microStolen)
		}
	}
	<-r.done
	return r.err
}

// helper runs micro-batches on stream w's programs until none is left.
// A stream's programs are used by one goroutine at a time: a helper of
// an earlier run may still be computing a micro-batch taken over.
func (r *splitRun) helper(w int) {
	if !r.b.busy[w].CompareAndSwap(false, true) {
		return
	}
	defer r.b.busy[w].Store(false)
	for {
		i := int(r.next.Add(1)) - 1
		if i >= r.micros {
			return
		}
		if !r.state[i].CompareAndSwap(microFree, microHelper) {
			continue
		}
		r.compute(w, i, microHelper)
	}
}

// compute runs micro-batch i on stream w and, when no one else has
// copied a result for it, copies its own (from state from).
func (r *splitRun) compute(w, i int, from int32) {
	a := i * splitMicro
	out, err := r.b.micro(w, r.inputs, a, min(r.b.n, a+splitMicro))
	if !r.state[i].CompareAndSwap(from, microCopying) {
		return // taken over, or copied by the caller
	}
	if err != nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	} else {
		r.b.store(out, a, min(r.b.n, a+splitMicro))
	}
	r.state[i].Store(microDone)
	if int(r.completed.Add(1)) == r.micros {
		close(r.done)
	}
}

// micro runs samples [a, z) on stream w's program and returns its
// outputs (the program's, valid until its next run).
func (b *batchSplit) micro(w int, inputs map[string]*graph.Tensor, a, z int) (map[string]*graph.Tensor, error) {
	p, err := b.program(w, z-a)
	if err != nil {
		return nil, err
	}
	in := make(map[string]*graph.Tensor, len(p.inputs))
	for _, s := range p.inputs {
		t := inputs[s.name]
		per := len(t.F) / b.n
		in[s.name] = &graph.Tensor{Shape: s.meta.Shape, DType: graph.Float32, F: t.F[a*per : z*per]}
	}
	return p.Run(in)
}

// store copies the outputs of micro-batch [a, z) into the whole batch's.
func (b *batchSplit) store(out map[string]*graph.Tensor, a, z int) {
	for _, s := range b.outputs {
		per := len(s.t.F) / b.n
		copy(s.t.F[a*per:z*per], out[s.name].F)
	}
}
