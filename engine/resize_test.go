package engine

import (
	"math"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// rszRefCoord is the ONNX coordinate transformation of output index o.
func rszRefCoord(mode string, o, in, out int, scale float32) float64 {
	x, s := float64(o), float64(scale)
	switch mode {
	case "half_pixel":
		return (x+0.5)/s - 0.5
	case "pytorch_half_pixel":
		if out > 1 {
			return (x+0.5)/s - 0.5
		}
		return 0
	case "align_corners":
		if out == 1 {
			return 0
		}
		return x * float64(in-1) / float64(out-1)
	case "tf_half_pixel_for_nn":
		return (x + 0.5) / s
	case "half_pixel_symmetric":
		adj := float64(out) / (s * float64(in))
		return float64(in)/2*(1-adj) + (x+0.5)/s - 0.5
	}
	return x / s
}

func rszRefNearest(c float64, rounding string, in int) int {
	var i float64
	switch rounding {
	case "round_prefer_floor":
		i = math.Round(c)
		if c-math.Floor(c) == 0.5 {
			i = math.Floor(c)
		}
	case "round_prefer_ceil":
		i = math.Round(c)
		if c-math.Floor(c) == 0.5 {
			i = math.Ceil(c)
		}
	case "floor":
		i = math.Floor(c)
	case "ceil":
		i = math.Ceil(c)
	}
	return int(math.Max(0, math.Min(i, float64(in-1))))
}

// rszRef resizes x (4-D) to out with per-axis scales by the definition.
func rszRef(x *graph.Tensor, out []int, scales []float32, mode, transform, rounding string) []float32 {
	in := x.Shape
	y := make([]float32, numel(out))
	for i := range y {
		idx := shpUnflat(out, i)
		if mode == "nearest" {
			src := make([]int, 4)
			for d := range 4 {
				src[d] = rszRefNearest(rszRefCoord(transform, idx[d], in[d], out[d], scales[d]), rounding, in[d])
			}
			y[i] = x.F[shpFlat(in, src)]
			continue
		}
		// bilinear on the last two axes
		var lo, hi [2]int
		var w [2]float64
		for k, d := range []int{2, 3} {
			c := rszRefCoord(transform, idx[d], in[d], out[d], scales[d])
			c = math.Max(0, math.Min(c, float64(in[d]-1)))
			lo[k] = int(math.Floor(c))
			hi[k] = min(lo[k]+1, in[d]-1)
			w[k] = c - float64(lo[k])
		}
		at := func(yy, xx int) float64 { return float64(x.F[shpFlat(in, []int{idx[0], idx[1], yy, xx})]) }
		v := (1-w[0])*((1-w[1])*at(lo[0], lo[1])+w[1]*at(lo[0], hi[1])) + w[0]*((1-w[1])*at(hi[0], lo[1])+w[1]*at(hi[0], hi[1]))
		y[i] = float32(v)
	}
	return y
}

func TestResizeKnownValues(t *testing.T) {
	// torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
	x := graph.NewFloat([]int{1, 1, 2, 2}, []float32{1, 2, 3, 4})
	in := map[string]*graph.Tensor{"x": x}
	want := []float32{1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}
	scales := graph.NewFloat([]int{4}, []float32{1, 1, 2, 2})
	for _, ct := range []string{"pytorch_half_pixel", "half_pixel"} {
		n := shpNode("Resize", []string{"x", "", "s"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("linear"), "coordinate_transformation_mode": graph.String(ct)})
		shpCheck(t, "bilinear "+ct, runOp(t, 13, n, in, map[string]*graph.Tensor{"s": scales}), []int{1, 1, 4, 4}, want)
	}
	// align_corners=True
	n := shpNode("Resize", []string{"x", "r", "s"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("linear"), "coordinate_transformation_mode": graph.String("align_corners")})
	want = []float32{1, 4.0 / 3, 5.0 / 3, 2, 5.0 / 3, 2, 7.0 / 3, 8.0 / 3, 7.0 / 3, 8.0 / 3, 3, 10.0 / 3, 3, 10.0 / 3, 11.0 / 3, 4}
	shpCheck(t, "bilinear align_corners", runOp(t, 11, n, in, map[string]*graph.Tensor{"s": scales, "r": graph.NewFloat([]int{0}, nil)}), []int{1, 1, 4, 4}, want)
	// nearest as torch exports it (asymmetric, floor), and Upsample
	want = []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}
	n = shpNode("Resize", []string{"x", "", "s"}, []string{"y"}, map[string]graph.Attr{"coordinate_transformation_mode": graph.String("asymmetric"), "nearest_mode": graph.String("floor")})
	shpCheck(t, "nearest", runOp(t, 13, n, in, map[string]*graph.Tensor{"s": scales}), []int{1, 1, 4, 4}, want)
	shpCheck(t, "upsample 7", runOp(t, 7, shpNode("Upsample", []string{"x"}, []string{"y"}, map[string]graph.Attr{"scales": graph.Floats(1, 1, 2, 2)}), in, nil), []int{1, 1, 4, 4}, want)
	shpCheck(t, "upsample 9", runOp(t, 9, shpNode("Upsample", []string{"x", "s"}, []string{"y"}, nil), in, map[string]*graph.Tensor{"s": scales}), []int{1, 1, 4, 4}, want)
	shpCheck(t, "resize 10", runOp(t, 10, shpNode("Resize", []string{"x", "s"}, []string{"y"}, nil), in, map[string]*graph.Tensor{"s": scales}), []int{1, 1, 4, 4}, want)
	// Upsample linear: asymmetric
	want = []float32{1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4}
	shpCheck(t, "upsample linear", runOp(t, 9, shpNode("Upsample", []string{"x", "s"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("linear")}), in, map[string]*graph.Tensor{"s": scales}), []int{1, 1, 4, 4}, want)
}

