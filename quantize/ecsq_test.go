package quantize

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// laplace draws n values of a Laplacian of scale b, the usual shape of
// trained weights.
func laplace(n int, b float64, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(b * r.ExpFloat64() * float64(1-2*r.IntN(2)))
	}
	return x
}

// indexEntropy is the empirical entropy of the assignment in bits per value.
func indexEntropy(assign []uint16, k int) float64 {
	cnt := make([]int, k)
	for _, a := range assign {
		cnt[a]++
	}
	h := 0.0
	for _, c := range cnt {
		if c > 0 {
			p := float64(c) / float64(len(assign))
			h -= p * math.Log2(p)
		}
	}
	return h
}

func variance(x []float32) float64 {
	var m, m2 float64
	for _, v := range x {
		m += float64(v)
	}
	m /= float64(len(x))
	for _, v := range x {
		m2 += (float64(v) - m) * (float64(v) - m)
	}
	return m2 / float64(len(x))
}

// naiveECSQ is the textbook O(nk) entropy-constrained iteration in
// float64 from the centroids c: brute-force assignment (ties to the lower
// centroid), means, frequencies, until the assignment is stable. It
// returns the centroids of the non-empty clusters and each value's index
// among them.
func naiveECSQ(x []float32, c []float64, lambda float64) ([]float64, []int) {
	weight := lambda * variance(x)
	lab := make([]int, len(x))
	for i, v := range x { // start: nearest centroid
		best := math.Inf(1)
		for k, ck := range c {
			if d := (float64(v) - ck) * (float64(v) - ck); d < best {
				best, lab[i] = d, k
			}
		}
	}
	for range 10_000 {
		cnt := make([]int, len(c))
		for _, l := range lab {
			cnt[l]++
		}
		changed := false
		for i, v := range x {
			best, arg := math.Inf(1), -1
			for k, ck := range c {
				if cnt[k] == 0 {
					continue
				}
				cost := (float64(v)-ck)*(float64(v)-ck) - weight*math.Log2(float64(cnt[k])/float64(len(x)))
				if cost < best {
					best, arg = cost, k
				}
			}
			changed = changed || arg != lab[i]
			lab[i] = arg
		}
		if !changed {
			break
		}
		sum := make([]float64, len(c))
		cnt = make([]int, len(c))
		for i, l := range lab {
			sum[l] += float64(x[i])
			cnt[l]++
		}
		for k := range c {
			if cnt[k] > 0 {
				c[k] = sum[k] / float64(cnt[k])
			}
		}
	}
	// Renumber the non-empty clusters.
	used := make([]int, len(c))
	for _, l := range lab {
		used[l]++
	}
	var kept []float64
	renum := make([]int, len(c))
	for k, u := range used {
		if u > 0 {
			renum[k] = len(kept)
			kept = append(kept, c[k])
		}
	}
	for i := range lab {
		lab[i] = renum[lab[i]]
	}
	return kept, lab
}

