package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// ewBcastIndex maps flat index i of a result of shape out to the flat
// index of the element it reads from an operand of shape s (numpy
// broadcasting), the straightforward way.
func ewBcastIndex(out, s []int, i int) int {
	idx, stride := 0, 1
	for d := len(out) - 1; d >= 0; d-- {
		q := i % out[d]
		i /= out[d]
		if j := d - (len(out) - len(s)); j >= 0 {
			if s[j] != 1 {
				idx += q * stride
			}
			stride *= s[j]
		}
	}
	return idx
}

// ewClose reports whether got matches want within 1e-6 relative (with a
// floor for values near zero).
func ewClose(got float32, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(float64(got))
	}
	if math.IsInf(want, 0) {
		return float64(got) == want
	}
	return math.Abs(float64(got)-want) <= 1e-6*math.Max(math.Abs(want), 1e-1)
}

func ewRefBinary(op string, a, b float64) float64 {
	switch op {
	case "Add":
		return a + b
	case "Sub":
		return a - b
	case "Mul":
		return a * b
	case "Div":
		return a / b
	case "Pow":
		return math.Pow(a, b)
	}
	panic(op)
}

// ewOperand returns a random operand fit for op's side (positive bases for
// Pow, divisors away from zero).
func ewOperand(rng *rand.Rand, op string, side int, shape []int) *graph.Tensor {
	t := randTensor(rng, shape...)
	for i, v := range t.F {
		switch {
		case op == "Pow" && side == 0:
			t.F[i] = 0.5 + float32(math.Abs(float64(v)))
		case op == "Pow":
			t.F[i] = 2 * v
		case op == "Div" && side == 1:
			t.F[i] = float32(math.Copysign(0.5+math.Abs(float64(v)), float64(v)))
		}
	}
	return t
}

var ewShapePairs = [][2][]int{
	{{2, 3, 4, 5}, {2, 3, 4, 5}},
	{{2, 3, 4, 5}, {1, 3, 1, 1}},
	{{3, 1, 1}, {2, 3, 4, 5}},
	{{2, 3, 4, 1}, {2, 3, 1, 1}},
	{{2, 3, 4, 5}, {}},
	{{}, {2, 3}},
	{{}, {}},
	{{2, 1, 4}, {3, 1}},
	{{4, 5}, {5}},
	{{1}, {2, 3}},
	{{2, 3, 1, 5}, {1, 3, 4, 1}},
	{{2, 16, 32, 32}, {2, 16, 1, 1}}, // squeeze-excitation, large enough to split
	{{16, 1, 1}, {3, 16, 24, 24}},
	{{3, 5000}, {5000}},
	{{40000}, {40000}},
	{{0, 3}, {1, 3}},
}

func TestBinaryForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow"} {
		for _, sp := range ewShapePairs {
			a, b := ewOperand(rng, op, 0, sp[0]), ewOperand(rng, op, 1, sp[1])
			n := graph.Node{Op: op, Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
			y := runOp(t, 17, n, map[string]*graph.Tensor{"a": a, "b": b}, nil)
			want, _ := bcastShapes(sp[0], sp[1])
			if len(y.Shape) != len(want) || numel(y.Shape) != numel(want) {
				t.Fatalf("%s %v %v: shape %v, want %v", op, sp[0], sp[1], y.Shape, want)
			}
			for i, got := range y.F {
				r := ewRefBinary(op, float64(a.F[ewBcastIndex(want, sp[0], i)]), float64(b.F[ewBcastIndex(want, sp[1], i)]))
				if !ewClose(got, r) {
					t.Fatalf("%s %v %v: y[%d] = %g, want %g", op, sp[0], sp[1], i, got, r)
				}
			}
		}
	}
}

func TestPowConstantExponents(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, e := range []float32{1, 2, 3, 0.5, -1, 1.7, 0} {
		x := ewOperand(rng, "Pow", 0, []int{3, 7})
		n := graph.Node{Op: "Pow", Inputs: []string{"x", "e"}, Outputs: []string{"y"}}
		y := runOp(t, 11, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"e": graph.NewFloat([]int{}, []float32{e})})
		for i, got := range y.F {
			if r := math.Pow(float64(x.F[i]), float64(e)); !ewClose(got, r) {
				t.Fatalf("exponent %g: y[%d] = %g, want %g", e, i, got, r)
			}
		}
	}
	// An int64 exponent.
	x := ewOperand(rng, "Pow", 0, []int{4})
	n := graph.Node{Op: "Pow", Inputs: []string{"x", "e"}, Outputs: []string{"y"}}
	y := runOp(t, 13, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"e": graph.NewInt([]int{1}, []int64{3})})
	for i, got := range y.F {
		if r := math.Pow(float64(x.F[i]), 3); !ewClose(got, r) {
			t.Fatalf("int exponent: y[%d] = %g, want %g", i, got, r)
		}
	}
}

