package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// tolerance is the largest error allowed, relative to
// |alpha|*sum_p |a_ip||b_pj| + |beta||c_ij|: the error bound of a float32
// dot product grows with that sum, not with the (possibly cancelling) result.
const tolerance = 1e-5

// shapes are (m, n, k) triples: vectors, k = 1, sizes that are not
// multiples of any tile (6x16, 14x32, 4x4, ...), and sizes that cross the
// kc, mc and nc block boundaries of every kernel.
var shapes = [][3]int{
	{1, 1, 1}, {1, 37, 19}, {29, 1, 23}, {17, 13, 1}, {1, 1, 300},
	{6, 16, 8}, {14, 32, 33}, {4, 4, 4}, {8, 24, 9}, {7, 17, 5},
	{13, 47, 300}, {50, 64, 500}, {67, 131, 129}, {128, 45, 270},
	{515, 19, 40}, {3, 2100, 7}, {33, 70, 600},
}

// testCase is one product with its inputs and a float64 reference result.
type testCase struct {
	name           string
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c0       []float32
	lda, ldb, ldc  int
	want, bound    []float64 // per element of C (row-major, ldc)
}

func makeCase(rng *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float32, pad int) *testCase {
	tc := &testCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	tc.name = fmt.Sprintf("%dx%dx%d/tA=%v,tB=%v/alpha=%g,beta=%g/pad=%d", m, n, k, transA, transB, alpha, beta, pad)
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	tc.lda, tc.ldb, tc.ldc = colsA+pad, colsB+pad, n+pad
	tc.a = randMatrix(rng, rowsA, tc.lda)
	tc.b = randMatrix(rng, rowsB, tc.ldb)
	tc.c0 = randMatrix(rng, m, tc.ldc)
	if beta == 0 {
		// C must not be read: NaNs would leak into the result.
		for i := range tc.c0 {
			tc.c0[i] = float32(math.NaN())
		}
	}
	at := func(i, p int) float64 {
		if transA {
			return float64(tc.a[p*tc.lda+i])
		}
		return float64(tc.a[i*tc.lda+p])
	}
	bt := func(p, j int) float64 {
		if transB {
			return float64(tc.b[j*tc.ldb+p])
		}
		return float64(tc.b[p*tc.ldb+j])
	}
	tc.want = make([]float64, len(tc.c0))
	tc.bound = make([]float64, len(tc.c0))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, abs float64
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
				abs += math.Abs(at(i, p) * bt(p, j))
			}
			idx := i*tc.ldc + j
			s *= float64(alpha)
			abs *= math.Abs(float64(alpha))
			if beta != 0 {
				s += float64(beta) * float64(tc.c0[idx])
				abs += math.Abs(float64(beta) * float64(tc.c0[idx]))
			}
			tc.want[idx], tc.bound[idx] = s, tolerance*abs+1e-30
		}
	}
	return tc
}

// randMatrix returns rows x ld values in [-1, 1).
func randMatrix(rng *rand.Rand, rows, ld int) []float32 {
	s := make([]float32, rows*ld)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// check compares got with the reference, including that the padding
// columns of C were left alone.
func (tc *testCase) check(t *testing.T, who string, got []float32) {
	t.Helper()
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.ldc; j++ {
			idx := i*tc.ldc + j
			if j >= tc.n {
				if math.Float32bits(got[idx]) != math.Float32bits(tc.c0[idx]) {
					t.Errorf("%s %s: padding C[%d][%d] changed from %v to %v", who, tc.name, i, j, tc.c0[idx], got[idx])
					return
				}
				continue
			}
			if err := math.Abs(float64(got[idx]) - tc.want[idx]); !(err <= tc.bound[idx]) {
				if bad++; bad <= 3 {
					t.Errorf("%s %s: C[%d][%d] = %v, want %v (error %.3g > bound %.3g)",
						who, tc.name, i, j, got[idx], tc.want[idx], err, tc.bound[idx])
				}
			}
		}
	}
}

func (tc *testCase) problem(c []float32) problem {
	return newProblem(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.a, tc.lda, tc.b, tc.ldb, tc.beta, c, tc.ldc)
}

// allCases builds every shape with every transposition and a few
// alpha/beta/padding variants.
func allCases() []*testCase {
	rng := rand.New(rand.NewPCG(1, 2))
	scalars := []struct {
		alpha, beta float32
		pad         int
	}{{1, 0, 0}, {-0.5, 1, 3}, {2, 0.75, 1}}
	var cases []*testCase
	for si, s := range shapes {
		for tr := 0; tr < 4; tr++ {
			v := scalars[(si+tr)%len(scalars)]
			cases = append(cases, makeCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], v.alpha, v.beta, v.pad))
		}
	}
	return cases
}

