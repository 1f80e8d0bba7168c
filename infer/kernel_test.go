package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/quantize"
)

// randomLayer is a pruned, shared [rows, cols] tensor keeping each weight
// with probability keep, with a codebook of ncb random values.
func randomLayer(rng *rand.Rand, rows, cols int, keep float64, ncb int) *quantize.Layer {
	bits := 1
	for 1<<bits < ncb {
		bits++
	}
	l := &quantize.Layer{Name: "w", Shape: []int{rows, cols}, Bits: bits, Codebook: make([]float32, ncb)}
	for i := range l.Codebook {
		l.Codebook[i] = float32(rng.NormFloat64())
	}
	for p := range rows * cols {
		if rng.Float64() < keep {
			l.Pos = append(l.Pos, uint32(p))
			l.Idx = append(l.Idx, uint16(rng.IntN(ncb)))
		}
	}
	return l
}

func randomVec(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// refProduct is Y = b + W*X in float64 from the dense form, X [cols, lanes].
func refProduct(w []float32, rows, cols int, x []float32, lanes int, b []float32, relu bool) []float64 {
	y := make([]float64, rows*lanes)
	for r := range rows {
		for l := range lanes {
			s := float64(b[r])
			for c := range cols {
				s += float64(w[r*cols+c]) * float64(x[c*lanes+l])
			}
			if relu {
				s = math.Max(s, 0)
			}
			y[r*lanes+l] = s
		}
	}
	return y
}

func checkClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-4*(1+math.Abs(want[i])) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

var kernelCases = []struct {
	rows, cols int
	keep       float64
	ncb        int
}{
	{1, 1, 1, 1},
	{7, 3, 0.5, 2},
	{30, 784, 0.08, 64},  // lenet300 fc1 rows
	{20, 1000, 0.01, 32}, // sparse rows: fillers
	{5, 2000, 0.002, 16}, // mostly fillers
	{17, 300, 0.3, 200},  // codebook beyond the registers
	{9, 500, 0.1, 300},   // 16-bit indices
	{40, 100, 1, 64},     // dense
	{10, 50, 0, 4},       // empty rows
}

func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range kernelCases {
		l := randomLayer(rng, tc.rows, tc.cols, tc.keep, tc.ncb)
		m, err := newSharedMatrix(l, tc.rows, tc.cols)
		if err != nil {
			t.Fatal(err)
		}
		w := l.Dense()
		if got := m.dense(); !equalFloats(got, w) {
			t.Fatalf("%dx%d: dense form of the compressed matrix differs", tc.rows, tc.cols)
		}
		b := randomVec(rng, tc.rows)
		for _, lanes := range []int{1, 2, 15, 16, 17, 64, 127, 128, 129, 300} {
			x := randomVec(rng, tc.cols*lanes)
			for _, relu := range []bool{false, true} {
				name := fmt.Sprintf("%dx%d keep %v ncb %d lanes %d relu %v", tc.rows, tc.cols, tc.keep, tc.ncb, lanes, relu)
				want := refProduct(w, tc.rows, tc.cols, x, lanes, b, relu)
				y := randomVec(rng, tc.rows*lanes)
				spmmGo(m, x, lanes, lanes, b, y, lanes, 0, tc.rows, relu)
				checkClose(t, name+" spmmGo", y, want)
				y = randomVec(rng, tc.rows*lanes)
				spmm(m, x, lanes, lanes, b, y, lanes, 0, tc.rows, relu)
				checkClose(t, name+" spmm", y, want)
				// Row ranges: the rows outside stay untouched.
				if tc.rows > 2 {
					y = make([]float32, tc.rows*lanes)
					spmm(m, x, lanes, lanes, b, y, lanes, 1, tc.rows-1, relu)
					for l := range lanes {
						if y[l] != 0 || y[(tc.rows-1)*lanes+l] != 0 {
							t.Fatalf("%s: spmm wrote outside its rows", name)
						}
					}
					checkClose(t, name+" spmm rows", y[lanes:(tc.rows-1)*lanes], want[lanes:(tc.rows-1)*lanes])
				}
				if lanes == 1 {
					y = randomVec(rng, tc.rows)
					spmvGo(m, x, b, y, 0, tc.rows, relu)
					checkClose(t, name+" spmvGo", y, want)
					y = randomVec(rng, tc.rows)
					spmv(m, x, b, y, 0, tc.rows, relu)
					checkClose(t, name+" spmv", y, want)
				}
			}
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTranspose(t *testing.T) {
	for _, sh := range [][2]int{{1, 1}, {3, 5}, {16, 16}, {17, 33}, {64, 784}} {
		rows, cols := sh[0], sh[1]
		src := randomVec(rand.New(rand.NewPCG(1, 2)), rows*cols)
		dst := make([]float32, rows*cols)
		transpose(dst, src, rows, cols)
		for r := range rows {
			for c := range cols {
				if dst[c*rows+r] != src[r*cols+c] {
					t.Fatalf("%dx%d: element (%d,%d) misplaced", rows, cols, r, c)
				}
			}
		}
	}
}
