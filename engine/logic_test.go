package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// logicIdx maps flat index i of a result of shape out to the flat index of
// the element an operand of shape s reads (numpy broadcasting).
func logicIdx(out, s []int, i int) int {
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

// logicBcast is the broadcast shape, computed independently of bcastShapes.
func logicBcast(shapes ...[]int) []int {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for d := range out {
		out[d] = 1
		for _, s := range shapes {
			if j := d - (r - len(s)); j >= 0 && s[j] != 1 {
				out[d] = s[j]
			}
		}
	}
	return out
}

// logicVal reads element i of a tensor as float64.
func logicVal(t *graph.Tensor, i int) float64 {
	if t.DType == graph.Int64 {
		return float64(t.I[i])
	}
	return float64(t.F[i])
}

// logicSmall is a tensor of small integers in [-2, 2] (ties are common),
// float or int.
func logicSmall(rng *rand.Rand, dt graph.DType, shape ...int) *graph.Tensor {
	n := numel(shape)
	if dt == graph.Int64 {
		t := graph.NewInt(shape, make([]int64, n))
		for i := range t.I {
			t.I[i] = int64(rng.IntN(5) - 2)
		}
		return t
	}
	t := graph.NewFloat(shape, make([]float32, n))
	for i := range t.F {
		t.F[i] = float32(rng.IntN(5) - 2)
	}
	return t
}

// logicRun runs one node whose inputs named in consts are parameters
// (folded) and the others graph inputs (run time).
func logicRun(t *testing.T, op string, attrs map[string]graph.Attr, names []string, vals []*graph.Tensor, consts []bool) *graph.Tensor {
	t.Helper()
	y, err := logicTry(op, attrs, names, vals, consts)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return y
}

func logicTry(op string, attrs map[string]graph.Attr, names []string, vals []*graph.Tensor, consts []bool) (*graph.Tensor, error) {
	ins, params := map[string]*graph.Tensor{}, map[string]*graph.Tensor{}
	for i, n := range names {
		if consts[i] {
			params[n] = vals[i]
		} else {
			ins[n] = vals[i]
		}
	}
	node := graph.Node{Name: "n", Op: op, Inputs: names, Outputs: []string{"y"}, Attrs: attrs}
	m, err := New(opGraph(17, node, ins, params), Options{})
	if err != nil {
		return nil, err
	}
	out, err := m.Run(ins)
	if err != nil {
		return nil, err
	}
	return out["y"], nil
}

// logicCheck compares y with want elementwise (exactly, NaN matching NaN)
// and checks its shape and element type.
func logicCheck(t *testing.T, what string, y *graph.Tensor, shape []int, dt graph.DType, want func(i int) float64) {
	t.Helper()
	if !slices.Equal(y.Shape, shape) || y.DType != dt || y.Len() != numel(shape) {
		t.Fatalf("%s: got %v %s (%d values), want %v %s", what, y.DType, ShapeString(y.Shape), y.Len(), dt, ShapeString(shape))
	}
	for i := range numel(shape) {
		g, w := logicVal(y, i), want(i)
		if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, g, w)
		}
	}
}

