package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// simdSpecials are inputs whose handling the vector loops must share
// with the Go loops: signed zeros, infinities, NaNs of both signs, the
// HardSwish and HardSigmoid kinks, subnormals.
var simdSpecials = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), -float32(math.NaN()), 3, -3, 2.5, -2.5, 6, -6, 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32}

// TestSimdActivations compares the forward loops of Relu, Clip,
// HardSigmoid and HardSwish (vector bulk and Go tail) bit for bit with
// the scalar definitions, on lengths around the vector block.
func TestSimdActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	type tc struct {
		op   unaryOp
		a, b float32
		ref  func(v float32) float32
	}
	cases := []tc{
		{unRelu, 0, 0, func(v float32) float32 {
			if math.Signbit(float64(v)) {
				return 0
			}
			return v
		}},
		{unClip, -1, 1.5, func(v float32) float32 { return min(max(v, -1), 1.5) }},
		{unClip, 0, 6, func(v float32) float32 { return min(max(v, 0), 6) }},
		{unHardSigmoid, 0.2, 0.5, func(v float32) float32 { return min(max(0.2*v+0.5, 0), 1) }},
		{unHardSigmoid, 1.0 / 6, 0.5, func(v float32) float32 { return min(max(float32(1.0/6)*v+0.5, 0), 1) }},
		{unHardSwish, 0, 0, func(v float32) float32 { return v * min(max(v*(1.0/6)+0.5, 0), 1) }},
	}
	for _, n := range []int{0, 1, 31, 32, 33, 64, 95, 1000} {
		x := make([]float32, n)
		for i := range x {
			if rng.IntN(4) == 0 {
				x[i] = simdSpecials[rng.IntN(len(simdSpecials))]
			} else {
				x[i] = float32(rng.NormFloat64() * 4)
			}
		}
		for _, c := range cases {
			k := &unaryKernel{op: c.op, alpha: c.a, beta: c.b, n: n}
			y := make([]float32, n)
			k.x, k.y = x, y
			k.forward(0, n)
			for i, v := range x {
				want := c.ref(v)
				got := y[i]
				same := math.Float32bits(got) == math.Float32bits(want) ||
					(got != got && want != want) || (got == 0 && want == 0)
				if !same {
					t.Fatalf("op %d (%v, %v), n %d: f(%v) = %v, want %v", c.op, c.a, c.b, n, v, got, want)
				}
			}
		}
	}
}

// TestSimdDwTaps compares the tap kernel with dwTapsGo (to FMA rounding)
// on lengths of whole vectors and several tap counts.
func TestSimdDwTaps(t *testing.T) {
	defer func(v int) { dwVec = v }(dwVec)
	for _, vec := range append(dwVecAll(), 1) {
		dwVec = vec
		simdDwTaps(t, vec)
	}
}

