package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
)

// ------------------------------------------------------------ test helpers

func shpNode(op string, ins, outs []string, attrs map[string]graph.Attr) graph.Node {
	return graph.Node{Name: "n", Op: op, Inputs: ins, Outputs: outs, Attrs: attrs}
}

func shpI64(shape []int, v ...int64) *graph.Tensor { return graph.NewInt(shape, v) }

func shpVec(v ...int64) *graph.Tensor { return graph.NewInt([]int{len(v)}, v) }

// shpRunAll runs a one-node graph in inference and returns every output.
func shpRunAll(t *testing.T, opset int, n graph.Node, inputs, params map[string]*graph.Tensor) map[string]*graph.Tensor {
	t.Helper()
	m, err := New(opGraph(opset, n, inputs, params), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// shpBuildErr compiles a one-node graph and returns the compile error.
func shpBuildErr(opset int, n graph.Node, inputs, params map[string]*graph.Tensor) error {
	m, err := New(opGraph(opset, n, inputs, params), Options{})
	if err != nil {
		return err
	}
	_, err = m.ProgramFor(shapesOf(inputs))
	return err
}

func shpWantErr(t *testing.T, what string, err error, sub string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Errorf("%s: error %v, want one containing %q", what, err, sub)
	}
}

func shpCheck(t *testing.T, what string, got *graph.Tensor, shape []int, want []float32) {
	t.Helper()
	if !slices.Equal(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	if len(got.F) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got.F), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got.F[i] - want[i])); d > 1e-5*math.Max(1, math.Abs(float64(want[i]))) || math.IsNaN(float64(got.F[i])) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, got.F[i], want[i])
		}
	}
}

func shpCheckI(t *testing.T, what string, got *graph.Tensor, shape []int, want []int64) {
	t.Helper()
	if got.DType != graph.Int64 || !slices.Equal(got.Shape, shape) || !slices.Equal(got.I, want) {
		t.Fatalf("%s: got %v %v %v, want int64 %v %v", what, got.DType, got.Shape, got.I, shape, want)
	}
}

// shpUnflat turns a flat index into a multi-index over shape.
func shpUnflat(shape []int, i int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
	return idx
}

func shpFlat(shape, idx []int) int {
	f := 0
	for d, n := range shape {
		f = f*n + idx[d]
	}
	return f
}

func shpRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

// ------------------------------------------------------------ relabelling

func TestShapeReshape(t *testing.T) {
	rng := shpRand(1)
	for _, c := range []struct {
		in    []int
		shape []int64
		zero  int64
		want  []int
	}{
		{[]int{2, 3, 4}, []int64{6, 4}, 0, []int{6, 4}},
		{[]int{2, 3, 4}, []int64{0, -1}, 0, []int{2, 12}},
		{[]int{2, 3, 4}, []int64{-1}, 0, []int{24}},
		{[]int{2, 3, 4}, []int64{2, 0, 2, -1}, 0, []int{2, 3, 2, 2}},
		{[]int{0, 3}, []int64{0, 3}, 1, []int{0, 3}},
		{[]int{0, 3}, []int64{-1, 3}, 0, []int{0, 3}},
		{[]int{1, 4}, []int64{}, 0, nil},
	} {
		if c.want == nil { // [1,4] -> [] is a mismatch
			continue
		}
		x := randTensor(rng, c.in...)
		attrs := map[string]graph.Attr{}
		if c.zero != 0 {
			attrs["allowzero"] = graph.Int(1)
		}
		n := shpNode("Reshape", []string{"x", "s"}, []string{"y"}, attrs)
		y := runOp(t, 14, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"s": shpVec(c.shape...)})
		shpCheck(t, "reshape", y, c.want, x.F)
	}
	x := randTensor(rng, 2, 3, 4)
	in := map[string]*graph.Tensor{"x": x}
	n := shpNode("Reshape", []string{"x", "s"}, []string{"y"}, nil)
	for _, bad := range [][]int64{{5, -1}, {-1, -1}, {7, 4}, {-2, 12}, {0, 0, 0, 0}, {1 << 62, 1 << 62}} {
		err := shpBuildErr(13, n, in, map[string]*graph.Tensor{"s": shpVec(bad...)})
		shpWantErr(t, "reshape to "+ShapeString(nil), err, "")
	}
	// allowzero with -1 and 0 together
	n.Attrs = map[string]graph.Attr{"allowzero": graph.Int(1)}
	shpWantErr(t, "allowzero", shpBuildErr(14, n, in, map[string]*graph.Tensor{"s": shpVec(0, -1)}), "allowzero")
	// the shape must be constant
	s := graph.NewFloat([]int{2}, []float32{4, 6})
	err := shpBuildErr(13, shpNode("Reshape", []string{"x", "s"}, []string{"y"}, nil), map[string]*graph.Tensor{"x": x, "s": s}, nil)
	shpWantErr(t, "computed shape", err, "constant")
	gradCheck(t, opGraph(13, shpNode("Reshape", []string{"x", "s"}, []string{"y"}, nil), in, map[string]*graph.Tensor{"s": shpVec(4, -1)}), in, 1e-3)
	// Int64 data folds
	out := shpRunAll(t, 13, shpNode("Reshape", []string{"d", "s"}, []string{"y"}, nil), nil,
		map[string]*graph.Tensor{"d": shpI64([]int{2, 2}, 1, 2, 3, 4), "s": shpVec(-1)})
	shpCheckI(t, "int64 reshape", out["y"], []int{4}, []int64{1, 2, 3, 4})
}

