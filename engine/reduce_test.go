package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// reduceRef reduces x over axes (all when empty) the straightforward way,
// returning the values in the order of the kept shape.
func reduceRef(op string, x *graph.Tensor, axes []int) []float64 {
	shape := x.Shape
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[(a+len(shape))%len(shape)] = true
	}
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	kept := slices.Clone(shape)
	for i := range kept {
		if red[i] {
			kept[i] = 1
		}
	}
	out := make([]float64, numel(kept))
	cnt := make([]int, len(out))
	for i := range out {
		switch op {
		case "ReduceMax":
			out[i] = math.Inf(-1)
		case "ReduceMin":
			out[i] = math.Inf(1)
		}
	}
	for i, v := range x.F {
		// Output index: drop the reduced coordinates.
		o, stride, rem := 0, 1, i
		for d := len(shape) - 1; d >= 0; d-- {
			q := rem % shape[d]
			rem /= shape[d]
			if !red[d] {
				o += q * stride
			}
			stride *= kept[d]
		}
		f := float64(v)
		switch op {
		case "ReduceMax":
			out[o] = math.Max(out[o], f)
		case "ReduceMin":
			out[o] = math.Min(out[o], f)
		default:
			out[o] += f
		}
		cnt[o]++
	}
	if op == "ReduceMean" {
		for i := range out {
			out[i] /= float64(cnt[i])
		}
	}
	return out
}

// reduceNode builds a reduction node with axes as an attribute or, when
// asInput, as a constant input named "axes" (added to params).
func reduceNode(op string, axes []int, keep int, asInput bool, params map[string]*graph.Tensor) graph.Node {
	n := graph.Node{Op: op, Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{}}
	if keep >= 0 {
		n.Attrs["keepdims"] = graph.Int(int64(keep))
	}
	ax := make([]int64, len(axes))
	for i, a := range axes {
		ax[i] = int64(a)
	}
	if asInput {
		if axes != nil {
			params["axes"] = graph.NewInt([]int{len(ax)}, ax)
			n.Inputs = append(n.Inputs, "axes")
		}
	} else if axes != nil {
		n.Attrs["axes"] = graph.Ints(ax...)
	}
	return n
}

func TestReduceForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	type shapeAxes struct {
		shape []int
		axes  []int
	}
	cases := []shapeAxes{
		{[]int{2, 3, 4, 5}, []int{1}},
		{[]int{2, 3, 4, 5}, []int{2, 3}},
		{[]int{2, 3, 4, 5}, []int{0, 2}},
		{[]int{2, 3, 4, 5}, []int{-1}},
		{[]int{2, 3, 4, 5}, []int{0}},
		{[]int{2, 3, 4, 5}, []int{3, 0, 1}},
		{[]int{2, 3, 4, 5}, []int{}},
		{[]int{2, 3, 4, 5}, nil},
		{[]int{1, 3, 1, 5}, []int{0, 2}},
		{[]int{6}, []int{0}},
		{[]int{4, 64, 20, 20}, []int{2, 3}}, // global pooling, rows in parallel
		{[]int{3, 400}, []int{0}},           // columns in parallel
		{[]int{0, 4}, []int{1}},
	}
	for _, op := range []string{"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"} {
		for _, c := range cases {
			for _, keep := range []int{-1, 0, 1} {
				for _, opset := range []int{11, 13, 18} {
					asInput := opset >= 18 || op == "ReduceSum" && opset >= 13
					x := randTensor(rng, c.shape...)
					params := map[string]*graph.Tensor{}
					n := reduceNode(op, c.axes, keep, asInput, params)
					y := runOp(t, opset, n, map[string]*graph.Tensor{"x": x}, params)
					want := reduceRef(op, x, c.axes)
					var wantShape []int
					for d, s := range c.shape {
						r := len(c.axes) == 0 || slices.ContainsFunc(c.axes, func(a int) bool { return (a+len(c.shape))%len(c.shape) == d })
						switch {
						case !r:
							wantShape = append(wantShape, s)
						case keep != 0:
							wantShape = append(wantShape, 1)
						}
					}
					if !slices.Equal(y.Shape, wantShape) || y.Shape == nil {
						t.Fatalf("%s %v axes %v keep %d: shape %v, want %v", op, c.shape, c.axes, keep, y.Shape, wantShape)
					}
					for i, got := range y.F {
						if !ewClose(got, want[i]) {
							t.Fatalf("%s %v axes %v: y[%d] = %g, want %g", op, c.shape, c.axes, i, got, want[i])
						}
					}
				}
			}
		}
	}
}

func TestReduceNoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	x := randTensor(rng, 2, 3)
	n := graph.Node{Op: "ReduceMean", Inputs: []string{"x"}, Outputs: []string{"y"},
		Attrs: map[string]graph.Attr{"noop_with_empty_axes": graph.Int(1)}}
	y := runOp(t, 18, n, map[string]*graph.Tensor{"x": x}, nil)
	if !slices.Equal(y.Shape, x.Shape) || !slices.Equal(y.F, x.F) {
		t.Fatalf("noop: got %v %v", y.Shape, y.F)
	}
	gradCheck(t, opGraph(18, n, map[string]*graph.Tensor{"x": x}, nil), map[string]*graph.Tensor{"x": x}, 2e-3)
}

func TestReduceErrors(t *testing.T) {
	x := graph.NewFloat([]int{2, 3}, make([]float32, 6))
	for _, c := range []struct {
		axes []int64
		want string
	}{{[]int64{2}, "out of range"}, {[]int64{-3}, "out of range"}, {[]int64{1, -1}, "repeated"}} {
		n := graph.Node{Op: "ReduceSum", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axes": graph.Ints(c.axes...)}}
		m, err := New(opGraph(11, n, map[string]*graph.Tensor{"x": x}, nil), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Run(map[string]*graph.Tensor{"x": x}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("axes %v: %v", c.axes, err)
		}
	}
	// Axes computed from the graph's inputs are refused.
	n := graph.Node{Op: "ReduceMean", Inputs: []string{"x", "a"}, Outputs: []string{"y"}}
	ins := map[string]*graph.Tensor{"x": x, "a": graph.NewFloat([]int{1}, []float32{1})}
	m, err := New(opGraph(18, n, ins, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(ins); err == nil || !strings.Contains(err.Error(), "constant") {
		t.Fatalf("runtime axes: %v", err)
	}
}

func TestReduceGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 3))
	cases := []struct {
		shape []int
		axes  []int
	}{
		{[]int{2, 3, 4}, []int{1}},
		{[]int{2, 3, 2, 2}, []int{2, 3}},
		{[]int{2, 3, 4}, []int{0, 2}},
		{[]int{2, 3, 4}, nil},
		{[]int{3, 300}, []int{0}},
		{[]int{4, 8, 24, 24}, []int{-2, -1}},
	}
	for _, op := range []string{"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"} {
		for _, c := range cases {
			for _, keep := range []int{0, 1} {
				x := randTensor(rng, c.shape...)
				if op == "ReduceMax" || op == "ReduceMin" {
					// Distinct values 0.05 apart, so that the finite
					// differences do not move the extremum.
					for i, p := range rng.Perm(len(x.F)) {
						x.F[i] = float32(p) * 0.05
					}
				}
				params := map[string]*graph.Tensor{}
				n := reduceNode(op, c.axes, keep, true, params)
				ins := map[string]*graph.Tensor{"x": x}
				gradCheck(t, opGraph(18, n, ins, params), ins, 2e-3)
			}
		}
	}
}