func logicB(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

var logicShapePairs = [][2][]int{
	{{2, 3}, {2, 3}},
	{{2, 1, 4}, {3, 1}},
	{{}, {4}},
	{{5}, {}},
	{{1}, {2, 3}},
	{{3, 1, 2, 1}, {1, 4, 1, 5}},
	{{4, 2, 3}, {2, 3}},
	{{0, 3}, {1, 3}},
}

func TestLogicCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref := map[string]func(a, b float64) bool{
		"Equal":          func(a, b float64) bool { return a == b },
		"Less":           func(a, b float64) bool { return a < b },
		"Greater":        func(a, b float64) bool { return a > b },
		"LessOrEqual":    func(a, b float64) bool { return a <= b },
		"GreaterOrEqual": func(a, b float64) bool { return a >= b },
	}
	for op, f := range ref {
		for _, sp := range logicShapePairs {
			out := logicBcast(sp[0], sp[1])
			// (input dtype, a const, b const, output dtype)
			for _, c := range []struct {
				dt     graph.DType
				ca, cb bool
				want   graph.DType
			}{
				{graph.Int64, true, true, graph.Int64},
				{graph.Float32, true, true, graph.Int64},
				{graph.Float32, false, false, graph.Float32},
				{graph.Float32, true, false, graph.Float32},
				{graph.Float32, false, true, graph.Float32},
			} {
				a, b := logicSmall(rng, c.dt, sp[0]...), logicSmall(rng, c.dt, sp[1]...)
				y := logicRun(t, op, nil, []string{"a", "b"}, []*graph.Tensor{a, b}, []bool{c.ca, c.cb})
				logicCheck(t, op+" "+ShapeString(sp[0])+" "+ShapeString(sp[1]), y, out, c.want, func(i int) float64 {
					return logicB(f(logicVal(a, logicIdx(out, sp[0], i)), logicVal(b, logicIdx(out, sp[1], i))))
				})
			}
		}
	}
	// NaN compares false, even with itself.
	nan := float32(math.NaN())
	a := graph.NewFloat([]int{3}, []float32{nan, 1, nan})
	b := graph.NewFloat([]int{3}, []float32{nan, nan, 0})
	for _, op := range []string{"Equal", "Less", "GreaterOrEqual"} {
		y := logicRun(t, op, nil, []string{"a", "b"}, []*graph.Tensor{a, b}, []bool{false, false})
		logicCheck(t, op+" NaN", y, []int{3}, graph.Float32, func(int) float64 { return 0 })
	}
	// Large int64 values compare exactly.
	ia := graph.NewInt([]int{2}, []int64{math.MaxInt64, math.MinInt64})
	ib := graph.NewInt([]int{2}, []int64{math.MaxInt64 - 1, math.MinInt64})
	y := logicRun(t, "Greater", nil, []string{"a", "b"}, []*graph.Tensor{ia, ib}, []bool{true, true})
	logicCheck(t, "Greater int64 extremes", y, []int{2}, graph.Int64, func(i int) float64 { return []float64{1, 0}[i] })
}

func TestLogicBoolean(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref := map[string]func(a, b bool) bool{
		"And": func(a, b bool) bool { return a && b },
		"Or":  func(a, b bool) bool { return a || b },
		"Xor": func(a, b bool) bool { return a != b },
	}
	for op, f := range ref {
		for _, sp := range logicShapePairs {
			out := logicBcast(sp[0], sp[1])
			// Booleans arrive as Int64 (folded) or Float32 (run time), mixed too.
			for _, c := range []struct {
				da, db graph.DType
				ca, cb bool
				want   graph.DType
			}{
				{graph.Int64, graph.Int64, true, true, graph.Int64},
				{graph.Int64, graph.Float32, true, false, graph.Float32},
				{graph.Float32, graph.Int64, false, true, graph.Float32},
				{graph.Float32, graph.Float32, false, false, graph.Float32},
				{graph.Float32, graph.Int64, true, true, graph.Int64},
			} {
				a, b := logicSmall(rng, c.da, sp[0]...), logicSmall(rng, c.db, sp[1]...)
				y := logicRun(t, op, nil, []string{"a", "b"}, []*graph.Tensor{a, b}, []bool{c.ca, c.cb})
				logicCheck(t, op, y, out, c.want, func(i int) float64 {
					return logicB(f(logicVal(a, logicIdx(out, sp[0], i)) != 0, logicVal(b, logicIdx(out, sp[1], i)) != 0))
				})
			}
		}
	}
	for _, c := range []struct {
		dt    graph.DType
		konst bool
		want  graph.DType
	}{{graph.Int64, true, graph.Int64}, {graph.Float32, false, graph.Float32}, {graph.Float32, true, graph.Int64}} {
		x := logicSmall(rng, c.dt, 2, 3, 4)
		y := logicRun(t, "Not", nil, []string{"x"}, []*graph.Tensor{x}, []bool{c.konst})
		logicCheck(t, "Not", y, []int{2, 3, 4}, c.want, func(i int) float64 { return logicB(logicVal(x, i) == 0) })
	}
}