func TestShapeFlattenSqueezeUnsqueeze(t *testing.T) {
	rng := shpRand(2)
	x := randTensor(rng, 2, 3, 1, 4)
	in := map[string]*graph.Tensor{"x": x}
	for _, c := range []struct {
		axis int64
		want []int
	}{{0, []int{1, 24}}, {1, []int{2, 12}}, {2, []int{6, 4}}, {4, []int{24, 1}}, {-1, []int{6, 4}}, {-4, []int{1, 24}}} {
		n := shpNode("Flatten", []string{"x"}, []string{"y"}, map[string]graph.Attr{"axis": graph.Int(c.axis)})
		shpCheck(t, "flatten", runOp(t, 13, n, in, nil), c.want, x.F)
	}
	y := runOp(t, 13, shpNode("Flatten", []string{"x"}, []string{"y"}, nil), in, nil)
	shpCheck(t, "flatten default", y, []int{2, 12}, x.F)
	shpWantErr(t, "flatten axis 5", shpBuildErr(13, shpNode("Flatten", []string{"x"}, []string{"y"}, map[string]graph.Attr{"axis": graph.Int(5)}), in, nil), "out of range")
	gradCheck(t, opGraph(13, shpNode("Flatten", []string{"x"}, []string{"y"}, nil), in, nil), in, 1e-3)

	// Squeeze: attribute (opset 11) and input (opset 13), negative axes
	sq11 := shpNode("Squeeze", []string{"x"}, []string{"y"}, map[string]graph.Attr{"axes": graph.Ints(-2)})
	shpCheck(t, "squeeze 11", runOp(t, 11, sq11, in, nil), []int{2, 3, 4}, x.F)
	sq13 := shpNode("Squeeze", []string{"x", "a"}, []string{"y"}, nil)
	shpCheck(t, "squeeze 13", runOp(t, 13, sq13, in, map[string]*graph.Tensor{"a": shpVec(2)}), []int{2, 3, 4}, x.F)
	x1 := randTensor(rng, 1, 3, 1)
	shpCheck(t, "squeeze all", runOp(t, 13, shpNode("Squeeze", []string{"x"}, []string{"y"}, nil), map[string]*graph.Tensor{"x": x1}, nil), []int{3}, x1.F)
	shpWantErr(t, "squeeze non-unit", shpBuildErr(13, sq13, in, map[string]*graph.Tensor{"a": shpVec(1)}), "not 1")
	shpWantErr(t, "squeeze attr at 13", shpBuildErr(13, shpNode("Squeeze", []string{"x"}, []string{"y"}, map[string]graph.Attr{"axes": graph.Ints(2)}), in, nil), "not allowed")
	gradCheck(t, opGraph(13, sq13, in, map[string]*graph.Tensor{"a": shpVec(2)}), in, 1e-3)

	// Unsqueeze
	un11 := shpNode("Unsqueeze", []string{"x"}, []string{"y"}, map[string]graph.Attr{"axes": graph.Ints(0, -1)})
	shpCheck(t, "unsqueeze 11", runOp(t, 11, un11, in, nil), []int{1, 2, 3, 1, 4, 1}, x.F)
	un13 := shpNode("Unsqueeze", []string{"x", "a"}, []string{"y"}, nil)
	shpCheck(t, "unsqueeze 13", runOp(t, 13, un13, in, map[string]*graph.Tensor{"a": shpVec(1, 3)}), []int{2, 1, 3, 1, 1, 4}, x.F)
	shpWantErr(t, "unsqueeze dup", shpBuildErr(13, un13, in, map[string]*graph.Tensor{"a": shpVec(1, -5)}), "twice")
	shpWantErr(t, "unsqueeze range", shpBuildErr(13, un13, in, map[string]*graph.Tensor{"a": shpVec(6)}), "out of range")
	gradCheck(t, opGraph(13, un13, in, map[string]*graph.Tensor{"a": shpVec(0)}), in, 1e-3)
	// Unsqueeze of an int64 scalar (shape arithmetic)
	out := shpRunAll(t, 13, shpNode("Unsqueeze", []string{"d", "a"}, []string{"y"}, nil), nil,
		map[string]*graph.Tensor{"d": shpI64([]int{}, 7), "a": shpVec(0)})
	shpCheckI(t, "unsqueeze scalar", out["y"], []int{1}, []int64{7})

	// Identity
	shpCheck(t, "identity", runOp(t, 13, shpNode("Identity", []string{"x"}, []string{"y"}, nil), in, nil), x.Shape, x.F)
	gradCheck(t, opGraph(13, shpNode("Identity", []string{"x"}, []string{"y"}, nil), in, nil), in, 1e-3)
}

// TestShapeAliasAccumulates checks that an aliasing op adds into a
// gradient several consumers share.
func TestShapeAliasAccumulates(t *testing.T) {
	rng := shpRand(3)
	x := randTensor(rng, 2, 3)
	g := &graph.Graph{Opset: 13, Params: map[string]*graph.Tensor{"s": shpVec(6)},
		Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Size: 2}, {Size: 3}}}},
		Outputs: []graph.Value{{Name: "y"}, {Name: "z"}},
		Nodes: []graph.Node{
			{Name: "a", Op: "Reshape", Inputs: []string{"x", "s"}, Outputs: []string{"y"}},
			{Name: "b", Op: "Identity", Inputs: []string{"x"}, Outputs: []string{"z"}},
		}}
	gradCheck(t, g, map[string]*graph.Tensor{"x": x}, 1e-3)
}

// -------------------------------------------------------------- Transpose

func TestShapeTranspose(t *testing.T) {
	rng := shpRand(4)
	for _, c := range []struct {
		shape []int
		perm  []int64
	}{
		{[]int{3, 4}, nil},
		{[]int{2, 3, 4}, []int64{0, 2, 1}},
		{[]int{2, 3, 4}, []int64{2, 0, 1}},
		{[]int{2, 3, 4, 5}, []int64{0, 2, 3, 1}},
		{[]int{2, 1, 4, 5}, []int64{3, 1, 0, 2}},
		{[]int{40, 30, 32}, []int64{1, 2, 0}}, // large enough to run in parallel
	} {
		x := randTensor(rng, c.shape...)
		attrs := map[string]graph.Attr{}
		perm := make([]int, len(c.shape))
		for d := range perm {
			perm[d] = len(perm) - 1 - d
		}
		if c.perm != nil {
			attrs["perm"] = graph.Ints(c.perm...)
			for d, p := range c.perm {
				perm[d] = int(p)
			}
		}
		out := make([]int, len(perm))
		for d, p := range perm {
			out[d] = c.shape[p]
		}
		want := make([]float32, len(x.F))
		for i := range want {
			oi := shpUnflat(out, i)
			ii := make([]int, len(oi))
			for d, p := range perm {
				ii[p] = oi[d]
			}
			want[i] = x.F[shpFlat(c.shape, ii)]
		}
		in := map[string]*graph.Tensor{"x": x}
		n := shpNode("Transpose", []string{"x"}, []string{"y"}, attrs)
		shpCheck(t, "transpose", runOp(t, 13, n, in, nil), out, want)
		if len(x.F) < 1000 {
			gradCheck(t, opGraph(13, n, in, nil), in, 1e-3)
		}
	}
	x := randTensor(rng, 2, 3)
	for _, bad := range [][]int64{{0}, {0, 0}, {0, 2}, {-1, 0}} {
		err := shpBuildErr(13, shpNode("Transpose", []string{"x"}, []string{"y"}, map[string]graph.Attr{"perm": graph.Ints(bad...)}), map[string]*graph.Tensor{"x": x}, nil)
		shpWantErr(t, "bad perm", err, "perm")
	}
}

