package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// convCase is one Conv configuration for the tests.
type convCase struct {
	name      string
	n, c, h   int
	w         int // input width; h == 0 means a 1-D input [N, C, W]
	m, group  int
	kh, kw    int
	strides   []int64
	dilations []int64
	pads      []int64
	autoPad   string
	bias      bool
}

func (cc convCase) attrs(kernelAttr bool) map[string]graph.Attr {
	a := map[string]graph.Attr{}
	if cc.group != 1 {
		a["group"] = graph.Int(int64(cc.group))
	}
	if cc.strides != nil {
		a["strides"] = graph.Ints(cc.strides...)
	}
	if cc.dilations != nil {
		a["dilations"] = graph.Ints(cc.dilations...)
	}
	if cc.pads != nil {
		a["pads"] = graph.Ints(cc.pads...)
	}
	if cc.autoPad != "" {
		a["auto_pad"] = graph.String(cc.autoPad)
	}
	if kernelAttr {
		if cc.h == 0 {
			a["kernel_shape"] = graph.Ints(int64(cc.kw))
		} else {
			a["kernel_shape"] = graph.Ints(int64(cc.kh), int64(cc.kw))
		}
	}
	return a
}

func (cc convCase) tensors(rng *rand.Rand) (x, w, b *graph.Tensor) {
	if cc.h == 0 {
		x = randTensor(rng, cc.n, cc.c, cc.w)
		w = randTensor(rng, cc.m, cc.c/cc.group, cc.kw)
	} else {
		x = randTensor(rng, cc.n, cc.c, cc.h, cc.w)
		w = randTensor(rng, cc.m, cc.c/cc.group, cc.kh, cc.kw)
	}
	if cc.bias {
		b = randTensor(rng, cc.m)
	}
	return
}

func (cc convCase) node(kernelAttr bool) graph.Node {
	n := graph.Node{Name: "conv", Op: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: cc.attrs(kernelAttr)}
	if cc.bias {
		n.Inputs = append(n.Inputs, "b")
	}
	return n
}

// convAxis returns the output size and leading pad of one axis, as the
// ONNX specification states them.
func convAxis(in, k, s, d, pb, pe int, autoPad string) (out, lead int) {
	dk := (k-1)*d + 1
	switch autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		out = (in + s - 1) / s
		total := max(0, (out-1)*s+dk-in)
		if autoPad == "SAME_UPPER" {
			return out, total / 2
		}
		return out, total - total/2
	case "VALID":
		return (in-dk)/s + 1, 0
	}
	return (in+pb+pe-dk)/s + 1, pb
}

// convRef is a direct evaluation of the Conv definition.
func convRef(cc convCase, x, w, b *graph.Tensor) *graph.Tensor {
	h, kh := cc.h, cc.kh
	sh, sw, dh, dw := 1, 1, 1, 1
	var pt, pl, pb, pr int
	st, di, pa := cc.strides, cc.dilations, cc.pads
	if cc.h == 0 {
		h, kh = 1, 1
		if st != nil {
			sw = int(st[0])
		}
		if di != nil {
			dw = int(di[0])
		}
		if pa != nil {
			pl, pr = int(pa[0]), int(pa[1])
		}
	} else {
		if st != nil {
			sh, sw = int(st[0]), int(st[1])
		}
		if di != nil {
			dh, dw = int(di[0]), int(di[1])
		}
		if pa != nil {
			pt, pl, pb, pr = int(pa[0]), int(pa[1]), int(pa[2]), int(pa[3])
		}
	}
	oh, pt := convAxis(h, kh, sh, dh, pt, pb, cc.autoPad)
	ow, pl := convAxis(cc.w, cc.kw, sw, dw, pl, pr, cc.autoPad)
	cg, mg := cc.c/cc.group, cc.m/cc.group
	shape := []int{cc.n, cc.m, oh, ow}
	if cc.h == 0 {
		shape = []int{cc.n, cc.m, ow}
	}
	y := graph.NewFloat(shape, make([]float32, cc.n*cc.m*oh*ow))
	for n := range cc.n {
		for m := range cc.m {
			g := m / mg
			for i := range oh {
				for j := range ow {
					var s float64
					if b != nil {
						s = float64(b.F[m])
					}
					for c := range cg {
						for u := range kh {
							for v := range cc.kw {
								iy, ix := i*sh-pt+u*dh, j*sw-pl+v*dw
								if iy < 0 || iy >= h || ix < 0 || ix >= cc.w {
									continue
								}
								xv := x.F[((n*cc.c+g*cg+c)*h+iy)*cc.w+ix]
								wv := w.F[((m*cg+c)*kh+u)*cc.kw+v]
								s += float64(xv) * float64(wv)
							}
						}
					}
					y.F[((n*cc.m+m)*oh+i)*ow+j] = float32(s)
				}
			}
		}
	}
	return y
}

