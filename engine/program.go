package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
)

// slot is one value of a program: its meta, its tensor, and its gradient
// when one flows to it.
type slot struct {
	name    string
	meta    *Meta
	t       *graph.Tensor
	grad    *graph.Tensor
	param   bool // a graph parameter
	trained bool // gradient wanted (a trainable parameter, or depends on one)
}

type step struct {
	node             int
	op               string
	k                Kernel
	ins, outs        []*slot
	in, out          []*graph.Tensor
	din, dout        []*graph.Tensor
	backward         bool
	differentiable   Differentiable
	inputIsTrainable []bool
}

// Program is a Model compiled for one set of input shapes.
type Program struct {
	model     *Model
	shapes    [][]int
	inputs    []*slot
	outputs   []*slot
	steps     []*step
	train     bool
	bytes     int64
	internal  []*slot // non-parameter slots with gradients, zeroed per backward
	trainable []string
	timing    map[string]*OpTime
	split     *batchSplit // run as micro-batches (split.go); nil: step by step
}

// Trainable lists the parameters a training program computes gradients
// for, sorted.
func (p *Program) Trainable() []string { return p.trainable }

// Bytes is the size of the program's buffers.
func (p *Program) Bytes() int64 { return p.bytes }

func (p *Program) sameShapes(s [][]int) bool {
	return slices.EqualFunc(p.shapes, s, func(a, b []int) bool { return slices.Equal(a, b) })
}

// compiler holds the state of one compilation.
type compiler struct {
	m     *Model
	g     *graph.Graph
	p     *Program
	slots map[string]*slot
	bytes int64
}

func (m *Model) compile(shapes [][]int) (*Program, error) { return m.compileWith(shapes, true) }

// compileUnsplit compiles a program that never runs as micro-batches.
func (m *Model) compileUnsplit(shapes [][]int) (*Program, error) { return m.compileWith(shapes, false) }

func (m *Model) compileWith(shapes [][]int, split bool) (*Program, error) {
	g := m.Graph
	if !m.opt.Train && !m.opt.NoFold && !m.opt.LiveParams {
		g = foldBatchNorm(g)
	}
	order := m.order
	if g != m.Graph {
		var err error
		if order, err = g.Order(); err != nil {
			return nil, err
		}
	}
	c := &compiler{m: m, g: g, p: &Program{model: m, shapes: shapes, train: m.opt.Train}, slots: map[string]*slot{}}
	for name, t := range g.Params {
		s := &slot{name: name, meta: &Meta{Shape: t.Shape, DType: t.DType, Value: t}, t: t, param: true}
		c.slots[name] = s
	}
	for i, v := range g.Inputs {
		if v.DType != graph.Float32 {
			return nil, fmt.Errorf("engine: input %s is %v: only float32 inputs are supported", graph.Short(v.Name), v.DType)
		}
		s := &slot{name: v.Name, meta: &Meta{Shape: shapes[i], DType: graph.Float32}}
		if err := c.reserve(s.meta, v.Name); err != nil {
			return nil, err
		}
		s.t = &graph.Tensor{Shape: shapes[i], DType: graph.Float32}
		c.slots[v.Name] = s
		c.p.inputs = append(c.p.inputs, s)
	}
	for _, i := range order {
		if err := c.node(i); err != nil {
			return nil, err
		}
	}
	for _, v := range g.Outputs {
		c.p.outputs = append(c.p.outputs, c.slots[v.Name])
	}
	if m.opt.Train {
		if err := c.gradients(); err != nil {
			return nil, err
		}
	} else {
		c.fuse()
	}
	slices.Sort(c.p.trainable)
	if split {
		c.p.split = c.planSplit(shapes)
	}
	c.allocate()
	c.p.bytes = c.bytes
	return c.p, nil
}

// reserve counts a value's bytes (and room for its gradient) against the
// budget, with overflow checks, before anything is allocated for it.
func (c *compiler) reserve(m *Meta, what string) error {
	n, err := budget.Elems(m.Shape...)
	if err != nil {
		return fmt.Errorf("engine: %s: %w", graph.Short(what), err)
	}
	bytes, ok := budget.Mul(n, 8)
	if ok {
		c.bytes, ok = addInt64(c.bytes, bytes)
	}
	if !ok {
		c.bytes = math.MaxInt64
	}
	if limit := c.m.opt.Budget.Limit(); c.bytes > limit {
		return &budget.ExceededError{What: fmt.Sprintf("running the graph (value %s, shape %s)", graph.Short(what), budget.Shape(m.Shape)), Need: c.bytes, Limit: limit}
	}
	return nil
}

func addInt64(a, b int64) (int64, bool) {
	if a > math.MaxInt64-b {
		return 0, false
	}
	return a + b, true
}