// ------------------------------------------------------------------ Slice

// shpRefSlice lists the indices numpy's a[start:end:step] takes from a
// dimension of size n, by walking them one by one.
func shpRefSlice(start, end, step int64, n int) []int {
	norm := func(v int64, lo, hi int64) int64 {
		if v < 0 {
			v += int64(n)
			if v < lo {
				v = lo
			}
		} else if v > hi {
			v = hi
		}
		return v
	}
	var out []int
	if step > 0 {
		s, e := norm(start, 0, int64(n)), norm(end, 0, int64(n))
		for i := s; i < e; i += step {
			out = append(out, int(i))
		}
	} else {
		s, e := norm(start, -1, int64(n)-1), norm(end, -1, int64(n)-1)
		for i := s; i > e; i += step {
			out = append(out, int(i))
		}
	}
	return out
}

func TestShapeSlice(t *testing.T) {
	rng := shpRand(5)
	shape := []int{4, 5, 6}
	x := randTensor(rng, shape...)
	in := map[string]*graph.Tensor{"x": x}
	const maxI, minI = math.MaxInt64, math.MinInt64
	for _, c := range []struct {
		starts, ends, axes, steps []int64
	}{
		{[]int64{1}, []int64{3}, nil, nil},
		{[]int64{0, 1}, []int64{maxI, -1}, []int64{1, 2}, nil},
		{[]int64{-1}, []int64{minI}, []int64{1}, []int64{-1}},
		{[]int64{5, 4}, []int64{-100, 0}, []int64{2, 0}, []int64{-2, -3}},
		{[]int64{1, 0, 2}, []int64{4, 5, 6}, []int64{-1, -2, -3}, []int64{2, 2, 1}},
		{[]int64{3}, []int64{1}, []int64{0}, []int64{1}}, // empty
		{[]int64{-100}, []int64{100}, []int64{2}, []int64{maxI}},
		{[]int64{10}, []int64{-10}, []int64{0}, []int64{minI}},
	} {
		axes := c.axes
		if axes == nil {
			axes = make([]int64, len(c.starts))
			for i := range axes {
				axes[i] = int64(i)
			}
		}
		sel := make([][]int, 3)
		for d := range sel {
			for i := range shape[d] {
				sel[d] = append(sel[d], i)
			}
		}
		for i, a := range axes {
			if a < 0 {
				a += 3
			}
			step := int64(1)
			if c.steps != nil {
				step = c.steps[i]
			}
			sel[a] = shpRefSlice(c.starts[i], c.ends[i], step, shape[a])
		}
		out := []int{len(sel[0]), len(sel[1]), len(sel[2])}
		var want []float32
		for _, i := range sel[0] {
			for _, j := range sel[1] {
				for _, k := range sel[2] {
					want = append(want, x.F[shpFlat(shape, []int{i, j, k})])
				}
			}
		}
		params := map[string]*graph.Tensor{"s": shpVec(c.starts...), "e": shpVec(c.ends...)}
		ins := []string{"x", "s", "e"}
		if c.axes != nil || c.steps != nil {
			params["a"] = shpVec(axes...)
			ins = append(ins, "a")
		}
		if c.steps != nil {
			params["p"] = shpVec(c.steps...)
			ins = append(ins, "p")
		}
		n := shpNode("Slice", ins, []string{"y"}, nil)
		shpCheck(t, "slice", runOp(t, 13, n, in, params), out, want)
		if len(want) > 0 {
			gradCheck(t, opGraph(13, n, in, params), in, 1e-3)
		}
		// opset 9: attributes
		if c.steps == nil {
			attrs := map[string]graph.Attr{"starts": graph.Ints(c.starts...), "ends": graph.Ints(c.ends...)}
			if c.axes != nil {
				attrs["axes"] = graph.Ints(c.axes...)
			}
			shpCheck(t, "slice opset 9", runOp(t, 9, shpNode("Slice", []string{"x"}, []string{"y"}, attrs), in, nil), out, want)
		}
	}
	// shape arithmetic: Slice of a constant int64 vector
	out := shpRunAll(t, 13, shpNode("Slice", []string{"d", "s", "e"}, []string{"y"}, nil), nil,
		map[string]*graph.Tensor{"d": shpVec(8, 3, 28, 28), "s": shpVec(2), "e": shpVec(maxI)})
	shpCheckI(t, "int64 slice", out["y"], []int{2}, []int64{28, 28})
	for _, bad := range []map[string]*graph.Tensor{
		{"s": shpVec(0), "e": shpVec(1), "a": shpVec(0), "p": shpVec(0)},
		{"s": shpVec(0, 0), "e": shpVec(1), "a": shpVec(0), "p": shpVec(1)},
		{"s": shpVec(0, 0), "e": shpVec(1, 1), "a": shpVec(0, -3), "p": shpVec(1, 1)},
		{"s": shpVec(0), "e": shpVec(1), "a": shpVec(3), "p": shpVec(1)},
	} {
		err := shpBuildErr(13, shpNode("Slice", []string{"x", "s", "e", "a", "p"}, []string{"y"}, nil), in, bad)
		if err == nil {
			t.Errorf("slice %v: no error", bad)
		}
	}
}

// ------------------------------------------------------- Concat and Split

