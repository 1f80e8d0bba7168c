//go:build unix

package cabac

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func threadCPU() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}

// loop runs f b.N times and reports the thread's CPU time per position, which
// a loaded machine distorts less than wall time.
func loop(b *testing.B, positions int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(threadCPU()-t0)/float64(b.N)/float64(positions), "cpu-ns/position")
}

func BenchmarkPass(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	const rows, cols = 300, 784
	pos, idx := randomTensor(rng, rows, cols, 64, 0.08)
	var enc Encoder
	prof := byte(profNeighbours | profPrevClass)
	b.Run("encode-pass", func(b *testing.B) {
		loop(b, rows*cols, func() { enc.encode(nil, rows, cols, pos, idx, 64, prof) })
	})
	b.Run("encode-full", func(b *testing.B) {
		loop(b, rows*cols, func() { enc.EncodeSparse(nil, rows, cols, pos, idx, 64) })
	})
	b.Run("cost-pass", func(b *testing.B) {
		loop(b, rows*cols, func() {
			var c Cost
			enc.md.reset(rows, cols, 64, prof)
			run(&enc.md, newCostSink(&c), pos, idx, MaxElements)
		})
	})
	src := enc.encode(nil, rows, cols, pos, idx, 64, prof)
	var dec Decoder
	var p []uint32
	var x []uint16
	b.Run("decode", func(b *testing.B) {
		loop(b, rows*cols, func() { p, x, _ = dec.DecodeSparse(src, rows, cols, 64, p, x) })
	})
	b.Run("encode-gaps", func(b *testing.B) {
		loop(b, rows*cols, func() { enc.encode(nil, rows, cols, pos, idx, 64, profGaps) })
	})
	b.Run("cost-gaps", func(b *testing.B) {
		loop(b, rows*cols, func() { enc.gapCost(rows*cols, 64, pos, idx, MaxElements) })
	})
	gsrc := enc.encode(nil, rows, cols, pos, idx, 64, profGaps)
	b.Run("decode-gaps", func(b *testing.B) {
		loop(b, rows*cols, func() { p, x, _ = dec.DecodeSparse(gsrc, rows, cols, 64, p, x) })
	})
}
