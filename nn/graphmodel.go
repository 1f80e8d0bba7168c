package nn

import (
	"fmt"
	"slices"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
)

// graphNet is the engine behind a Model built from a graph: one engine
// model compiled for training (dropout active, nothing folded) and one for
// inference, both reading the graph's parameters in place, so that what
// the optimizer writes is what the next forward pass sees.
type graphNet struct {
	g              *graph.Graph
	train, infer   *engine.Model
	logits         *engine.Model // infer without a final softmax
	input, output  string        // the graph input fed and the output returned
	trainOutput    string        // output in training: before a final softmax
	sample         []int         // per-sample input shape
	outShape       []int         // per-sample output shape
	outSize        int
	trainProg      *engine.Program
	in, out, dgrad graph.Tensor
}

// FromGraph builds a Model that runs and trains g, a graph with one input
// whose dimensions other than the first (the batch) are fixed, or given
// by sample (nil to use the declared ones); the first graph output is the
// model's output. Every float parameter that reaches the output through
// operators with a backward pass is trainable (BatchNormalization's
// running statistics stay frozen); the weights of Conv, ConvTranspose,
// Gemm and MatMul are the Model's Weights (pruned, shared and decayed).
// The Model shares g's parameter storage.
func FromGraph(g *graph.Graph, sample []int, seed uint64) (*Model, error) {
	if len(g.Inputs) != 1 || len(g.Outputs) == 0 {
		return nil, fmt.Errorf("nn: training needs a graph with one input and an output, this one has %d inputs and %d outputs", len(g.Inputs), len(g.Outputs))
	}
	in := g.Inputs[0]
	if sample == nil {
		if len(in.Shape) < 1 {
			return nil, fmt.Errorf("nn: input %s has no declared shape: give the sample shape", graph.Short(in.Name))
		}
		for _, d := range in.Shape[1:] {
			if !d.Fixed() {
				return nil, fmt.Errorf("nn: input %s %s has symbolic dimensions beyond the batch: give the sample shape", graph.Short(in.Name), in.ShapeString())
			}
			sample = append(sample, d.Size)
		}
	}
	gn := &graphNet{g: g, input: in.Name, output: g.Outputs[0].Name, sample: slices.Clone(sample)}
	tg := withoutFinalSoftmax(g)
	gn.trainOutput = tg.Outputs[0].Name
	var err error
	if gn.train, err = engine.New(tg, engine.Options{Train: true, Seed: seed}); err != nil {
		return nil, err
	}
	if gn.infer, err = engine.New(g, engine.Options{LiveParams: true}); err != nil {
		return nil, err
	}
	gn.logits = gn.infer
	if tg != g {
		if gn.logits, err = engine.New(tg, engine.Options{LiveParams: true}); err != nil {
			return nil, err
		}
	}
	p, err := gn.train.ProgramFor(map[string][]int{gn.input: gn.shape(1)})
	if err != nil {
		return nil, err
	}
	gn.outShape = slices.Clone(p.OutputShape(gn.trainOutput)[1:])
	gn.outSize = numelInts(gn.outShape)
	m := &Model{byName: map[string]*Param{}, graph: gn}
	weights := map[string]bool{}
	for _, w := range g.Weights() {
		weights[w.Param] = true
	}
	for _, name := range p.Trainable() {
		t := g.Params[name]
		prm := &Param{Name: name, Shape: t.Shape, Data: t.F, Grad: gn.train.Grad(name).F, Weight: weights[name]}
		m.params = append(m.params, prm)
		m.byName[name] = prm
	}
	return m, nil
}

// withoutFinalSoftmax returns g, or a copy whose first output is the input
// of the Softmax that computed it: training leaves the softmax to the loss.
func withoutFinalSoftmax(g *graph.Graph) *graph.Graph {
	out := g.Outputs[0].Name
	for i, n := range g.Nodes {
		if n.Op != "Softmax" || len(n.Outputs) != 1 || n.Outputs[0] != out || len(n.Inputs) != 1 {
			continue
		}
		c := *g
		c.Outputs = slices.Clone(g.Outputs)
		c.Outputs[0] = graph.Value{Name: n.Inputs[0], DType: graph.Float32}
		c.Nodes = slices.Delete(slices.Clone(g.Nodes), i, i+1)
		return &c
	}
	return g
}

func (gn *graphNet) shape(n int) []int { return append([]int{n}, gn.sample...) }

