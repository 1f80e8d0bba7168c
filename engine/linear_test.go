package engine

import (
	"slices"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// linRefGemm is Y = alpha*op(A)*op(B) + beta*C by the definition, C
// broadcast from shape cs.
func linRefGemm(a, b, c *graph.Tensor, ta, tb bool, alpha, beta float32) ([]int, []float32) {
	m, k := a.Shape[0], a.Shape[1]
	if ta {
		m, k = k, m
	}
	n := b.Shape[1]
	if tb {
		n = b.Shape[0]
	}
	y := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				av := a.F[i*k+p]
				if ta {
					av = a.F[p*m+i]
				}
				bv := b.F[p*n+j]
				if tb {
					bv = b.F[j*k+p]
				}
				s += float64(av) * float64(bv)
			}
			v := alpha * float32(s)
			if c != nil {
				ci, cj := i, j
				rows, cols := 1, 1
				switch len(c.Shape) {
				case 1:
					cols = c.Shape[0]
				case 2:
					rows, cols = c.Shape[0], c.Shape[1]
				}
				if rows == 1 {
					ci = 0
				}
				if cols == 1 {
					cj = 0
				}
				v += beta * c.F[ci*cols+cj]
			}
			y[i*n+j] = v
		}
	}
	return []int{m, n}, y
}

func TestLinearGemm(t *testing.T) {
	rng := shpRand(21)
	for _, c := range []struct {
		m, n, k     int
		ta, tb      bool
		alpha, beta float32
		cShape      []int // nil: no C
	}{
		{4, 5, 3, false, true, 1, 1, []int{5}},
		{4, 5, 3, false, false, 1, 1, []int{4, 5}},
		{4, 5, 3, true, false, 0.5, 2, []int{4, 1}},
		{4, 5, 3, true, true, 1, 0.5, []int{}},
		{1, 5, 3, false, true, 1, 1, []int{1, 5}},
		{3, 1, 2, false, true, -1, 1, []int{3, 1}},
		{2, 3, 4, false, true, 1, 1, nil},
		{1, 1, 1, false, false, 1, 1, []int{1}},
		{70, 90, 80, false, true, 1, 1, []int{90}},
	} {
		aShape := []int{c.m, c.k}
		if c.ta {
			aShape = []int{c.k, c.m}
		}
		bShape := []int{c.k, c.n}
		if c.tb {
			bShape = []int{c.n, c.k}
		}
		a, b := randTensor(rng, aShape...), randTensor(rng, bShape...)
		attrs := map[string]graph.Attr{"alpha": graph.Float(c.alpha), "beta": graph.Float(c.beta)}
		if c.ta {
			attrs["transA"] = graph.Int(1)
		}
		if c.tb {
			attrs["transB"] = graph.Int(1)
		}
		ins := []string{"a", "b"}
		params := map[string]*graph.Tensor{"b": b}
		var cT *graph.Tensor
		if c.cShape != nil {
			cT = randTensor(rng, c.cShape...)
			ins = append(ins, "c")
			params["c"] = cT
		}
		n := shpNode("Gemm", ins, []string{"y"}, attrs)
		in := map[string]*graph.Tensor{"a": a}
		shape, want := linRefGemm(a, b, cT, c.ta, c.tb, c.alpha, c.beta)
		got := runOp(t, 13, n, in, params)
		if !slices.Equal(got.Shape, shape) {
			t.Fatalf("gemm %+v: shape %v, want %v", c, got.Shape, shape)
		}
		for i := range want {
			if d := got.F[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("gemm %+v: [%d] = %g, want %g", c, i, got.F[i], want[i])
			}
		}
		if c.m*c.n*c.k < 1000 {
			gradCheck(t, opGraph(13, n, in, params), in, 2e-3)
		}
	}
	a := randTensor(rng, 2, 3)
	in := map[string]*graph.Tensor{"a": a}
	g := shpNode("Gemm", []string{"a", "b", "c"}, []string{"y"}, map[string]graph.Attr{"transB": graph.Int(1)})
	shpWantErr(t, "gemm inner", shpBuildErr(13, g, in, map[string]*graph.Tensor{"b": randTensor(rng, 4, 2), "c": randTensor(rng, 4)}), "inner")
	shpWantErr(t, "gemm C", shpBuildErr(13, g, in, map[string]*graph.Tensor{"b": randTensor(rng, 4, 3), "c": randTensor(rng, 3)}), "broadcast")
	shpWantErr(t, "gemm rank", shpBuildErr(13, g, in, map[string]*graph.Tensor{"b": randTensor(rng, 4, 3, 1), "c": randTensor(rng, 4)}), "matrices")
}

