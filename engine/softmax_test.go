package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// softmaxRef computes (log-)softmax over the elements of x grouped as
// [outer, n, inner] along n.
func softmaxRef(x []float32, outer, n, inner int, log bool) []float64 {
	y := make([]float64, len(x))
	for o := range outer {
		for j := range inner {
			at := func(i int) int { return (o*n+i)*inner + j }
			m := math.Inf(-1)
			for i := range n {
				m = math.Max(m, float64(x[at(i)]))
			}
			var s float64
			for i := range n {
				s += math.Exp(float64(x[at(i)]) - m)
			}
			for i := range n {
				v := float64(x[at(i)]) - m
				if log {
					y[at(i)] = v - math.Log(s)
				} else {
					y[at(i)] = math.Exp(v) / s
				}
			}
		}
	}
	return y
}

func TestSoftmaxForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	shape := []int{2, 3, 4, 5}
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		for _, opset := range []int{11, 13} {
			for _, axis := range []int{-100, 0, 1, 2, 3, -1, -3} {
				x := randTensor(rng, shape...)
				for i := range x.F {
					x.F[i] *= 5
				}
				n := graph.Node{Op: op, Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{}}
				a := axis
				if axis == -100 { // the default
					a = -1
					if opset < 13 {
						a = 1
					}
				} else {
					n.Attrs["axis"] = graph.Int(int64(axis))
				}
				a = (a + len(shape)) % len(shape)
				outer, mid, inner := numel(shape[:a]), shape[a], numel(shape[a+1:])
				if opset < 13 {
					mid, inner = numel(shape[a:]), 1
				}
				y := runOp(t, opset, n, map[string]*graph.Tensor{"x": x}, nil)
				want := softmaxRef(x.F, outer, mid, inner, op == "LogSoftmax")
				for i, got := range y.F {
					if !ewClose(got, want[i]) {
						t.Fatalf("%s opset %d axis %d: y[%d] = %g, want %g", op, opset, axis, i, got, want[i])
					}
				}
			}
		}
	}
	// Large enough to split between workers: classifier rows and a
	// channel softmax of a segmentation map.
	for _, c := range []struct {
		shape []int
		axis  int
	}{{[]int{64, 1000}, 1}, {[]int{4, 5, 40, 40}, 1}} {
		x := randTensor(rng, c.shape...)
		n := graph.Node{Op: "Softmax", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axis": graph.Int(int64(c.axis))}}
		y := runOp(t, 13, n, map[string]*graph.Tensor{"x": x}, nil)
		want := softmaxRef(x.F, numel(c.shape[:c.axis]), c.shape[c.axis], numel(c.shape[c.axis+1:]), false)
		for i, got := range y.F {
			if !ewClose(got, want[i]) {
				t.Fatalf("%v: y[%d] = %g, want %g", c.shape, i, got, want[i])
			}
		}
	}
}

func TestSoftmaxGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 2))
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		for _, opset := range []int{11, 13} {
			for _, axis := range []int64{0, 1, 2, -1} {
				x := randTensor(rng, 2, 3, 4)
				n := graph.Node{Op: op, Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axis": graph.Int(axis)}}
				ins := map[string]*graph.Tensor{"x": x}
				gradCheck(t, opGraph(opset, n, ins, nil), ins, 2e-3)
			}
		}
	}
}

func TestSoftmaxErrors(t *testing.T) {
	x := graph.NewFloat([]int{2, 3}, make([]float32, 6))
	n := graph.Node{Op: "Softmax", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axis": graph.Int(2)}}
	m, err := New(opGraph(13, n, map[string]*graph.Tensor{"x": x}, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(map[string]*graph.Tensor{"x": x}); err == nil {
		t.Fatal("axis 2 of a matrix accepted")
	}
}