func TestECSQMatchesNaive(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		k      int
		lambda float64
	}{
		{"laplace", 8, 0.05},
		{"laplace", 16, 0.3},
		{"weights", 16, 0.1},
		{"mixture", 8, 1},
		{"normal", 32, 0.02},
	} {
		var x []float32
		if tc.kind == "laplace" {
			x = laplace(3000, 0.05, 11)
		} else {
			x = randomData(tc.kind, 3000, 5)
		}
		lloyd, err := Cluster(x, tc.k, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Cluster(x, tc.k, Options{Lambda: tc.lambda})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Converged {
			t.Errorf("%s k=%d lambda=%v: not converged", tc.kind, tc.k, tc.lambda)
		}
		// The naive run starts from Lloyd's float64 fixed point, which the
		// float32 centroids of the Lloyd result stand for to within
		// rounding; compare assignments, which survive that rounding.
		s, _ := newSorted(x, 1)
		init, _ := s.initial(tc.k, Options{})
		cent := widen(init)
		s.lloyd(cent, Options{})
		want, lab := naiveECSQ(x, cent, tc.lambda)
		if len(res.Centroids) != len(want) {
			t.Fatalf("%s k=%d lambda=%v: %d centroids, naive %d", tc.kind, tc.k, tc.lambda, len(res.Centroids), len(want))
		}
		for j, c := range want {
			if math.Abs(float64(res.Centroids[j])-c) > 1e-6*math.Abs(c)+1e-9 {
				t.Errorf("%s k=%d lambda=%v: centroid %d = %v, naive %v", tc.kind, tc.k, tc.lambda, j, res.Centroids[j], c)
			}
		}
		diff := 0
		for i := range x {
			if int(res.Assign[i]) != lab[i] {
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s k=%d lambda=%v: %d of %d assignments differ from the naive ECSQ", tc.kind, tc.k, tc.lambda, diff, len(x))
		}
		if len(res.Centroids) >= len(lloyd.Centroids) && tc.lambda >= 0.3 {
			t.Errorf("%s k=%d lambda=%v: no cluster dropped (%d centroids)", tc.kind, tc.k, tc.lambda, len(res.Centroids))
		}
	}
}

// TestECSQTinyLambdaIsLloyd: with a rate weight far below any gap between
// a value and a midpoint, the envelope's breakpoints are Lloyd's
// midpoints and the result is the k-means one.
func TestECSQTinyLambdaIsLloyd(t *testing.T) {
	x := laplace(20_000, 1, 3)
	for _, opt := range []Options{{}, {Optimal: true}, {Init: KMeansPP, Seed: 2}} {
		want, err := Cluster(x, 16, opt)
		if err != nil {
			t.Fatal(err)
		}
		opt.Lambda = 1e-13
		got, err := Cluster(x, 16, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Centroids, want.Centroids) || !slices.Equal(got.Assign, want.Assign) || got.Inertia != want.Inertia {
			t.Errorf("%+v: tiny lambda changed the k-means result", opt)
		}
	}
}

// TestECSQTradesDistortionForRate: on a Laplacian sample, raising lambda
// lowers the empirical entropy of the indices and raises the squared
// error, step by step, and lowers the Lagrangian below k-means'.
func TestECSQTradesDistortionForRate(t *testing.T) {
	x := laplace(50_000, 0.03, 1)
	s2 := variance(x)
	prevH, prevD := math.Inf(1), -1.0
	var kmeans *Result
	for _, lambda := range []float64{0, 0.01, 0.03, 0.1, 0.3, 1} {
		res, err := Cluster(x, 32, Options{Lambda: lambda})
		if err != nil {
			t.Fatal(err)
		}
		if lambda == 0 {
			kmeans = res
		}
		h := indexEntropy(res.Assign, len(res.Centroids))
		d := res.Inertia / float64(len(x))
		t.Logf("lambda %-5v: %2d centroids, %.3f bits/index, distortion %.4f s^2", lambda, len(res.Centroids), h, d/s2)
		if h >= prevH || d <= prevD {
			t.Errorf("lambda %v: entropy %.4f (before %.4f), distortion %.4g (before %.4g): want lower entropy and more distortion", lambda, h, prevH, d, prevD)
		}
		prevH, prevD = h, d
		if lambda > 0 {
			hk := indexEntropy(kmeans.Assign, len(kmeans.Centroids))
			jk := kmeans.Inertia/float64(len(x)) + lambda*s2*hk
			if j := d + lambda*s2*h; j >= jk {
				t.Errorf("lambda %v: Lagrangian %.4g not below k-means' %.4g", lambda, j, jk)
			}
		}
		checkInertia(t, x, res)
	}
}

// checkInertia recomputes the inertia and checks the centroids ascend.
func checkInertia(t *testing.T, x []float32, res *Result) {
	t.Helper()
	sum := 0.0
	for i, v := range x {
		d := float64(v) - float64(res.Centroids[res.Assign[i]])
		sum += d * d
	}
	if math.Abs(sum-res.Inertia) > 1e-9*sum {
		t.Errorf("inertia %v, recomputed %v", res.Inertia, sum)
	}
	for j := 1; j < len(res.Centroids); j++ {
		if res.Centroids[j] <= res.Centroids[j-1] {
			t.Errorf("centroids not ascending at %d: %v", j, res.Centroids)
		}
	}
}

// TestECSQLargeInputs runs the bucket-table assignment (inputs beyond
// minTable) and several workers: the result is the same as one worker's.
func TestECSQLargeInputs(t *testing.T) {
	x := laplace(1<<17, 0.02, 9)
	one, err := Cluster(x, 16, Options{Lambda: 0.1, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	four, err := Cluster(x, 16, Options{Lambda: 0.1, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(one.Centroids, four.Centroids) || !slices.Equal(one.Assign, four.Assign) || one.Inertia != four.Inertia {
		t.Error("workers changed the ECSQ result")
	}
	checkInertia(t, x, one)
}

func TestECSQHugeLambdaLeavesOneCluster(t *testing.T) {
	x := laplace(5000, 1, 4)
	res, err := Cluster(x, 8, Options{Lambda: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Centroids) != 1 {
		t.Errorf("%d centroids, want 1", len(res.Centroids))
	}
}

func TestECSQBadLambda(t *testing.T) {
	for _, l := range []float64{-0.1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := Cluster([]float32{1, 2, 3}, 2, Options{Lambda: l}); err == nil {
			t.Errorf("lambda %v: no error", l)
		}
		if _, err := QuantizeTensor("fc1.weight", []int{3}, []float32{1, 2, 3}, Options{Bits: 1, Lambda: l}); err == nil {
			t.Errorf("QuantizeTensor lambda %v: no error", l)
		}
	}
}

func TestQuantizeTensorLambdaValid(t *testing.T) {
	w := pruned(100, 300, 0.1, 8)
	l, err := QuantizeTensor("fc1.weight", []int{100, 300}, w, Options{Bits: 5, Lambda: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(l.Codebook) >= 32 {
		t.Errorf("%d codebook entries at lambda 0.5; want some dropped", len(l.Codebook))
	}
}
