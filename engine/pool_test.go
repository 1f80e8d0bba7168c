package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// poolCase is one pooling configuration; h == 0 means a 1-D input.
type poolCase struct {
	name              string
	n, c, h, w        int
	kernel, strides   []int64
	dilations, pads   []int64
	autoPad           string
	ceil, includePad  bool
	wantOutH, wantOut int // expected output sizes when non-zero (spot checks)
}

func (pc poolCase) node(op string) graph.Node {
	a := map[string]graph.Attr{"kernel_shape": graph.Ints(pc.kernel...)}
	if pc.strides != nil {
		a["strides"] = graph.Ints(pc.strides...)
	}
	if pc.dilations != nil {
		a["dilations"] = graph.Ints(pc.dilations...)
	}
	if pc.pads != nil {
		a["pads"] = graph.Ints(pc.pads...)
	}
	if pc.autoPad != "" {
		a["auto_pad"] = graph.String(pc.autoPad)
	}
	if pc.ceil {
		a["ceil_mode"] = graph.Int(1)
	}
	if pc.includePad {
		a["count_include_pad"] = graph.Int(1)
	}
	return graph.Node{Name: "pool", Op: op, Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: a}
}

// axes returns per spatial axis (always two, the first trivial for 1-D):
// input size, kernel, stride, dilation, pad before, pad after.
func (pc poolCase) axes() (ax [2][6]int) {
	ax[0] = [6]int{1, 1, 1, 1, 0, 0}
	ax[1] = [6]int{pc.w, 1, 1, 1, 0, 0}
	first := 0
	if pc.h == 0 {
		first = 1
	} else {
		ax[0][0] = pc.h
	}
	nsp := 2 - first
	for i := range nsp {
		a := &ax[first+i]
		a[1] = int(pc.kernel[i])
		if pc.strides != nil {
			a[2] = int(pc.strides[i])
		}
		if pc.dilations != nil {
			a[3] = int(pc.dilations[i])
		}
		if pc.pads != nil {
			a[4], a[5] = int(pc.pads[i]), int(pc.pads[nsp+i])
		}
	}
	return ax
}

// poolRef evaluates the pooling definitions directly.
func poolRef(pc poolCase, x *graph.Tensor, isMax bool) *graph.Tensor {
	ax := pc.axes()
	var outs [2]int
	for i := range ax {
		in, k, s, d, pb, pe := ax[i][0], ax[i][1], ax[i][2], ax[i][3], ax[i][4], ax[i][5]
		dk := (k-1)*d + 1
		switch pc.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			outs[i] = (in + s - 1) / s
			total := max(0, (outs[i]-1)*s+dk-in)
			pb, pe = total/2, total-total/2
			if pc.autoPad == "SAME_LOWER" {
				pb, pe = pe, pb
			}
		case "VALID":
			pb, pe = 0, 0
			outs[i] = (in-dk)/s + 1
		default:
			if pc.ceil {
				outs[i] = (in+pb+pe-dk+s-1)/s + 1
				if (outs[i]-1)*s >= in+pb {
					outs[i]--
				}
			} else {
				outs[i] = (in+pb+pe-dk)/s + 1
			}
		}
		ax[i][4], ax[i][5] = pb, pe
	}
	shape := []int{pc.n, pc.c, outs[0], outs[1]}
	if pc.h == 0 {
		shape = []int{pc.n, pc.c, outs[1]}
	}
	h, w := ax[0][0], ax[1][0]
	y := graph.NewFloat(shape, make([]float32, numel(shape)))
	for p := range pc.n * pc.c {
		for i := range outs[0] {
			for j := range outs[1] {
				best, sum, count, padded := float32(math.Inf(-1)), 0.0, 0, 0
				for u := range ax[0][1] {
					iy := i*ax[0][2] - ax[0][4] + u*ax[0][3]
					for v := range ax[1][1] {
						ix := j*ax[1][2] - ax[1][4] + v*ax[1][3]
						if iy >= -ax[0][4] && iy < h+ax[0][5] && ix >= -ax[1][4] && ix < w+ax[1][5] {
							padded++
						}
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						xv := x.F[(p*h+iy)*w+ix]
						best = max(best, xv)
						sum += float64(xv)
						count++
					}
				}
				o := &y.F[(p*outs[0]+i)*outs[1]+j]
				switch {
				case isMax:
					*o = best
				case pc.includePad:
					*o = float32(sum / float64(padded))
				default:
					*o = float32(sum / float64(count))
				}
			}
		}
	}
	return y
}

