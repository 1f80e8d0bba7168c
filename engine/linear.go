package engine

// Linear operators: Gemm and MatMul, computed by gemm.Sgemm.
//
// Gemm:   Y = alpha*op(A)*op(B) + beta*C,   op(X) = X or X^T (transA, transB),
//
// with op(A) M x K, op(B) K x N and C broadcast to M x N (a scalar, a row
// [N], a column [M,1] or [M,N]). The gradients are
//
//	dop(A) = alpha * dY * op(B)^T,   dop(B) = alpha * op(A)^T * dY,
//	dC = beta * dY summed over the dimensions C is broadcast along.
//
// MatMul:  Y[b] = A[b] * B[b] for every index b of the broadcast batch
// dimensions (numpy.matmul), a 1-D A being a row [1,K] and a 1-D B a
// column [K,1] whose unit dimension is then dropped from Y; dA[b] += dY[b]
// * B[b]^T and dB[b] += A[b]^T * dY[b], summed over the batch indices an
// operand is broadcast along.

import (
	"fmt"
	"slices"

	"github.com/deepcompress/deepcompress/gemm"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildGemm, "Gemm")
	register(buildMatMul, "MatMul")
}

// linFloat checks that input i is present and holds float32 data.
func linFloat(b *Build, i int, what string) (*Meta, error) {
	m, err := shpIn(b, i)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if m.DType != graph.Float32 {
		return nil, fmt.Errorf("%s (input %d) is %v: only float32 is supported", what, i, m.DType)
	}
	return m, nil
}

// ------------------------------------------------------------------- Gemm

// How C broadcasts to [M, N].
const (
	linCNone   = iota
	linCScalar // one value
	linCRow    // [N] or [1, N]
	linCCol    // [M, 1]
	linCFull   // [M, N]
)

// gemmKernel computes Y = alpha*op(A)*op(B) + beta*C: Y is first set to
// beta*C broadcast, then gemm.Sgemm accumulates alpha*op(A)*op(B) onto it
// (its beta 1), so no pass adds the bias afterwards.
type gemmKernel struct {
	transA, transB bool
	m, n, k        int
	lda, ldb       int
	alpha, beta    float32
	cKind          int
}

func (g *gemmKernel) Forward(in, out []*graph.Tensor) {
	y := out[0].F
	beta := float32(0)
	if g.cKind != linCNone && g.beta != 0 {
		c := in[2].F
		m, n := g.m, g.n
		switch g.cKind {
		case linCScalar:
			v := g.beta * c[0]
			for i := range y {
				y[i] = v
			}
		case linCRow:
			for i := range m {
				row := y[i*n : i*n+n]
				for j, v := range c[:n] {
					row[j] = g.beta * v
				}
			}
		case linCCol:
			for i := range m {
				v := g.beta * c[i]
				row := y[i*n : i*n+n]
				for j := range row {
					row[j] = v
				}
			}
		case linCFull:
			for i, v := range c[:len(y)] {
				y[i] = g.beta * v
			}
		}
		beta = 1
	}
	gemm.Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, in[0].F, g.lda, in[1].F, g.ldb, beta, y, max(g.n, 1))
}

func (g *gemmKernel) Backward(in, out, dout, din []*graph.Tensor) {
	dy := dout[0].F
	m, n, k := g.m, g.n, g.k
	ldy := max(n, 1)
	if da := din[0]; da != nil {
		if !g.transA { // dA (M x K) += alpha * dY * op(B)^T
			gemm.Sgemm(false, !g.transB, m, k, n, g.alpha, dy, ldy, in[1].F, g.ldb, 1, da.F, max(k, 1))
		} else { // dA (K x M) += alpha * op(B) * dY^T
			gemm.Sgemm(g.transB, true, k, m, n, g.alpha, in[1].F, g.ldb, dy, ldy, 1, da.F, max(m, 1))
		}
	}
	if db := din[1]; db != nil {
		if !g.transB { // dB (K x N) += alpha * op(A)^T * dY
			gemm.Sgemm(!g.transA, false, k, n, m, g.alpha, in[0].F, g.lda, dy, ldy, 1, db.F, max(n, 1))
		} else { // dB (N x K) += alpha * dY^T * op(A)
			gemm.Sgemm(true, g.transA, n, k, m, g.alpha, dy, ldy, in[0].F, g.lda, 1, db.F, max(k, 1))
		}
	}
	if len(din) > 2 && din[2] != nil && g.cKind != linCNone {
		dc := din[2].F
		switch g.cKind {
		case linCScalar:
			var s float32
			for _, v := range dy {
				s += v
			}
			dc[0] += g.beta * s
		case linCRow:
			for i := range m {
				for j, v := range dy[i*n : i*n+n] {
					dc[j] += g.beta * v
				}
			}
		case linCCol:
			for i := range m {
				var s float32
				for _, v := range dy[i*n : i*n+n] {
					s += v
				}
				dc[i] += g.beta * s
			}
		case linCFull:
			for i, v := range dy {
				dc[i] += g.beta * v
			}
		}
	}
}

