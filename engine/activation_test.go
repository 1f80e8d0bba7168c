package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// actCase is one unary operator configuration with its reference, the
// points where its derivative jumps (kept away from in gradient checks)
// and whether it needs positive inputs.
type actCase struct {
	name     string
	opset    int
	node     graph.Node
	params   map[string]*graph.Tensor
	ref      func(x float64) float64
	kinks    []float64
	positive bool
}

func actNode(op string, attrs map[string]graph.Attr, extra ...string) graph.Node {
	return graph.Node{Op: op, Inputs: append([]string{"x"}, extra...), Outputs: []string{"y"}, Attrs: attrs}
}

func actScalar(v float32) *graph.Tensor { return graph.NewFloat([]int{}, []float32{v}) }

func actCases() []actCase {
	clip := func(lo, hi float64) func(float64) float64 {
		return func(x float64) float64 { return math.Min(math.Max(x, lo), hi) }
	}
	hsig := func(a, b float64) func(float64) float64 {
		return func(x float64) float64 { return math.Max(0, math.Min(1, a*x+b)) }
	}
	gelu := func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	geluTanh := func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	return []actCase{
		{name: "Relu", opset: 14, node: actNode("Relu", nil), ref: func(x float64) float64 { return math.Max(x, 0) }, kinks: []float64{0}},
		{name: "LeakyRelu", opset: 16, node: actNode("LeakyRelu", nil), ref: func(x float64) float64 { return math.Max(x, 0.01*x) }, kinks: []float64{0}},
		{name: "LeakyRelu0.2", opset: 6, node: actNode("LeakyRelu", map[string]graph.Attr{"alpha": graph.Float(0.2)}),
			ref: func(x float64) float64 { return math.Max(x, float64(float32(0.2))*x) }, kinks: []float64{0}},
		{name: "Clip9", opset: 9, node: actNode("Clip", map[string]graph.Attr{"min": graph.Float(-1), "max": graph.Float(1.5)}), ref: clip(-1, 1.5), kinks: []float64{-1, 1.5}},
		{name: "Clip9default", opset: 9, node: actNode("Clip", nil), ref: clip(-math.MaxFloat32, math.MaxFloat32)},
		{name: "Relu6", opset: 11, node: actNode("Clip", nil, "lo", "hi"), params: map[string]*graph.Tensor{"lo": actScalar(0), "hi": actScalar(6)},
			ref: clip(0, 6), kinks: []float64{0, 6}},
		{name: "ClipMinOnly", opset: 13, node: actNode("Clip", nil, "lo"), params: map[string]*graph.Tensor{"lo": actScalar(-0.5)}, ref: clip(-0.5, math.Inf(1)), kinks: []float64{-0.5}},
		{name: "ClipMaxOnly", opset: 13, node: actNode("Clip", nil, "", "hi"), params: map[string]*graph.Tensor{"hi": actScalar(0.5)}, ref: clip(math.Inf(-1), 0.5), kinks: []float64{0.5}},
		{name: "ClipInverted", opset: 12, node: actNode("Clip", nil, "lo", "hi"), params: map[string]*graph.Tensor{"lo": actScalar(1), "hi": actScalar(-1)}, ref: func(float64) float64 { return -1 }, kinks: []float64{-1, 1}},
		{name: "Sigmoid", opset: 13, node: actNode("Sigmoid", nil), ref: func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
		{name: "HardSigmoid", opset: 6, node: actNode("HardSigmoid", nil), ref: hsig(float64(float32(0.2)), 0.5), kinks: []float64{-2.5, 2.5}},
		{name: "HardSigmoidTorch", opset: 6, node: actNode("HardSigmoid", map[string]graph.Attr{"alpha": graph.Float(1.0 / 6)}),
			ref: hsig(float64(float32(1.0/6)), 0.5), kinks: []float64{-3, 3}},
		{name: "HardSwish", opset: 14, node: actNode("HardSwish", nil), ref: func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }, kinks: []float64{-3, 3}},
		{name: "Tanh", opset: 13, node: actNode("Tanh", nil), ref: math.Tanh},
		{name: "Erf", opset: 13, node: actNode("Erf", nil), ref: math.Erf},
		{name: "Gelu", opset: 20, node: actNode("Gelu", nil), ref: gelu},
		{name: "GeluTanh", opset: 20, node: actNode("Gelu", map[string]graph.Attr{"approximate": graph.String("tanh")}), ref: geluTanh},
		{name: "Neg", opset: 13, node: actNode("Neg", nil), ref: func(x float64) float64 { return -x }},
		{name: "Exp", opset: 13, node: actNode("Exp", nil), ref: math.Exp},
		{name: "Log", opset: 13, node: actNode("Log", nil), ref: math.Log, positive: true},
		{name: "Abs", opset: 13, node: actNode("Abs", nil), ref: math.Abs, kinks: []float64{0}},
		{name: "Sqrt", opset: 13, node: actNode("Sqrt", nil), ref: math.Sqrt, positive: true},
		{name: "Floor", opset: 13, node: actNode("Floor", nil), ref: math.Floor, kinks: []float64{-4, -3, -2, -1, 0, 1, 2, 3, 4}},
		{name: "Ceil", opset: 13, node: actNode("Ceil", nil), ref: math.Ceil, kinks: []float64{-4, -3, -2, -1, 0, 1, 2, 3, 4}},
		{name: "Reciprocal", opset: 13, node: actNode("Reciprocal", nil), ref: func(x float64) float64 { return 1 / x }, positive: true},
	}
}

