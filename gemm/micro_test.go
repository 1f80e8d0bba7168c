package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkMicro measures each micro-kernel alone on panels that stay in
// L1: the ceiling that the blocked product approaches.
func BenchmarkMicro(b *testing.B) {
	for _, kn := range kernels {
		for _, k := range []int{64, 256} {
			a := make([]float32, kn.mr*k)
			bp := make([]float32, kn.nr*k)
			c := make([]float32, kn.mr*kn.nr)
			b.Run(fmt.Sprintf("%s/k=%d", kn.name, k), func(b *testing.B) {
				b.SetBytes(int64(4 * (len(a) + len(bp))))
				b.ReportAllocs()
				for b.Loop() {
					kn.micro(k, &a[0], &bp[0], &c[0], kn.nr, 1)
				}
				b.ReportMetric(2*float64(kn.mr*kn.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
