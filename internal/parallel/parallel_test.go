package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// TestSplitRunsEveryPartOnce: Split reports the parts it chose, never more
// than asked for or than GOMAXPROCS, and runs each exactly once.
func TestSplitRunsEveryPartOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, want := range []int{0, 1, 2, 3, 4, 9} {
		var seen [16]atomic.Int32
		var total atomic.Int32
		parts := Split(want, func(i, n int) {
			seen[i].Add(1)
			total.Store(int32(n))
		})
		if parts < 1 || parts > max(want, 1) || parts > 4 {
			t.Fatalf("want %d: %d parts", want, parts)
		}
		if int(total.Load()) != parts {
			t.Fatalf("want %d: fn saw %d parts, Split returned %d", want, total.Load(), parts)
		}
		for i := range seen {
			if c, in := seen[i].Load(), i < parts; c != 0 && !in || c != 1 && in {
				t.Fatalf("want %d, %d parts: part %d ran %d times", want, parts, i, c)
			}
		}
	}
}

// TestSplitTakesOnlyIdleWorkers: a Split nested in a For whose parts hold
// GOMAXPROCS goroutines takes no worker (it runs alone), so the goroutines
// running work never exceed GOMAXPROCS, even when the pool was started
// with more workers under a larger GOMAXPROCS.
func TestSplitTakesOnlyIdleWorkers(t *testing.T) {
	const procs = 3
	// Start more workers than GOMAXPROCS will allow busy: the bound must
	// hold however many the pool has.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs + 2))
	Split(procs+2, func(int, int) {})
	runtime.GOMAXPROCS(procs)
	var running, peak atomic.Int32
	enter := func() {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
	}
	var mu sync.Mutex
	var splits []int
	inner := func(int, int) {
		enter()
		time.Sleep(time.Millisecond)
		running.Add(-1)
	}
	For(procs, 1, func(lo, hi int) {
		for range hi - lo {
			n := Split(procs, inner)
			mu.Lock()
			splits = append(splits, n)
			mu.Unlock()
		}
	})
	if p := peak.Load(); p > procs {
		t.Errorf("%d goroutines ran parts at once, GOMAXPROCS %d", p, procs)
	}
	if len(splits) != procs {
		t.Fatalf("%d Splits ran, want %d", len(splits), procs)
	}
}