// actInput is a random input in [-4, 4) (or [0.5, 4.5) for positive
// operators), kept at least 0.05 away from the kinks.
func actInput(rng *rand.Rand, c actCase, shape ...int) *graph.Tensor {
	t := randTensor(rng, shape...)
	for i := range t.F {
		v := 4 * float64(t.F[i])
		if c.positive {
			v = math.Abs(v) + 0.5
		}
		for _, k := range c.kinks {
			if math.Abs(v-k) < 0.05 {
				v = k + 0.1
			}
		}
		t.F[i] = float32(v)
	}
	return t
}

func TestUnaryForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for _, c := range actCases() {
		for _, shape := range [][]int{{1, 3, 4, 4}, {5, 2, 3, 3}, {}, {0, 4}, {70000}} {
			x := actInput(rng, c, shape...)
			if len(x.F) > 0 {
				x.F[0] = 0 // zero is an input too
			}
			if c.positive && len(x.F) > 0 {
				x.F[0] = 0.75
			}
			y := runOp(t, c.opset, c.node, map[string]*graph.Tensor{"x": x}, c.params)
			if numel(y.Shape) != len(x.F) || len(y.Shape) != len(shape) {
				t.Fatalf("%s: shape %v, want %v", c.name, y.Shape, shape)
			}
			for i, got := range y.F {
				if want := c.ref(float64(x.F[i])); !ewClose(got, want) {
					t.Fatalf("%s%v: f(%g) = %g, want %g", c.name, shape, x.F[i], got, want)
				}
			}
		}
	}
}

func TestUnaryGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2))
	for _, c := range actCases() {
		if c.name == "Clip9default" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			shapes := [][]int{{2, 3, 2, 2}}
			if c.name == "Relu" || c.name == "Relu6" || c.name == "HardSwish" || c.name == "Gelu" {
				shapes = append(shapes, []int{2, 17000}) // split between workers
			}
			for _, shape := range shapes {
				x := actInput(rng, c, shape...)
				ins := map[string]*graph.Tensor{"x": x}
				gradCheck(t, opGraph(c.opset, c.node, ins, c.params), ins, 2e-3)
			}
		})
	}
}

func TestErf32(t *testing.T) {
	worst := 0.0
	for u := uint32(0); u <= math.Float32bits(6); u += 997 {
		for _, x := range []float32{math.Float32frombits(u), -math.Float32frombits(u)} {
			worst = math.Max(worst, math.Abs(float64(erf32(x))-math.Erf(float64(x))))
		}
	}
	if worst >= 1e-7 {
		t.Fatalf("erf32: error up to %g", worst)
	}
	if v := erf32(float32(math.NaN())); v == v {
		t.Fatal("erf32(NaN) is not NaN")
	}
	if erf32(float32(math.Inf(1))) != 1 || erf32(float32(math.Inf(-1))) != -1 {
		t.Fatal("erf32(±Inf)")
	}
}

func TestUnaryInt64(t *testing.T) {
	x := graph.NewInt([]int{3}, []int64{-2, 0, 5})
	for op, want := range map[string][]int64{"Neg": {2, 0, -5}, "Abs": {2, 0, 5}} {
		y, err := ewFold(t, 13, actNode(op, nil), map[string]*graph.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		if y.DType != graph.Int64 || y.I[0] != want[0] || y.I[1] != want[1] || y.I[2] != want[2] {
			t.Fatalf("%s: got %v", op, y.I)
		}
	}
	if _, err := ewFold(t, 13, actNode("Relu", nil), map[string]*graph.Tensor{"x": x}); err == nil {
		t.Fatal("Relu of int64 accepted")
	}
}

func TestUnaryErrors(t *testing.T) {
	x := graph.NewFloat([]int{2}, []float32{1, 2})
	try := func(opset int, n graph.Node, params map[string]*graph.Tensor, want string) {
		t.Helper()
		ins := map[string]*graph.Tensor{"x": x}
		if params == nil && len(n.Inputs) > 1 {
			ins["lo"] = graph.NewFloat([]int{}, []float32{0}) // a graph input
		}
		m, err := New(opGraph(opset, n, ins, params), Options{})
		if err == nil {
			_, err = m.Run(ins)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: got %v, want an error with %q", n.Op, err, want)
		}
	}
	try(20, actNode("Gelu", map[string]graph.Attr{"approximate": graph.String("fast")}), nil, "approximate")
	try(11, actNode("Clip", nil, "lo"), map[string]*graph.Tensor{"lo": graph.NewFloat([]int{2}, []float32{0, 1})}, "scalar")
	try(13, actNode("Clip", nil, "lo"), nil, "constant")
	try(13, actNode("LeakyRelu", map[string]graph.Attr{"alpha": graph.Int(1)}), nil, "alpha")
	try(13, actNode("Relu", nil, "lo"), nil, "at most")
}

func BenchmarkUnary(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randTensor(rng, 32, 64, 28, 28)
	ins := map[string]*graph.Tensor{"x": x}
	for _, op := range []string{"Relu", "HardSwish", "Sigmoid", "Tanh", "Erf"} {
		m, _ := New(opGraph(17, actNode(op, nil), ins, nil), Options{})
		m.Run(ins)
		b.Run(op, func(b *testing.B) {
			for b.Loop() {
				m.Run(ins)
			}
		})
	}
}