// linRefMatMul is numpy.matmul by the definition.
func linRefMatMul(a, b *graph.Tensor) ([]int, []float32) {
	as, bs := slices.Clone(a.Shape), slices.Clone(b.Shape)
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	r := max(len(as), len(bs)) - 2
	batch := make([]int, r)
	pa := append(make([]int, r-(len(as)-2)), as[:len(as)-2]...)
	pb := append(make([]int, r-(len(bs)-2)), bs[:len(bs)-2]...)
	for d := range r {
		pa[d], pb[d] = max(pa[d], 1), max(pb[d], 1)
		batch[d] = max(pa[d], pb[d])
	}
	nb := numel(batch)
	y := make([]float32, nb*m*n)
	for bi := range nb {
		idx := shpUnflat(batch, bi)
		ia, ib := make([]int, r), make([]int, r)
		for d := range r {
			if pa[d] != 1 {
				ia[d] = idx[d]
			}
			if pb[d] != 1 {
				ib[d] = idx[d]
			}
		}
		oa, ob := shpFlat(pa, ia)*m*k, shpFlat(pb, ib)*k*n
		for i := range m {
			for j := range n {
				var s float64
				for p := range k {
					s += float64(a.F[oa+i*k+p]) * float64(b.F[ob+p*n+j])
				}
				y[bi*m*n+i*n+j] = float32(s)
			}
		}
	}
	out := slices.Clone(batch)
	if len(a.Shape) > 1 {
		out = append(out, m)
	}
	if len(b.Shape) > 1 {
		out = append(out, n)
	}
	return out, y
}

func TestLinearMatMul(t *testing.T) {
	rng := shpRand(22)
	for _, c := range []struct {
		a, b    []int
		bIsParm bool
	}{
		{[]int{3, 4}, []int{4, 5}, true},
		{[]int{2, 3, 4}, []int{4, 5}, true},
		{[]int{2, 3, 4}, []int{2, 4, 5}, false},
		{[]int{2, 1, 3, 4}, []int{3, 4, 2}, false},
		{[]int{3, 4}, []int{2, 4, 5}, true},
		{[]int{4}, []int{4, 5}, true},
		{[]int{2, 3, 4}, []int{4}, true},
		{[]int{4}, []int{4}, false},
		{[]int{5}, []int{2, 5, 3}, false},
		{[]int{1, 3, 4}, []int{1, 4, 2}, true},
		{[]int{16, 20, 24}, []int{16, 24, 20}, false},
		{[]int{2, 0, 4}, []int{4, 3}, true},
		{[]int{2, 3, 0}, []int{0, 3}, true},
	} {
		a, b := randTensor(rng, c.a...), randTensor(rng, c.b...)
		n := shpNode("MatMul", []string{"a", "b"}, []string{"y"}, nil)
		in := map[string]*graph.Tensor{"a": a, "b": b}
		var params map[string]*graph.Tensor
		if c.bIsParm {
			in = map[string]*graph.Tensor{"a": a}
			params = map[string]*graph.Tensor{"b": b}
		}
		shape, want := linRefMatMul(a, b)
		got := runOp(t, 13, n, in, params)
		if !slices.Equal(got.Shape, shape) {
			t.Fatalf("matmul %v x %v: shape %v, want %v", c.a, c.b, got.Shape, shape)
		}
		for i := range want {
			if d := got.F[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("matmul %v x %v: [%d] = %g, want %g", c.a, c.b, i, got.F[i], want[i])
			}
		}
		if len(a.F) > 0 && len(want) > 0 && len(want) < 1000 {
			gradCheck(t, opGraph(13, n, in, params), in, 2e-3)
		}
	}
	n := shpNode("MatMul", []string{"a", "b"}, []string{"y"}, nil)
	shpWantErr(t, "matmul inner", shpBuildErr(13, n, map[string]*graph.Tensor{"a": randTensor(rng, 2, 3), "b": randTensor(rng, 4, 2)}, nil), "inner")
	shpWantErr(t, "matmul batch", shpBuildErr(13, n, map[string]*graph.Tensor{"a": randTensor(rng, 2, 2, 3), "b": randTensor(rng, 3, 3, 2)}, nil), "broadcast")
	shpWantErr(t, "matmul scalar", shpBuildErr(13, n, map[string]*graph.Tensor{"a": randTensor(rng), "b": randTensor(rng, 3, 2)}, nil), "scalar")
}
