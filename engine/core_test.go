package engine

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
)

// scaleKernel is a test operator: y = x * w (w a parameter of x's shape).
type scaleKernel struct{}

func (scaleKernel) Forward(in, out []*graph.Tensor) {
	for i := range out[0].F {
		out[0].F[i] = in[0].F[i] * in[1].F[i%len(in[1].F)]
	}
}

func (scaleKernel) Backward(in, out, dout, din []*graph.Tensor) {
	for i, d := range dout[0].F {
		if din[0] != nil {
			din[0].F[i] += d * in[1].F[i%len(in[1].F)]
		}
		if din[1] != nil {
			din[1].F[i%len(in[1].F)] += d * in[0].F[i]
		}
	}
}

func init() {
	register(func(b *Build) (Kernel, error) {
		s, err := b.InShape(0)
		if err != nil {
			return nil, err
		}
		b.Out[0].Shape = s
		return scaleKernel{}, nil
	}, "TestScale")
}

func chain(n int) *graph.Graph {
	g := &graph.Graph{Opset: 17, Params: map[string]*graph.Tensor{},
		Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Param: "N", Size: -1}, {Size: 3}}}},
		Outputs: []graph.Value{{Name: "y"}}}
	prev := "x"
	for i := range n {
		w := "w" + string(rune('a'+i))
		out := "h" + string(rune('a'+i))
		if i == n-1 {
			out = "y"
		}
		g.Params[w] = graph.NewFloat([]int{3}, []float32{1, 2, 3})
		g.Nodes = append(g.Nodes, graph.Node{Name: "n" + out, Op: "TestScale", Inputs: []string{prev, w}, Outputs: []string{out}})
		prev = out
	}
	return g
}

func TestRunBindsSymbolicBatch(t *testing.T) {
	m, err := New(chain(2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 4} {
		x := graph.NewFloat([]int{n, 3}, make([]float32, 3*n))
		for i := range x.F {
			x.F[i] = 1
		}
		out, err := m.Run(map[string]*graph.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		y := out["y"]
		if y.Shape[0] != n || y.F[3*n-1] != 9 {
			t.Fatalf("batch %d: got %v %v", n, y.Shape, y.F)
		}
	}
	if _, err := m.Run(map[string]*graph.Tensor{"x": graph.NewFloat([]int{2, 4}, make([]float32, 8))}); err == nil {
		t.Fatal("a wrong fixed dimension was accepted")
	}
}

func TestGradCheckCore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gradCheck(t, chain(3), map[string]*graph.Tensor{"x": randTensor(rng, 2, 3)}, 1e-3)
}

func TestStructuralErrors(t *testing.T) {
	g := chain(2)
	g.Nodes[0].Op = "NoSuchOp"
	_, err := New(g, Options{})
	var u *UnsupportedOpError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "NoSuchOp") || !strings.Contains(err.Error(), "TestScale") {
		t.Fatalf("unknown op: %v", err)
	}
	g = chain(2)
	g.Nodes[0].Inputs[0] = "y" // cycle
	if _, err := New(g, Options{}); !errors.Is(err, graph.ErrCycle) {
		t.Fatalf("cycle: %v", err)
	}
	g = chain(2)
	m, err := New(g, Options{Budget: budget.New(1000)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ProgramFor(map[string][]int{"x": {1 << 40, 3}}); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("huge batch: %v", err)
	}
}