func TestShapeConcat(t *testing.T) {
	rng := shpRand(6)
	for axis := -3; axis < 3; axis++ {
		a := (axis + 3) % 3
		sa, sb, sc := []int{2, 3, 4}, []int{2, 3, 4}, []int{2, 3, 4}
		sb[a], sc[a] = 1, 0
		x, y, z := randTensor(rng, sa...), randTensor(rng, sb...), randTensor(rng, sc...)
		out := slices.Clone(sa)
		out[a] = sa[a] + sb[a] + sc[a]
		want := make([]float32, numel(out))
		for i := range want {
			idx := shpUnflat(out, i)
			if idx[a] < sa[a] {
				want[i] = x.F[shpFlat(sa, idx)]
			} else {
				idx[a] -= sa[a]
				want[i] = y.F[shpFlat(sb, idx)]
			}
		}
		n := shpNode("Concat", []string{"x", "y", "z"}, []string{"o"}, map[string]graph.Attr{"axis": graph.Int(int64(axis))})
		in := map[string]*graph.Tensor{"x": x, "y": y, "z": z}
		shpCheck(t, "concat", runOp(t, 13, n, in, nil), out, want)
		if axis == 1 {
			gradCheck(t, opGraph(13, n, map[string]*graph.Tensor{"x": x, "y": y}, map[string]*graph.Tensor{"z": z}), map[string]*graph.Tensor{"x": x, "y": y}, 1e-3)
		}
	}
	// large enough to run in parallel (the U-Net's skip connections)
	{
		x, y := randTensor(rng, 4, 64, 12, 12), randTensor(rng, 4, 32, 12, 12)
		n := shpNode("Concat", []string{"x", "y"}, []string{"o"}, map[string]graph.Attr{"axis": graph.Int(1)})
		in := map[string]*graph.Tensor{"x": x, "y": y}
		o := runOp(t, 13, n, in, nil)
		if o.F[(3*96+70)*144+5] != y.F[(3*32+6)*144+5] || o.F[(2*96+63)*144+143] != x.F[(2*64+63)*144+143] {
			t.Fatalf("large concat misplaced data")
		}
		gradCheck(t, opGraph(13, n, in, nil), in, 1e-3)
	}
	// int64: the shape of a Reshape built from Shape/Gather/Unsqueeze
	out := shpRunAll(t, 13, shpNode("Concat", []string{"a", "b"}, []string{"y"}, map[string]graph.Attr{"axis": graph.Int(0)}), nil,
		map[string]*graph.Tensor{"a": shpVec(8), "b": shpVec(-1)})
	shpCheckI(t, "int64 concat", out["y"], []int{2}, []int64{8, -1})
	x := randTensor(rng, 2, 3)
	n := shpNode("Concat", []string{"x", "y"}, []string{"o"}, map[string]graph.Attr{"axis": graph.Int(0)})
	shpWantErr(t, "concat mismatch", shpBuildErr(13, n, map[string]*graph.Tensor{"x": x, "y": randTensor(rng, 2, 4)}, nil), "differ")
	shpWantErr(t, "concat no axis", shpBuildErr(13, shpNode("Concat", []string{"x"}, []string{"o"}, nil), map[string]*graph.Tensor{"x": x}, nil), "axis")
	shpWantErr(t, "concat types", shpBuildErr(13, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"y": shpI64([]int{2, 3}, 1, 2, 3, 4, 5, 6)}), "int64")
}

func TestShapeSplit(t *testing.T) {
	rng := shpRand(7)
	x := randTensor(rng, 2, 6, 3)
	in := map[string]*graph.Tensor{"x": x}
	check := func(what string, outs map[string]*graph.Tensor, sizes []int) {
		t.Helper()
		off := 0
		for j, s := range sizes {
			var want []float32
			for i := range 2 {
				for c := off; c < off+s; c++ {
					want = append(want, x.F[(i*6+c)*3:(i*6+c)*3+3]...)
				}
			}
			shpCheck(t, what, outs[string(rune('a'+j))], []int{2, s, 3}, want)
			off += s
		}
	}
	outs := []string{"a", "b", "c"}
	check("split equal", shpRunAll(t, 13, shpNode("Split", []string{"x"}, outs, map[string]graph.Attr{"axis": graph.Int(1)}), in, nil), []int{2, 2, 2})
	check("split attr", shpRunAll(t, 11, shpNode("Split", []string{"x"}, outs, map[string]graph.Attr{"axis": graph.Int(-2), "split": graph.Ints(1, 2, 3)}), in, nil), []int{1, 2, 3})
	n13 := shpNode("Split", []string{"x", "s"}, outs, map[string]graph.Attr{"axis": graph.Int(1)})
	check("split input", shpRunAll(t, 13, n13, in, map[string]*graph.Tensor{"s": shpVec(3, 0, 3)}), []int{3, 0, 3})
	n18 := shpNode("Split", []string{"x"}, []string{"a", "b", "c", "d"}, map[string]graph.Attr{"axis": graph.Int(1), "num_outputs": graph.Int(4)})
	check("split num_outputs", shpRunAll(t, 18, n18, in, nil), []int{2, 2, 2, 0})
	shpWantErr(t, "split sum", shpBuildErr(13, n13, in, map[string]*graph.Tensor{"s": shpVec(1, 1, 1)}), "sums")
	shpWantErr(t, "split uneven", shpBuildErr(13, shpNode("Split", []string{"x"}, []string{"a", "b", "c", "d"}, map[string]graph.Attr{"axis": graph.Int(1)}), in, nil), "equal")
	gradCheck(t, opGraph(13, n13, in, map[string]*graph.Tensor{"s": shpVec(1, 2, 3)}), in, 1e-3)
}

// ----------------------------------------------------------------- Expand