func simdDwTaps(t *testing.T, vec int) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, nv := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31} {
		for _, ntaps := range []int{1, 3, 9, 25} {
			n := nv * vec
			offs := make([]int, ntaps)
			for i := range offs {
				offs[i] = rng.IntN(40)
			}
			w := simdRand(rng, ntaps)
			src := simdRand(rng, n+40)
			got, want := make([]float32, n), make([]float32, n)
			dwTaps(got, src, offs, w, 0.25)
			dwTapsGo(want, src, offs, w, 0.25)
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("width %d, n %d, %d taps: dst[%d] = %v, want %v", vec, n, ntaps, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSimdDepthwisePlane compares the phase-plane layout (with the
// machine's vector width and with small ones, so that it is also
// exercised without the assembly) with the scalar plane loops, over
// strides, dilations, pads and kernel sizes.
func TestSimdDepthwisePlane(t *testing.T) {
	simdDepthwisePlane(t)
	simdWithout512(func() { simdDepthwisePlane(t) })
}

func simdDepthwisePlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	win := func(k, s, d, p int) convWindow {
		return convWindow{kernel: [2]int{k, k}, strides: [2]int{s, s}, dilations: [2]int{d, d}, pads: [4]int{p, p, p, p}, autoPad: "NOTSET"}
	}
	checked := 0
	for _, vec := range []int{dwVec, 1, 4, 8} {
		if vec == 0 {
			continue
		}
		for range 60 {
			h, w := 1+rng.IntN(20), 1+rng.IntN(20)
			k, s, d := 1+rng.IntN(5), 1+rng.IntN(3), 1+rng.IntN(2)
			wn := win(k, s, d, rng.IntN(k+1))
			if rng.IntN(3) == 0 { // uneven windows
				wn.kernel[1], wn.strides[1], wn.pads[3] = 1+rng.IntN(3), 1+rng.IntN(2), rng.IntN(2)
			}
			g, err := wn.geom(2, 1, h, w, false)
			if err != nil {
				continue
			}
			p := g.dwPlanFor(vec)
			if p == nil {
				continue
			}
			x := simdRand(rng, h*w)
			wt := simdRand(rng, g.kh*g.kw)
			buf := make([]float32, p.size)
			for ph := range g.sh * g.sw {
				for i := ph*p.phase + p.rows*p.l; i < (ph+1)*p.phase; i++ {
					buf[i] = float32(math.NaN()) // only dropped outputs may read these
				}
			}
			out := make([]float32, p.n)
			got := make([]float32, g.oh*g.ow)
			g.dwPhases(p, simdRand(rng, h*w), buf) // a previous plane
			g.dwPhases(p, x, buf)
			g.dwPlaneVec(p, buf, wt, 0.5, out, got)
			want := make([]float32, g.oh*g.ow)
			pb := make([]float32, g.paddedH()*g.paddedW())
			g.depthwisePlane(g.padPlane(x, pb), g.paddedW(), wt, 0.5, want)
			for i := range got {
				if dd := math.Abs(float64(got[i] - want[i])); !(dd <= 1e-5*(1+math.Abs(float64(want[i])))) {
					t.Fatalf("vec %d, %+v: y[%d] = %v, want %v", vec, g, i, got[i], want[i])
				}
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d geometries checked", checked)
	}
}

// TestSimdDepthwiseConv runs MobileNet's depthwise shapes through the
// Conv operator (batch 1 and 3, channel multiplier 1 and 2) against the
// reference convolution.
func TestSimdDepthwiseConv(t *testing.T) {
	simdDepthwiseConv(t)
	simdWithout512(func() { simdDepthwiseConv(t) })
}

func simdDepthwiseConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ n, c, hw, k, s, mult int }{
		{1, 32, 14, 3, 1, 1}, {3, 8, 14, 3, 2, 1}, {2, 6, 7, 3, 1, 2}, {3, 4, 7, 5, 2, 1}, {1, 5, 4, 5, 1, 1}, {2, 3, 33, 3, 1, 1},
	} {
		cc := convCase{n: c.n, c: c.c, h: c.hw, w: c.hw, m: c.c * c.mult, group: c.c, kh: c.k, kw: c.k, bias: true,
			strides: []int64{int64(c.s), int64(c.s)}, pads: []int64{int64(c.k / 2), int64(c.k / 2), int64(c.k / 2), int64(c.k / 2)}}
		x, w, b := cc.tensors(rng)
		inputs := map[string]*graph.Tensor{"x": x}
		m, err := New(opGraph(17, cc.node(false), inputs, map[string]*graph.Tensor{"w": w, "b": b}), Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Run(inputs)
		if err != nil {
			t.Fatal(err)
		}
		convClose(t, fmt.Sprintf("%+v", c), out["y"], convRef(cc, x, w, b), 1e-5)
	}
}

// TestSimdCopies checks copyRows and gather2Rows on widths around the
// vector sizes, with guards after each destination row.
func TestSimdCopies(t *testing.T) {
	simdCopies(t)
	simdWithout512(func() { simdCopies(t) })
}

func simdCopies(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for w := 1; w <= 40; w++ {
		for _, rows := range []int{1, 3} {
			ld := w + 3
			src := simdRand(rng, rows*ld)
			dst := make([]float32, rows*ld)
			for i := range dst {
				dst[i] = -7
			}
			copyRows(dst, ld, src, ld, rows, w)
			for r := range rows {
				for j := range ld {
					want := float32(-7)
					if j < w {
						want = src[r*ld+j]
					}
					if dst[r*ld+j] != want {
						t.Fatalf("copyRows w %d rows %d: [%d,%d] = %v, want %v", w, rows, r, j, dst[r*ld+j], want)
					}
				}
			}
		}
		for _, rows := range []int{1, 3} {
			lds, ldd := 2*w+1, w+2
			src := simdRand(rng, (rows-1)*lds+2*w-1)
			dst := make([]float32, rows*ldd)
			for i := range dst {
				dst[i] = -7
			}
			gather2Rows(dst, ldd, src, lds, rows, w)
			for r := range rows {
				for i := range ldd {
					want := float32(-7)
					if i < w {
						want = src[r*lds+2*i]
					}
					if dst[r*ldd+i] != want {
						t.Fatalf("gather2Rows n %d rows %d: [%d,%d] = %v, want %v", w, rows, r, i, dst[r*ldd+i], want)
					}
				}
			}
		}
	}
}

// TestSimdFill checks convFill on lengths around the vector sizes, with
// a guard after the row.
func TestSimdFill(t *testing.T) {
	simdFill(t)
	simdWithout512(func() { simdFill(t) })
}

func simdFill(t *testing.T) {
	for n := range 140 {
		row := make([]float32, n+1)
		row[n] = -7
		convFill(row[:n], 2.5)
		for i, v := range row[:n] {
			if v != 2.5 {
				t.Fatalf("convFill n %d: [%d] = %v", n, i, v)
			}
		}
		if row[n] != -7 {
			t.Fatalf("convFill n %d wrote past its end", n)
		}
	}
}

func simdRand(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// BenchmarkSimdDepthwisePlane times one plane of MobileNet's depthwise
// shapes through the vector layout (phases, taps, compaction) and through
// the scalar loops.
func BenchmarkSimdDepthwisePlane(b *testing.B) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct{ hw, k, s int }{{14, 3, 1}, {14, 3, 2}, {7, 3, 1}, {7, 5, 2}, {4, 5, 1}, {56, 3, 1}} {
		wn := convWindow{kernel: [2]int{c.k, c.k}, strides: [2]int{c.s, c.s}, dilations: [2]int{1, 1},
			pads: [4]int{c.k / 2, c.k / 2, c.k / 2, c.k / 2}, autoPad: "NOTSET"}
		g, err := wn.geom(2, 1, c.hw, c.hw, false)
		if err != nil {
			b.Fatal(err)
		}
		x, wt := simdRand(rng, c.hw*c.hw), simdRand(rng, c.k*c.k)
		y := make([]float32, g.oh*g.ow)
		name := fmt.Sprintf("%dx%d_k%d_s%d", c.hw, c.hw, c.k, c.s)
		if p := g.newDWPlan(); p != nil {
			buf, out := make([]float32, p.size), make([]float32, p.n)
			b.Run(name+"_vec", func(b *testing.B) {
				for b.Loop() {
					g.dwPhases(p, x, buf)
					g.dwPlaneVec(p, buf, wt, 0.5, out, y)
				}
			})
		}
		pb := make([]float32, g.paddedH()*g.paddedW())
		b.Run(name+"_scalar", func(b *testing.B) {
			for b.Loop() {
				g.depthwisePlane(g.padPlane(x, pb), g.paddedW(), wt, 0.5, y)
			}
		})
	}
}