func TestLogicIsNaNInf(t *testing.T) {
	inf := float32(math.Inf(1))
	x := graph.NewFloat([]int{2, 3}, []float32{1, float32(math.NaN()), inf, -inf, 0, -2})
	for _, konst := range []bool{false, true} {
		dt := graph.Float32
		if konst {
			dt = graph.Int64
		}
		y := logicRun(t, "IsNaN", nil, []string{"x"}, []*graph.Tensor{x}, []bool{konst})
		logicCheck(t, "IsNaN", y, []int{2, 3}, dt, func(i int) float64 { return logicB(i == 1) })
		for _, c := range []struct {
			neg, pos int64
			want     []float64
		}{
			{1, 1, []float64{0, 0, 1, 1, 0, 0}},
			{0, 1, []float64{0, 0, 1, 0, 0, 0}},
			{1, 0, []float64{0, 0, 0, 1, 0, 0}},
			{0, 0, []float64{0, 0, 0, 0, 0, 0}},
		} {
			attrs := map[string]graph.Attr{"detect_negative": graph.Int(c.neg), "detect_positive": graph.Int(c.pos)}
			y := logicRun(t, "IsInf", attrs, []string{"x"}, []*graph.Tensor{x}, []bool{konst})
			logicCheck(t, "IsInf", y, []int{2, 3}, dt, func(i int) float64 { return c.want[i] })
		}
	}
	y := logicRun(t, "IsInf", nil, []string{"x"}, []*graph.Tensor{graph.NewInt([]int{2}, []int64{math.MaxInt64, 0})}, []bool{true})
	logicCheck(t, "IsInf int", y, []int{2}, graph.Int64, func(int) float64 { return 0 })
}

var logicShapeTriples = [][3][]int{
	{{2, 3}, {2, 3}, {2, 3}},
	{{2, 1, 4}, {3, 1}, {2, 3, 4}},
	{{3}, {2, 1}, {}},
	{{}, {2, 3}, {3}},
	{{1, 4, 1}, {5, 1, 1}, {1, 1, 6}},
	{{2, 3, 1}, {2, 3, 5}, {1}},
	{{4, 1}, {4, 7}, {4, 7}},
}

func TestLogicWhere(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range logicShapeTriples {
		out := logicBcast(sh[0], sh[1], sh[2])
		for _, c := range []struct {
			dc, dv     graph.DType
			cc, cx, cz bool
		}{
			{graph.Int64, graph.Float32, true, false, false},
			{graph.Float32, graph.Float32, false, false, false},
			{graph.Float32, graph.Float32, false, true, false},
			{graph.Int64, graph.Int64, true, true, true},
			{graph.Float32, graph.Int64, true, true, true},
			{graph.Int64, graph.Float32, true, true, true},
		} {
			cond := logicSmall(rng, c.dc, sh[0]...)
			x, z := logicSmall(rng, c.dv, sh[1]...), logicSmall(rng, c.dv, sh[2]...)
			if c.dv == graph.Float32 { // distinguishable values
				for i := range x.F {
					x.F[i] += 0.25
				}
				for i := range z.F {
					z.F[i] -= 0.25
				}
			}
			y := logicRun(t, "Where", nil, []string{"c", "x", "z"}, []*graph.Tensor{cond, x, z}, []bool{c.cc, c.cx, c.cz})
			logicCheck(t, "Where", y, out, c.dv, func(i int) float64 {
				if logicVal(cond, logicIdx(out, sh[0], i)) != 0 {
					return logicVal(x, logicIdx(out, sh[1], i))
				}
				return logicVal(z, logicIdx(out, sh[2], i))
			})
		}
	}
}