// buildGemm: A and B are matrices, C (optional from opset 11) broadcasts
// to the output [M, N] in one direction.
func buildGemm(b *Build) (Kernel, error) {
	a, err := linFloat(b, 0, "A")
	if err != nil {
		return nil, err
	}
	bm, err := linFloat(b, 1, "B")
	if err != nil {
		return nil, err
	}
	g := &gemmKernel{}
	var ta, tb int64
	if ta, err = b.Node.AttrInt("transA", 0); err != nil {
		return nil, err
	}
	if tb, err = b.Node.AttrInt("transB", 0); err != nil {
		return nil, err
	}
	if g.alpha, err = b.Node.AttrFloat("alpha", 1); err != nil {
		return nil, err
	}
	if g.beta, err = b.Node.AttrFloat("beta", 1); err != nil {
		return nil, err
	}
	g.transA, g.transB = ta != 0, tb != 0
	if len(a.Shape) != 2 || len(bm.Shape) != 2 {
		return nil, fmt.Errorf("A %s and B %s must be matrices", ShapeString(a.Shape), ShapeString(bm.Shape))
	}
	g.m, g.k = a.Shape[0], a.Shape[1]
	if g.transA {
		g.m, g.k = g.k, g.m
	}
	kb, n := bm.Shape[0], bm.Shape[1]
	if g.transB {
		kb, n = n, kb
	}
	g.n = n
	if kb != g.k {
		return nil, fmt.Errorf("op(A) is %dx%d and op(B) is %dx%d: inner dimensions differ (A %s transA=%d, B %s transB=%d)",
			g.m, g.k, kb, n, ShapeString(a.Shape), ta, ShapeString(bm.Shape), tb)
	}
	g.lda, g.ldb = max(a.Shape[1], 1), max(bm.Shape[1], 1)
	out := []int{g.m, g.n}
	if _, err := shpNumel(out); err != nil {
		return nil, err
	}
	if len(b.In) > 2 && b.In[2] != nil {
		c, err := linFloat(b, 2, "C")
		if err != nil {
			return nil, err
		}
		if g.cKind, err = linCBroadcast(c.Shape, g.m, g.n); err != nil {
			return nil, err
		}
	}
	b.Out[0].Shape = out
	return g, nil
}

// linCBroadcast classifies how C (shape s) broadcasts to [m, n].
func linCBroadcast(s []int, m, n int) (int, error) {
	rows, cols := 1, 1
	switch len(s) {
	case 0:
	case 1:
		cols = s[0]
	case 2:
		rows, cols = s[0], s[1]
	default:
		return 0, fmt.Errorf("C %s has more than 2 dimensions", ShapeString(s))
	}
	if rows != 1 && rows != m || cols != 1 && cols != n {
		return 0, fmt.Errorf("C %s does not broadcast to the output [%d %d]", ShapeString(s), m, n)
	}
	switch {
	case rows == m && cols == n && (m != 1 || n != 1):
		if m == 1 {
			return linCRow, nil
		}
		if n == 1 {
			return linCCol, nil
		}
		return linCFull, nil
	case rows == 1 && cols == 1:
		return linCScalar, nil
	case rows == 1:
		return linCRow, nil
	}
	return linCCol, nil
}

// ----------------------------------------------------------------- MatMul

// matMulKernel computes batch products Y[b] = A[aOff[b]] * B[bOff[b]] of
// m x k by k x n matrices. When B is one matrix shared by the whole batch
// and A is not broadcast, the batch is folded into the rows of A: one
// product of (batch*m) x k by k x n.
type matMulKernel struct {
	m, n, k    int
	batch      int
	aOff, bOff []int // element offsets per output batch index
	flat       bool  // the batch folded into M
	empty      bool  // the output has no elements
}

// linSmallProduct is the flop count under which a batch of products runs
// one product per goroutine rather than each product in parallel.
const linSmallProduct = 1 << 18

func (mk *matMulKernel) Forward(in, out []*graph.Tensor) {
	a, bb, y := in[0].F, in[1].F, out[0].F
	m, n, k := mk.m, mk.n, mk.k
	lda, ldb, ldy := max(k, 1), max(n, 1), max(n, 1)
	if mk.empty {
		return
	}
	if mk.flat {
		gemm.Sgemm(false, false, mk.batch*m, n, k, 1, a, lda, bb, ldb, 0, y, ldy)
		return
	}
	if mk.batch > 1 && m*n*k < linSmallProduct {
		parallel.For(mk.batch, max(1, linSmallProduct/max(m*n*k, 1)), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gemm.SgemmSerial(false, false, m, n, k, 1, a[mk.aOff[i]:], lda, bb[mk.bOff[i]:], ldb, 0, y[i*m*n:], ldy)
			}
		})
		return
	}
	for i := range mk.batch {
		gemm.Sgemm(false, false, m, n, k, 1, a[mk.aOff[i]:], lda, bb[mk.bOff[i]:], ldb, 0, y[i*m*n:], ldy)
	}
}