// ewFold runs a graph whose inputs are all constants and returns its
// single (folded) output.
func ewFold(t *testing.T, opset int, n graph.Node, params map[string]*graph.Tensor) (*graph.Tensor, error) {
	t.Helper()
	m, err := New(opGraph(opset, n, nil, params), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(map[string]*graph.Tensor{})
	if err != nil {
		return nil, err
	}
	return out[n.Outputs[0]], nil
}

func TestBinaryInt64(t *testing.T) {
	a := graph.NewInt([]int{2, 3}, []int64{7, -7, 8, 1 << 40, -9, 0})
	b := graph.NewInt([]int{3}, []int64{2, 2, -3})
	want := map[string][]int64{
		"Add": {9, -5, 5, 1<<40 + 2, -7, -3},
		"Sub": {5, -9, 11, 1<<40 - 2, -11, 3},
		"Mul": {14, -14, -24, 1 << 41, -18, 0},
		"Div": {3, -3, -2, 1 << 39, -4, 0}, // truncated toward zero
	}
	for op, w := range want {
		n := graph.Node{Op: op, Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
		y, err := ewFold(t, 13, n, map[string]*graph.Tensor{"a": a, "b": b})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if y.DType != graph.Int64 || len(y.I) != len(w) {
			t.Fatalf("%s: got %v %v", op, y.DType, y.I)
		}
		for i := range w {
			if y.I[i] != w[i] {
				t.Fatalf("%s: got %v, want %v", op, y.I, w)
			}
		}
	}
	n := graph.Node{Op: "Div", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
	_, err := ewFold(t, 13, n, map[string]*graph.Tensor{"a": a, "b": graph.NewInt([]int{}, []int64{0})})
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("division by zero: %v", err)
	}
	n = graph.Node{Op: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
	_, err = ewFold(t, 13, n, map[string]*graph.Tensor{"a": a, "b": graph.NewFloat([]int{}, []float32{1})})
	if err == nil || !strings.Contains(err.Error(), "same element type") {
		t.Fatalf("mixed types: %v", err)
	}
}

func TestBinaryErrors(t *testing.T) {
	x := graph.NewFloat([]int{2, 3}, make([]float32, 6))
	n := graph.Node{Op: "Add", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}
	m, err := New(opGraph(17, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"w": graph.NewFloat([]int{4}, make([]float32, 4))}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(map[string]*graph.Tensor{"x": x}); err == nil || !strings.Contains(err.Error(), "cannot be broadcast") {
		t.Fatalf("bad broadcast: %v", err)
	}
	// A broadcast whose size overflows.
	big := graph.NewFloat([]int{1 << 40, 1}, nil)
	if _, err := bcastShapes(big.Shape, []int{1, 1 << 40}); err == nil {
		t.Fatal("overflowing broadcast accepted")
	}
}

func TestBinaryGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	pairs := [][2][]int{
		{{2, 3, 4}, {2, 3, 4}},
		{{2, 3, 2, 2}, {1, 3, 1, 1}},
		{{3, 1, 1}, {2, 3, 2, 2}},
		{{2, 3}, {}},
		{{2, 1, 4}, {3, 1}},
		{{3, 300}, {300}}, // accumulates column-wise in parallel
		{{2, 8, 40, 40}, {2, 8, 1, 1}},
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow"} {
		for _, sp := range pairs {
			a, b := ewOperand(rng, op, 0, sp[0]), ewOperand(rng, op, 1, sp[1])
			n := graph.Node{Op: op, Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
			ins := map[string]*graph.Tensor{"a": a, "b": b}
			t.Run(op+ShapeString(sp[0])+ShapeString(sp[1]), func(t *testing.T) {
				gradCheck(t, opGraph(17, n, ins, nil), ins, 2e-3)
			})
		}
	}
	// A trainable parameter operand (a bias) and a constant exponent.
	x := randTensor(rng, 2, 3, 2, 2)
	n := graph.Node{Op: "Add", Inputs: []string{"x", "bias"}, Outputs: []string{"y"}}
	gradCheck(t, opGraph(17, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"bias": randTensor(rng, 3, 1, 1)}), map[string]*graph.Tensor{"x": x}, 2e-3)
	for _, e := range []float32{2, 3, 0.5, 1.5} {
		x := ewOperand(rng, "Pow", 0, []int{2, 5})
		n := graph.Node{Op: "Pow", Inputs: []string{"x", "e"}, Outputs: []string{"y"}}
		g := opGraph(11, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"e": graph.NewFloat([]int{}, []float32{e})})
		gradCheck(t, g, map[string]*graph.Tensor{"x": x}, 2e-3)
		m, err := New(g, Options{Train: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Run(map[string]*graph.Tensor{"x": x}); err != nil {
			t.Fatal(err)
		}
		if m.Grad("e") != nil {
			t.Fatal("a constant exponent got a gradient")
		}
	}
}

func BenchmarkBinarySE(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, s := randTensor(rng, 32, 96, 28, 28), randTensor(rng, 32, 96, 1, 1)
	n := graph.Node{Op: "Mul", Inputs: []string{"x", "s"}, Outputs: []string{"y"}}
	ins := map[string]*graph.Tensor{"x": x, "s": s}
	m, _ := New(opGraph(17, n, ins, nil), Options{})
	for b.Loop() {
		m.Run(ins)
	}
}

func BenchmarkBinaryAddSame(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, s := randTensor(rng, 32, 64, 28, 28), randTensor(rng, 32, 64, 28, 28)
	n := graph.Node{Op: "Add", Inputs: []string{"x", "s"}, Outputs: []string{"y"}}
	ins := map[string]*graph.Tensor{"x": x, "s": s}
	m, _ := New(opGraph(17, n, ins, nil), Options{})
	for b.Loop() {
		m.Run(ins)
	}
}
