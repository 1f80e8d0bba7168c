package parallel

import (
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
func TestForAllocatesNothing(t *testing.T) {
	var total atomic.Int64
	fn := func(lo, hi int) { total.Add(int64(hi - lo)) }
	For(1000, 1, fn) // start the workers
	if allocs := testing.AllocsPerRun(50, func() { For(1000, 1, fn) }); allocs > 0 {
		t.Errorf("%v allocations per call", allocs)
	}
}
