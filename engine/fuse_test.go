package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// fuseGraph is x -> Conv(c1) -> [Add r] -> act -> Conv(c2) -> y, where
// r is either x itself (a residual computed before the Conv) or a Relu of
// x computed after it, plus an optional extra output of the first Conv.
type fuseCase struct {
	name      string
	group     int
	kernel    int
	stride    int
	act       string
	residual  string // "", "before", "after"
	extraOut  bool
	wantSteps int
}

func (fc fuseCase) graph(rng *rand.Rand, c, h, w int) *graph.Graph {
	g := &graph.Graph{Name: "fuse", Opset: 17, Params: map[string]*graph.Tensor{}}
	g.Inputs = []graph.Value{{Name: "x", DType: graph.Float32, Shape: []graph.Dim{{Size: 2}, {Size: c}, {Size: h}, {Size: w}}}}
	pad := int64(fc.kernel / 2)
	g.Params["w1"] = randTensor(rng, c, c/fc.group, fc.kernel, fc.kernel)
	g.Params["b1"] = randTensor(rng, c)
	g.Params["w2"] = randTensor(rng, 3, c, 1, 1)
	conv := graph.Node{Name: "c1", Op: "Conv", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"t"}, Attrs: map[string]graph.Attr{
		"group":   {Kind: graph.AttrInt, Int: int64(fc.group)},
		"pads":    {Kind: graph.AttrInts, Ints: []int64{pad, pad, pad, pad}},
		"strides": {Kind: graph.AttrInts, Ints: []int64{int64(fc.stride), int64(fc.stride)}}}}
	cur := "t"
	var nodes []graph.Node
	switch fc.residual {
	case "before":
		nodes = append(nodes, conv, graph.Node{Name: "add", Op: "Add", Inputs: []string{"x", cur}, Outputs: []string{"s"}})
		cur = "s"
	case "after":
		nodes = append(nodes, conv,
			graph.Node{Name: "r", Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"rx"}},
			graph.Node{Name: "add", Op: "Add", Inputs: []string{cur, "rx"}, Outputs: []string{"s"}})
		cur = "s"
	default:
		nodes = append(nodes, conv)
	}
	if fc.act != "" {
		nodes = append(nodes, graph.Node{Name: "act", Op: fc.act, Inputs: []string{cur}, Outputs: []string{"a"}})
		cur = "a"
	}
	nodes = append(nodes, graph.Node{Name: "c2", Op: "Conv", Inputs: []string{cur, "w2"}, Outputs: []string{"y"}})
	g.Nodes = nodes
	g.Outputs = []graph.Value{{Name: "y", DType: graph.Float32}}
	if fc.extraOut {
		g.Outputs = append(g.Outputs, graph.Value{Name: "t", DType: graph.Float32})
	}
	return g
}

// TestFuseEpilogue checks that inference programs fold residual Adds and
// activations into the Conv before them, when (and only when) that is
// valid, and compute what training programs (never fused) compute.
func TestFuseEpilogue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []fuseCase{
		{name: "conv+add+relu", group: 1, kernel: 3, stride: 1, act: "Relu", residual: "before", wantSteps: 2},
		{name: "conv+hardswish", group: 1, kernel: 3, stride: 2, act: "HardSwish", wantSteps: 2},
		{name: "pointwise+hardsigmoid", group: 1, kernel: 1, stride: 1, act: "HardSigmoid", wantSteps: 2},
		{name: "depthwise+relu", group: 4, kernel: 3, stride: 1, act: "Relu", wantSteps: 2},
		{name: "depthwise+add+clip", group: 4, kernel: 3, stride: 1, act: "Clip", residual: "before", wantSteps: 2},
		{name: "grouped+add+leakyrelu", group: 2, kernel: 3, stride: 1, act: "LeakyRelu", residual: "before", wantSteps: 2},
		{name: "residual computed after", group: 1, kernel: 3, stride: 1, act: "Relu", residual: "after", wantSteps: 5},
		{name: "conv output is a graph output", group: 1, kernel: 3, stride: 1, act: "Relu", residual: "before", extraOut: true, wantSteps: 4},
	}
	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			g := fc.graph(rng, 4, 9, 7)
			x := randTensor(rng, 2, 4, 9, 7)
			inputs := map[string]*graph.Tensor{"x": x}
			inf, err := New(g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := inf.ProgramFor(map[string][]int{"x": x.Shape})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.steps) != fc.wantSteps {
				t.Errorf("%d steps after fusion, want %d", len(p.steps), fc.wantSteps)
			}
			got, err := p.Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := New(g, Options{Train: true})
			if err != nil {
				t.Fatal(err)
			}
			want, err := tr.Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range want {
				if err := closeTo(got[name].F, w.F, 1e-5); err != nil {
					t.Errorf("output %s: %v", name, err)
				}
			}
		})
	}
}

func closeTo(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			return fmt.Errorf("[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	return nil
}
