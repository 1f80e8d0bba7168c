package gemm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

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
//
// Besides the mean rate (GFLOP/s) it reports fast-GFLOP/s, the rate of the
// call at the 10th percentile of call times, which stays meaningful on a
// machine shared with other work, where the mean counts the time other
// processes held the core.
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
			f() // warm the buffers up
			var calls callTimes
			for b.Loop() {
				t0 := time.Now()
				f()
				calls.add(time.Since(t0))
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(flops/calls.fast().Seconds()/1e9, "fast-GFLOP/s")
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

// BenchmarkSizes runs Sgemm and SgemmSerial on products from 1 to 67
// MFLOP, the range where splitting across goroutines starts to pay (see
// minPartFlops). Run with -cpu 2 or more.
func BenchmarkSizes(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, d := range [][3]int{{64, 64, 128}, {64, 64, 512}, {128, 128, 256}, {128, 128, 512}, {256, 256, 512}} {
		m, n, k := d[0], d[1], d[2]
		a, bm, c := randMatrix(rng, m, k), randMatrix(rng, k, n), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		for _, f := range []struct {
			name string
			fn   func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)
		}{{"deepcompress", Sgemm}, {"deepcompress-serial", SgemmSerial}} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, f.name), func(b *testing.B) {
				b.SetBytes(int64(4 * (len(a) + len(bm) + len(c))))
				b.ReportAllocs()
				f.fn(false, false, m, n, k, 1, a, k, bm, n, 0, c, n)
				var calls callTimes
				for b.Loop() {
					t0 := time.Now()
					f.fn(false, false, m, n, k, 1, a, k, bm, n, 0, c, n)
					calls.add(time.Since(t0))
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(flops/calls.fast().Seconds()/1e9, "fast-GFLOP/s")
			})
		}
	}
}

// callTimes keeps the durations of the last calls of a benchmark, without
// allocating inside the timed loop.
type callTimes struct {
	d [4096]time.Duration
	n int
}

func (c *callTimes) add(d time.Duration) {
	c.d[c.n%len(c.d)] = d
	c.n++
}

// fast returns the 10th percentile of the recorded durations.
func (c *callTimes) fast() time.Duration {
	d := slices.Clone(c.d[:min(c.n, len(c.d))])
	slices.Sort(d)
	return d[len(d)/10]
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
				kn.gemm(&p, false)
				var calls callTimes
				for b.Loop() {
					t0 := time.Now()
					kn.gemm(&p, false)
					calls.add(time.Since(t0))
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(flops/calls.fast().Seconds()/1e9, "fast-GFLOP/s")
			})
		}
	}
}