func poolCases() []poolCase {
	return []poolCase{
		{name: "3x3 s2 p1 (ResNet stem)", n: 2, c: 3, h: 9, w: 8, kernel: []int64{3, 3}, strides: []int64{2, 2}, pads: []int64{1, 1, 1, 1}},
		{name: "2x2 s2", n: 1, c: 2, h: 6, w: 7, kernel: []int64{2, 2}, strides: []int64{2, 2}},
		{name: "2x2 s2 ceil", n: 2, c: 2, h: 7, w: 7, kernel: []int64{2, 2}, strides: []int64{2, 2}, ceil: true, wantOutH: 4},
		{name: "3x3 s2 p1 ceil", n: 1, c: 2, h: 8, w: 9, kernel: []int64{3, 3}, strides: []int64{2, 2}, pads: []int64{1, 1, 1, 1}, ceil: true},
		{name: "asymmetric pads", n: 1, c: 2, h: 6, w: 6, kernel: []int64{3, 2}, strides: []int64{1, 2}, pads: []int64{0, 1, 2, 1}},
		{name: "dilated", n: 2, c: 1, h: 9, w: 10, kernel: []int64{2, 3}, dilations: []int64{2, 2}, pads: []int64{1, 2, 1, 0}},
		{name: "SAME_UPPER", n: 1, c: 3, h: 7, w: 6, kernel: []int64{3, 2}, strides: []int64{2, 2}, autoPad: "SAME_UPPER"},
		{name: "SAME_LOWER", n: 1, c: 2, h: 5, w: 6, kernel: []int64{2, 3}, autoPad: "SAME_LOWER"},
		{name: "VALID", n: 1, c: 2, h: 7, w: 6, kernel: []int64{3, 3}, strides: []int64{2, 1}, autoPad: "VALID"},
		{name: "include pad", n: 2, c: 2, h: 6, w: 7, kernel: []int64{3, 3}, strides: []int64{2, 2}, pads: []int64{1, 1, 1, 1}, includePad: true},
		{name: "include pad ceil", n: 1, c: 2, h: 6, w: 6, kernel: []int64{3, 3}, strides: []int64{2, 2}, pads: []int64{1, 1, 1, 1}, includePad: true, ceil: true},
		{name: "1-D", n: 2, c: 3, w: 11, kernel: []int64{3}, strides: []int64{2}, pads: []int64{1, 0}},
		{name: "1-D ceil include pad", n: 1, c: 2, w: 10, kernel: []int64{4}, strides: []int64{3}, pads: []int64{1, 1}, ceil: true, includePad: true},
	}
}

func poolInput(rng *rand.Rand, pc poolCase) *graph.Tensor {
	shape := []int{pc.n, pc.c, pc.h, pc.w}
	if pc.h == 0 {
		shape = []int{pc.n, pc.c, pc.w}
	}
	// Distinct values 0.05 apart, so that finite differences never swap a
	// window's maximum.
	t := graph.NewFloat(shape, make([]float32, numel(shape)))
	for i, p := range rng.Perm(len(t.F)) {
		t.F[i] = float32(p)*0.05 - 1
	}
	return t
}

func TestPoolForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, pc := range poolCases() {
		for _, op := range []string{"MaxPool", "AveragePool"} {
			x := poolInput(rng, pc)
			got := runOp(t, 17, pc.node(op), map[string]*graph.Tensor{"x": x}, nil)
			want := poolRef(pc, x, op == "MaxPool")
			convClose(t, op+" "+pc.name, got, want, 1e-5)
			if pc.wantOutH != 0 && got.Shape[2] != pc.wantOutH {
				t.Errorf("%s %s: output %v", op, pc.name, got.Shape)
			}
		}
	}
}

func TestPoolGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, pc := range poolCases() {
		for _, op := range []string{"MaxPool", "AveragePool"} {
			inputs := map[string]*graph.Tensor{"x": poolInput(rng, pc)}
			t.Run(op+" "+pc.name, func(t *testing.T) {
				gradCheck(t, opGraph(17, pc.node(op), inputs, nil), inputs, 1e-2)
			})
		}
	}
}

func TestGlobalPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, shape := range [][]int{{1, 3, 5}, {2, 4, 3, 5}, {3, 2, 2, 3, 2}} {
		for _, op := range []string{"GlobalAveragePool", "GlobalMaxPool"} {
			pc := poolCase{n: shape[0], c: shape[1], w: numel(shape[2:])}
			x := poolInput(rng, pc)
			x.Shape = shape
			n := graph.Node{Name: "g", Op: op, Inputs: []string{"x"}, Outputs: []string{"y"}}
			got := runOp(t, 17, n, map[string]*graph.Tensor{"x": x}, nil)
			want := make([]int, len(shape))
			copy(want, shape[:2])
			for i := 2; i < len(want); i++ {
				want[i] = 1
			}
			inner := numel(shape[2:])
			ref := graph.NewFloat(want, make([]float32, shape[0]*shape[1]))
			for p := range ref.F {
				plane := x.F[p*inner : (p+1)*inner]
				s, m := 0.0, plane[0]
				for _, v := range plane {
					s += float64(v)
					m = max(m, v)
				}
				if op == "GlobalMaxPool" {
					ref.F[p] = m
				} else {
					ref.F[p] = float32(s / float64(inner))
				}
			}
			convClose(t, op+" "+ShapeString(shape), got, ref, 1e-5)
			inputs := map[string]*graph.Tensor{"x": x}
			gradCheck(t, opGraph(17, n, inputs, nil), inputs, 1e-2)
		}
	}
}

func TestPoolErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	x := randTensor(rng, 1, 2, 6, 6)
	for _, tc := range []struct {
		name, op string
		attrs    map[string]graph.Attr
		outs     []string
		want     string
	}{
		{"no kernel", "MaxPool", nil, nil, "kernel_shape"},
		{"indices", "MaxPool", map[string]graph.Attr{"kernel_shape": graph.Ints(2, 2)}, []string{"y", "idx"}, "Indices"},
		{"kernel rank", "AveragePool", map[string]graph.Attr{"kernel_shape": graph.Ints(2)}, nil, "kernel_shape"},
		{"too large", "MaxPool", map[string]graph.Attr{"kernel_shape": graph.Ints(7, 2)}, nil, "larger than"},
		{"pad too large", "AveragePool", map[string]graph.Attr{"kernel_shape": graph.Ints(2, 2), "pads": graph.Ints(2, 0, 0, 0)}, nil, "pads"},
		{"ceil_mode", "MaxPool", map[string]graph.Attr{"kernel_shape": graph.Ints(2, 2), "ceil_mode": graph.Int(3)}, nil, "ceil_mode"},
		{"zero stride", "MaxPool", map[string]graph.Attr{"kernel_shape": graph.Ints(2, 2), "strides": graph.Ints(0, 1)}, nil, "strides"},
	} {
		outs := tc.outs
		if outs == nil {
			outs = []string{"y"}
		}
		n := graph.Node{Name: "p", Op: tc.op, Inputs: []string{"x"}, Outputs: outs, Attrs: tc.attrs}
		m, err := New(opGraph(17, n, map[string]*graph.Tensor{"x": x}, nil), Options{})
		if err == nil {
			_, err = m.Run(map[string]*graph.Tensor{"x": x})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	n := graph.Node{Name: "g", Op: "GlobalAveragePool", Inputs: []string{"x"}, Outputs: []string{"y"}}
	x2 := randTensor(rng, 2, 3)
	m, err := New(opGraph(17, n, map[string]*graph.Tensor{"x": x2}, nil), Options{})
	if err == nil {
		_, err = m.Run(map[string]*graph.Tensor{"x": x2})
	}
	if err == nil || !strings.Contains(err.Error(), "spatial") {
		t.Errorf("global pool of a matrix: %v", err)
	}
}

// TestPoolRandomized: random configurations, errors allowed (no panics),
// results like the reference.
var poolRandomN = 300

func TestPoolRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	pads := []string{"", "", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"}
	ok := 0
	for range poolRandomN {
		pc := poolCase{n: rng.IntN(3), c: 1 + rng.IntN(2), h: 1 + rng.IntN(6), w: 1 + rng.IntN(6),
			kernel: []int64{int64(1 + rng.IntN(3)), int64(1 + rng.IntN(3))}, autoPad: pads[rng.IntN(len(pads))],
			ceil: rng.IntN(2) == 0, includePad: rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			pc.strides = []int64{int64(1 + rng.IntN(3)), int64(1 + rng.IntN(3))}
		}
		if rng.IntN(3) == 0 {
			pc.dilations = []int64{int64(1 + rng.IntN(2)), int64(1 + rng.IntN(2))}
		}
		if rng.IntN(2) == 0 {
			pc.pads = []int64{int64(rng.IntN(2)), int64(rng.IntN(2)), int64(rng.IntN(2)), int64(rng.IntN(2))}
		}
		for _, op := range []string{"MaxPool", "AveragePool"} {
			x := poolInput(rng, pc)
			inputs := map[string]*graph.Tensor{"x": x}
			// Training programs take MaxPool's argmax-recording path.
			m, err := New(opGraph(17, pc.node(op), inputs, nil), Options{Train: rng.IntN(2) == 0})
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Run(inputs)
			if err != nil {
				continue
			}
			ok++
			convClose(t, fmt.Sprintf("%s %+v", op, pc), out["y"], poolRef(pc, x, op == "MaxPool"), 1e-5)
		}
	}
	if ok < poolRandomN*2/3 {
		t.Fatalf("only %d of %d configurations ran", ok, 2*poolRandomN)
	}
}