func TestShapeExpand(t *testing.T) {
	rng := shpRand(8)
	for _, c := range []struct {
		in    []int
		shape []int64
		out   []int
	}{
		{[]int{3, 1}, []int64{2, 3, 4}, []int{2, 3, 4}},
		{[]int{1, 4}, []int64{3, 1}, []int{3, 4}},
		{[]int{2, 1, 3}, []int64{1, 5, 1}, []int{2, 5, 3}},
		{[]int{}, []int64{2, 2}, []int{2, 2}},
		{[]int{1, 1, 64, 1}, []int64{40, 1, 1, 32}, []int{40, 1, 64, 32}},
	} {
		x := randTensor(rng, c.in...)
		want := make([]float32, numel(c.out))
		for i := range want {
			idx := shpUnflat(c.out, i)
			src := idx[len(idx)-len(c.in):]
			ii := make([]int, len(c.in))
			for d := range c.in {
				if c.in[d] != 1 {
					ii[d] = src[d]
				}
			}
			want[i] = x.F[shpFlat(c.in, ii)]
		}
		n := shpNode("Expand", []string{"x", "s"}, []string{"y"}, nil)
		in := map[string]*graph.Tensor{"x": x}
		params := map[string]*graph.Tensor{"s": shpVec(c.shape...)}
		shpCheck(t, "expand", runOp(t, 13, n, in, params), c.out, want)
		gradCheck(t, opGraph(13, n, in, params), in, 2e-3)
	}
	n := shpNode("Expand", []string{"x", "s"}, []string{"y"}, nil)
	shpWantErr(t, "expand mismatch", shpBuildErr(13, n, map[string]*graph.Tensor{"x": randTensor(rng, 2, 3)}, map[string]*graph.Tensor{"s": shpVec(4, 3)}), "cannot expand")
	out := shpRunAll(t, 13, n, nil, map[string]*graph.Tensor{"x": shpVec(1, 2), "s": shpVec(2, 2)})
	shpCheckI(t, "int64 expand", out["y"], []int{2, 2}, []int64{1, 2, 1, 2})
}

// ---------------------------------------------------------------- Dropout