func (gn *graphNet) forward(x []float32, n int, train, logits bool) (*Tensor, error) {
	size := numelInts(gn.sample)
	gn.in = graph.Tensor{Shape: gn.shape(n), DType: graph.Float32, F: x[:n*size]}
	inputs := map[string]*graph.Tensor{gn.input: &gn.in}
	model, name := gn.infer, gn.output
	switch {
	case train:
		model, name = gn.train, gn.trainOutput
	case logits:
		model, name = gn.logits, gn.trainOutput
	}
	p, err := model.ProgramFor(map[string][]int{gn.input: gn.in.Shape})
	if err != nil {
		return nil, err
	}
	if train {
		gn.trainProg = p
	}
	outs, err := p.Run(inputs)
	if err != nil {
		return nil, err
	}
	o := outs[name]
	return &Tensor{Shape: []int{n, len(o.F) / max(n, 1)}, Data: o.F}, nil
}

func (gn *graphNet) backward(dy *Tensor) error {
	if gn.trainProg == nil {
		return fmt.Errorf("nn: Backward before a training Forward")
	}
	gn.train.ZeroGrads()
	gn.dgrad = graph.Tensor{Shape: dy.Shape, DType: graph.Float32, F: dy.Data}
	return gn.trainProg.Backward(map[string]*graph.Tensor{gn.trainOutput: &gn.dgrad})
}

func numelInts(s []int) int { return arch.Numel(s) }

// Graph returns the graph a Model built by FromGraph runs, or nil.
func (m *Model) Graph() *graph.Graph {
	if m.graph == nil {
		return nil
	}
	return m.graph.g
}

// Prepare compiles what running n samples at once needs, so that errors
// (a batch over the memory limit) come here rather than from Forward. For
// a layer-chain Model it checks the batch's activations and im2col
// buffers against the memory budget.
func (m *Model) Prepare(n int, train bool) error {
	if m.graph == nil {
		return m.checkBatch(n, train)
	}
	model := m.graph.infer
	if train {
		model = m.graph.train
	} else if _, err := m.graph.logits.ProgramFor(map[string][]int{m.graph.input: m.graph.shape(n)}); err != nil {
		return err
	}
	_, err := model.ProgramFor(map[string][]int{m.graph.input: m.graph.shape(n)})
	return err
}

func (m *Model) graphForward(x []float32, n int, train, logits bool) *Tensor {
	t, err := m.graph.forward(x, n, train, logits)
	if err != nil {
		// Prepare reports these errors; a caller that skipped it gets
		// them here.
		panic(fmt.Sprintf("nn: running the graph on %d samples: %v (call Prepare first)", n, err))
	}
	return t
}

// checkTraining refuses, before anything is allocated, training batches
// of rows samples (and a last one of last) that the memory budget cannot
// hold.
func (m *Model) checkTraining(rows, last int) error {
	if m.graph == nil {
		return m.Spec.CheckBudget(nil, 3, rows)
	}
	for _, k := range []int{rows, last} {
		if k == 0 {
			continue
		}
		if err := m.Prepare(k, true); err != nil {
			return err
		}
	}
	return nil
}

// checkBatch refuses a layer-chain batch of n samples whose activations
// and unfolded convolution inputs would pass the memory budget (with the
// gradients when training).
func (m *Model) checkBatch(n int, train bool) error {
	copies := 1
	if train {
		copies = 3
	}
	if err := m.Spec.CheckBudget(nil, copies, n); err != nil {
		return fmt.Errorf("nn: running %d samples: %w", n, err)
	}
	return nil
}

// WeightKind is the layer kind of the weight called name, as the paper's
// defaults distinguish them: arch.Conv2D for a convolution kernel (see
// IsConv), arch.Dense for any other weight.
func (m *Model) WeightKind(name string) arch.Kind {
	if m.IsConv(name) {
		return arch.Conv2D
	}
	return arch.Dense
}

// IsConv reports whether the weight called name is a convolution kernel
// (a conv2d layer's, or a Conv or ConvTranspose node's) rather than a
// fully connected matrix: the paper gives the two different defaults.
func (m *Model) IsConv(name string) bool {
	if m.graph != nil {
		for _, w := range m.graph.g.Weights() {
			if w.Param == name {
				return w.Conv
			}
		}
		return false
	}
	for i, p := range m.params {
		if p == m.byName[name] {
			return m.layerKindOf(i) == arch.Conv2D
		}
	}
	return false
}

// layerKindOf is the kind of the layer owning parameter i.
func (m *Model) layerKindOf(i int) arch.Kind {
	infos, err := m.Spec.Params()
	if err != nil || i >= len(infos) {
		return ""
	}
	return m.Spec.Layers[infos[i].Layer].Kind
}

// OutputShape is the shape of one sample's output: [classes] for a
// classifier, [C, H, W] for a map.
func (m *Model) OutputShape() []int {
	if m.graph != nil {
		return m.graph.outShape
	}
	shapes, _ := m.Spec.Shapes() // checked by New
	if len(shapes) == 0 {
		return m.Spec.Input
	}
	return shapes[len(shapes)-1]
}
