// Package gemm computes single-precision general matrix products,
//
//	C = alpha*op(A)*op(B) + beta*C,   op(X) = X or X^T,
//
// on row-major matrices: the BLAS sgemm operation with row-major storage.
// It is the dense-algebra core of the network engine: fully connected
// layers (Y = X*W^T, dW = dY^T*X, dX = dY*W) and convolutions lowered by
// im2col.
//
// The implementation follows the layered design of Goto and van de Geijn,
// "Anatomy of High-Performance Matrix Multiplication" (ACM TOMS 34(3), 2008)
// as refined by BLIS (Van Zee and van de Geijn, ACM TOMS 41(3), 2015): the
// operands are cut into blocks sized for the caches, each block is packed
// into contiguous panels (transposition and alpha are applied while packing,
// and edges are padded with zeros), and a register-blocked micro-kernel
// computes one small tile of C from a pair of panels.
//
// The micro-kernels are generated Go assembly for amd64 (gen_kernels.go):
// a 6x16 tile in AVX2+FMA and an 8x32 tile in AVX-512F, picked at run time
// with golang.org/x/sys/cpu, AVX-512 where the CPU has it (see
// select_amd64.go for the measurements behind that). Every other CPU, and
// builds with the purego tag, use a micro-kernel in plain Go. The
// environment variable DEEPCOMPRESS_GEMM_KERNEL, read at start-up, may name
// another kernel the CPU can run ("avx2-6x16", "generic-2x4", ...) for
// comparisons; Kernel reports the one in use.
//
// Products of more than a few million flops are split into bands of C
// computed by up to GOMAXPROCS goroutines: the caller and the idle workers
// of the process's shared pool (internal/parallel, also used by the engine,
// nn and infer), so concurrent and nested calls share that budget rather
// than each taking it whole.
package gemm

import (
	"fmt"
	"math"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C where op(X) is X, or X^T
// when the matching trans flag is set. op(A) is m x k, op(B) is k x n and C
// is m x n; all three are row-major with leading dimensions (row strides)
// lda, ldb and ldc. So A is stored m x k (k x m when transA), B is stored
// k x n (n x k when transB). When beta is 0, C is not read: NaNs in C
// vanish. When alpha is 0 or k is 0, A and B are not read.
//
// Large products are computed by the caller and the idle workers of the
// process's shared pool, whose busy workers never exceed GOMAXPROCS-1 over
// all concurrent calls; a caller that runs many products in parallel
// itself should use SgemmSerial.
//
// Sgemm panics, like BLAS implementations and slice indexing do, when a
// dimension is negative, a leading dimension is smaller than its row, or a
// slice is too short for the shape it is given; the message names the
// argument.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := newProblem(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	active.gemm(&p, true)
}

// SgemmSerial is Sgemm computed on the calling goroutine only. It never
// starts or wakes other goroutines, which is what a caller that already
// runs one product per core wants.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := newProblem(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	active.gemm(&p, false)
}

// Kernel names the micro-kernel that Sgemm uses on this CPU, for example
// "avx512-8x32", "avx2-6x16" or "generic-2x4".
func Kernel() string { return active.name }

// problem is one call's operands, already checked.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

func newProblem(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) problem {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	checkMatrix("a", a, rowsA, colsA, lda)
	checkMatrix("b", b, rowsB, colsB, ldb)
	checkMatrix("c", c, m, n, ldc)
	return problem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc}
}

// checkMatrix panics unless s can hold a rows x cols row-major matrix with
// leading dimension ld.
func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("gemm: ld%s=%d is less than the %d columns of %s", name, ld, cols, name))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if rows-1 > (math.MaxInt-cols)/ld {
		panic(fmt.Sprintf("gemm: %s of %dx%d with ld%s=%d overflows int", name, rows, cols, name, ld))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("gemm: len(%s)=%d, need %d for %dx%d with ld%s=%d", name, len(s), need, rows, cols, name, ld))
	}
}