func TestShapeDropout(t *testing.T) {
	rng := shpRand(9)
	x := randTensor(rng, 50, 40)
	in := map[string]*graph.Tensor{"x": x}
	// inference: identity, for every opset's form, with the mask all true
	n12 := shpNode("Dropout", []string{"x", "r"}, []string{"y", "m"}, nil)
	outs := shpRunAll(t, 13, n12, in, map[string]*graph.Tensor{"r": graph.NewFloat([]int{}, []float32{0.3})})
	shpCheck(t, "dropout inference", outs["y"], x.Shape, x.F)
	if m := outs["m"]; m.DType != graph.Int64 || len(m.I) != len(x.F) || m.I[0] != 1 || m.I[len(m.I)-1] != 1 {
		t.Fatalf("dropout mask: %v %v", m.DType, m.Shape)
	}
	n10 := shpNode("Dropout", []string{"x"}, []string{"y"}, map[string]graph.Attr{"ratio": graph.Float(0.3)})
	shpCheck(t, "dropout opset 10", runOp(t, 10, n10, in, nil), x.Shape, x.F)

	// training: inverted dropout with the ratio of the input
	for _, c := range []struct {
		opset int
		n     graph.Node
		p     map[string]*graph.Tensor
		ratio float64
	}{
		{10, n10, nil, 0.3},
		{13, shpNode("Dropout", []string{"x", "r"}, []string{"y"}, nil), map[string]*graph.Tensor{"r": graph.NewFloat([]int{}, []float32{0.6})}, 0.6},
		{13, shpNode("Dropout", []string{"x"}, []string{"y"}, nil), nil, 0.5},
	} {
		m, err := New(opGraph(c.opset, c.n, in, c.p), Options{Train: true, InputGrads: true, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.ProgramFor(shapesOf(in))
		if err != nil {
			t.Fatal(err)
		}
		first := []float32(nil)
		for run := range 2 {
			out, err := p.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			y := out["y"].F
			dropped := 0
			for i, v := range y {
				if v == 0 {
					dropped++
				} else if d := math.Abs(float64(v) - float64(x.F[i])/(1-c.ratio)); d > 1e-5 {
					t.Fatalf("dropout kept %g as %g, want %g", x.F[i], v, float64(x.F[i])/(1-c.ratio))
				}
			}
			if f := float64(dropped) / float64(len(y)); math.Abs(f-c.ratio) > 0.05 {
				t.Errorf("dropout ratio %g: dropped %.3f", c.ratio, f)
			}
			if run == 0 {
				first = slices.Clone(y)
			} else if slices.Equal(first, y) {
				t.Errorf("dropout drew the same mask twice")
			}
			// backward: dL/dx = dL/dy * mask
			dy := graph.NewFloat(x.Shape, make([]float32, len(y)))
			for i := range dy.F {
				dy.F[i] = 1
			}
			if err := p.Backward(map[string]*graph.Tensor{"y": dy}); err != nil {
				t.Fatal(err)
			}
			dx := p.InputGrad("x").F
			for i, v := range y {
				if want := v / x.F[i]; math.Abs(float64(dx[i]-want)) > 1e-4 {
					t.Fatalf("dropout backward [%d] = %g, want %g", i, dx[i], want)
				}
			}
		}
	}
	// training with the mask requested: a clear error
	m, _ := New(opGraph(13, n12, in, map[string]*graph.Tensor{"r": graph.NewFloat([]int{}, []float32{0.3})}), Options{Train: true})
	_, err := m.ProgramFor(shapesOf(in))
	shpWantErr(t, "dropout mask in training", err, "mask")
	shpWantErr(t, "dropout ratio", shpBuildErr(10, shpNode("Dropout", []string{"x"}, []string{"y"}, map[string]graph.Attr{"ratio": graph.Float(1.5)}), in, nil), "ratio")
}

// ------------------------------------------------- constants and metadata

func TestShapeConstants(t *testing.T) {
	rng := shpRand(10)
	x := randTensor(rng, 2, 3, 5)
	in := map[string]*graph.Tensor{"x": x}
	// Shape, with start/end (opset 15)
	out := shpRunAll(t, 13, shpNode("Shape", []string{"x"}, []string{"y"}, nil), in, nil)
	shpCheckI(t, "shape", out["y"], []int{3}, []int64{2, 3, 5})
	for _, c := range []struct {
		start, end int64
		want       []int64
	}{{1, 3, []int64{3, 5}}, {-1, 100, []int64{5}}, {0, -1, []int64{2, 3}}, {2, 1, []int64{}}, {-100, 1, []int64{2}}} {
		n := shpNode("Shape", []string{"x"}, []string{"y"}, map[string]graph.Attr{"start": graph.Int(c.start), "end": graph.Int(c.end)})
		shpCheckI(t, "shape start/end", shpRunAll(t, 15, n, in, nil)["y"], []int{len(c.want)}, c.want)
	}
	shpCheckI(t, "size", shpRunAll(t, 13, shpNode("Size", []string{"x"}, []string{"y"}, nil), in, nil)["y"], []int{}, []int64{30})

	// the shape arithmetic torch emits for x.view(x.size(0), -1):
	// Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape
	g := &graph.Graph{Opset: 13, Params: map[string]*graph.Tensor{"i0": shpI64([]int{}, 0), "ax": shpVec(0), "m1": shpVec(-1)},
		Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Param: "N", Size: -1}, {Size: 3}, {Size: 5}}}},
		Outputs: []graph.Value{{Name: "y"}},
		Nodes: []graph.Node{
			{Name: "s", Op: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
			{Name: "g", Op: "Gather", Inputs: []string{"s", "i0"}, Outputs: []string{"n"}, Attrs: map[string]graph.Attr{"axis": graph.Int(0)}},
			{Name: "u", Op: "Unsqueeze", Inputs: []string{"n", "ax"}, Outputs: []string{"nu"}},
			{Name: "c", Op: "Concat", Inputs: []string{"nu", "m1"}, Outputs: []string{"shape"}, Attrs: map[string]graph.Attr{"axis": graph.Int(0)}},
			{Name: "r", Op: "Reshape", Inputs: []string{"x", "shape"}, Outputs: []string{"y"}},
		}}
	m, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	shpCheck(t, "view(size(0), -1)", res["y"], []int{2, 15}, x.F)

	// Constant
	ct := func(a map[string]graph.Attr) *graph.Tensor {
		return shpRunAll(t, 13, shpNode("Constant", nil, []string{"y"}, a), nil, nil)["y"]
	}
	shpCheck(t, "constant value", ct(map[string]graph.Attr{"value": {Kind: graph.AttrTensor, Tensor: graph.NewFloat([]int{2}, []float32{1, 2})}}), []int{2}, []float32{1, 2})
	shpCheck(t, "constant value_float", ct(map[string]graph.Attr{"value_float": graph.Float(3)}), []int{}, []float32{3})
	shpCheck(t, "constant value_floats", ct(map[string]graph.Attr{"value_floats": graph.Floats(3, 4)}), []int{2}, []float32{3, 4})
	shpCheckI(t, "constant value_int", ct(map[string]graph.Attr{"value_int": graph.Int(5)}), []int{}, []int64{5})
	shpCheckI(t, "constant value_ints", ct(map[string]graph.Attr{"value_ints": graph.Ints(5, 6)}), []int{2}, []int64{5, 6})
	shpWantErr(t, "constant none", shpBuildErr(13, shpNode("Constant", nil, []string{"y"}, nil), nil, nil), "exactly one")
	shpWantErr(t, "constant bad", shpBuildErr(13, shpNode("Constant", nil, []string{"y"}, map[string]graph.Attr{"value": {Kind: graph.AttrTensor, Tensor: graph.NewFloat([]int{3}, []float32{1, 2})}}), nil, nil), "holds 2")

	// ConstantOfShape
	cos := func(a map[string]graph.Attr, shape ...int64) *graph.Tensor {
		return shpRunAll(t, 13, shpNode("ConstantOfShape", []string{"s"}, []string{"y"}, a), nil, map[string]*graph.Tensor{"s": shpVec(shape...)})["y"]
	}
	shpCheck(t, "constantofshape default", cos(nil, 2, 2), []int{2, 2}, []float32{0, 0, 0, 0})
	shpCheck(t, "constantofshape float", cos(map[string]graph.Attr{"value": {Kind: graph.AttrTensor, Tensor: graph.NewFloat([]int{1}, []float32{1.5})}}, 3), []int{3}, []float32{1.5, 1.5, 1.5})
	shpCheckI(t, "constantofshape int", cos(map[string]graph.Attr{"value": {Kind: graph.AttrTensor, Tensor: shpVec(7)}}, 2), []int{2}, []int64{7, 7})
	shpCheck(t, "constantofshape empty", cos(nil), []int{}, []float32{0})
	shpWantErr(t, "constantofshape huge", shpBuildErr(13, shpNode("ConstantOfShape", []string{"s"}, []string{"y"}, nil), nil, map[string]*graph.Tensor{"s": shpVec(1<<40, 1<<40)}), "")

	// Range
	rg := func(s, l, d *graph.Tensor) *graph.Tensor {
		return shpRunAll(t, 13, shpNode("Range", []string{"s", "l", "d"}, []string{"y"}, nil), nil, map[string]*graph.Tensor{"s": s, "l": l, "d": d})["y"]
	}
	sc := func(v int64) *graph.Tensor { return shpI64([]int{}, v) }
	fc := func(v float32) *graph.Tensor { return graph.NewFloat([]int{}, []float32{v}) }
	shpCheckI(t, "range", rg(sc(1), sc(8), sc(3)), []int{3}, []int64{1, 4, 7})
	shpCheckI(t, "range down", rg(sc(5), sc(1), sc(-2)), []int{2}, []int64{5, 3})
	shpCheckI(t, "range empty", rg(sc(5), sc(1), sc(2)), []int{0}, []int64{})
	shpCheck(t, "range float", rg(fc(0), fc(1), fc(0.25)), []int{4}, []float32{0, 0.25, 0.5, 0.75})
	shpWantErr(t, "range delta 0", shpBuildErr(13, shpNode("Range", []string{"s", "l", "d"}, []string{"y"}, nil), nil, map[string]*graph.Tensor{"s": sc(0), "l": sc(1), "d": sc(0)}), "delta")
}

