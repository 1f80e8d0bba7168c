package quantize

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestClusterHandChecked(t *testing.T) {
	tests := []struct {
		name    string
		values  []float32
		k       int
		want    []float32
		assign  []uint16
		inertia float64
	}{
		{"two pairs", []float32{1, 2, 10, 11}, 2, []float32{1.5, 10.5}, []uint16{0, 0, 1, 1}, 1},
		{"unsorted input", []float32{11, 1, 10, 2}, 2, []float32{1.5, 10.5}, []uint16{1, 0, 1, 0}, 1},
		{"one cluster", []float32{1, 2, 3, 6}, 1, []float32{3}, []uint16{0, 0, 0, 0}, 14},
		{"three groups", []float32{-5, -4, 0, 1, 9, 10}, 3, []float32{-4.5, 0.5, 9.5}, []uint16{0, 0, 1, 1, 2, 2}, 1.5},
		{"fewer distinct than k", []float32{3, 3, 1, 1, 2}, 8, []float32{1, 2, 3}, []uint16{2, 2, 0, 0, 1}, 0},
		{"distinct equals k", []float32{4, -1, 2}, 3, []float32{-1, 2, 4}, []uint16{2, 0, 1}, 0},
		{"single value", []float32{5}, 4, []float32{5}, []uint16{0}, 0},
		{"repeated single value", []float32{-2, -2, -2}, 2, []float32{-2}, []uint16{0, 0, 0}, 0},
		{"empty", []float32{}, 4, []float32{}, []uint16{}, 0},
	}
	for _, tc := range tests {
		for _, optimal := range []bool{false, true} {
			res, err := Cluster(tc.values, tc.k, Options{Optimal: optimal})
			if err != nil {
				t.Fatalf("%s (optimal %v): %v", tc.name, optimal, err)
			}
			if !slices.Equal(res.Centroids, tc.want) || !slices.Equal(res.Assign, tc.assign) || math.Abs(res.Inertia-tc.inertia) > 1e-9 {
				t.Errorf("%s (optimal %v): got %v %v inertia %v, want %v %v %v", tc.name, optimal,
					res.Centroids, res.Assign, res.Inertia, tc.want, tc.assign, tc.inertia)
			}
		}
	}
}

func TestClusterFewDistinctIsExact(t *testing.T) {
	res, err := Cluster([]float32{1, 1, 2, 2, 3}, 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 0 || !res.Converged {
		t.Errorf("iterations %d converged %v; want 0 true for at most k distinct values", res.Iterations, res.Converged)
	}
}

func TestClusterRejectsNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, bad := range []float32{float32(math.NaN()), inf, -inf} {
		values := []float32{1, 2, 3, bad, 5}
		for _, optimal := range []bool{false, true} {
			_, err := Cluster(values, 2, Options{Optimal: optimal})
			var nf *NonFiniteError
			if !errors.As(err, &nf) || nf.Index != 3 {
				t.Errorf("Cluster with %v: error %v, want *NonFiniteError at index 3", bad, err)
			}
		}
		if _, err := InitialCentroids(values, 2, Options{}); err == nil {
			t.Errorf("InitialCentroids with %v: no error", bad)
		}
	}
}