func convClose(t *testing.T, what string, got, want *graph.Tensor, tol float64) {
	t.Helper()
	if ShapeString(got.Shape) != ShapeString(want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	for i := range want.F {
		if d := math.Abs(float64(got.F[i] - want.F[i])); d > tol*math.Max(1, math.Abs(float64(want.F[i]))) || math.IsNaN(float64(got.F[i])) {
			t.Fatalf("%s: element %d is %g, want %g", what, i, got.F[i], want.F[i])
		}
	}
}

func convCases() []convCase {
	return []convCase{
		{name: "3x3 pad1", n: 1, c: 3, h: 7, w: 6, m: 4, group: 1, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true},
		{name: "3x3 batch3 stride2 asym pads", n: 3, c: 2, h: 9, w: 8, m: 5, group: 1, kh: 3, kw: 3, strides: []int64{2, 2}, pads: []int64{0, 1, 2, 1}, bias: true},
		{name: "dilated 2x3", n: 2, c: 2, h: 8, w: 9, m: 3, group: 1, kh: 2, kw: 3, dilations: []int64{2, 3}, pads: []int64{1, 2, 1, 0}},
		{name: "1x1 pointwise", n: 2, c: 6, h: 5, w: 4, m: 7, group: 1, kh: 1, kw: 1, bias: true},
		{name: "1x1 pointwise groups", n: 1, c: 6, h: 3, w: 5, m: 9, group: 3, kh: 1, kw: 1},
		{name: "1x1 stride2", n: 2, c: 3, h: 6, w: 6, m: 4, group: 1, kh: 1, kw: 1, strides: []int64{2, 2}, bias: true},
		{name: "groups 2", n: 2, c: 4, h: 6, w: 5, m: 6, group: 2, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true},
		{name: "depthwise 3x3", n: 2, c: 5, h: 7, w: 8, m: 5, group: 5, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true},
		{name: "depthwise 3x3 stride2", n: 1, c: 4, h: 9, w: 8, m: 4, group: 4, kh: 3, kw: 3, strides: []int64{2, 2}, pads: []int64{1, 1, 1, 1}},
		{name: "depthwise 5x5 stride2", n: 2, c: 3, h: 11, w: 10, m: 3, group: 3, kh: 5, kw: 5, strides: []int64{2, 2}, pads: []int64{2, 2, 2, 2}, bias: true},
		{name: "depthwise 5x5", n: 1, c: 3, h: 9, w: 12, m: 3, group: 3, kh: 5, kw: 5, pads: []int64{2, 2, 2, 2}},
		{name: "depthwise multiplier dilated", n: 2, c: 3, h: 8, w: 8, m: 6, group: 3, kh: 3, kw: 2, dilations: []int64{2, 2}, pads: []int64{2, 1, 1, 0}, bias: true},
		{name: "depthwise wide kernel", n: 1, c: 2, h: 5, w: 11, m: 2, group: 2, kh: 1, kw: 7, strides: []int64{1, 2}, pads: []int64{0, 3, 0, 3}},
		{name: "SAME_UPPER stride2", n: 2, c: 2, h: 7, w: 8, m: 3, group: 1, kh: 4, kw: 3, strides: []int64{2, 2}, autoPad: "SAME_UPPER", bias: true},
		{name: "SAME_LOWER", n: 1, c: 2, h: 6, w: 7, m: 3, group: 1, kh: 2, kw: 4, autoPad: "SAME_LOWER"},
		{name: "VALID", n: 1, c: 3, h: 6, w: 7, m: 2, group: 1, kh: 3, kw: 2, strides: []int64{2, 1}, autoPad: "VALID", pads: []int64{5, 5, 5, 5}},
		{name: "depthwise SAME_LOWER", n: 3, c: 4, h: 6, w: 6, m: 4, group: 4, kh: 3, kw: 3, strides: []int64{2, 2}, autoPad: "SAME_LOWER", bias: true},
		{name: "pads wider than the input", n: 2, c: 2, h: 2, w: 1, m: 2, group: 1, kh: 3, kw: 3, dilations: []int64{2, 2}, pads: []int64{3, 3, 1, 1}, bias: true},
		{name: "depthwise pads wider than the input", n: 1, c: 2, h: 2, w: 1, m: 2, group: 2, kh: 3, kw: 3, dilations: []int64{2, 2}, pads: []int64{3, 3, 1, 1}},
		{name: "1-D", n: 2, c: 3, w: 10, m: 4, group: 1, kw: 3, strides: []int64{2}, pads: []int64{1, 2}, bias: true},
		{name: "1-D depthwise dilated", n: 2, c: 3, w: 12, m: 3, group: 3, kw: 3, dilations: []int64{2}, pads: []int64{2, 2}},
	}
}

func TestConvForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cc := range convCases() {
		for _, kernelAttr := range []bool{false, true} {
			x, w, b := cc.tensors(rng)
			params := map[string]*graph.Tensor{"w": w}
			if b != nil {
				params["b"] = b
			}
			got := runOp(t, 17, cc.node(kernelAttr), map[string]*graph.Tensor{"x": x}, params)
			convClose(t, cc.name, got, convRef(cc, x, w, b), 1e-4)
		}
	}
}

