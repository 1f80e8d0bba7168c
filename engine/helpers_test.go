package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// opGraph builds a one-node graph: inputs named in inputs become graph
// inputs (their shapes fixed), params become parameters, and the node's
// outputs are the graph's outputs.
func opGraph(opset int, n graph.Node, inputs map[string]*graph.Tensor, params map[string]*graph.Tensor) *graph.Graph {
	g := &graph.Graph{Name: "test", Opset: opset, Params: map[string]*graph.Tensor{}, Nodes: []graph.Node{n}}
	for _, name := range n.Inputs {
		if t, ok := inputs[name]; ok {
			v := graph.Value{Name: name, DType: graph.Float32}
			for _, d := range t.Shape {
				v.Shape = append(v.Shape, graph.Dim{Size: d})
			}
			g.Inputs = append(g.Inputs, v)
		}
	}
	for k, t := range params {
		g.Params[k] = t
	}
	for _, o := range n.Outputs {
		g.Outputs = append(g.Outputs, graph.Value{Name: o, DType: graph.Float32})
	}
	return g
}

// runOp runs a one-node graph forward (inference mode) and returns its
// first output.
func runOp(t *testing.T, opset int, n graph.Node, inputs, params map[string]*graph.Tensor) *graph.Tensor {
	t.Helper()
	m, err := New(opGraph(opset, n, inputs, params), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out[n.Outputs[0]]
}

// randTensor is a float tensor of the given shape with values uniform in
// [-1, 1).
func randTensor(rng *rand.Rand, shape ...int) *graph.Tensor {
	t := graph.NewFloat(shape, make([]float32, numel(shape)))
	for i := range t.F {
		t.F[i] = 2*rng.Float32() - 1
	}
	return t
}

// gradCheck compares the analytic gradient of L = sum(r * output) (r
// fixed random weights per output) with central finite differences, for
// every element of every float input and trainable parameter of g (at
// most maxPerTensor elements sampled per tensor). It uses float64
// differences of float32 forward passes, so tolerances are loose-ish.
func gradCheck(t *testing.T, g *graph.Graph, inputs map[string]*graph.Tensor, tol float64) {
	t.Helper()
	const maxPerTensor = 40
	const h = 1e-2
	m, err := New(g, Options{Train: true, InputGrads: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.ProgramFor(shapesOf(inputs))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	weights := map[string]*graph.Tensor{}
	loss := func() float64 {
		out, err := p.Run(inputs)
		if err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for name, o := range out {
			r := weights[name]
			if r == nil {
				r = randTensor(rng, o.Shape...)
				weights[name] = r
			}
			for i, v := range o.F {
				s += float64(r.F[i]) * float64(v)
			}
		}
		return s
	}
	loss()
	m.ZeroGrads()
	if err := p.Backward(weights); err != nil {
		t.Fatal(err)
	}
	check := func(what string, data []float32, grad *graph.Tensor) {
		if grad == nil {
			t.Errorf("%s: no gradient computed", what)
			return
		}
		ana := append([]float32(nil), grad.F...)
		step := max(1, len(data)/maxPerTensor)
		for i := 0; i < len(data); i += step {
			old := data[i]
			data[i] = old + h
			lp := loss()
			data[i] = old - h
			lm := loss()
			data[i] = old
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - float64(ana[i])); d > tol*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", what, i, ana[i], num)
			}
		}
	}
	for name, in := range inputs {
		check("input "+name, in.F, p.InputGrad(name))
	}
	for name, prm := range g.Params {
		if gr := m.Grad(name); gr != nil {
			check("param "+name, prm.F, gr)
		}
	}
}