var (
	casesOnce sync.Once
	cases     []*testCase
)

func testCases() []*testCase {
	casesOnce.Do(func() { cases = allCases() })
	return cases
}

// TestKernels runs every kernel this CPU supports, including the generic Go
// kernel, against the float64 reference.
func TestKernels(t *testing.T) {
	for _, kn := range kernels {
		t.Run(kn.name, func(t *testing.T) {
			for _, tc := range testCases() {
				c := append([]float32(nil), tc.c0...)
				p := tc.problem(c)
				kn.gemm(&p, false)
				tc.check(t, "serial", c)
			}
		})
	}
}

// splitEverything makes every product worth splitting across at least 4
// goroutines for the rest of the test, so that small test cases take the
// parallel path.
func splitEverything(t *testing.T) {
	old, oldProcs := minPartFlops, runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0)))
	minPartFlops = 1
	t.Cleanup(func() {
		minPartFlops = old
		runtime.GOMAXPROCS(oldProcs)
	})
}

// TestParallel runs every kernel through the parallel path.
func TestParallel(t *testing.T) {
	splitEverything(t)
	for _, kn := range kernels {
		for _, tc := range testCases() {
			c := append([]float32(nil), tc.c0...)
			p := tc.problem(c)
			// Only products a single tile wide and high stay whole.
			splittable := tc.m > kn.mr || tc.n > kn.nr
			if split := kn.parallelize(&p); split != splittable {
				t.Errorf("%s %s: split=%v, want %v", kn.name, tc.name, split, splittable)
			} else if !split {
				kn.gemm(&p, false)
			}
			tc.check(t, kn.name+" parallel", c)
		}
	}
}

// TestParts checks the work split of the parallel path on one goroutine,
// so that it is tested whatever GOMAXPROCS is: the parts must tile C.
func TestParts(t *testing.T) {
	for _, kn := range kernels {
		for _, tc := range testCases() {
			for _, parts := range []int{2, 3} {
				for _, splitN := range []bool{false, true} {
					c := append([]float32(nil), tc.c0...)
					p := tc.problem(c)
					for i := 0; i < parts; i++ {
						q := kn.part(&p, i, parts, splitN)
						kn.gemm(&q, false)
					}
					tc.check(t, fmt.Sprintf("%s parts=%d splitN=%v", kn.name, parts, splitN), c)
				}
			}
		}
	}
}

// TestSgemm checks the exported entry points with the selected kernel.
func TestSgemm(t *testing.T) {
	t.Logf("kernel: %s (available: %s)", Kernel(), kernelNames())
	for _, tc := range testCases() {
		for _, f := range []struct {
			name string
			fn   func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)
		}{{"Sgemm", Sgemm}, {"SgemmSerial", SgemmSerial}} {
			c := append([]float32(nil), tc.c0...)
			f.fn(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.a, tc.lda, tc.b, tc.ldb, tc.beta, c, tc.ldc)
			tc.check(t, f.name, c)
		}
	}
}

func kernelNames() string {
	var names []string
	for _, k := range kernels {
		names = append(names, k.name)
	}
	return strings.Join(names, ", ")
}

// TestNaive compares against a plain triple loop in float32, the
// placeholder this package replaced.
func TestNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{3, 5, 7}, {40, 33, 65}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randMatrix(rng, m, k), randMatrix(rng, n, k)
		got := make([]float32, m*n)
		Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, got, n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s, abs float32
				for p := 0; p < k; p++ {
					s += a[i*k+p] * b[j*k+p]
					abs += float32(math.Abs(float64(a[i*k+p] * b[j*k+p])))
				}
				if d := math.Abs(float64(got[i*n+j] - s)); d > 2*tolerance*float64(abs) {
					t.Fatalf("%dx%dx%d: C[%d][%d] = %v, naive %v", m, n, k, i, j, got[i*n+j], s)
				}
			}
		}
	}
}

