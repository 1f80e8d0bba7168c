package engine

import (
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// padRefIndex maps an index of the padded axis back to the input by
// walking: reflect folds back and forth one step at a time, edge clamps,
// wrap shifts by whole periods. -1 means the constant.
func padRefIndex(i, n int, mode string) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case "edge":
		if i < 0 {
			return 0
		}
		return n - 1
	case "wrap":
		for i < 0 {
			i += n
		}
		for i >= n {
			i -= n
		}
		return i
	case "reflect":
		if n == 1 {
			return 0
		}
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	}
	return -1
}

func TestPadModes(t *testing.T) {
	// numpy.pad([1, 2, 3], (2, 2), mode)
	x := graph.NewFloat([]int{3}, []float32{1, 2, 3})
	in := map[string]*graph.Tensor{"x": x}
	for mode, want := range map[string][]float32{
		"constant": {9, 9, 1, 2, 3, 9, 9},
		"reflect":  {3, 2, 1, 2, 3, 2, 1},
		"edge":     {1, 1, 1, 2, 3, 3, 3},
		"wrap":     {2, 3, 1, 2, 3, 1, 2},
	} {
		n := shpNode("Pad", []string{"x", "p", "v"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String(mode)})
		params := map[string]*graph.Tensor{"p": shpVec(2, 2), "v": graph.NewFloat([]int{}, []float32{9})}
		shpCheck(t, "pad "+mode, runOp(t, 19, n, in, params), []int{7}, want)
	}
	// reflect wider than the axis
	n := shpNode("Pad", []string{"x", "p"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("reflect")})
	shpCheck(t, "pad reflect wide", runOp(t, 13, n, in, map[string]*graph.Tensor{"p": shpVec(5, 0)}), []int{8}, []float32{2, 1, 2, 3, 2, 1, 2, 3})
}

func TestPadRandom(t *testing.T) {
	rng := shpRand(31)
	shape := []int{2, 3, 4, 5}
	x := randTensor(rng, shape...)
	in := map[string]*graph.Tensor{"x": x}
	for _, c := range []struct {
		mode  string
		pads  []int64
		axes  []int64 // opset 18
		value float32
	}{
		{"constant", []int64{0, 0, 1, 2, 0, 0, 3, 1}, nil, 0},
		{"constant", []int64{0, 1, -1, 2, 1, 0, -2, 0}, nil, 1.5},
		{"reflect", []int64{0, 0, 2, 3, 0, 0, 3, 4}, nil, 0},
		{"edge", []int64{1, 0, 2, 3, 0, 2, 3, 4}, nil, 0},
		{"wrap", []int64{0, 0, 5, 3, 0, 0, 3, 6}, nil, 0},
		{"reflect", []int64{1, 2, 3, 4}, []int64{-1, 2}, 0},
		{"constant", []int64{0, -1, 0, -3, 0, 0, -1, 0}, nil, 2},
	} {
		begin, end := make([]int, 4), make([]int, 4)
		axes := []int64{0, 1, 2, 3}
		if c.axes != nil {
			axes = c.axes
		}
		for i, a := range axes {
			a = (a + 4) % 4
			begin[a], end[a] = int(c.pads[i]), int(c.pads[i+len(axes)])
		}
		out := make([]int, 4)
		for d := range out {
			out[d] = shape[d] + begin[d] + end[d]
		}
		want := make([]float32, numel(out))
		for i := range want {
			idx := shpUnflat(out, i)
			want[i] = c.value
			inside := true
			for d := range idx {
				idx[d] = padRefIndex(idx[d]-begin[d], shape[d], c.mode)
				inside = inside && idx[d] >= 0
			}
			if inside {
				want[i] = x.F[shpFlat(shape, idx)]
			}
		}
		attrs := map[string]graph.Attr{"mode": graph.String(c.mode)}
		params := map[string]*graph.Tensor{"p": shpVec(c.pads...), "v": graph.NewFloat([]int{}, []float32{c.value})}
		ins := []string{"x", "p", "v"}
		if c.axes != nil {
			params["a"] = shpVec(c.axes...)
			ins = append(ins, "a")
		}
		n := shpNode("Pad", ins, []string{"y"}, attrs)
		shpCheck(t, "pad "+c.mode, runOp(t, 19, n, in, params), out, want)
		gradCheck(t, opGraph(19, n, in, params), in, 2e-3)
		if c.axes == nil && c.mode != "wrap" {
			// the same with attributes (opset 2-10)
			attrs := map[string]graph.Attr{"mode": graph.String(c.mode), "pads": graph.Ints(c.pads...), "value": graph.Float(c.value)}
			shpCheck(t, "pad opset 10 "+c.mode, runOp(t, 10, shpNode("Pad", []string{"x"}, []string{"y"}, attrs), in, nil), out, want)
		}
	}
	// a large pad runs in parallel
	big := randTensor(rng, 8, 16, 30, 30)
	n := shpNode("Pad", []string{"x", "p"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("reflect")})
	y := runOp(t, 13, n, map[string]*graph.Tensor{"x": big}, map[string]*graph.Tensor{"p": shpVec(0, 0, 1, 1, 0, 0, 1, 1)})
	if got, want := y.F[((3*16+5)*32+0)*32+0], big.F[((3*16+5)*30+1)*30+1]; got != want {
		t.Fatalf("pad large: %g, want %g", got, want)
	}
	// errors
	for _, bad := range []struct {
		mode string
		pads []int64
	}{
		{"constant", []int64{0, 0}},
		{"constant", []int64{0, 0, 0, -6, 0, 0, 0, 0}},
		{"mirror", []int64{0, 0, 0, 0, 0, 0, 0, 0}},
		{"constant", []int64{0, 0, 0, 1 << 40, 0, 0, 0, 0}},
	} {
		n := shpNode("Pad", []string{"x", "p"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String(bad.mode)})
		if err := shpBuildErr(13, n, in, map[string]*graph.Tensor{"p": shpVec(bad.pads...)}); err == nil {
			t.Errorf("pad %s %v: no error", bad.mode, bad.pads)
		}
	}
	e := graph.NewFloat([]int{2, 0}, nil)
	n = shpNode("Pad", []string{"x", "p"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("reflect")})
	shpWantErr(t, "reflect empty", shpBuildErr(13, n, map[string]*graph.Tensor{"x": e}, map[string]*graph.Tensor{"p": shpVec(0, 1, 0, 1)}), "empty")
}