func TestLogicMaxMin(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	lists := [][][]int{
		{{2, 3}},
		{{2, 3}, {2, 3}},
		{{2, 1, 4}, {3, 1}},
		{{}, {4}},
		{{3, 1}, {1, 4}, {2, 1, 1}},
		{{4}, {4}, {1}, {2, 4}},
		{{0, 2}, {2}},
	}
	for _, op := range []string{"Max", "Min"} {
		for _, shapes := range lists {
			out := logicBcast(shapes...)
			for _, c := range []struct {
				dt    graph.DType
				konst bool
			}{{graph.Int64, true}, {graph.Float32, false}, {graph.Float32, true}} {
				names := make([]string, len(shapes))
				vals := make([]*graph.Tensor, len(shapes))
				consts := make([]bool, len(shapes))
				for i, s := range shapes {
					names[i] = string(rune('a' + i))
					vals[i] = logicSmall(rng, c.dt, s...)
					consts[i] = c.konst
				}
				if !c.konst && len(shapes) > 1 {
					consts[1] = true // a constant among run-time operands
				}
				y := logicRun(t, op, nil, names, vals, consts)
				logicCheck(t, op, y, out, c.dt, func(i int) float64 {
					r := logicVal(vals[0], logicIdx(out, shapes[0], i))
					for k := 1; k < len(vals); k++ {
						v := logicVal(vals[k], logicIdx(out, shapes[k], i))
						if op == "Max" {
							r = math.Max(r, v)
						} else {
							r = math.Min(r, v)
						}
					}
					return r
				})
			}
		}
	}
	// NaN propagates from either side.
	nan := float32(math.NaN())
	a := graph.NewFloat([]int{3}, []float32{nan, 1, 2})
	b := graph.NewFloat([]int{3}, []float32{0, nan, 3})
	for _, op := range []string{"Max", "Min"} {
		y := logicRun(t, op, nil, []string{"a", "b"}, []*graph.Tensor{a, b}, []bool{false, false})
		want := []float64{math.NaN(), math.NaN(), 3}
		if op == "Min" {
			want[2] = 2
		}
		logicCheck(t, op+" NaN", y, []int{3}, graph.Float32, func(i int) float64 { return want[i] })
	}
}

func TestLogicMod(t *testing.T) {
	a := graph.NewInt([]int{2, 4}, []int64{7, -7, 7, -7, 0, 5, math.MinInt64, 6})
	b := graph.NewInt([]int{2, 4}, []int64{3, 3, -3, -3, 4, 5, -1, -4})
	floored := []float64{1, 2, -2, -1, 0, 0, 0, -2}
	trunc := []float64{1, -1, 1, -1, 0, 0, 0, 2}
	y := logicRun(t, "Mod", nil, []string{"a", "b"}, []*graph.Tensor{a, b}, []bool{true, true})
	logicCheck(t, "Mod", y, []int{2, 4}, graph.Int64, func(i int) float64 { return floored[i] })
	y = logicRun(t, "Mod", map[string]graph.Attr{"fmod": graph.Int(1)}, []string{"a", "b"}, []*graph.Tensor{a, b}, []bool{true, true})
	logicCheck(t, "Mod fmod", y, []int{2, 4}, graph.Int64, func(i int) float64 { return trunc[i] })
	// Broadcast: a shape value modulo a scalar.
	s := graph.NewInt([]int{}, []int64{4})
	y = logicRun(t, "Mod", nil, []string{"a", "b"}, []*graph.Tensor{a, s}, []bool{true, true})
	logicCheck(t, "Mod scalar", y, []int{2, 4}, graph.Int64, func(i int) float64 {
		v := a.I[i] % 4
		if v < 0 {
			v += 4
		}
		return float64(v)
	})
	rng := rand.New(rand.NewPCG(9, 10))
	fa, fb := randTensor(rng, 3, 4), randTensor(rng, 4)
	for i := range fa.F {
		fa.F[i] *= 5
	}
	for _, konst := range []bool{false, true} {
		y = logicRun(t, "Mod", map[string]graph.Attr{"fmod": graph.Int(1)}, []string{"a", "b"}, []*graph.Tensor{fa, fb}, []bool{false, konst})
		logicCheck(t, "Mod float", y, []int{3, 4}, graph.Float32, func(i int) float64 {
			return float64(float32(math.Mod(float64(fa.F[i]), float64(fb.F[i%4]))))
		})
	}
}

