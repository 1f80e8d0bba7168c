package quantize

import (
	"fmt"
	"testing"
)

func BenchmarkCluster(b *testing.B) {
	for _, c := range []struct {
		n, k    int
		workers int
	}{
		{20_000, 64, 1}, {1_000_000, 32, 1}, {1_000_000, 32, 2}, {10_000_000, 32, 1}, {10_000_000, 32, 2}, {10_000_000, 256, 1},
	} {
		x := randomData("normal", c.n, 1)
		b.Run(fmt.Sprintf("n=%d/k=%d/workers=%d", c.n, c.k, c.workers), func(b *testing.B) {
			b.SetBytes(int64(4 * c.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Cluster(x, c.k, Options{Workers: c.workers}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRadixSort(b *testing.B) {
	for _, n := range []int{20_000, 10_000_000} {
		x := randomData("normal", n, 1)
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/workers=%d", n, w), func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := radixSort(x, w); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkOptimal(b *testing.B) {
	x := randomData("weights", 20_000, 1)
	b.SetBytes(int64(4 * len(x)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Cluster(x, 64, Options{Optimal: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuantizeTensor is a VGG-16 fc6-sized tensor (4096 x 25088) with
// 4 % of the weights kept, at 5 bits.
func BenchmarkQuantizeTensor(b *testing.B) {
	w := pruned(4096, 25088, 0.04, 1)
	b.SetBytes(int64(4 * len(w)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := QuantizeTensor("fc6.weight", []int{4096, 25088}, w, Options{Bits: 5}); err != nil {
			b.Fatal(err)
		}
	}
}
