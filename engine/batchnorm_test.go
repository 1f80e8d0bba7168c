package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// bnParams returns random BatchNormalization operands for c channels (var
// positive).
func bnParams(rng *rand.Rand, c int) map[string]*graph.Tensor {
	p := map[string]*graph.Tensor{"scale": randTensor(rng, c), "shift": randTensor(rng, c),
		"mean": randTensor(rng, c), "var": randTensor(rng, c)}
	for i, v := range p["var"].F {
		p["var"].F[i] = 0.3 + v*v
	}
	return p
}

func bnNode(attrs map[string]graph.Attr, outs ...string) graph.Node {
	if outs == nil {
		outs = []string{"y"}
	}
	return graph.Node{Name: "bn", Op: "BatchNormalization", Inputs: []string{"x", "scale", "shift", "mean", "var"}, Outputs: outs, Attrs: attrs}
}

func TestBatchNormForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, shape := range [][]int{{1, 3}, {4, 3}, {2, 5, 7}, {1, 4, 3, 5}, {3, 2, 4, 4}, {2, 3, 2, 2, 3}} {
		for _, opset := range []int{9, 15} {
			c := shape[1]
			x := randTensor(rng, shape...)
			p := bnParams(rng, c)
			eps := float32(1e-3)
			got := runOp(t, opset, bnNode(map[string]graph.Attr{"epsilon": graph.Float(eps), "momentum": graph.Float(0.7)}),
				map[string]*graph.Tensor{"x": x}, p)
			want := graph.NewFloat(shape, make([]float32, len(x.F)))
			inner := len(x.F) / (shape[0] * c)
			for i, v := range x.F {
				ch := i / inner % c
				want.F[i] = float32(float64(p["scale"].F[ch])*(float64(v)-float64(p["mean"].F[ch]))/
					math.Sqrt(float64(p["var"].F[ch])+float64(eps)) + float64(p["shift"].F[ch]))
			}
			convClose(t, "batchnorm "+ShapeString(shape), got, want, 1e-5)
		}
	}
}

func TestBatchNormGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, shape := range [][]int{{3, 4}, {2, 3, 4, 5}, {1, 2, 6}} {
		x := randTensor(rng, shape...)
		inputs := map[string]*graph.Tensor{"x": x}
		g := opGraph(15, bnNode(nil), inputs, bnParams(rng, shape[1]))
		gradCheck(t, g, inputs, 1e-2)
		// mean and var are hyperparameters: no gradient.
		m, err := New(g, Options{Train: true})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.ProgramFor(map[string][]int{"x": shape})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(inputs); err != nil {
			t.Fatal(err)
		}
		if err := p.Backward(map[string]*graph.Tensor{"y": randTensor(rng, shape...)}); err != nil {
			t.Fatal(err)
		}
		if m.Grad("mean") != nil || m.Grad("var") != nil {
			t.Fatal("the running statistics got gradients")
		}
		if m.Grad("scale") == nil || m.Grad("shift") == nil {
			t.Fatal("scale and B got no gradients")
		}
	}
}

func TestBatchNormErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	x := randTensor(rng, 2, 3, 4)
	for _, tc := range []struct {
		name string
		node graph.Node
		p    map[string]*graph.Tensor
		want string
	}{
		{"training_mode", bnNode(map[string]graph.Attr{"training_mode": graph.Int(1)}), bnParams(rng, 3), "training_mode"},
		{"extra outputs", bnNode(nil, "y", "rm", "rv"), bnParams(rng, 3), "training"},
		{"spatial 0", bnNode(map[string]graph.Attr{"spatial": graph.Int(0)}), bnParams(rng, 3), "spatial"},
		{"channels", bnNode(nil), bnParams(rng, 4), "one per channel"},
		{"negative eps", bnNode(map[string]graph.Attr{"epsilon": graph.Float(-1)}), bnParams(rng, 3), "epsilon"},
	} {
		m, err := New(opGraph(15, tc.node, map[string]*graph.Tensor{"x": x}, tc.p), Options{})
		if err == nil {
			_, err = m.Run(map[string]*graph.Tensor{"x": x})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	// Unnamed optional outputs are fine, and spatial = 1 is accepted.
	g := opGraph(7, bnNode(map[string]graph.Attr{"spatial": graph.Int(1)}, "y", "", ""), map[string]*graph.Tensor{"x": x}, bnParams(rng, 3))
	g.Outputs = g.Outputs[:1]
	m, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(map[string]*graph.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	if len(out["y"].F) != len(x.F) {
		t.Fatal("wrong output size")
	}
}