func TestShapeCast(t *testing.T) {
	rng := shpRand(11)
	x := randTensor(rng, 2, 3)
	in := map[string]*graph.Tensor{"x": x}
	cast := func(to int64) graph.Node {
		return shpNode("Cast", []string{"x"}, []string{"y"}, map[string]graph.Attr{"to": graph.Int(to)})
	}
	shpCheck(t, "cast float", runOp(t, 13, cast(1), in, nil), x.Shape, x.F)
	gradCheck(t, opGraph(13, cast(1), in, nil), in, 1e-3)
	f := graph.NewFloat([]int{4}, []float32{1.7, -2.5, 0, 3e9})
	shpCheckI(t, "cast int64", shpRunAll(t, 13, cast(7), nil, map[string]*graph.Tensor{"x": f})["y"], []int{4}, []int64{1, -2, 0, 3000000000})
	shpCheckI(t, "cast int32", shpRunAll(t, 13, cast(6), nil, map[string]*graph.Tensor{"x": f})["y"], []int{4}, []int64{1, -2, 0, int64(int32(-1294967296))})
	shpCheckI(t, "cast bool", shpRunAll(t, 13, cast(9), nil, map[string]*graph.Tensor{"x": f})["y"], []int{4}, []int64{1, 1, 0, 1})
	shpCheck(t, "cast int to float", shpRunAll(t, 13, cast(1), nil, map[string]*graph.Tensor{"x": shpVec(3, -4)})["y"], []int{2}, []float32{3, -4})
	shpWantErr(t, "cast double", shpBuildErr(13, cast(11), in, nil), "double")
	shpWantErr(t, "cast bool at run time", shpBuildErr(13, cast(9), in, nil), "constant")
	shpWantErr(t, "cast int64 at run time", shpBuildErr(13, cast(7), in, nil), "int64")
}

// TestShapeHostile feeds operands that must be refused without panics or
// huge allocations.
func TestShapeHostile(t *testing.T) {
	x := randTensor(shpRand(12), 2, 3)
	in := map[string]*graph.Tensor{"x": x}
	big := int64(1) << 40
	for _, c := range []struct {
		op     string
		ins    []string
		params map[string]*graph.Tensor
		attrs  map[string]graph.Attr
	}{
		{"Expand", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(big, big, 3)}, nil},
		{"Expand", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(-1, 3)}, nil},
		{"Reshape", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(big, 0)}, nil},
		{"Unsqueeze", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(big)}, nil},
		{"Squeeze", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(-big)}, nil},
		{"Gather", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(2)}, nil},
		{"Gather", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(-3)}, nil},
		{"Gather", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(0)}, map[string]graph.Attr{"axis": graph.Int(big)}},
		{"Split", []string{"x", "s"}, map[string]*graph.Tensor{"s": shpVec(big, -big+2)}, nil},
		{"Range", []string{"a", "b", "c"}, map[string]*graph.Tensor{"a": shpI64([]int{}, -big*1000), "b": shpI64([]int{}, big*1000), "c": shpI64([]int{}, 1)}, nil},
		{"ConstantOfShape", []string{"s"}, map[string]*graph.Tensor{"s": shpVec(big, big, big)}, nil},
		{"Concat", []string{"x", "x"}, nil, map[string]graph.Attr{"axis": graph.Int(2)}},
		{"Transpose", []string{"x"}, nil, map[string]graph.Attr{"perm": graph.Ints(0, big)}},
		{"Flatten", []string{"x"}, nil, map[string]graph.Attr{"axis": graph.Int(-big)}},
	} {
		outs := []string{"y"}
		if c.op == "Split" {
			outs = []string{"y", "z"}
		}
		err := shpBuildErr(13, shpNode(c.op, c.ins, outs, c.attrs), in, c.params)
		if err == nil {
			t.Errorf("%s %v %v: no error", c.op, c.params, c.attrs)
		}
	}
}

// ----------------------------------------------------------------- Gather

func TestShapeGather(t *testing.T) {
	rng := shpRand(13)
	shape := []int{3, 4, 5}
	x := randTensor(rng, shape...)
	in := map[string]*graph.Tensor{"x": x}
	for _, c := range []struct {
		axis int64
		idx  *graph.Tensor
	}{
		{0, shpVec(2, 0, -1)},
		{1, shpI64([]int{2, 2}, 3, -4, 1, 1)},
		{-1, shpI64([]int{}, 4)},
		{2, shpI64([]int{0})},
	} {
		a := int(c.axis+3) % 3
		out := slices.Concat(shape[:a], c.idx.Shape, shape[a+1:])
		want := make([]float32, numel(out))
		for i := range want {
			oi := shpUnflat(out, i)
			k := int(c.idx.I[shpFlat(c.idx.Shape, oi[a:a+len(c.idx.Shape)])])
			if k < 0 {
				k += shape[a]
			}
			ii := slices.Concat(oi[:a], []int{k}, oi[a+len(c.idx.Shape):])
			want[i] = x.F[shpFlat(shape, ii)]
		}
		n := shpNode("Gather", []string{"x", "i"}, []string{"y"}, map[string]graph.Attr{"axis": graph.Int(c.axis)})
		params := map[string]*graph.Tensor{"i": c.idx}
		shpCheck(t, "gather", runOp(t, 13, n, in, params), out, want)
		if len(want) > 0 {
			gradCheck(t, opGraph(13, n, in, params), in, 1e-3)
		}
	}
	// an embedding: a trainable float table gathered by constant indices
	// from a graph whose input is elsewhere
	emb := randTensor(rng, 6, 3)
	g := &graph.Graph{Opset: 13, Params: map[string]*graph.Tensor{"e": emb, "i": shpVec(5, 0, 5)},
		Inputs:  []graph.Value{{Name: "x", Shape: []graph.Dim{{Size: 3}, {Size: 3}}}},
		Outputs: []graph.Value{{Name: "y"}},
		Nodes: []graph.Node{
			{Name: "g", Op: "Gather", Inputs: []string{"e", "i"}, Outputs: []string{"r"}},
			{Name: "a", Op: "Concat", Inputs: []string{"r", "x"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"axis": graph.Int(0)}},
		}}
	gradCheck(t, g, map[string]*graph.Tensor{"x": randTensor(rng, 3, 3)}, 1e-3)
	// int64 data folds
	out := shpRunAll(t, 13, shpNode("Gather", []string{"d", "i"}, []string{"y"}, nil), nil,
		map[string]*graph.Tensor{"d": shpVec(8, 3, 28, 28), "i": shpVec(0, -1)})
	shpCheckI(t, "int64 gather", out["y"], []int{2}, []int64{8, 28})
	shpWantErr(t, "gather range", shpBuildErr(13, shpNode("Gather", []string{"x", "i"}, []string{"y"}, nil), in, map[string]*graph.Tensor{"i": shpVec(3)}), "out of range")
	shpWantErr(t, "gather float indices", shpBuildErr(13, shpNode("Gather", []string{"x", "i"}, []string{"y"}, nil), in, map[string]*graph.Tensor{"i": graph.NewFloat([]int{1}, []float32{0})}), "int64")
}

