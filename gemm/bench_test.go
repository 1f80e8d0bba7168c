package gemm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// lenetShapes are the products of training LeNet-300-100 and LeNet-5 with a
// batch of 128 (64 for the convolution).
var lenetShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	// Y = X * W^T: X is [128,784], W is stored [300,784].
	{"fc1-forward", false, true, 128, 300, 784},
	// dW = dY^T * X: dY is [128,300], X is [128,784].
	{"fc1-dW", true, false, 300, 784, 128},
	// dX = dY * W: dY is [128,300], W is [300,784].
	{"fc1-dX", false, false, 128, 784, 300},
	// LeNet-5 conv2 by im2col, one image: W[50,500] * cols[500,64].
	{"conv2-image", false, false, 50, 64, 500},
	// The same over a batch of 64 images: cols[500,4096].
	{"conv2-batch", false, false, 50, 4096, 500},
}

// BenchmarkLeNetShapes compares Sgemm, SgemmSerial and gonum's blas32.Gemm
// (pure Go) on the LeNet training products. Run with -cpu 1,2 to see one
// core and two; gonum and Sgemm both use GOMAXPROCS goroutines.
func BenchmarkLeNetShapes(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range lenetShapes {
		rowsA, colsA := s.m, s.k
		if s.transA {
			rowsA, colsA = s.k, s.m
		}
		rowsB, colsB := s.k, s.n
		if s.transB {
			rowsB, colsB = s.n, s.k
		}
		a := randMatrix(rng, rowsA, colsA)
		bm := randMatrix(rng, rowsB, colsB)
		c := make([]float32, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		bytes := int64(4 * (len(a) + len(bm) + len(c)))
		run := func(b *testing.B, f func()) {
			b.SetBytes(bytes)
			b.ReportAllocs()
			f()
			b.ResetTimer()
			for b.Loop() {
				f()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		b.Run(s.name+"/deepcompress", func(b *testing.B) {
			run(b, func() { Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, colsA, bm, colsB, 0, c, s.n) })
		})
		b.Run(s.name+"/deepcompress-serial", func(b *testing.B) {
			run(b, func() { SgemmSerial(s.transA, s.transB, s.m, s.n, s.k, 1, a, colsA, bm, colsB, 0, c, s.n) })
		})
		b.Run(s.name+"/gonum", func(b *testing.B) {
			ga := blas32.General{Rows: rowsA, Cols: colsA, Stride: colsA, Data: a}
			gb := blas32.General{Rows: rowsB, Cols: colsB, Stride: colsB, Data: bm}
			gc := blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: c}
			ta, tb := blas.NoTrans, blas.NoTrans
			if s.transA {
				ta = blas.Trans
			}
			if s.transB {
				tb = blas.Trans
			}
			run(b, func() { blas32.Gemm(ta, tb, 1, ga, gb, 0, gc) })
		})
	}
}

// BenchmarkKernels runs every kernel this CPU supports, serially, on the
// LeNet shapes: the measurement behind the choice of kernel.
func BenchmarkKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range lenetShapes {
		rowsA, colsA := s.m, s.k
		if s.transA {
			rowsA, colsA = s.k, s.m
		}
		rowsB, colsB := s.k, s.n
		if s.transB {
			rowsB, colsB = s.n, s.k
		}
		a := randMatrix(rng, rowsA, colsA)
		bm := randMatrix(rng, rowsB, colsB)
		c := make([]float32, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		for _, kn := range kernels {
			b.Run(s.name+"/"+kn.name, func(b *testing.B) {
				b.SetBytes(int64(4 * (len(a) + len(bm) + len(c))))
				b.ReportAllocs()
				p := newProblem(s.transA, s.transB, s.m, s.n, s.k, 1, a, colsA, bm, colsB, 0, c, s.n)
				for b.Loop() {
					kn.gemm(&p, false)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
