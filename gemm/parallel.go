package gemm

import (
	"runtime"
	"sync"

	"github.com/deepcompress/deepcompress/internal/parallel"
)

// minPartFlops is the least work (2*m*n*k/parts) worth handing to a
// goroutine of its own: waking a helper costs some microseconds, and every
// part packs the operand it shares with the others again. Measured with
// BenchmarkSizes on two cores, a 128x128x512 product (16.8 MFLOP) gained
// from the split and a 128x128x256 one did not.
var minPartFlops = float64(8 << 20)

// packCost is the cost of packing one element in multiply-adds: a packed
// element costs about a cycle, in which the FMA units do 16 multiply-adds.
const packCost = 16

// split is the state of one parallel product, recycled through splits so
// that the func value handed to the shared pool is made once per state
// and parallel calls allocate nothing.
type split struct {
	kn     *kernel
	p      problem
	splitN bool
	run    func(part, parts int)
}

var splits = sync.Pool{New: func() any {
	s := new(split)
	s.run = s.part
	return s
}}

// part computes piece i of parts of the product with buffers of its own.
func (s *split) part(i, parts int) {
	q := s.kn.part(&s.p, i, parts, s.splitN)
	buf := bufPool.Get().(*buffers)
	s.kn.serial(&q, buf)
	bufPool.Put(buf)
}

// parallelize computes p on the process's shared worker pool
// (internal/parallel) and reports whether it did; it declines products too
// small to split. It cuts p into as many parts as idle workers are free
// now, plus the caller's, never more than wanted, since every part packs
// the operand the parts share again: concurrent and nested callers (the
// engine calls Sgemm from inside its own parallel loops) together stay
// within GOMAXPROCS busy goroutines, and a call that finds no worker idle
// computes p alone, in one part.
func (kn *kernel) parallelize(p *problem) bool {
	procs := runtime.GOMAXPROCS(0)
	flops := 2 * float64(p.m) * float64(p.n) * float64(p.k)
	parts := int(min(float64(procs), flops/minPartFlops))
	if parts < 2 {
		return false
	}
	tilesM, tilesN := ceilDiv(p.m, kn.mr), ceilDiv(p.n, kn.nr)
	splitN := tilesM < 2 || tilesN >= 2 && kn.splitN(p, parts)
	if splitN {
		parts = min(parts, tilesN)
	} else {
		parts = min(parts, tilesM)
	}
	if parts < 2 {
		return false
	}
	s := splits.Get().(*split)
	s.kn, s.p, s.splitN = kn, *p, splitN
	parallel.Split(parts, s.run)
	s.kn, s.p = nil, problem{} // drop the operands
	splits.Put(s)
	return true
}

// splitN reports whether to cut p into parts column blocks rather than row
// blocks. Each part packs all of the operand it shares, so the choice
// weighs the largest part's multiply-adds (tiles are indivisible) plus the
// packing it does.
func (kn *kernel) splitN(p *problem, parts int) bool {
	m, n, k := float64(p.m), float64(p.n), float64(p.k)
	rowsM := float64(ceilDiv(ceilDiv(p.m, kn.mr), parts) * kn.mr)
	colsN := float64(ceilDiv(ceilDiv(p.n, kn.nr), parts) * kn.nr)
	costM := rowsM*float64(roundUp(p.n, kn.nr))*k + packCost*(k*n+rowsM*k)
	costN := float64(roundUp(p.m, kn.mr))*colsN*k + packCost*(m*k+colsN*k)
	return costN < costM
}

// part returns piece i of parts of p: a band of rows or columns of C whose
// boundaries fall on tile boundaries. The band is empty unless parts is at
// most the number of tiles across the split dimension.
func (kn *kernel) part(p *problem, i, parts int, splitN bool) problem {
	q := *p
	if splitN {
		lo, hi := band(p.n, kn.nr, i, parts)
		q.n = hi - lo
		q.c = p.c[lo:]
		if p.transB {
			q.b = p.b[lo*p.ldb:]
		} else {
			q.b = p.b[lo:]
		}
		return q
	}
	lo, hi := band(p.m, kn.mr, i, parts)
	q.m = hi - lo
	q.c = p.c[lo*p.ldc:]
	if p.transA {
		q.a = p.a[lo:]
	} else {
		q.a = p.a[lo*p.lda:]
	}
	return q
}

// band returns the range of piece i when n elements, in units of unit, are
// dealt out as evenly as possible to parts pieces.
func band(n, unit, i, parts int) (lo, hi int) {
	units := ceilDiv(n, unit)
	lo = min(n, units*i/parts*unit)
	hi = min(n, units*(i+1)/parts*unit)
	return lo, hi
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
