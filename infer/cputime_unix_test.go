//go:build unix

package infer

import (
	"syscall"
	"time"
)

// cpuTime is the user+system CPU time of the process. Benchmarks report
// CPU time per operation besides wall time, since wall time on a shared
// machine counts the time other processes hold the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
