// Package parallel runs loops over index ranges on a pool of long-lived
// worker goroutines shared by the whole process, so that nested and
// concurrent callers together stay within GOMAXPROCS busy goroutines.
package parallel

import (
	"runtime"
	"sync"
)

type job struct {
	fn     func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

var (
	jobs    = make(chan job)
	started sync.Once
	// waits recycles For's WaitGroups: one escapes to the workers, so a
	// fresh one per call would cost an allocation.
	waits = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func start() {
	for range runtime.GOMAXPROCS(0) - 1 {
		go func() {
			for j := range jobs {
				j.fn(j.lo, j.hi)
				j.wg.Done()
			}
		}()
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
	parts := min(runtime.GOMAXPROCS(0), n/max(minPart, 1))
	if parts <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	started.Do(start)
	wg := waits.Get().(*sync.WaitGroup)
	defer waits.Put(wg)
	step := (n + parts - 1) / parts
	for lo := step; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		select {
		case jobs <- job{fn: fn, lo: lo, hi: hi, wg: wg}:
		default:
			fn(lo, hi)
			wg.Done()
		}
	}
	fn(0, min(step, n))
	wg.Wait()
}
