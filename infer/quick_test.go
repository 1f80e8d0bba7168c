package infer

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkQuick(b *testing.B) {
	b.Log(kernelName())
	for _, sh := range []struct{ r, c int; k float64; ncb int }{{300, 784, 0.08, 64}, {300, 784, 0.08, 32}, {4096, 25088, 0.04, 32}} {
		rng := rand.New(rand.NewPCG(1, 1))
		l := randomLayer(rng, sh.r, sh.c, sh.k, sh.ncb)
		m, _ := newSharedMatrix(l, sh.r, sh.c)
		bias := make([]float32, sh.r)
		for _, lanes := range []int{1, 8, 64} {
			x := randomVec(rng, sh.c*lanes)
			y := make([]float32, sh.r*lanes)
			b.Run("go", func(b *testing.B) {
				for b.Loop() {
					if lanes == 1 {
						spmvGo(m, x, bias, y, 0, sh.r, false)
					} else {
						spmmGo(m, x, lanes, lanes, bias, y, lanes, 0, sh.r, false)
					}
				}
			})
			b.Run("asm", func(b *testing.B) {
				for b.Loop() {
					if lanes == 1 {
						spmv(m, x, bias, y, 0, sh.r, false)
					} else {
						spmm(m, x, lanes, lanes, bias, y, lanes, 0, sh.r, false)
					}
				}
			})
			if lanes == 1 {
				b.Run("asm-lanes", func(b *testing.B) {
					for b.Loop() {
						spmm(m, x, 1, 1, bias, y, 1, 0, sh.r, false)
					}
				})
			}
		}
	}
}
