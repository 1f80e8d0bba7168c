//go:build !race

// The allocation tests build only without the race detector, which makes
// sync.Pool drop items on purpose.

package parallel

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
)

// TestForAllocatesNothing: with a func value made once, a split loop costs
// no allocation (the inference and training kernels call For per layer).
// testing.AllocsPerRun would run with GOMAXPROCS 1, where nothing splits.
func TestForAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var total atomic.Int64
	fn := func(lo, hi int) { total.Add(int64(hi - lo)) }
	For(1000, 1, fn) // start the workers
	// No collection meanwhile: one would empty the WaitGroup pool.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		For(1000, 1, fn)
	}
	runtime.ReadMemStats(&after)
	// A pool may drop its items at a garbage collection: allow a few.
	if n := after.Mallocs - before.Mallocs; n > 10 {
		t.Errorf("%d allocations in 100 calls", n)
	}
}

// TestSplitAllocatesNothing, like TestForAllocatesNothing, with several
// processors so that the parts really go to workers.
func TestSplitAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var total atomic.Int64
	fn := func(i, parts int) { total.Add(int64(parts)) }
	if Split(4, fn) < 2 {
		t.Fatal("no worker was free for the first Split")
	}
	// No collection meanwhile: one would empty the WaitGroup pool.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		Split(4, fn)
	}
	runtime.ReadMemStats(&after)
	if n := after.Mallocs - before.Mallocs; n > 10 {
		t.Errorf("%d allocations in 100 calls", n)
	}
	if total.Load() <= 4*101 {
		t.Errorf("parts seen %d: the Splits hardly ever split", total.Load())
	}
}