func TestLogicErrors(t *testing.T) {
	f := graph.NewFloat([]int{2}, []float32{1, 2})
	i2 := graph.NewInt([]int{2}, []int64{1, 2})
	i0 := graph.NewInt([]int{2}, []int64{1, 0})
	f3 := graph.NewFloat([]int{3}, []float32{1, 2, 3})
	for _, c := range []struct {
		op     string
		attrs  map[string]graph.Attr
		vals   []*graph.Tensor
		consts []bool
		want   string
	}{
		{"Equal", nil, []*graph.Tensor{f, i2}, []bool{false, true}, "same element type"},
		{"Less", nil, []*graph.Tensor{f, f3}, []bool{false, true}, "cannot be broadcast"},
		{"Greater", nil, []*graph.Tensor{f}, []bool{false}, "takes 2 input"},
		{"Where", nil, []*graph.Tensor{i2, f, i2}, []bool{true, false, true}, "same element type"},
		{"Where", nil, []*graph.Tensor{f, i2, i2}, []bool{false, true, true}, "int64 values computed from the graph's inputs"},
		{"Where", nil, []*graph.Tensor{i2, f}, []bool{true, false}, "takes 3 input"},
		{"Max", nil, []*graph.Tensor{f, i2}, []bool{false, true}, "same element type"},
		{"Min", nil, []*graph.Tensor{f, f3}, []bool{false, false}, "cannot be broadcast"},
		{"Max", nil, nil, nil, "at least 1 input"},
		{"Mod", nil, []*graph.Tensor{f, f}, []bool{false, true}, "fmod = 1"},
		{"Mod", map[string]graph.Attr{"fmod": graph.Int(2)}, []*graph.Tensor{i2, i2}, []bool{true, true}, "fmod is 2"},
		{"Mod", nil, []*graph.Tensor{i2, i0}, []bool{true, true}, "modulo by zero"},
		{"IsInf", map[string]graph.Attr{"detect_negative": graph.Int(3)}, []*graph.Tensor{f}, []bool{false}, "must be 0 or 1"},
		{"IsNaN", map[string]graph.Attr{}, []*graph.Tensor{f, f}, []bool{false, false}, "takes 1 input"},
	} {
		names := make([]string, len(c.vals))
		for k := range names {
			names[k] = string(rune('a' + k))
		}
		_, err := logicTry(c.op, c.attrs, names, c.vals, c.consts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want one saying %q", c.op, c.consts, err, c.want)
		}
	}
}

// logicSeparated fills a tensor for input k with values 0.1·m + 0.033·k
// (|m| ≤ 10), so that values of different inputs differ by more than the
// finite-difference step and Max/Min select the same input at x ± h.
func logicSeparated(rng *rand.Rand, k int, shape ...int) *graph.Tensor {
	t := graph.NewFloat(shape, make([]float32, numel(shape)))
	for i := range t.F {
		t.F[i] = 0.1*float32(rng.IntN(21)-10) + 0.033*float32(k)
	}
	return t
}

func TestLogicGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, sh := range logicShapeTriples {
		for _, dc := range []graph.DType{graph.Int64, graph.Float32} {
			cond := logicSmall(rng, dc, sh[0]...)
			ins := map[string]*graph.Tensor{"x": randTensor(rng, sh[1]...), "z": randTensor(rng, sh[2]...)}
			node := graph.Node{Name: "w", Op: "Where", Inputs: []string{"c", "x", "z"}, Outputs: []string{"y"}}
			gradCheck(t, opGraph(17, node, ins, map[string]*graph.Tensor{"c": cond}), ins, 1e-3)
			// x as a trained parameter instead.
			ins2 := map[string]*graph.Tensor{"z": ins["z"]}
			gradCheck(t, opGraph(17, node, ins2, map[string]*graph.Tensor{"c": cond, "x": ins["x"]}), ins2, 1e-3)
		}
	}
	for _, op := range []string{"Max", "Min"} {
		for _, shapes := range [][][]int{{{2, 3}}, {{2, 3}, {2, 3}}, {{2, 1, 4}, {3, 1}}, {{3, 1}, {1, 4}, {2, 1, 1}}, {{}, {5}}} {
			ins := map[string]*graph.Tensor{}
			names := make([]string, len(shapes))
			for k, s := range shapes {
				names[k] = string(rune('a' + k))
				ins[names[k]] = logicSeparated(rng, k, s...)
			}
			node := graph.Node{Name: "m", Op: op, Inputs: names, Outputs: []string{"y"}}
			gradCheck(t, opGraph(17, node, ins, nil), ins, 1e-3)
		}
	}
	// Ties go to the first input holding the value.
	a := graph.NewFloat([]int{3}, []float32{1, 2, 3})
	b := graph.NewFloat([]int{3}, []float32{1, 5, 3})
	g := opGraph(17, graph.Node{Name: "m", Op: "Max", Inputs: []string{"a", "b"}, Outputs: []string{"y"}},
		map[string]*graph.Tensor{"a": a, "b": b}, nil)
	m, err := New(g, Options{Train: true, InputGrads: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.ProgramFor(map[string][]int{"a": {3}, "b": {3}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(map[string]*graph.Tensor{"a": a, "b": b}); err != nil {
		t.Fatal(err)
	}
	if err := p.Backward(map[string]*graph.Tensor{"y": graph.NewFloat([]int{3}, []float32{1, 1, 1})}); err != nil {
		t.Fatal(err)
	}
	if ga, gb := p.InputGrad("a").F, p.InputGrad("b").F; !slices.Equal(ga, []float32{1, 0, 1}) || !slices.Equal(gb, []float32{0, 1, 0}) {
		t.Errorf("Max ties: dL/da %v, dL/db %v", ga, gb)
	}
	// Float Mod (fmod = 1), a/b away from integers.
	fa, fb := graph.NewFloat([]int{2, 3}, make([]float32, 6)), graph.NewFloat([]int{3}, []float32{1.3, -1.5, 1.7})
	for i := range fa.F {
		for {
			fa.F[i] = 10*rng.Float32() - 5
			q := float64(fa.F[i] / fb.F[i%3])
			if math.Abs(q-math.Round(q)) > 0.1 {
				break
			}
		}
	}
	ins := map[string]*graph.Tensor{"a": fa, "b": fb}
	node := graph.Node{Name: "m", Op: "Mod", Inputs: []string{"a", "b"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"fmod": graph.Int(1)}}
	gradCheck(t, opGraph(17, node, ins, nil), ins, 1e-3)
}

// TestLogicRuntimeChain checks a run-time selection on float activations,
// y = Where(Greater(x, 0), x, 0.1·x) (a leaky ReLU), forward and backward.
func TestLogicRuntimeChain(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := randTensor(rng, 3, 4, 5)
	for i, v := range x.F {
		if math.Abs(float64(v)) < 0.05 {
			x.F[i] = 0.5
		}
	}
	g := &graph.Graph{Name: "leaky", Opset: 17, Params: map[string]*graph.Tensor{
		"zero": graph.NewFloat([]int{}, []float32{0}), "slope": graph.NewFloat([]int{}, []float32{0.1})},
		Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Param: "N"}, {Size: 4}, {Size: 5}}}},
		Outputs: []graph.Value{{Name: "y"}},
		Nodes: []graph.Node{
			{Name: "gt", Op: "Greater", Inputs: []string{"x", "zero"}, Outputs: []string{"c"}},
			{Name: "mul", Op: "Mul", Inputs: []string{"x", "slope"}, Outputs: []string{"s"}},
			{Name: "w", Op: "Where", Inputs: []string{"c", "x", "s"}, Outputs: []string{"y"}},
		}}
	m, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(map[string]*graph.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	logicCheck(t, "leaky", out["y"], []int{3, 4, 5}, graph.Float32, func(i int) float64 {
		if v := x.F[i]; v > 0 {
			return float64(v)
		}
		return float64(x.F[i] * 0.1)
	})
	gradCheck(t, g, map[string]*graph.Tensor{"x": x}, 1e-3)
}