func TestResizeRandom(t *testing.T) {
	rng := shpRand(41)
	shape := []int{2, 3, 5, 6}
	x := randTensor(rng, shape...)
	in := map[string]*graph.Tensor{"x": x}
	for _, c := range []struct {
		mode, transform, rounding string
		scales                    []float32
		sizes                     []int64
	}{
		{"nearest", "asymmetric", "floor", []float32{1, 1, 2, 3}, nil},
		{"nearest", "half_pixel", "round_prefer_floor", []float32{1, 1, 2, 0.5}, nil},
		{"nearest", "half_pixel", "round_prefer_ceil", []float32{1, 1, 0.5, 2}, nil},
		{"nearest", "align_corners", "round_prefer_floor", nil, []int64{2, 3, 9, 4}},
		{"nearest", "pytorch_half_pixel", "ceil", nil, []int64{2, 3, 1, 11}},
		{"nearest", "tf_half_pixel_for_nn", "floor", []float32{1, 1, 1.5, 2.5}, nil},
		{"nearest", "half_pixel_symmetric", "round_prefer_floor", []float32{2, 1, 2, 2}, nil},
		{"linear", "half_pixel", "", []float32{1, 1, 2, 2}, nil},
		{"linear", "pytorch_half_pixel", "", nil, []int64{2, 3, 1, 13}},
		{"linear", "align_corners", "", nil, []int64{2, 3, 7, 3}},
		{"linear", "asymmetric", "", []float32{1, 1, 0.5, 1.5}, nil},
		{"linear", "half_pixel_symmetric", "", []float32{1, 1, 2, 0.5}, nil},
	} {
		attrs := map[string]graph.Attr{"mode": graph.String(c.mode), "coordinate_transformation_mode": graph.String(c.transform)}
		if c.rounding != "" {
			attrs["nearest_mode"] = graph.String(c.rounding)
		}
		scales := c.scales
		out := make([]int, 4)
		params := map[string]*graph.Tensor{}
		ins := []string{"x", "", "s"}
		if scales != nil {
			for d := range out {
				out[d] = int(math.Floor(float64(float32(shape[d]) * scales[d])))
			}
			params["s"] = graph.NewFloat([]int{4}, scales)
		} else {
			scales = make([]float32, 4)
			for d := range out {
				out[d] = int(c.sizes[d])
				scales[d] = float32(out[d]) / float32(shape[d])
			}
			params["z"] = shpVec(c.sizes...)
			ins = []string{"x", "", "", "z"}
		}
		want := rszRef(x, out, scales, c.mode, c.transform, c.rounding)
		n := shpNode("Resize", ins, []string{"y"}, attrs)
		shpCheck(t, "resize "+c.mode+" "+c.transform, runOp(t, 19, n, in, params), out, want)
		gradCheck(t, opGraph(19, n, in, params), in, 2e-3)
	}
	// opset 18 axes: scales for the last two dimensions only
	n := shpNode("Resize", []string{"x", "", "s"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("linear"), "axes": graph.Ints(-2, -1)})
	want := rszRef(x, []int{2, 3, 10, 12}, []float32{1, 1, 2, 2}, "linear", "half_pixel", "")
	shpCheck(t, "resize axes", runOp(t, 18, n, in, map[string]*graph.Tensor{"s": graph.NewFloat([]int{2}, []float32{2, 2})}), []int{2, 3, 10, 12}, want)
	// keep_aspect_ratio_policy not_larger: sizes [10, 10] of 5x6 -> scale 5/3
	n = shpNode("Resize", []string{"x", "", "", "z"}, []string{"y"}, map[string]graph.Attr{"axes": graph.Ints(2, 3), "keep_aspect_ratio_policy": graph.String("not_larger")})
	if y := runOp(t, 18, n, in, map[string]*graph.Tensor{"z": shpVec(10, 10)}); y.Shape[2] != 8 || y.Shape[3] != 10 {
		t.Errorf("not_larger: shape %v, want [2 3 8 10]", y.Shape)
	}
	// a large bilinear resize (parallel forward and backward)
	big := randTensor(rng, 4, 16, 14, 14)
	n = shpNode("Resize", []string{"x", "", "s"}, []string{"y"}, map[string]graph.Attr{"mode": graph.String("linear"), "coordinate_transformation_mode": graph.String("pytorch_half_pixel")})
	bs := map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{1, 1, 2, 2})}
	bigWant := rszRef(big, []int{4, 16, 28, 28}, []float32{1, 1, 2, 2}, "linear", "pytorch_half_pixel", "")
	shpCheck(t, "resize large", runOp(t, 13, n, map[string]*graph.Tensor{"x": big}, bs), []int{4, 16, 28, 28}, bigWant)
	rszAdjoint(t, n, big, bs)
	nn := shpNode("Resize", []string{"x", "", "s"}, []string{"y"}, map[string]graph.Attr{"coordinate_transformation_mode": graph.String("asymmetric"), "nearest_mode": graph.String("floor")})
	rszAdjoint(t, nn, big, bs)

	// errors
	for _, c := range []struct {
		attrs  map[string]graph.Attr
		params map[string]*graph.Tensor
		ins    []string
	}{
		{map[string]graph.Attr{"mode": graph.String("cubic")}, map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{1, 1, 2, 2})}, []string{"x", "", "s"}},
		{map[string]graph.Attr{"mode": graph.String("linear")}, map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{2, 1, 2, 2})}, []string{"x", "", "s"}},
		{nil, map[string]*graph.Tensor{"s": graph.NewFloat([]int{3}, []float32{1, 2, 2})}, []string{"x", "", "s"}},
		{nil, map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{1, 1, -2, 2})}, []string{"x", "", "s"}},
		{nil, map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{1, 1, 1e30, 2})}, []string{"x", "", "s"}},
		{nil, map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{1, 1, 2, 2}), "z": shpVec(2, 3, 4, 4)}, []string{"x", "", "s", "z"}},
		{nil, nil, []string{"x"}},
		{map[string]graph.Attr{"coordinate_transformation_mode": graph.String("tf_crop_and_resize")}, map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{1, 1, 2, 2})}, []string{"x", "", "s"}},
		{map[string]graph.Attr{"nearest_mode": graph.String("round")}, map[string]*graph.Tensor{"s": graph.NewFloat([]int{4}, []float32{1, 1, 2, 2})}, []string{"x", "", "s"}},
		{nil, map[string]*graph.Tensor{"z": shpVec(2, 3, 1<<40, 4)}, []string{"x", "", "", "z"}},
	} {
		if err := shpBuildErr(13, shpNode("Resize", c.ins, []string{"y"}, c.attrs), in, c.params); err == nil {
			t.Errorf("resize %v %v: no error", c.attrs, c.params)
		}
	}
}

// rszAdjoint checks <dy, R x> = <R^T dy, x> on a tensor too large for
// gradCheck, so the parallel backward is covered.
func rszAdjoint(t *testing.T, n graph.Node, x *graph.Tensor, params map[string]*graph.Tensor) {
	t.Helper()
	in := map[string]*graph.Tensor{"x": x}
	m, err := New(opGraph(13, n, in, params), Options{Train: true, InputGrads: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.ProgramFor(shapesOf(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	y := out["y"]
	dy := randTensor(shpRand(5), y.Shape...)
	lhs := 0.0
	for i, v := range y.F {
		lhs += float64(v) * float64(dy.F[i])
	}
	if err := p.Backward(map[string]*graph.Tensor{"y": dy}); err != nil {
		t.Fatal(err)
	}
	rhs := 0.0
	for i, v := range p.InputGrad("x").F {
		rhs += float64(v) * float64(x.F[i])
	}
	if math.Abs(lhs-rhs) > 1e-3*math.Max(1, math.Abs(lhs)) {
		t.Errorf("%s adjoint: <dy, y> = %g, <dx, x> = %g", n.Op, lhs, rhs)
	}
}
