package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
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

// helpers is a pool of GOMAXPROCS-1 goroutines that compute parts of
// products. busy counts the goroutines working on parallel products: the
// callers inside Sgemm and the helpers promised to them. A call takes
// helpers only while busy stays within GOMAXPROCS, so concurrent calls
// never run more goroutines than there are processors between them (a
// call that finds the machine busy runs alone), and a promised helper is
// idle, or about to be, when its task arrives.
var helpers struct {
	mu      sync.Mutex
	started atomic.Int32
	busy    atomic.Int32
	tasks   chan task
}

// task is one helper's share of a product.
type task struct {
	kn   *kernel
	p    problem
	done *sync.WaitGroup
}

// waitGroups recycles the WaitGroup of each parallel call, which escapes to
// the helpers, so that parallel calls allocate nothing either.
var waitGroups = sync.Pool{New: func() any { return new(sync.WaitGroup) }}

// parallelize computes p with helpers and reports whether it did; it
// declines products too small to split and calls that find no helper free.
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
	got := reserveHelpers(parts-1, procs)
	if got == 0 {
		return false
	}
	defer helpers.busy.Add(-1) // the caller; helpers count themselves out
	parts = got + 1
	wg := waitGroups.Get().(*sync.WaitGroup)
	wg.Add(got)
	for i := 1; i < parts; i++ {
		helpers.tasks <- task{kn: kn, p: kn.part(p, i, parts, splitN), done: wg}
	}
	mine := kn.part(p, 0, parts, splitN)
	buf := bufPool.Get().(*buffers)
	kn.serial(&mine, buf)
	bufPool.Put(buf)
	wg.Wait()
	waitGroups.Put(wg)
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

// reserveHelpers counts the caller as busy and promises it up to want
// helpers, as many as keep busy within procs. It returns how many it
// promised; when that is 0 the caller is not counted.
func reserveHelpers(want, procs int) int {
	if int(helpers.started.Load()) < procs-1 {
		startHelpers(procs - 1)
	}
	for {
		busy := helpers.busy.Load()
		take := min(int32(procs)-busy-1, int32(want))
		if take <= 0 {
			return 0
		}
		if helpers.busy.CompareAndSwap(busy, busy+1+take) {
			return int(take)
		}
	}
}

func startHelpers(n int) {
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	if helpers.tasks == nil {
		helpers.tasks = make(chan task, 64)
	}
	for int(helpers.started.Load()) < n {
		helpers.started.Add(1)
		go helper(helpers.tasks)
	}
}

func helper(tasks <-chan task) {
	for t := range tasks {
		buf := bufPool.Get().(*buffers)
		t.kn.serial(&t.p, buf)
		bufPool.Put(buf)
		helpers.busy.Add(-1)
		t.done.Done()
	}
}