func (c *compiler) node(i int) error {
	n := &c.g.Nodes[i]
	fail := func(err error) error { return &graph.NodeError{Node: c.g.Label(i), Op: n.Op, Err: err} }
	b := &Build{Node: n, Opset: c.g.Opset, In: make([]*Meta, len(n.Inputs)), Out: make([]*Meta, len(n.Outputs)),
		NoGrad: make([]bool, len(n.Inputs)), Train: c.m.opt.Train, Rand: c.m.rng,
		Frozen: !c.m.opt.Train && !c.m.opt.LiveParams}
	ins := make([]*slot, len(n.Inputs))
	for k, name := range n.Inputs {
		if name == "" {
			continue
		}
		ins[k] = c.slots[name]
		b.In[k] = ins[k].meta
	}
	for k := range b.Out {
		b.Out[k] = &Meta{}
	}
	k, err := registry[n.Op](b)
	if err != nil {
		return fail(err)
	}
	outs := make([]*slot, len(n.Outputs))
	for j, name := range n.Outputs {
		if b.Out[j].Shape == nil {
			return fail(fmt.Errorf("internal error: output %d has no shape", j))
		}
		if err := c.reserve(b.Out[j], name); err != nil {
			return fail(err)
		}
		outs[j] = &slot{name: name, meta: b.Out[j]}
		if name != "" {
			c.slots[name] = outs[j]
		}
	}
	if c.foldable(b, ins) {
		return c.fold(k, ins, outs, fail)
	}
	for j, m := range b.Out {
		if m.Value == nil && m.DType != graph.Float32 {
			return fail(fmt.Errorf("output %d holds %v values computed from the graph's inputs: not supported", j, m.DType))
		}
	}
	if allValued(b.Out) {
		for _, s := range outs {
			s.t = s.meta.Value
		}
		return nil
	}
	st := &step{node: i, op: n.Op, k: k, ins: ins, outs: outs, inputIsTrainable: make([]bool, len(ins))}
	for j, s := range ins {
		st.inputIsTrainable[j] = s != nil && !b.NoGrad[j]
	}
	c.p.steps = append(c.p.steps, st)
	return nil
}

func allValued(ms []*Meta) bool {
	for _, m := range ms {
		if m.Value == nil {
			return false
		}
	}
	return true
}

// foldable reports whether a node can be computed at compile time: every
// input is known, and in training none is a parameter being learnt.
func (c *compiler) foldable(b *Build, ins []*slot) bool {
	if allValued(b.Out) {
		return false
	}
	if b.Node.Op == "Dropout" && b.Train {
		return false
	}
	for j, s := range ins {
		if s == nil {
			continue
		}
		live := b.Train || c.m.opt.LiveParams
		if s.meta.Value == nil || live && s.param && c.trainable(s) && !b.NoGrad[j] {
			return false
		}
	}
	return true
}

func (c *compiler) trainable(s *slot) bool {
	return s.param && s.t.DType == graph.Float32 && !c.m.opt.Frozen[s.name]
}

func (c *compiler) fold(k Kernel, ins, outs []*slot, fail func(error) error) (err error) {
	in := make([]*graph.Tensor, len(ins))
	for j, s := range ins {
		if s != nil {
			in[j] = s.meta.Value
		}
	}
	out := make([]*graph.Tensor, len(outs))
	for j, s := range outs {
		out[j] = newTensor(s.meta)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fail(fmt.Errorf("evaluating constant operands: %v", r))
		}
	}()
	k.Forward(in, out)
	for j, s := range outs {
		s.meta.Value = out[j]
		s.t = out[j]
	}
	return nil
}

func newTensor(m *Meta) *graph.Tensor {
	t := &graph.Tensor{Shape: m.Shape, DType: m.DType}
	n := 1
	for _, d := range m.Shape {
		n *= d
	}
	if m.DType == graph.Int64 {
		t.I = make([]int64, n)
	} else {
		t.F = make([]float32, n)
	}
	return t
}

// gradients decides which values carry a gradient: trainable parameters,
// and everything computed from them.
func (c *compiler) gradients() error {
	if c.m.opt.InputGrads {
		for _, s := range c.p.inputs {
			s.trained = true
		}
	}
	for _, st := range c.p.steps {
		for j, s := range st.ins {
			if s == nil || !st.inputIsTrainable[j] {
				continue
			}
			if s.param && c.trainable(s) && !s.trained {
				s.trained = true
				c.p.trainable = append(c.p.trainable, s.name)
			}
			if s.trained {
				st.backward = true
			}
		}
		if !st.backward {
			continue
		}
		d, ok := st.k.(Differentiable)
		if !ok {
			n := &c.g.Nodes[st.node]
			return &graph.NodeError{Node: c.g.Label(st.node), Op: n.Op, Err: fmt.Errorf("operator %s has no backward pass, so the parameters before it cannot be trained", n.Op)}
		}
		st.differentiable = d
		for _, s := range st.outs {
			s.trained = true
		}
	}
	return nil
}