// TestConvBands runs single samples large enough to be split into bands
// of output rows computed in parallel.
func TestConvBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, cc := range []convCase{
		{name: "3x3 bands", n: 1, c: 32, h: 19, w: 20, m: 32, group: 1, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true},
		{name: "3x3 s2 bands", n: 1, c: 32, h: 37, w: 30, m: 32, group: 1, kh: 3, kw: 3, strides: []int64{2, 2}, pads: []int64{1, 1, 1, 1}},
		{name: "1x1 bands", n: 1, c: 128, h: 15, w: 17, m: 128, group: 2, kh: 1, kw: 1, bias: true},
	} {
		x, w, b := cc.tensors(rng)
		params := map[string]*graph.Tensor{"w": w}
		if b != nil {
			params["b"] = b
		}
		got := runOp(t, 17, cc.node(false), map[string]*graph.Tensor{"x": x}, params)
		convClose(t, cc.name, got, convRef(cc, x, w, b), 1e-4)
	}
}

// TestConvTiled runs shapes large enough that the unfolded input is cut
// into several tiles of output rows, at batch 1 (parallel im2col) and 3.
func TestConvTiled(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2} {
		cc := convCase{name: "tiled", n: n, c: 32, h: 36, w: 36, m: 3, group: 1, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true}
		x, w, b := cc.tensors(rng)
		got := runOp(t, 11, cc.node(false), map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"w": w, "b": b})
		convClose(t, cc.name, got, convRef(cc, x, w, b), 1e-4)
	}
}

func TestConvGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cc := range convCases() {
		// Smaller shapes keep the finite differences quick.
		cc.n = min(cc.n, 2)
		x, w, b := cc.tensors(rng)
		params := map[string]*graph.Tensor{"w": w}
		if b != nil {
			params["b"] = b
		}
		inputs := map[string]*graph.Tensor{"x": x}
		t.Run(cc.name, func(t *testing.T) {
			gradCheck(t, opGraph(17, cc.node(false), inputs, params), inputs, 2e-2)
		})
	}
}

// TestConvGradTiled checks the backward pass across tiles and at batch 1
// with parallel col2im against the gradients of a batch computed sample
// by sample.
func TestConvGradTiled(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cc := convCase{n: 1, c: 32, h: 36, w: 36, m: 4, group: 1, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true}
	x, w, b := cc.tensors(rng)
	inputs := map[string]*graph.Tensor{"x": x}
	gradCheck(t, opGraph(17, cc.node(false), inputs, map[string]*graph.Tensor{"w": w, "b": b}), inputs, 3e-2)
}

// TestConvBatchGradMatchesSamples checks that the parallel batch backward
// (per-chunk dW accumulators) sums the per-sample gradients.
func TestConvBatchGradMatchesSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, cc := range []convCase{
		{n: 5, c: 4, h: 6, w: 6, m: 3, group: 1, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true},
		{n: 5, c: 4, h: 6, w: 6, m: 6, group: 2, kh: 1, kw: 1, bias: true},
		{n: 5, c: 4, h: 6, w: 6, m: 4, group: 4, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: true},
	} {
		x, w, b := cc.tensors(rng)
		dy := randTensor(rng, convRef(cc, x, w, b).Shape...)
		grads := func(n int, x, dy *graph.Tensor) (dx, dw, db []float32) {
			m, err := New(opGraph(17, cc.node(false), map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"w": w, "b": b}),
				Options{Train: true, InputGrads: true})
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.ProgramFor(map[string][]int{"x": x.Shape})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Run(map[string]*graph.Tensor{"x": x}); err != nil {
				t.Fatal(err)
			}
			if err := p.Backward(map[string]*graph.Tensor{"y": dy}); err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), p.InputGrad("x").F...), append([]float32(nil), m.Grad("w").F...), append([]float32(nil), m.Grad("b").F...)
		}
		dx, dw, db := grads(cc.n, x, dy)
		sw, sb := make([]float32, len(dw)), make([]float32, len(db))
		xs, ys := len(x.F)/cc.n, len(dy.F)/cc.n
		for s := range cc.n {
			xshape := append([]int{1}, x.Shape[1:]...)
			yshape := append([]int{1}, dy.Shape[1:]...)
			dxs, dws, dbs := grads(1, graph.NewFloat(xshape, x.F[s*xs:(s+1)*xs]), graph.NewFloat(yshape, dy.F[s*ys:(s+1)*ys]))
			for i, v := range dxs {
				if math.Abs(float64(v-dx[s*xs+i])) > 1e-4 {
					t.Fatalf("group %d: dx[%d,%d] = %g, per sample %g", cc.group, s, i, dx[s*xs+i], v)
				}
			}
			for i, v := range dws {
				sw[i] += v
			}
			for i, v := range dbs {
				sb[i] += v
			}
		}
		for i := range sw {
			if math.Abs(float64(sw[i]-dw[i])) > 1e-3*math.Max(1, math.Abs(float64(sw[i]))) {
				t.Fatalf("group %d: dw[%d] = %g, summed per sample %g", cc.group, i, dw[i], sw[i])
			}
		}
		for i := range sb {
			if math.Abs(float64(sb[i]-db[i])) > 1e-3*math.Max(1, math.Abs(float64(sb[i]))) {
				t.Fatalf("group %d: db[%d] = %g, summed per sample %g", cc.group, i, db[i], sb[i])
			}
		}
	}
}

func TestConvErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := randTensor(rng, 1, 4, 5, 5)
	for _, tc := range []struct {
		name  string
		w     *graph.Tensor
		attrs map[string]graph.Attr
		want  string
	}{
		{"channels", randTensor(rng, 3, 3, 3, 3), nil, "dimension 1"},
		{"group divides", randTensor(rng, 3, 2, 3, 3), map[string]graph.Attr{"group": graph.Int(2)}, "divide"},
		{"group zero", randTensor(rng, 3, 4, 3, 3), map[string]graph.Attr{"group": graph.Int(0)}, "group"},
		{"kernel mismatch", randTensor(rng, 3, 4, 3, 3), map[string]graph.Attr{"kernel_shape": graph.Ints(2, 2)}, "kernel_shape"},
		{"too large", randTensor(rng, 3, 4, 7, 3), nil, "larger than"},
		{"strides length", randTensor(rng, 3, 4, 3, 3), map[string]graph.Attr{"strides": graph.Ints(1)}, "strides"},
		{"zero stride", randTensor(rng, 3, 4, 3, 3), map[string]graph.Attr{"strides": graph.Ints(1, 0)}, "strides"},
		{"negative pad", randTensor(rng, 3, 4, 3, 3), map[string]graph.Attr{"pads": graph.Ints(1, 1, -1, 1)}, "pads"},
		{"huge pad", randTensor(rng, 3, 4, 3, 3), map[string]graph.Attr{"pads": graph.Ints(1<<40, 1, 1, 1)}, "pads"},
		{"auto_pad", randTensor(rng, 3, 4, 3, 3), map[string]graph.Attr{"auto_pad": graph.String("SAME")}, "auto_pad"},
		{"weight rank", randTensor(rng, 3, 4, 3), nil, "rank"},
		{"3-D", randTensor(rng, 3, 4, 3, 3, 3), nil, "rank"},
	} {
		n := graph.Node{Name: "c", Op: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: tc.attrs}
		m, err := New(opGraph(17, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"w": tc.w}), Options{})
		if err == nil {
			_, err = m.Run(map[string]*graph.Tensor{"x": x})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	// A 3-D input is refused clearly.
	x5 := randTensor(rng, 1, 2, 3, 3, 3)
	n := graph.Node{Name: "c", Op: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}
	m, err := New(opGraph(17, n, map[string]*graph.Tensor{"x": x5}, map[string]*graph.Tensor{"w": randTensor(rng, 2, 2, 1, 1, 1)}), Options{})
	if err == nil {
		_, err = m.Run(map[string]*graph.Tensor{"x": x5})
	}
	if err == nil || !strings.Contains(err.Error(), "2-D") {
		t.Errorf("3-D conv: %v", err)
	}
}

// TestConvBatchNormFolded checks that a Conv followed by a
// BatchNormalization gives the same output folded (the default for
// inference) and unfolded.
func TestConvBatchNormFolded(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, bias := range []bool{false, true} {
		cc := convCase{n: 2, c: 3, h: 6, w: 6, m: 4, group: 1, kh: 3, kw: 3, pads: []int64{1, 1, 1, 1}, bias: bias}
		x, w, b := cc.tensors(rng)
		params := map[string]*graph.Tensor{"w": w, "scale": randTensor(rng, 4), "shift": randTensor(rng, 4),
			"mean": randTensor(rng, 4), "var": randTensor(rng, 4)}
		for i := range params["var"].F {
			params["var"].F[i] = 0.5 + params["var"].F[i]*params["var"].F[i]
		}
		conv := cc.node(false)
		conv.Outputs = []string{"h"}
		if b != nil {
			params["b"] = b
		}
		g := &graph.Graph{Name: "convbn", Opset: 17, Params: params,
			Inputs:  []graph.Value{{Name: "x", DType: graph.Float32, Shape: []graph.Dim{{Size: 2}, {Size: 3}, {Size: 6}, {Size: 6}}}},
			Outputs: []graph.Value{{Name: "y", DType: graph.Float32}},
			Nodes: []graph.Node{conv, {Name: "bn", Op: "BatchNormalization", Inputs: []string{"h", "scale", "shift", "mean", "var"},
				Outputs: []string{"y"}, Attrs: map[string]graph.Attr{"epsilon": graph.Float(1e-3)}}}}
		var outs [2]*graph.Tensor
		for i, noFold := range []bool{false, true} {
			m, err := New(g, Options{NoFold: noFold})
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Run(map[string]*graph.Tensor{"x": x})
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = out["y"].Clone()
		}
		convClose(t, "folded vs unfolded", outs[0], outs[1], 1e-4)
	}
}