// TestShapeFuzz builds and runs the operators of this area on random
// shapes, operands and attributes: any outcome but a panic is fine, and
// a program that compiles must run forward and backward.
func TestShapeFuzz(t *testing.T) {
	rng := shpRand(77)
	vals := []int64{math.MinInt64, -1 << 40, -7, 1 << 40, math.MaxInt64}
	val := func() int64 {
		if rng.IntN(8) == 0 {
			return vals[rng.IntN(len(vals))]
		}
		return int64(rng.IntN(8)) - 3
	}
	ints := func(n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = val()
		}
		return v
	}
	floats := []float32{-1, 0, 0.5, 1, 1, 2, 2, 3, float32(math.NaN()), float32(math.Inf(1)), 1e30}
	type spec struct {
		op    string
		nIn   int // inputs after x that are int64 constants
		attrs func() map[string]graph.Attr
	}
	axisAttr := func(name string) func() map[string]graph.Attr {
		return func() map[string]graph.Attr {
			return map[string]graph.Attr{name: graph.Int(val())}
		}
	}
	specs := []spec{
		{"Reshape", 1, nil}, {"Flatten", 0, axisAttr("axis")}, {"Squeeze", 1, nil}, {"Unsqueeze", 1, nil},
		{"Transpose", 0, func() map[string]graph.Attr { return map[string]graph.Attr{"perm": graph.Ints(ints(rng.IntN(5))...)} }},
		{"Slice", 4, nil}, {"Concat", 0, axisAttr("axis")}, {"Split", 1, axisAttr("axis")}, {"Expand", 1, nil},
		{"Gather", 1, axisAttr("axis")}, {"Pad", 1, func() map[string]graph.Attr {
			return map[string]graph.Attr{"mode": graph.String([]string{"constant", "reflect", "edge", "wrap"}[rng.IntN(4)])}
		}},
		{"Resize", 0, func() map[string]graph.Attr {
			return map[string]graph.Attr{"mode": graph.String([]string{"nearest", "linear"}[rng.IntN(2)]),
				"coordinate_transformation_mode": graph.String([]string{"half_pixel", "align_corners", "asymmetric"}[rng.IntN(3)])}
		}},
		{"Gemm", 0, nil}, {"MatMul", 0, nil}, {"Dropout", 0, nil}, {"Cast", 0, axisAttr("to")},
	}
	for iter := range 3000 {
		sp := specs[iter%len(specs)]
		shape := make([]int, rng.IntN(5))
		for d := range shape {
			shape[d] = rng.IntN(4)
		}
		x := randTensor(rng, shape...)
		ins := []string{"x"}
		params := map[string]*graph.Tensor{}
		length := rng.IntN(6)
		switch rng.IntN(3) {
		case 0: // as many as x has dimensions
			length = len(shape)
		case 1:
			length = min(length, len(shape))
		}
		if sp.op == "Pad" {
			length *= 2
		}
		for i := range sp.nIn {
			name := string(rune('a' + i))
			ins = append(ins, name)
			params[name] = shpVec(ints(length)...)
		}
		switch sp.op {
		case "Concat":
			s2 := slices.Clone(shape)
			if len(s2) > 0 {
				s2[rng.IntN(len(s2))] = rng.IntN(3)
			}
			ins = append(ins, "b")
			params["b"] = randTensor(rng, s2...)
		case "Gemm", "MatMul":
			if sp.op == "Gemm" && rng.IntN(2) == 0 {
				shape = shape[:min(len(shape), 2)]
				x = randTensor(rng, shape...)
			}
			s2 := make([]int, rng.IntN(4))
			for d := range s2 {
				s2[d] = rng.IntN(4)
			}
			if len(shape) > 0 && len(s2) > 1 && rng.IntN(2) == 0 { // inner dimensions agree
				s2[len(s2)-2] = shape[len(shape)-1]
			}
			ins = append(ins, "b")
			params["b"] = randTensor(rng, s2...)
		case "Resize":
			ins = append(ins, "", "s")
			if rng.IntN(2) == 0 {
				f := make([]float32, len(shape))
				for i := range f {
					f[i] = floats[rng.IntN(len(floats))]
				}
				params["s"] = graph.NewFloat([]int{len(f)}, f)
			} else {
				ins = append(ins, "z")
				params["s"] = graph.NewFloat([]int{0}, nil)
				params["z"] = shpVec(ints(len(shape))...)
			}
		}
		outs := []string{"y"}
		if sp.op == "Split" {
			outs = []string{"y", "z"}
		}
		var attrs map[string]graph.Attr
		if sp.attrs != nil {
			attrs = sp.attrs()
		}
		n := shpNode(sp.op, ins, outs, attrs)
		in := map[string]*graph.Tensor{"x": x}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s x=%v params=%v attrs=%v: panic %v", sp.op, shape, params, attrs, r)
				}
			}()
			for _, train := range []bool{false, true} {
				m, err := New(opGraph(13, n, in, params), Options{Train: train, InputGrads: true, Budget: budget.New(1 << 24)})
				if err != nil {
					return
				}
				p, err := m.ProgramFor(shapesOf(in))
				if err != nil {
					return
				}
				out, err := p.Run(in)
				if err != nil {
					t.Fatalf("%s: run: %v", sp.op, err)
				}
				if train {
					dy := map[string]*graph.Tensor{}
					for k, o := range out {
						dy[k] = randTensor(rng, o.Shape...)
					}
					if err := p.Backward(dy); err != nil {
						t.Fatalf("%s: backward: %v", sp.op, err)
					}
				}
			}
		}()
	}
}
