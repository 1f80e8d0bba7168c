package datafree

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/quantize"
)

// wantSurvivors is magnitude pruning as package prune does it: keep
// |w| >= prune.Threshold, drop the zeros.
func wantSurvivors(w []float32, r prune.Rule) (pos []uint32, t float32) {
	t = prune.Threshold(w, r)
	for i, x := range w {
		if x != 0 && float32(math.Abs(float64(x))) >= t {
			pos = append(pos, uint32(i))
		}
	}
	return pos, t
}

func TestPruneMatchesPackagePrune(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ties := make([]float32, 5000) // many equal magnitudes and zeros
	for i := range ties {
		ties[i] = float32(r.IntN(7)-3) * 0.25
	}
	tensors := map[string][]float32{
		"laplace": bell(r, 20000, 0.05),
		"ties":    ties,
		"tiny":    {0.5, -0.25, 0, 1e-40, -3},
	}
	for name, w := range tensors {
		for _, keep := range []float64{1e-9, 0.01, 0.04, 0.23, 0.5, 0.58, 0.999, 1} {
			for _, refine := range []int64{1 << 20, 0} { // collect the bucket, or refine it by a third pass
				for _, chunk := range []int{7, 1 << 18} {
					smallChunks(t, chunk, 1000)
					refineSize = refine
					sv, err := magnitudePrune(memSource(w), Setting{Keep: keep}, 3)
					refineSize = 1 << 20
					if err != nil {
						t.Fatal(err)
					}
					pos, thr := wantSurvivors(w, prune.Rule{Keep: keep})
					if !equalU32(sv.pos, pos) {
						t.Fatalf("%s keep %v refine %d chunk %d: %d survivors, prune keeps %d", name, keep, refine, chunk, len(sv.pos), len(pos))
					}
					if len(pos) > 0 && sv.threshold != thr {
						t.Errorf("%s keep %v: threshold %v, prune says %v", name, keep, sv.threshold, thr)
					}
					for i, p := range sv.pos {
						if sv.vals[i] != w[p] {
							t.Fatalf("%s: survivor %d holds %v, w[%d] = %v", name, i, sv.vals[i], p, w[p])
						}
					}
				}
			}
		}
	}
}

func TestPruneQuality(t *testing.T) {
	smallChunks(t, 100, 1000)
	r := rand.New(rand.NewPCG(3, 4))
	w := bell(r, 10000, 0.1)
	for i := range w {
		w[i] += 5 // a large mean must not spoil the deviation
	}
	for _, q := range []float64{0.5, 1, 2.5, 100} {
		sv, err := magnitudePrune(memSource(w), Setting{Quality: q}, 2)
		if err != nil {
			t.Fatal(err)
		}
		want := prune.Threshold(w, prune.Rule{Quality: q})
		if math.Abs(float64(sv.threshold-want)) > 1e-5*float64(want) {
			t.Errorf("quality %v: threshold %v, prune says %v", q, sv.threshold, want)
		}
		pos, _ := wantSurvivors(w, prune.Rule{Keep: 1})
		n := 0
		for _, p := range pos {
			if float32(math.Abs(float64(w[p]))) >= sv.threshold {
				n++
			}
		}
		if len(sv.pos) != n {
			t.Errorf("quality %v: %d survivors, %d at or above the threshold", q, len(sv.pos), n)
		}
	}
}

func TestPruneNonFinite(t *testing.T) {
	smallChunks(t, 64, 1000)
	w := make([]float32, 3000)
	for i := range w {
		w[i] = float32(i)
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		w[2100] = bad
		_, err := magnitudePrune(memSource(w), Setting{Keep: 0.5}, 3)
		var nf *quantize.NonFiniteError
		if !errors.As(err, &nf) || nf.Index != 2100 || nf.Name != "w" {
			t.Errorf("%v at 2100: got %v, want a NonFiniteError at 2100", bad, err)
		}
	}
}

func equalU32(a, b []uint32) bool {
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
