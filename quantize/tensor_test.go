package quantize

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// pruned returns a [rows, cols] tensor of pruned-weight-like values with
// about keep of them non-zero.
func pruned(rows, cols int, keep float64, seed uint64) []float32 {
	w := randomData("weights", rows*cols, seed)
	for i := range w {
		if float64(i%100) >= keep*100 {
			w[i] = 0
		}
	}
	return w
}

func TestQuantizeTensor(t *testing.T) {
	shape := []int{30, 70}
	w := pruned(30, 70, 0.1, 1)
	w[5] = float32(math.Copysign(0, -1)) // a negative zero is pruned too
	for _, opt := range []Options{{Bits: 3}, {Bits: 5, Init: Density}, {Bits: 4, Optimal: true}} {
		l, err := QuantizeTensor("fc.weight", shape, w, opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Validate(); err != nil {
			t.Fatal(err)
		}
		if l.Name != "fc.weight" || !slices.Equal(l.Shape, shape) || l.Bits != opt.Bits {
			t.Errorf("header %q %v %d", l.Name, l.Shape, l.Bits)
		}
		if len(l.Codebook) != 1<<opt.Bits {
			t.Errorf("bits %d: %d codebook entries", opt.Bits, len(l.Codebook))
		}
		d := l.Dense()
		next := 0
		for i, x := range w {
			switch {
			case x == 0 && d[i] != 0:
				t.Fatalf("pruned position %d became %v", i, d[i])
			case x == 0:
			case next >= len(l.Pos) || int(l.Pos[next]) != i:
				t.Fatalf("surviving position %d missing from Pos", i)
			case d[i] != l.Codebook[l.Idx[next]]:
				t.Fatalf("position %d: dense %v, codebook %v", i, d[i], l.Codebook[l.Idx[next]])
			default:
				next++
			}
		}
		if next != len(l.Pos) {
			t.Errorf("%d positions, %d survivors", len(l.Pos), next)
		}
		// Inertia over the layer equals the clustering's inertia.
		vals := make([]float32, 0, len(l.Pos))
		for _, p := range l.Pos {
			vals = append(vals, w[p])
		}
		res, err := Cluster(vals, 1<<opt.Bits, opt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Inertia(w)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-res.Inertia) > 1e-9*res.Inertia {
			t.Errorf("Layer.Inertia %v, Cluster inertia %v", got, res.Inertia)
		}
	}
}

func TestQuantizeTensorAllPruned(t *testing.T) {
	l, err := QuantizeTensor("conv.weight", []int{2, 3, 1, 1}, make([]float32, 6), Options{Bits: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(l.Pos) != 0 || len(l.Codebook) != 0 || !slices.Equal(l.Dense(), make([]float32, 6)) {
		t.Errorf("all-zero tensor gave %+v", l)
	}
	if in, err := l.Inertia(make([]float32, 6)); err != nil || in != 0 {
		t.Errorf("inertia %v %v", in, err)
	}
}

func TestQuantizeTensorFewDistinct(t *testing.T) {
	w := []float32{0, 0.5, 0, -0.5, 0.5, 0}
	l, err := QuantizeTensor("t", []int{6}, w, Options{Bits: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Codebook, []float32{-0.5, 0.5}) || !slices.Equal(l.Dense(), w) {
		t.Errorf("codebook %v dense %v", l.Codebook, l.Dense())
	}
}

func TestQuantizeTensorErrors(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name  string
		shape []int
		w     []float32
		opt   Options
		want  string
	}{
		{"bits zero", []int{2}, []float32{1, 2}, Options{}, "bits 0"},
		{"bits 17", []int{2}, []float32{1, 2}, Options{Bits: 17}, "bits 17"},
		{"shape mismatch", []int{3}, []float32{1, 2}, Options{Bits: 2}, "holds 3 weights, got 2"},
		{"negative dimension", []int{-1, -2}, []float32{1, 2}, Options{Bits: 2}, "negative dimension"},
		{"NaN", []int{3}, []float32{1, nan, 2}, Options{Bits: 2}, "weight 1 is NaN"},
		{"Inf", []int{2}, []float32{float32(math.Inf(-1)), 2}, Options{Bits: 2}, "weight 0 is -Inf"},
		{"bad init", []int{2}, []float32{1, 2}, Options{Bits: 2, Init: "x"}, "layer w: unknown initialisation"},
	}
	for _, tc := range tests {
		_, err := QuantizeTensor("w", tc.shape, tc.w, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "quantize: layer w: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	_, err := QuantizeTensor("w", []int{3}, []float32{1, nan, 2}, Options{Bits: 2})
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Name != "w" || nf.Index != 1 {
		t.Errorf("NaN error %#v is not a *NonFiniteError naming w at 1", err)
	}
}

func TestLayerInertiaErrors(t *testing.T) {
	l := &Layer{Name: "x", Shape: []int{2}, Bits: 1, Codebook: []float32{1}, Pos: []uint32{1}, Idx: []uint16{0}}
	if in, err := l.Inertia([]float32{3, 2}); err != nil || in != 9+1 {
		t.Errorf("inertia %v %v, want 10", in, err)
	}
	if _, err := l.Inertia([]float32{1}); err == nil {
		t.Error("short tensor: no error")
	}
	l.Idx[0] = 4
	if _, err := l.Inertia([]float32{1, 2}); err == nil {
		t.Error("invalid layer: no error")
	}
}