// TestLogicExpandMinusOne checks torch's x.expand(-1, 4, -1) export:
// Expand(x, Where(Equal(shape, -1), Shape(x), shape)) folds the shape
// arithmetic to a constant, leaving Expand the only step.
func TestLogicExpandMinusOne(t *testing.T) {
	for _, opset := range []int{11, 13, 17} {
		g := &graph.Graph{Name: "expand", Opset: opset, Params: map[string]*graph.Tensor{},
			Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Param: "N"}, {Size: 1}, {Size: 3}}}},
			Outputs: []graph.Value{{Name: "y"}},
			Nodes: []graph.Node{
				{Name: "c0", Op: "Constant", Outputs: []string{"shape"}, Attrs: map[string]graph.Attr{
					"value": {Kind: graph.AttrTensor, Tensor: graph.NewInt([]int{3}, []int64{-1, 4, -1})}}},
				{Name: "c1", Op: "Constant", Outputs: []string{"minus1"}, Attrs: map[string]graph.Attr{
					"value": {Kind: graph.AttrTensor, Tensor: graph.NewInt([]int{}, []int64{-1})}}},
				{Name: "shp", Op: "Shape", Inputs: []string{"x"}, Outputs: []string{"xs"}},
				{Name: "eq", Op: "Equal", Inputs: []string{"shape", "minus1"}, Outputs: []string{"isneg"}},
				{Name: "wh", Op: "Where", Inputs: []string{"isneg", "xs", "shape"}, Outputs: []string{"target"}},
				{Name: "ex", Op: "Expand", Inputs: []string{"x", "target"}, Outputs: []string{"y"}},
			}}
		m, err := New(g, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 2, 5} {
			x := randTensor(rand.New(rand.NewPCG(uint64(n), 15)), n, 1, 3)
			p, err := m.ProgramFor(map[string][]int{"x": {n, 1, 3}})
			if err != nil {
				t.Fatalf("opset %d: %v", opset, err)
			}
			if len(p.steps) != 1 || g.Nodes[p.steps[0].node].Op != "Expand" {
				t.Fatalf("opset %d: %d run-time steps, want Expand alone", opset, len(p.steps))
			}
			if tg := p.steps[0].in[1]; tg.DType != graph.Int64 || !slices.Equal(tg.I, []int64{int64(n), 4, 3}) {
				t.Fatalf("opset %d: folded target shape %v %v, want [%d 4 3]", opset, tg.DType, tg.I, n)
			}
			out, err := p.Run(map[string]*graph.Tensor{"x": x})
			if err != nil {
				t.Fatal(err)
			}
			logicCheck(t, "expand", out["y"], []int{n, 4, 3}, graph.Float32, func(i int) float64 {
				return float64(x.F[i/12*3+i%3])
			})
		}
		// The same graph trains (the shape arithmetic still folds).
		x := randTensor(rand.New(rand.NewPCG(3, 16)), 2, 1, 3)
		gradCheck(t, g, map[string]*graph.Tensor{"x": x}, 1e-3)
	}
}

// TestLogicLarge runs operands big enough for the row loops to be split
// among workers (forward and backward), against the references.
func TestLogicLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	cs, xs, zs := []int{32, 1}, []int{32, 1024}, []int{1024}
	out := logicBcast(cs, xs, zs)
	cond := logicSmall(rng, graph.Float32, cs...)
	x, z := randTensor(rng, xs...), randTensor(rng, zs...)
	y := logicRun(t, "Where", nil, []string{"c", "x", "z"}, []*graph.Tensor{cond, x, z}, []bool{false, false, false})
	logicCheck(t, "Where large", y, out, graph.Float32, func(i int) float64 {
		if cond.F[logicIdx(out, cs, i)] != 0 {
			return float64(x.F[i])
		}
		return float64(z.F[logicIdx(out, zs, i)])
	})
	y = logicRun(t, "Less", nil, []string{"x", "z"}, []*graph.Tensor{x, z}, []bool{false, false})
	logicCheck(t, "Less large", y, out, graph.Float32, func(i int) float64 {
		return logicB(x.F[i] < z.F[logicIdx(out, zs, i)])
	})
	y = logicRun(t, "Max", nil, []string{"x", "z", "c"}, []*graph.Tensor{x, z, cond}, []bool{false, false, false})
	logicCheck(t, "Max large", y, out, graph.Float32, func(i int) float64 {
		return math.Max(float64(x.F[i]), math.Max(float64(z.F[logicIdx(out, zs, i)]), float64(cond.F[logicIdx(out, cs, i)])))
	})
	// Backward: every element's dy goes to exactly one input.
	for _, op := range []string{"Where", "Max"} {
		names := []string{"c", "x", "z"}
		ins := map[string]*graph.Tensor{"x": x, "z": z}
		params := map[string]*graph.Tensor{"c": cond}
		if op == "Max" {
			ins["c"], params = cond, nil
			names = []string{"x", "z", "c"}
		}
		g := opGraph(17, graph.Node{Name: "n", Op: op, Inputs: names, Outputs: []string{"y"}}, ins, params)
		m, err := New(g, Options{Train: true, InputGrads: true})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.ProgramFor(shapesOf(ins))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(ins); err != nil {
			t.Fatal(err)
		}
		ones := graph.NewFloat(out, make([]float32, numel(out)))
		for i := range ones.F {
			ones.F[i] = 1
		}
		if err := p.Backward(map[string]*graph.Tensor{"y": ones}); err != nil {
			t.Fatal(err)
		}
		total := 0.0
		for name := range ins {
			for _, v := range p.InputGrad(name).F {
				total += float64(v)
			}
		}
		if total != float64(numel(out)) {
			t.Errorf("%s: gradients sum to %v, want %d", op, total, numel(out))
		}
	}
}