func TestClusterBadOptions(t *testing.T) {
	values := []float32{1, 2, 3}
	tests := []struct {
		name string
		k    int
		opt  Options
	}{
		{"k zero", 0, Options{}},
		{"k too large", MaxClusters + 1, Options{}},
		{"unknown init", 2, Options{Init: "random"}},
		{"negative MaxIter", 2, Options{MaxIter: -1}},
		{"NaN tolerance", 2, Options{Tol: math.NaN()}},
		{"negative tolerance", 2, Options{Tol: -1}},
		{"negative workers", 2, Options{Workers: -1}},
	}
	for _, tc := range tests {
		if _, err := Cluster(values, tc.k, tc.opt); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// naiveLloyd is the textbook O(nk) algorithm with scikit-learn's stopping
// rule (tol > 0) or until the labels are stable (tol 0), in float64. It reports whether a cluster ever went empty, which it
// does not handle.
func naiveLloyd(x []float32, c []float64, maxIter int, tol float64) (iters int, empty bool) {
	mean, v := 0.0, 0.0
	for _, xi := range x {
		mean += float64(xi)
	}
	mean /= float64(len(x))
	for _, xi := range x {
		v += (float64(xi) - mean) * (float64(xi) - mean)
	}
	tol *= v / float64(len(x))
	if tol == 0 {
		tol = -1
	}
	labels, old := make([]int, len(x)), make([]int, len(x))
	for it := 1; it <= maxIter; it++ {
		for i, xi := range x {
			best := math.Inf(1)
			for j, cj := range c {
				if d := math.Abs(float64(xi) - cj); d < best {
					best, labels[i] = d, j
				}
			}
		}
		if it > 1 && slices.Equal(labels, old) {
			return it, false
		}
		sum, cnt := make([]float64, len(c)), make([]int, len(c))
		for i, xi := range x {
			sum[labels[i]] += float64(xi)
			cnt[labels[i]]++
		}
		moved := 0.0
		for j := range c {
			if cnt[j] == 0 {
				return it, true
			}
			nc := sum[j] / float64(cnt[j])
			moved += (nc - c[j]) * (nc - c[j])
			c[j] = nc
		}
		labels, old = old, labels
		if moved <= tol {
			return it, false
		}
	}
	return maxIter, false
}

func randomData(kind string, n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		switch kind {
		case "normal":
			x[i] = float32(r.NormFloat64())
		case "uniform":
			x[i] = float32(r.Float64()*2 - 1)
		case "mixture":
			x[i] = float32(r.NormFloat64()*0.01 + float64(r.IntN(3))*0.1)
		case "coarse": // many duplicates
			x[i] = float32(math.Round(r.NormFloat64()*50) / 50)
		case "weights": // pruned-weight-like: two tails, nothing near zero
			w := r.NormFloat64() * 0.05
			if math.Abs(w) < 0.04 {
				w = math.Copysign(0.04+math.Abs(w)/10, w)
			}
			x[i] = float32(w)
		}
	}
	return x
}

func TestLloydMatchesNaive(t *testing.T) {
	rules := []struct {
		name string
		opt  Options
	}{
		{"fixed point", Options{}},
		{"scikit-learn", Options{MaxIter: 300, Tol: 1e-4}},
	}
	cases, compared := 0, 0
	for _, kind := range []string{"normal", "uniform", "mixture", "coarse", "weights"} {
		for _, k := range []int{2, 7, 16} {
			x := randomData(kind, 3000, uint64(k))
			for _, init := range []Init{Linear, Density, Forgy, KMeansPP} {
				for _, rule := range rules {
					opt := rule.opt
					opt.Init, opt.Seed = init, 3
					name := fmt.Sprintf("%s k=%d %s %s", kind, k, init, rule.name)
					start, err := InitialCentroids(x, k, opt)
					if err != nil {
						t.Fatal(err)
					}
					c := make([]float64, len(start))
					for j, v := range start {
						c[j] = float64(v)
					}
					cases++
					iters, empty := naiveLloyd(x, c, cmp.Or(opt.MaxIter, DefaultMaxIter), opt.Tol)
					if empty {
						t.Logf("%s: empty cluster, skipped", name)
						continue // relocation is checked separately
					}
					compared++
					res, err := Cluster(x, k, opt)
					if err != nil {
						t.Fatal(err)
					}
					if res.Iterations != iters {
						t.Errorf("%s: %d iterations, naive %d", name, res.Iterations, iters)
					}
					if len(res.Centroids) != k {
						t.Fatalf("%s: %d centroids", name, len(res.Centroids))
					}
					for j := range c {
						if d := math.Abs(float64(res.Centroids[j]) - c[j]); d > 1e-6*(math.Abs(c[j])+1e-3) {
							t.Errorf("%s: centroid %d = %v, naive %v", name, j, res.Centroids[j], c[j])
						}
					}
					checkNearest(t, x, res)
				}
			}
		}
	}
	// An empty cluster leaves the oracle without an answer; it must stay
	// the exception, or the comparison checks nothing.
	t.Logf("%d of %d cases compared with the oracle", compared, cases)
	if compared < cases*9/10 {
		t.Errorf("only %d of %d cases compared with the oracle (the rest hit an empty cluster)", compared, cases)
	}
}

// checkNearest checks the Result invariants: ascending used centroids, each
// value at its nearest centroid, and the inertia.
func checkNearest(t *testing.T, x []float32, res *Result) {
	t.Helper()
	used := make([]bool, len(res.Centroids))
	sum := 0.0
	for i, xi := range x {
		j := res.Assign[i]
		used[j] = true
		d := float64(xi) - float64(res.Centroids[j])
		sum += d * d
		for _, c := range res.Centroids {
			if e := float64(xi) - float64(c); e*e < d*d {
				t.Fatalf("value %v assigned to %v, but %v is nearer", xi, res.Centroids[j], c)
			}
		}
	}
	for j, c := range res.Centroids {
		if j > 0 && c <= res.Centroids[j-1] {
			t.Fatalf("centroids not strictly ascending: %v", res.Centroids)
		}
		if !used[j] {
			t.Fatalf("centroid %d (%v) unused", j, c)
		}
	}
	if math.Abs(sum-res.Inertia) > 1e-9*(sum+1e-30) {
		t.Fatalf("inertia %v, recomputed %v", res.Inertia, sum)
	}
}

func TestLloydRelocatesEmptyClusters(t *testing.T) {
	// Linear initialisation over [0, 100] leaves most centroids in the gap.
	x := randomData("uniform", 1000, 9)
	x = append(x, 100, 99)
	res, err := Cluster(x, 8, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Centroids) != 8 {
		t.Fatalf("got %d centroids %v; empty clusters should have been refilled", len(res.Centroids), res.Centroids)
	}
	checkNearest(t, x, res)
	if !res.Converged {
		t.Errorf("did not converge in %d iterations", res.Iterations)
	}
	// Converged by a stable assignment: every centroid is its cluster's mean.
	res, err = Cluster(x, 8, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, cnt := make([]float64, 8), make([]int, 8)
	for i, j := range res.Assign {
		sum[j] += float64(x[i])
		cnt[j]++
	}
	for j, c := range res.Centroids {
		if m := float32(sum[j] / float64(cnt[j])); math.Abs(float64(m-c)) > 1e-6 {
			t.Errorf("centroid %d = %v, mean of its cluster %v", j, c, m)
		}
	}
}

func TestMaxIterStops(t *testing.T) {
	x := randomData("normal", 5000, 1)
	res, err := Cluster(x, 16, Options{MaxIter: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 2 || res.Converged {
		t.Errorf("iterations %d converged %v; want 2 false", res.Iterations, res.Converged)
	}
}

// bruteForce is the least inertia over all k^n labellings.
func bruteForce(x []float32, k int) float64 {
	best := math.Inf(1)
	labels := make([]int, len(x))
	for {
		sum, cnt := make([]float64, k), make([]int, k)
		for i, l := range labels {
			sum[l] += float64(x[i])
			cnt[l]++
		}
		in := 0.0
		for i, l := range labels {
			d := float64(x[i]) - sum[l]/float64(cnt[l])
			in += d * d
		}
		best = min(best, in)
		i := 0
		for ; i < len(labels) && labels[i] == k-1; i++ {
			labels[i] = 0
		}
		if i == len(labels) {
			return best
		}
		labels[i]++
	}
}

func TestOptimalMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := range 40 {
		n := 2 + r.IntN(7)
		k := 1 + r.IntN(3)
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.IntN(20)) / 4 // duplicates on purpose
		}
		res, err := Cluster(x, k, Options{Optimal: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteForce(x, k); math.Abs(res.Inertia-want) > 1e-9 {
			t.Errorf("trial %d: %v k=%d: optimal inertia %v, brute force %v", trial, x, k, res.Inertia, want)
		}
	}
}

func TestOptimalNoWorseThanLloyd(t *testing.T) {
	for _, kind := range []string{"normal", "mixture", "coarse", "weights"} {
		for _, k := range []int{3, 16, 64} {
			x := randomData(kind, 4000, uint64(k)+7)
			opt, err := Cluster(x, k, Options{Optimal: true})
			if err != nil {
				t.Fatal(err)
			}
			checkNearest(t, x, opt)
			for _, init := range []Init{Linear, Density, Forgy, KMeansPP} {
				ll, err := Cluster(x, k, Options{Init: init, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				if opt.Inertia > ll.Inertia*(1+1e-6) {
					t.Errorf("%s k=%d: optimal inertia %v above Lloyd (%s) %v", kind, k, opt.Inertia, init, ll.Inertia)
				}
			}
		}
	}
}

func TestInitialisations(t *testing.T) {
	x := []float32{9, 1, 3, 7, 5, 2, 8, 4, 6, 0} // 0..9 shuffled
	lin, err := InitialCentroids(x, 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 3, 6, 9}; !slices.Equal(lin, want) {
		t.Errorf("linear: %v, want %v", lin, want)
	}
	den, err := InitialCentroids(x, 4, Options{Init: Density})
	if err != nil {
		t.Fatal(err)
	}
	// Ranks floor((j+1/2)*10/4) = 1, 3, 6, 8.
	if want := []float32{1, 3, 6, 8}; !slices.Equal(den, want) {
		t.Errorf("density: %v, want %v", den, want)
	}
	lin1, _ := InitialCentroids(x, 1, Options{})
	if !slices.Equal(lin1, []float32{0}) {
		t.Errorf("linear k=1: %v, want [0]", lin1)
	}

	big := randomData("normal", 10000, 2)
	for _, init := range []Init{Forgy, KMeansPP} {
		a, _ := InitialCentroids(big, 32, Options{Init: init, Seed: 1})
		b, _ := InitialCentroids(big, 32, Options{Init: init, Seed: 1})
		c, _ := InitialCentroids(big, 32, Options{Init: init, Seed: 2})
		if !slices.Equal(a, b) {
			t.Errorf("%s: same seed gave %v and %v", init, a, b)
		}
		if slices.Equal(a, c) {
			t.Errorf("%s: seeds 1 and 2 gave the same centroids", init)
		}
		if len(a) != 32 {
			t.Fatalf("%s: %d centroids", init, len(a))
		}
		for j, v := range a {
			if !slices.Contains(big, v) {
				t.Errorf("%s: centroid %v is not a data value", init, v)
			}
			if j > 0 && v <= a[j-1] {
				t.Errorf("%s: centroids not strictly ascending: %v", init, a)
			}
		}
	}
}

func TestKMeansPPPrefersFarValues(t *testing.T) {
	// Two tight groups far apart: D^2 sampling puts a centre in each.
	x := append(randomData("mixture", 500, 1)[:250], make([]float32, 250)...)
	for i := 250; i < 500; i++ {
		x[i] = 1000 + float32(i)
	}
	for seed := range int64(10) {
		c, err := InitialCentroids(x, 2, Options{Init: KMeansPP, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if !(c[0] < 500 && c[1] > 500) {
			t.Errorf("seed %d: centres %v do not cover both groups", seed, c)
		}
	}
}

func TestWorkersDoNotChangeResult(t *testing.T) {
	x := randomData("weights", 3*minParallel+17, 4)
	one, err := Cluster(x, 32, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 8} {
		many, err := Cluster(x, 32, Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one.Centroids, many.Centroids) || !slices.Equal(one.Assign, many.Assign) ||
			one.Inertia != many.Inertia || one.Iterations != many.Iterations {
			t.Errorf("workers %d: result differs from one worker", w)
		}
	}
}

func TestRadixSort(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	special := []float32{0, negZero, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 1e-38, -1e-38}
	x := append(randomData("normal", 3*minParallel, 8), special...)
	for _, w := range []int{1, 2, 5} {
		bits, err := radixSort(x, w)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(bits))
		for i, u := range bits {
			got[i] = math.Float32frombits(u)
		}
		want := slices.Clone(x)
		slices.Sort(want)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("workers %d: position %d: %v, want %v", w, i, got[i], want[i])
			}
		}
		for i := 1; i < len(bits); i++ {
			if floatKey(bits[i]) < floatKey(bits[i-1]) {
				t.Fatalf("workers %d: keys out of order at %d", w, i)
			}
		}
	}
}

// FuzzCluster checks that arbitrary float bit patterns either cluster into
// a consistent Result or give a *NonFiniteError, never a panic.
func FuzzCluster(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 0, 0}, uint8(2), false)
	f.Add([]byte{0, 0, 192, 127, 0, 0, 128, 63}, uint8(1), true)
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0, 128, 0, 0, 128, 127, 0, 0, 128, 255}, uint8(3), false)
	f.Fuzz(func(t *testing.T, data []byte, k uint8, optimal bool) {
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24)
		}
		res, err := Cluster(x, int(k%16)+1, Options{Optimal: optimal})
		if err != nil {
			var nf *NonFiniteError
			if !errors.As(err, &nf) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(res.Assign) != len(x) || len(res.Centroids) > int(k%16)+1 {
			t.Fatalf("%d assignments for %d values, %d centroids", len(res.Assign), len(x), len(res.Centroids))
		}
		for i, j := range res.Assign {
			if int(j) >= len(res.Centroids) {
				t.Fatalf("value %d assigned to centroid %d of %d", i, j, len(res.Centroids))
			}
		}
	})
}

