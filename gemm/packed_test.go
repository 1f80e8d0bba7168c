package gemm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMulIndirect checks PackA and MulIndirect on every kernel against a
// float64 product, with B's rows at scattered offsets (some overlapping,
// as a convolution's shifted planes do), k across the kc blocks, m not a
// multiple of mr, both transpositions of A and beta 0 (C not read) and 1.
func TestMulIndirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kn := range kernels {
		for _, sh := range [][2]int{{1, 1}, {5, 9}, {16, 144}, {13, 400}, {24, 7}} {
			m, k := sh[0], sh[1]
			for _, transA := range []bool{false, true} {
				for _, beta := range []float32{0, 1} {
					testIndirect(t, rng, kn, m, k, transA, beta)
				}
			}
		}
	}
}

func testIndirect(t *testing.T, rng *rand.Rand, kn *kernel, m, k int, transA bool, beta float32) {
	t.Helper()
	nr, panels := kn.nr, 3
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	lda := colsA + 2
	a := randMatrix(rng, rowsA, lda)
	b := randMatrix(rng, 1, 5*k+panels*nr+3)
	offs := make([]int, k)
	for p := range offs {
		offs[p] = rng.IntN(5 * k)
	}
	base := 3
	pa := packAWith(kn, transA, m, k, 0.5, a, lda)
	rows, ldc := pa.RowsPadded(), panels*nr+1
	c := randMatrix(rng, rows, ldc)
	c0 := append([]float32(nil), c...)
	if beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	pa.MulIndirect(panels, b, base, offs, beta, c, ldc)
	for i := range m {
		for j := range panels * nr {
			var want, bound float64
			for p := range k {
				ai := i*lda + p
				if transA {
					ai = p*lda + i
				}
				av := float64(a[ai])
				bv := float64(b[base+j/nr*nr+offs[p]+j%nr])
				want += 0.5 * av * bv
				bound += math.Abs(0.5 * av * bv)
			}
			want += float64(beta) * float64(c0[i*ldc+j])
			bound += math.Abs(float64(c0[i*ldc+j]))
			if got := float64(c[i*ldc+j]); math.Abs(got-want) > 1e-5*bound+1e-30 {
				t.Fatalf("%s m=%d k=%d transA=%v beta=%g: C[%d][%d] = %g, want %g", kn.name, m, k, transA, beta, i, j, got, want)
			}
		}
	}
	if c[(rows-1)*ldc+panels*nr] != c0[(rows-1)*ldc+panels*nr] && beta != 0 {
		t.Fatalf("%s: MulIndirect wrote past the panels", kn.name)
	}
}

// TestMulIndirectBounds checks that runs outside b and a short offset
// table are refused with a message, not read.
func TestMulIndirectBounds(t *testing.T) {
	pa := PackA(false, 2, 3, 1, make([]float32, 6), 3)
	nr := pa.PanelWidth()
	c := make([]float32, pa.RowsPadded()*nr)
	for _, tc := range []struct {
		b    []float32
		offs []int
		want string
	}{
		{make([]float32, nr+2), []int{0, 1, 3}, "past len(b)"},
		{make([]float32, nr+2), []int{0, -1, 1}, "negative offset"},
		{make([]float32, nr+2), []int{0, 1}, "offsets"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("offs %v: panic %v, want one mentioning %q", tc.offs, r, tc.want)
				}
			}()
			pa.MulIndirect(1, tc.b, 0, tc.offs, 0, c, nr)
		}()
	}
}