// TestAlphaZero checks the BLAS rule that A and B are not read when alpha
// or k is 0: C becomes beta*C even if A and B hold NaNs.
func TestAlphaZero(t *testing.T) {
	nan := float32(math.NaN())
	for _, tt := range []struct {
		alpha, beta float32
		k           int
		want        float32
	}{{0, 0.5, 3, 1}, {0, 0, 3, 0}, {1, 2, 0, 4}, {1, 0, 0, 0}} {
		a := []float32{nan, nan, nan, nan, nan, nan}
		c := []float32{2, 2, 2, 2}
		Sgemm(false, false, 2, 2, tt.k, tt.alpha, a, max(tt.k, 1), a, 2, tt.beta, c, 2)
		for i, v := range c {
			if v != tt.want {
				t.Errorf("alpha=%g beta=%g k=%d: C[%d] = %v, want %v", tt.alpha, tt.beta, tt.k, i, v, tt.want)
			}
		}
	}
}

// TestBadArguments checks that malformed calls panic with a message naming
// the problem, and that empty products are accepted.
func TestBadArguments(t *testing.T) {
	s := make([]float32, 12)
	for _, tt := range []struct {
		name string
		call func()
		want string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) }, "negative dimension"},
		{"small lda", func() { Sgemm(false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }, "lda=2"},
		{"small ldb transB", func() { Sgemm(false, true, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }, "ldb=2"},
		{"short a", func() { Sgemm(false, false, 4, 2, 3, 1, s[:11], 3, s, 2, 0, s, 2) }, "len(a)=11, need 12"},
		{"short c", func() { Sgemm(false, false, 2, 4, 3, 1, s, 3, s, 4, 0, s[:8], 5) }, "len(c)=8, need 9"},
		{"huge ld", func() { Sgemm(false, false, 3, 2, 3, 1, s, math.MaxInt/2, s, 2, 0, s, 2) }, "overflows"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "gemm: ") || !strings.Contains(msg, tt.want) {
					t.Errorf("panic %q, want one containing %q", r, tt.want)
				}
			}()
			tt.call()
		})
	}
	// Empty products touch nothing and need no storage.
	Sgemm(false, false, 0, 4, 3, 1, nil, 3, s, 4, 0, nil, 4)
	Sgemm(true, true, 4, 0, 0, 1, nil, 4, nil, 1, 0, s, 1)
}

// TestConcurrent runs products from several goroutines at once, which
// contend for the shared worker pool (and lets the race detector see it).
func TestConcurrent(t *testing.T) {
	splitEverything(t)
	tcs := testCases()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(tcs); i += 4 {
				tc := tcs[i]
				c := append([]float32(nil), tc.c0...)
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.a, tc.lda, tc.b, tc.ldb, tc.beta, c, tc.ldc)
				tc.check(t, "concurrent", c)
			}
		}()
	}
	wg.Wait()
}

// TestNoAllocs checks that steady-state calls, serial and parallel, reuse
// their buffers. testing.AllocsPerRun would set GOMAXPROCS to 1, where
// nothing splits, so it counts mallocs itself with the products split
// across 4 goroutines.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers under the race detector")
	}
	splitEverything(t)
	m, n, k := 128, 300, 200
	rng := rand.New(rand.NewPCG(5, 6))
	a, b, c := randMatrix(rng, m, k), randMatrix(rng, n, k), make([]float32, m*n)
	for _, f := range []struct {
		name string
		fn   func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)
	}{{"Sgemm", Sgemm}, {"SgemmSerial", SgemmSerial}} {
		call := func() { f.fn(false, true, m, n, k, 1, a, k, b, k, 0, c, n) }
		for range 4 { // fill the pools, every worker's buffers too
			call()
		}
		// No collection meanwhile: one would empty the buffer pool (CI saw
		// 11 allocations in 50 calls with one).
		gc := debug.SetGCPercent(-1)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 50 {
			call()
		}
		runtime.ReadMemStats(&after)
		debug.SetGCPercent(gc)
		// The runtime allocates now and then on its own (a pool's chain
		// link, a buffer stolen by another P): anything allocated per call
		// would come to 50 or more.
		if allocs := after.Mallocs - before.Mallocs; allocs >= 25 {
			t.Errorf("%s: %d allocations in 50 calls", f.name, allocs)
		}
	}
}

func TestEvenBlock(t *testing.T) {
	for _, tt := range []struct{ total, limit, unit, want int }{
		{784, 256, 1, 196}, {256, 256, 1, 256}, {257, 256, 1, 129},
		{300, 480, 6, 300}, {500, 480, 6, 252}, {1, 256, 16, 16}, {100, 10, 32, 32},
	} {
		if got := evenBlock(tt.total, tt.limit, tt.unit); got != tt.want {
			t.Errorf("evenBlock(%d, %d, %d) = %d, want %d", tt.total, tt.limit, tt.unit, got, tt.want)
		}
	}
}
