package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 1001} {
		seen := make([]int32, n)
		For(n, 3, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&seen[i], 1)
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, c)
			}
		}
	}
}

func TestForNested(t *testing.T) {
	var total atomic.Int64
	For(8, 1, func(lo, hi int) {
		for range hi - lo {
			For(100, 10, func(a, b int) { total.Add(int64(b - a)) })
		}
	})
	if total.Load() != 800 {
		t.Fatalf("total %d, want 800", total.Load())
	}
}

// TestForAllocatesNothing: with a func value made once, a split loop costs
// no allocation (the inference and training kernels call For per layer).
// testing.AllocsPerRun would run with GOMAXPROCS 1, where nothing splits.
func TestForAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var total atomic.Int64
	fn := func(lo, hi int) { total.Add(int64(hi - lo)) }
	For(1000, 1, fn) // start the workers
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
