// Package parallel runs work on a pool of long-lived worker goroutines
// shared by the whole process (the gemm products, the engine's kernels,
// nn's training and infer's layers), so that nested and concurrent callers
// together stay within GOMAXPROCS busy goroutines: work goes to a worker
// only if that worker is idle, and any part no idle worker takes is done by
// the caller.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// job is one part of a call: fn(a, b) with (lo, hi) for For and
// (part, parts) for Split.
type job struct {
	fn   func(a, b int)
	a, b int
	wg   *sync.WaitGroup
}

var pool struct {
	mu      sync.Mutex
	started atomic.Int32 // workers started; never shrinks
	// idle counts the workers not running or promised a job. A caller
	// takes workers by lowering it (reserve), so a job is sent only to a
	// worker that is idle or about to be, and the send never waits long.
	idle atomic.Int32
	jobs chan job
}

// waits recycles the calls' WaitGroups: one escapes to the workers, so a
// fresh one per call would cost an allocation.
var waits = sync.Pool{New: func() any { return new(sync.WaitGroup) }}

// reserve promises the caller up to want idle workers, as many as keep the
// busy workers within procs-1 (the caller is the procs-th goroutine), and
// returns how many it promised. Each promised worker must be sent exactly
// one job.
func reserve(want, procs int) int {
	if want <= 0 || procs < 2 {
		return 0
	}
	if int(pool.started.Load()) < procs-1 {
		grow(procs - 1)
	}
	started := pool.started.Load()
	for {
		idle := pool.idle.Load()
		take := min(int32(want), idle, int32(procs-1)-(started-idle))
		if take <= 0 {
			return 0
		}
		if pool.idle.CompareAndSwap(idle, idle-take) {
			return int(take)
		}
	}
}

// grow starts workers until there are n.
func grow(n int) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.jobs == nil {
		// Sends go only to promised workers, one job each, so a send
		// waits at most for a worker to finish its epilogue; the buffer
		// lets the sender go on without waiting for the worker to wake.
		pool.jobs = make(chan job, 64)
	}
	for int(pool.started.Load()) < n {
		pool.idle.Add(1)
		pool.started.Add(1)
		go worker(pool.jobs)
	}
}

// worker runs jobs; it counts itself idle before it signals a job done, so
// a caller that finds its call finished can take it again at once.
func worker(jobs <-chan job) {
	for j := range jobs {
		j.fn(j.a, j.b)
		pool.idle.Add(1)
		j.wg.Done()
	}
}

// For calls fn over [0, n) split into at most GOMAXPROCS contiguous parts
// of at least minPart indices each, and returns when every part is done.
// The calling goroutine computes one part itself; a part no idle worker
// takes at once is computed by the caller too, so For never waits for a
// busy pool and never deadlocks when called from inside fn. It allocates
// nothing (pass a func value made once, such as a method value kept in a
// field, not a new closure per call).
func For(n, minPart int, fn func(lo, hi int)) {
	procs := runtime.GOMAXPROCS(0)
	parts := min(procs, n/max(minPart, 1))
	if parts <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	step := (n + parts - 1) / parts
	parts = (n + step - 1) / step
	got := reserve(parts-1, procs)
	if got == 0 {
		fn(0, n)
		return
	}
	wg := waits.Get().(*sync.WaitGroup)
	defer waits.Put(wg)
	wg.Add(got)
	for i := 1; i <= got; i++ {
		pool.jobs <- job{fn: fn, a: i * step, b: min((i+1)*step, n), wg: wg}
	}
	for lo := (got + 1) * step; lo < n; lo += step {
		fn(lo, min(lo+step, n))
	}
	fn(0, step)
	wg.Wait()
}

// Split calls fn(part, parts) for every part in [0, parts) and returns when
// all are done, where parts is 1 plus the number of idle workers it could
// take, at most want-1 (and within GOMAXPROCS busy goroutines): unlike For,
// the number of parts follows the workers free now, for work where every
// extra part costs something (each part of a matrix product packs the
// operand the parts share again). The caller computes part 0; Split
// returns parts, which is 1 when no worker was free and fn(0, 1) ran
// alone. It allocates nothing for a func value made once.
func Split(want int, fn func(part, parts int)) int {
	got := reserve(want-1, runtime.GOMAXPROCS(0))
	if got == 0 {
		fn(0, 1)
		return 1
	}
	parts := got + 1
	wg := waits.Get().(*sync.WaitGroup)
	wg.Add(got)
	for i := 1; i < parts; i++ {
		pool.jobs <- job{fn: fn, a: i, b: parts, wg: wg}
	}
	fn(0, parts)
	wg.Wait()
	waits.Put(wg)
	return parts
}