func TestAssignTableMatchesSearch(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	x := append(randomData("normal", minTable+100, 3), 0, negZero, math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, 1e-30, -1e-30)
	for _, k := range []int{1, 2, 32, 1000, MaxClusters} {
		c := make([]float32, 0, k)
		for j := range k { // dense around zero, so that many midpoints share a bucket
			v := float32(math.Sinh(float64(j-k/2) * 6 / float64(k)))
			if len(c) == 0 || v > c[len(c)-1] {
				c = append(c, v)
			}
		}
		mid := make([]float64, len(c)-1)
		for j := range mid {
			mid[j] = (float64(c[j]) + float64(c[j+1])) / 2
		}
		if len(mid) > 0 {
			x = append(x, float32(mid[len(mid)/2])) // a value on a midpoint goes low
		}
		for _, w := range []int{1, 2} {
			got := assign(x, c, w)
			for i, xi := range x {
				if want := countBelow(mid, float64(xi)); int(got[i]) != want {
					t.Fatalf("k=%d: value %v: table gives %d, search %d", k, xi, got[i], want)
				}
			}
		}
	}
}

// Tiny values after huge ones: a difference of prefix sums would round
// their cluster means to garbage and make Lloyd's algorithm cycle.
func TestClusterWideDynamicRange(t *testing.T) {
	x := []float32{-7.641769e+15, -7.6416316e+15}
	for i := range 1000 {
		x = append(x, 1e-10*(1+float32(i%10)))
	}
	for _, optimal := range []bool{false, true} {
		res, err := Cluster(x, 6, Options{Optimal: optimal})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Converged || res.Iterations > 50 {
			t.Errorf("optimal %v: converged %v after %d iterations", optimal, res.Converged, res.Iterations)
		}
		checkNearest(t, x, res)
		for _, c := range res.Centroids[2:] {
			if c < 1e-10 || c > 1e-9 {
				t.Errorf("optimal %v: centroid %v outside the tiny values' range %v", optimal, c, res.Centroids)
			}
		}
	}
}