// convTCase is one ConvTranspose configuration; h == 0 means 1-D.
type convTCase struct {
	name                string
	n, c, h, w, mg, grp int
	kh, kw              int
	attrs               map[string]graph.Attr
	bias                bool
	// expected output spatial size and leading pads (from the spec).
	oh, ow, pt, pl int
}

func (tc convTCase) tensors(rng *rand.Rand) (x, w, b *graph.Tensor) {
	if tc.h == 0 {
		x = randTensor(rng, tc.n, tc.c, tc.w)
		w = randTensor(rng, tc.c, tc.mg, tc.kw)
	} else {
		x = randTensor(rng, tc.n, tc.c, tc.h, tc.w)
		w = randTensor(rng, tc.c, tc.mg, tc.kh, tc.kw)
	}
	if tc.bias {
		b = randTensor(rng, tc.mg*tc.grp)
	}
	return
}

func (tc convTCase) node() graph.Node {
	a := map[string]graph.Attr{}
	for k, v := range tc.attrs {
		a[k] = v
	}
	if tc.grp != 1 {
		a["group"] = graph.Int(int64(tc.grp))
	}
	n := graph.Node{Name: "ct", Op: "ConvTranspose", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: a}
	if tc.bias {
		n.Inputs = append(n.Inputs, "b")
	}
	return n
}

// convTRef scatters every input element through the kernel.
func convTRef(tc convTCase, x, w, b *graph.Tensor) *graph.Tensor {
	ints := func(name string, def int64, n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = int(def)
		}
		if a, ok := tc.attrs[name]; ok {
			for i, v := range a.Ints {
				out[i] = int(v)
			}
		}
		return out
	}
	nsp, h, kh := 2, tc.h, tc.kh
	if tc.h == 0 {
		nsp, h, kh = 1, 1, 1
	}
	st, di := ints("strides", 1, nsp), ints("dilations", 1, nsp)
	sh, sw, dh, dw := 1, st[0], 1, di[0]
	if nsp == 2 {
		sh, sw, dh, dw = st[0], st[1], di[0], di[1]
	}
	m := tc.mg * tc.grp
	cg := tc.c / tc.grp
	oh, ow := tc.oh, tc.ow
	if nsp == 1 {
		oh = 1
	}
	shape := []int{tc.n, m, oh, ow}
	if nsp == 1 {
		shape = []int{tc.n, m, ow}
	}
	y := graph.NewFloat(shape, make([]float32, tc.n*m*oh*ow))
	acc := make([]float64, len(y.F))
	for n := range tc.n {
		for c := range tc.c {
			g := c / cg
			for i := range h {
				for j := range tc.w {
					xv := float64(x.F[((n*tc.c+c)*h+i)*tc.w+j])
					for mm := range tc.mg {
						o := g*tc.mg + mm
						for u := range kh {
							for v := range tc.kw {
								p, q := i*sh-tc.pt+u*dh, j*sw-tc.pl+v*dw
								if p < 0 || p >= oh || q < 0 || q >= ow {
									continue
								}
								acc[((n*m+o)*oh+p)*ow+q] += xv * float64(w.F[((c*tc.mg+mm)*kh+u)*tc.kw+v])
							}
						}
					}
				}
			}
		}
	}
	for i, v := range acc {
		if b != nil {
			v += float64(b.F[i/(oh*ow)%m])
		}
		y.F[i] = float32(v)
	}
	return y
}