// relabeler is a kernel whose outputs share its input's storage, so the
// compiler gives them none of their own.
type relabeler interface{ relabels() }

// allocate gives every runtime value its storage and wires the steps.
func (c *compiler) allocate() {
	var plan *memoryPlan
	if !c.p.train {
		plan = c.planMemory()
	}
	for i, st := range c.p.steps {
		st.in = make([]*graph.Tensor, len(st.ins))
		st.din = make([]*graph.Tensor, len(st.ins))
		for j, s := range st.ins {
			if s == nil {
				continue
			}
			st.in[j] = s.t
			if st.backward && s.trained && st.inputIsTrainable[j] {
				st.din[j] = c.gradOf(s)
			}
		}
		st.out = make([]*graph.Tensor, len(st.outs))
		st.dout = make([]*graph.Tensor, len(st.outs))
		_, relabel := st.k.(relabeler)
		for j, s := range st.outs {
			switch {
			case s.t != nil:
			case relabel && j == 0:
				s.t = &graph.Tensor{Shape: s.meta.Shape, DType: s.meta.DType}
			case plan != nil && s.meta.DType == graph.Float32:
				s.t = &graph.Tensor{Shape: s.meta.Shape, DType: graph.Float32, F: plan.get(numel(s.meta.Shape))}
				plan.pooled[s] = true
			default:
				s.t = newTensor(s.meta)
			}
			st.out[j] = s.t
			if st.backward {
				st.dout[j] = c.gradOf(s)
			}
		}
		if plan != nil {
			plan.release(i)
		}
	}
}

// memoryPlan lets the values of an inference program share buffers: a
// value's buffer goes back to a pool after the last step that reads it
// (or reads a relabelled view of it), and later values take buffers from
// the pool, so that the working set of a large batch stays small. The
// program's outputs keep theirs.
type memoryPlan struct {
	free    [][]float32
	pooled  map[*slot]bool
	owner   map[*slot]*slot
	dieAt   map[int][]*slot // step -> owners whose last reader it is
	outputs map[*slot]bool
}

func (c *compiler) planMemory() *memoryPlan {
	p := &memoryPlan{pooled: map[*slot]bool{}, owner: map[*slot]*slot{}, dieAt: map[int][]*slot{}, outputs: map[*slot]bool{}}
	last := map[*slot]int{}
	for i, st := range c.p.steps {
		_, relabel := st.k.(relabeler)
		for _, s := range st.ins {
			if s != nil {
				last[p.ownerOf(s)] = i
			}
		}
		for j, s := range st.outs {
			if relabel && j == 0 && len(st.ins) > 0 && st.ins[0] != nil {
				p.owner[s] = p.ownerOf(st.ins[0])
			}
			if _, read := last[p.ownerOf(s)]; !read {
				last[p.ownerOf(s)] = i // written, maybe never read
			}
		}
	}
	for _, s := range c.p.outputs {
		if s != nil {
			p.outputs[p.ownerOf(s)] = true
		}
	}
	for o, i := range last {
		if !p.outputs[o] {
			p.dieAt[i] = append(p.dieAt[i], o)
		}
	}
	return p
}

func (p *memoryPlan) ownerOf(s *slot) *slot {
	if o, ok := p.owner[s]; ok {
		return o
	}
	return s
}

// get returns a buffer of n values: the smallest free one that fits, or a
// new one.
func (p *memoryPlan) get(n int) []float32 {
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]float32, n)
	}
	b := p.free[best]
	p.free = slices.Delete(p.free, best, best+1)
	return b[:n]
}

// release returns the buffers whose last reader is step i.
func (p *memoryPlan) release(i int) {
	for _, o := range p.dieAt[i] {
		if p.pooled[o] {
			p.free = append(p.free, o.t.F[:cap(o.t.F)])
		}
	}
}

func (c *compiler) gradOf(s *slot) *graph.Tensor {
	if s.grad != nil {
		return s.grad
	}
	if s.param {
		g := c.m.grads[s.name]
		if g == nil || !slices.Equal(g.Shape, s.t.Shape) {
			g = newTensor(s.meta)
			c.m.grads[s.name] = g
		}
		s.grad = g
		return g
	}
	s.grad = newTensor(s.meta)
	c.p.internal = append(c.p.internal, s)
	return s.grad
}
