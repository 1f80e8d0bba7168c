package nn

import (
	"runtime"
	"sync"
)

// rangeTask is work over an index range whose parts are independent.
type rangeTask interface {
	runRange(lo, hi int)
}

type rangeJob struct {
	task   rangeTask
	lo, hi int
	wg     *sync.WaitGroup
}

// Long-lived workers, started on first use, so that splitting work
// allocates nothing per call.
var (
	rangeJobs    = make(chan rangeJob)
	rangeStarted sync.Once
)

// parallelRange runs t over [0, n) split into at most GOMAXPROCS parts of
// at least minPart indices each, and returns when all are done. wg must
// not be in use by another call.
func parallelRange(n, minPart int, t rangeTask, wg *sync.WaitGroup) {
	parts := min(runtime.GOMAXPROCS(0), n/max(minPart, 1))
	if parts <= 1 {
		t.runRange(0, n)
		return
	}
	rangeStarted.Do(func() {
		for range runtime.GOMAXPROCS(0) - 1 {
			go func() {
				for j := range rangeJobs {
					j.task.runRange(j.lo, j.hi)
					j.wg.Done()
				}
			}()
		}
	})
	wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		rangeJobs <- rangeJob{task: t, lo: p * n / parts, hi: (p + 1) * n / parts, wg: wg}
	}
	t.runRange(0, n/parts)
	wg.Wait()
}