func convTCases() []convTCase {
	return []convTCase{
		{name: "k2 s2 (U-Net up)", n: 2, c: 3, h: 4, w: 5, mg: 2, grp: 1, kh: 2, kw: 2,
			attrs: map[string]graph.Attr{"strides": graph.Ints(2, 2)}, bias: true, oh: 8, ow: 10},
		{name: "k3 s2 p1 outpad1", n: 1, c: 2, h: 4, w: 3, mg: 3, grp: 1, kh: 3, kw: 3,
			attrs: map[string]graph.Attr{"strides": graph.Ints(2, 2), "pads": graph.Ints(1, 1, 1, 1), "output_padding": graph.Ints(1, 1)},
			bias:  true, oh: 8, ow: 6, pt: 1, pl: 1},
		{name: "asym pads dilated", n: 2, c: 2, h: 3, w: 4, mg: 2, grp: 1, kh: 2, kw: 3,
			attrs: map[string]graph.Attr{"dilations": graph.Ints(2, 1), "pads": graph.Ints(0, 1, 1, 2)}, oh: 4, ow: 3, pt: 0, pl: 1},
		{name: "groups", n: 2, c: 4, h: 3, w: 3, mg: 3, grp: 2, kh: 3, kw: 3,
			attrs: map[string]graph.Attr{"strides": graph.Ints(1, 2)}, bias: true, oh: 5, ow: 7},
		{name: "output_shape SAME_UPPER", n: 1, c: 2, h: 3, w: 3, mg: 2, grp: 1, kh: 3, kw: 3,
			attrs: map[string]graph.Attr{"strides": graph.Ints(2, 2), "output_shape": graph.Ints(6, 6), "auto_pad": graph.String("SAME_UPPER")},
			oh:    6, ow: 6, pt: 0, pl: 0},
		{name: "output_shape NOTSET", n: 1, c: 2, h: 3, w: 3, mg: 2, grp: 1, kh: 3, kw: 3,
			attrs: map[string]graph.Attr{"strides": graph.Ints(2, 2), "output_shape": graph.Ints(1, 2, 6, 5)},
			oh:    6, ow: 5, pt: 1, pl: 1},
		{name: "SAME_LOWER", n: 1, c: 2, h: 3, w: 2, mg: 1, grp: 1, kh: 2, kw: 4,
			attrs: map[string]graph.Attr{"strides": graph.Ints(2, 2), "auto_pad": graph.String("SAME_LOWER")}, oh: 6, ow: 4, pt: 0, pl: 1},
		{name: "VALID", n: 1, c: 2, h: 3, w: 3, mg: 2, grp: 1, kh: 2, kw: 2,
			attrs: map[string]graph.Attr{"strides": graph.Ints(3, 3), "auto_pad": graph.String("VALID"), "pads": graph.Ints(1, 1, 1, 1)}, oh: 8, ow: 8},
		{name: "1-D", n: 2, c: 3, w: 5, mg: 2, grp: 1, kw: 3,
			attrs: map[string]graph.Attr{"strides": graph.Ints(2), "pads": graph.Ints(1, 0)}, bias: true, ow: 10, pl: 1},
	}
}

func TestConvTransposeForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, tc := range convTCases() {
		x, w, b := tc.tensors(rng)
		params := map[string]*graph.Tensor{"w": w}
		if b != nil {
			params["b"] = b
		}
		got := runOp(t, 17, tc.node(), map[string]*graph.Tensor{"x": x}, params)
		convClose(t, tc.name, got, convTRef(tc, x, w, b), 1e-4)
	}
	// Large enough for several tiles and the parallel col2im.
	tc := convTCase{name: "tiled", n: 1, c: 8, h: 40, w: 40, mg: 20, grp: 1, kh: 3, kw: 3,
		attrs: map[string]graph.Attr{"pads": graph.Ints(1, 1, 1, 1)}, oh: 40, ow: 40, pt: 1, pl: 1}
	for _, n := range []int{1, 2} {
		tc.n = n
		x, w, _ := tc.tensors(rng)
		got := runOp(t, 17, tc.node(), map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"w": w})
		convClose(t, tc.name, got, convTRef(tc, x, w, nil), 1e-4)
	}
}

func TestConvTransposeGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, tc := range convTCases() {
		x, w, b := tc.tensors(rng)
		params := map[string]*graph.Tensor{"w": w}
		if b != nil {
			params["b"] = b
		}
		inputs := map[string]*graph.Tensor{"x": x}
		t.Run(tc.name, func(t *testing.T) {
			gradCheck(t, opGraph(17, tc.node(), inputs, params), inputs, 2e-2)
		})
	}
}

func TestConvTransposeErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	x := randTensor(rng, 1, 4, 3, 3)
	for _, tc := range []struct {
		name  string
		w     *graph.Tensor
		attrs map[string]graph.Attr
		want  string
	}{
		{"channels", randTensor(rng, 3, 2, 3, 3), nil, "dimension 0"},
		{"group", randTensor(rng, 4, 2, 3, 3), map[string]graph.Attr{"group": graph.Int(3)}, "divide"},
		{"output_padding", randTensor(rng, 4, 2, 3, 3), map[string]graph.Attr{"output_padding": graph.Ints(1, 1)}, "output_padding"},
		{"output_shape too large", randTensor(rng, 4, 2, 3, 3), map[string]graph.Attr{"output_shape": graph.Ints(9, 9)}, "larger"},
		{"pads too large", randTensor(rng, 4, 2, 3, 3), map[string]graph.Attr{"pads": graph.Ints(3, 3, 3, 3)}, "empty output"},
		{"output_shape rank", randTensor(rng, 4, 2, 3, 3), map[string]graph.Attr{"output_shape": graph.Ints(3)}, "output_shape"},
	} {
		n := graph.Node{Name: "ct", Op: "ConvTranspose", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: tc.attrs}
		m, err := New(opGraph(17, n, map[string]*graph.Tensor{"x": x}, map[string]*graph.Tensor{"w": tc.w}), Options{})
		if err == nil {
			_, err = m.Run(map[string]*graph.Tensor{"x": x})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestConvRandomized draws many small configurations, some invalid: the
// builder must refuse those with an error (never a panic) and compute the
// others like the reference.
var convRandomN = 600

func TestConvRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	pads := []string{"", "", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"}
	ok := 0
	for range convRandomN {
		group := 1 + rng.IntN(3)
		cc := convCase{n: rng.IntN(3), c: group * (1 + rng.IntN(2)), h: rng.IntN(7), w: rng.IntN(7),
			m: group * (1 + rng.IntN(2)), group: group, kh: 1 + rng.IntN(3), kw: 1 + rng.IntN(3), bias: rng.IntN(2) == 0,
			autoPad: pads[rng.IntN(len(pads))]}
		if rng.IntN(4) == 0 {
			cc.group = cc.c // depthwise
			cc.m = cc.c * (1 + rng.IntN(2))
		}
		if rng.IntN(2) == 0 {
			cc.strides = []int64{int64(1 + rng.IntN(3)), int64(1 + rng.IntN(3))}
		}
		if rng.IntN(3) == 0 {
			cc.dilations = []int64{int64(1 + rng.IntN(2)), int64(1 + rng.IntN(2))}
		}
		if rng.IntN(2) == 0 {
			pm := 3
			if rng.IntN(4) == 0 {
				pm = 8 // pads wider than the input and the kernel
			}
			cc.pads = []int64{int64(rng.IntN(pm)), int64(rng.IntN(pm)), int64(rng.IntN(pm)), int64(rng.IntN(pm))}
		}
		x, w, b := cc.tensors(rng)
		params := map[string]*graph.Tensor{"w": w}
		if b != nil {
			params["b"] = b
		}
		inputs := map[string]*graph.Tensor{"x": x}
		m, err := New(opGraph(17, cc.node(false), inputs, params), Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Run(inputs)
		if err != nil {
			continue
		}
		ok++
		convClose(t, fmt.Sprintf("%+v", cc), out["y"], convRef(cc, x, w, b), 1e-4)
	}
	if ok < convRandomN/4 {
		t.Fatalf("only %d of %d configurations ran", ok, convRandomN)
	}
}

// TestConvTransposeRandomized: random explicit-padding configurations,
// errors allowed (no panics), results like the reference.
func TestConvTransposeRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	ok := 0
	for range convRandomN / 3 {
		grp := 1 + rng.IntN(2)
		tc := convTCase{n: rng.IntN(3), c: grp * (1 + rng.IntN(2)), h: 1 + rng.IntN(4), w: 1 + rng.IntN(4), mg: 1 + rng.IntN(2), grp: grp,
			kh: 1 + rng.IntN(3), kw: 1 + rng.IntN(3), bias: rng.IntN(2) == 0}
		s := []int64{int64(1 + rng.IntN(3)), int64(1 + rng.IntN(3))}
		d := []int64{int64(1 + rng.IntN(2)), int64(1 + rng.IntN(2))}
		p := []int64{int64(rng.IntN(3)), int64(rng.IntN(3)), int64(rng.IntN(3)), int64(rng.IntN(3))}
		op := []int64{int64(rng.IntN(2)), int64(rng.IntN(2))}
		tc.attrs = map[string]graph.Attr{"strides": graph.Ints(s...), "dilations": graph.Ints(d...), "pads": graph.Ints(p...), "output_padding": graph.Ints(op...)}
		tc.oh = int(s[0])*(tc.h-1) + int(op[0]) + (tc.kh-1)*int(d[0]) + 1 - int(p[0]) - int(p[2])
		tc.ow = int(s[1])*(tc.w-1) + int(op[1]) + (tc.kw-1)*int(d[1]) + 1 - int(p[1]) - int(p[3])
		tc.pt, tc.pl = int(p[0]), int(p[1])
		x, w, b := tc.tensors(rng)
		params := map[string]*graph.Tensor{"w": w}
		if b != nil {
			params["b"] = b
		}
		inputs := map[string]*graph.Tensor{"x": x}
		m, err := New(opGraph(17, tc.node(), inputs, params), Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Run(inputs)
		if err != nil {
			if tc.oh >= 1 && tc.ow >= 1 && op[0] < max(s[0], d[0]) && op[1] < max(s[1], d[1]) {
				t.Fatalf("%+v: %v", tc, err)
			}
			continue
		}
		ok++
		convClose(t, fmt.Sprintf("%+v", tc), out["y"], convTRef(tc, x, w, b), 1e-4)
	}
	if ok < convRandomN/10 {
		t.Fatalf("only %d of %d configurations ran", ok, convRandomN/3)
	}
}

// convRefGrad evaluates the Conv gradients directly: dx, dw and db for
// the output gradient dy.
func convRefGrad(cc convCase, x, w, dy *graph.Tensor) (dx, dw, db []float64) {
	h, kh := cc.h, cc.kh
	sh, sw, dh, dwl := 1, 1, 1, 1
	var pt, pl, pb, pr int
	st, di, pa := cc.strides, cc.dilations, cc.pads
	if cc.h == 0 {
		h, kh = 1, 1
		if st != nil {
			sw = int(st[0])
		}
		if di != nil {
			dwl = int(di[0])
		}
		if pa != nil {
			pl, pr = int(pa[0]), int(pa[1])
		}
	} else {
		if st != nil {
			sh, sw = int(st[0]), int(st[1])
		}
		if di != nil {
			dh, dwl = int(di[0]), int(di[1])
		}
		if pa != nil {
			pt, pl, pb, pr = int(pa[0]), int(pa[1]), int(pa[2]), int(pa[3])
		}
	}
	oh, pt := convAxis(h, kh, sh, dh, pt, pb, cc.autoPad)
	ow, pl := convAxis(cc.w, cc.kw, sw, dwl, pl, pr, cc.autoPad)
	cg, mg := cc.c/cc.group, cc.m/cc.group
	dx, dw, db = make([]float64, len(x.F)), make([]float64, len(w.F)), make([]float64, cc.m)
	for n := range cc.n {
		for m := range cc.m {
			g := m / mg
			for i := range oh {
				for j := range ow {
					d := float64(dy.F[((n*cc.m+m)*oh+i)*ow+j])
					db[m] += d
					for c := range cg {
						for u := range kh {
							for v := range cc.kw {
								iy, ix := i*sh-pt+u*dh, j*sw-pl+v*dwl
								if iy < 0 || iy >= h || ix < 0 || ix >= cc.w {
									continue
								}
								xi := ((n*cc.c+g*cg+c)*h+iy)*cc.w + ix
								wi := ((m*cg+c)*kh+u)*cc.kw + v
								dx[xi] += d * float64(w.F[wi])
								dw[wi] += d * float64(x.F[xi])
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db
}

// TestConvGradRandomized compares the backward pass with convRefGrad on
// random configurations (all the kernels: im2col in whole and in blocks,
// pointwise, depthwise gather and scatter; batch 1 and more).
func TestConvGradRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(57, 58))
	pads := []string{"", "", "SAME_UPPER", "SAME_LOWER", "VALID"}
	ok := 0
	for range convRandomN / 4 {
		group := 1 + rng.IntN(2)
		cc := convCase{n: 1 + rng.IntN(3), c: group * (1 + rng.IntN(2)), h: 1 + rng.IntN(7), w: 1 + rng.IntN(7),
			m: group * (1 + rng.IntN(2)), group: group, kh: 1 + rng.IntN(3), kw: 1 + rng.IntN(4), bias: true,
			autoPad: pads[rng.IntN(len(pads))]}
		if rng.IntN(3) == 0 {
			cc.group = cc.c
			cc.m = cc.c * (1 + rng.IntN(2))
		}
		if rng.IntN(2) == 0 {
			cc.strides = []int64{int64(1 + rng.IntN(2)), int64(1 + rng.IntN(3))}
		}
		if rng.IntN(3) == 0 {
			cc.dilations = []int64{int64(1 + rng.IntN(2)), int64(1 + rng.IntN(2))}
		}
		if rng.IntN(2) == 0 {
			cc.pads = []int64{int64(rng.IntN(4)), int64(rng.IntN(4)), int64(rng.IntN(4)), int64(rng.IntN(4))}
		}
		x, w, b := cc.tensors(rng)
		inputs := map[string]*graph.Tensor{"x": x}
		m, err := New(opGraph(17, cc.node(false), inputs, map[string]*graph.Tensor{"w": w, "b": b}), Options{Train: true, InputGrads: true})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.ProgramFor(map[string][]int{"x": x.Shape})
		if err != nil {
			continue
		}
		ok++
		if _, err := p.Run(inputs); err != nil {
			t.Fatal(err)
		}
		dy := randTensor(rng, p.OutputShape("y")...)
		if err := p.Backward(map[string]*graph.Tensor{"y": dy}); err != nil {
			t.Fatal(err)
		}
		dx, dw, db := convRefGrad(cc, x, w, dy)
		for _, c := range []struct {
			what string
			got  []float32
			want []float64
		}{{"dx", p.InputGrad("x").F, dx}, {"dw", m.Grad("w").F, dw}, {"db", m.Grad("b").F, db}} {
			for i := range c.want {
				if math.Abs(float64(c.got[i])-c.want[i]) > 1e-4*math.Max(1, math.Abs(c.want[i])) {
					t.Fatalf("%+v: %s[%d] = %g, want %g", cc, c.what, i, c.got[i], c.want[i])
				}
			}
		}
	}
	t.Logf("%d configurations ran", ok)
	if ok < convRandomN/16 {
		t.Fatalf("only %d configurations ran", ok)
	}
}
