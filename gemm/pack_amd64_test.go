//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackFast checks the AVX2 packing routines against the Go ones on
// every panel width in use, every count of lines and rows up to the width
// and depths around the 8-step blocks, and that they write nothing past
// the panel.
func TestPackFast(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const ld = 45
	src := randMatrix(rng, 40, ld)
	sentinel := float32(math.Inf(-1))
	for _, f := range []struct {
		name       string
		fast, slow packFunc
	}{{"rows", packRowsFast, packRowsGo}, {"lines", packLinesFast, packLinesGo}} {
		for _, width := range []int{4, 6, 8, 16, 32} {
			for w := 0; w <= width; w++ {
				for _, kc := range []int{0, 1, 7, 8, 9, 17, 40} {
					for _, scale := range []float32{1, -0.5} {
						got := make([]float32, kc*width+8)
						want := make([]float32, kc*width+8)
						for i := range got {
							got[i], want[i] = sentinel, sentinel
						}
						n1, n2 := kc, w // rows: kc rows of w
						if f.name == "lines" {
							n1, n2 = w, kc // lines: w lines of kc
						}
						f.fast(got, src, 3, ld, n1, n2, width, scale)
						f.slow(want, src, 3, ld, n1, n2, width, scale)
						if !slices.Equal(got, want) {
							t.Fatalf("%s width=%d w=%d kc=%d scale=%g:\n got %v\nwant %v", f.name, width, w, kc, scale, got, want)
						}
					}
				}
			}
		}
	}
	// spreadRows: several full panels at once.
	for _, nr := range []int{16, 32} {
		for _, panels := range []int{1, 2, 3} {
			kc := 9
			got := make([]float32, panels*kc*nr)
			want := make([]float32, panels*kc*nr)
			spreadRowsFast(got, src, 1, ld, kc, panels, nr)
			spreadRowsGo(want, src, 1, ld, kc, panels, nr)
			if !slices.Equal(got, want) {
				t.Fatalf("spreadRows nr=%d panels=%d differ", nr, panels)
			}
		}
	}
}

// BenchmarkPack measures the packing routines on cache-resident data, in
// elements packed per second.
func BenchmarkPack(b *testing.B) {
	const kc = 256
	// Rows read kc rows of 784, lines width lines of 784: room for both.
	src := make([]float32, kc*784)
	for _, width := range []int{6, 8, 16, 32} {
		panel := make([]float32, width*kc)
		for _, f := range []struct {
			name  string
			fn    packFunc
			lines bool
		}{{"rowsGo", packRowsGo, false}, {"rowsAVX2", packRowsFast, false},
			{"linesGo", packLinesGo, true}, {"linesAVX2", packLinesFast, true}} {
			b.Run(fmt.Sprintf("%s/width=%d", f.name, width), func(b *testing.B) {
				b.SetBytes(int64(4 * width * kc))
				b.ReportAllocs()
				for b.Loop() {
					if f.lines {
						f.fn(panel, src, 0, 784, width, kc, width, 1)
					} else {
						f.fn(panel, src, 0, 784, kc, width, width, 1)
					}
				}
			})
		}
	}
}