func (mk *matMulKernel) Backward(in, out, dout, din []*graph.Tensor) {
	a, bb, dy := in[0].F, in[1].F, dout[0].F
	m, n, k := mk.m, mk.n, mk.k
	lda, ldb, ldy := max(k, 1), max(n, 1), max(n, 1)
	if mk.empty {
		return
	}
	if mk.flat {
		if din[0] != nil { // dA = dY * B^T
			gemm.Sgemm(false, true, mk.batch*m, k, n, 1, dy, ldy, bb, ldb, 1, din[0].F, lda)
		}
		if din[1] != nil { // dB = A^T * dY over all rows
			gemm.Sgemm(true, false, k, n, mk.batch*m, 1, a, lda, dy, ldy, 1, din[1].F, ldb)
		}
		return
	}
	for i := range mk.batch {
		if din[0] != nil {
			gemm.Sgemm(false, true, m, k, n, 1, dy[i*m*n:], ldy, bb[mk.bOff[i]:], ldb, 1, din[0].F[mk.aOff[i]:], lda)
		}
		if din[1] != nil {
			gemm.Sgemm(true, false, k, n, m, 1, a[mk.aOff[i]:], lda, dy[i*m*n:], ldy, 1, din[1].F[mk.bOff[i]:], ldb)
		}
	}
}

// buildMatMul: numpy.matmul semantics on float32 operands.
func buildMatMul(b *Build) (Kernel, error) {
	am, err := linFloat(b, 0, "A")
	if err != nil {
		return nil, err
	}
	bm, err := linFloat(b, 1, "B")
	if err != nil {
		return nil, err
	}
	as, bs := am.Shape, bm.Shape
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("operands must not be scalars (A %s, B %s)", ShapeString(as), ShapeString(bs))
	}
	if len(as) > shpMaxRank || len(bs) > shpMaxRank {
		return nil, fmt.Errorf("rank is more than %d", shpMaxRank)
	}
	aVec, bVec := len(as) == 1, len(bs) == 1
	if aVec {
		as = []int{1, as[0]}
	}
	if bVec {
		bs = []int{bs[0], 1}
	}
	mk := &matMulKernel{m: as[len(as)-2], k: as[len(as)-1], n: bs[len(bs)-1]}
	if bs[len(bs)-2] != mk.k {
		return nil, fmt.Errorf("A %s and B %s: inner dimensions %d and %d differ", ShapeString(am.Shape), ShapeString(bm.Shape), mk.k, bs[len(bs)-2])
	}
	ab, bb := as[:len(as)-2], bs[:len(bs)-2]
	r := max(len(ab), len(bb))
	batch := make([]int, r)
	for d := range r {
		da, db := 1, 1
		if i := d - (r - len(ab)); i >= 0 {
			da = ab[i]
		}
		if i := d - (r - len(bb)); i >= 0 {
			db = bb[i]
		}
		switch {
		case da == db || db == 1:
			batch[d] = da
		case da == 1:
			batch[d] = db
		default:
			return nil, fmt.Errorf("A %s and B %s: batch dimensions do not broadcast", ShapeString(am.Shape), ShapeString(bm.Shape))
		}
	}
	out := slices.Clone(batch)
	if !aVec {
		out = append(out, mk.m)
	}
	if !bVec {
		out = append(out, mk.n)
	}
	full := append(slices.Clone(batch), mk.m, mk.n)
	size, err := shpNumel(full)
	if err != nil {
		return nil, err
	}
	mk.batch, _ = shpNumel(batch)
	if size == 0 {
		// nothing to compute, and no gradient flows
		mk.empty = true
	} else if len(bb) == 0 || numel(bb) == 1 && mk.batch == numel(ab) {
		// B is one matrix; A's batch is the output's: fold into rows
		mk.flat = true
	} else {
		mk.aOff = linBatchOffsets(batch, ab, mk.m*mk.k)
		mk.bOff = linBatchOffsets(batch, bb, mk.k*mk.n)
	}
	b.Out[0].Shape = out
	return mk, nil
}

// linBatchOffsets returns, for each index of the output batch shape, the
// element offset of the operand's matrix (whose batch shape, right
// aligned, broadcasts to out) given its matrix size.
func linBatchOffsets(out, op []int, size int) []int {
	r := len(out)
	strides := make([]int, r)
	s := size
	for d := len(op) - 1; d >= 0; d-- {
		if op[d] != 1 {
			strides[d+r-len(op)] = s
		}
		s *= op[d]
	}
	total := numel(out)
	offs := make([]int, total)
	idx := make([]int, r)
	off := 0
	for i := range total {
		offs[i] = off
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < out[d] {
				break
			}
			off -= idx[d] * strides[d]
			idx[d] = 0
		}
	}
	return offs
}
