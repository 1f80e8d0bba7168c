package report

import (
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var sampleDir = flag.String("samples", "", "also write the sample figures to this directory, to look at them")

// figurePath returns where a test writes its figure: the test's temporary
// directory, or -samples when given.
func figurePath(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if *sampleDir != "" {
		dir = *sampleDir
	}
	return filepath.Join(dir, name)
}

// decodePNG reads the PNG at path, checks its size and returns it.
func decodePNG(t *testing.T, path string, w, h int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); (w > 0 && b.Dx() != w) || b.Dy() != h {
		t.Fatalf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	return img
}

// countColour returns how many pixels of img are within a small distance
// of c (anti-aliasing blends edges), and how many are not white.
func countColour(img image.Image, c color.Color) (near, nonWhite int) {
	cr, cg, cb, _ := c.RGBA()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
			if absDiff(r, cr) < 0x1000 && absDiff(g, cg) < 0x1000 && absDiff(bl, cb) < 0x1000 {
				near++
			}
		}
	}
	return near, nonWhite
}

// countReddish returns how many pixels of img are clearly red: the marks,
// whatever their blending with the bars or the background.
func countReddish(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r > g+0x4000 && r > bl+0x4000 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// requireInk fails unless at least min pixels of img are not white.
func requireInk(t *testing.T, img image.Image, min int) {
	t.Helper()
	if _, n := countColour(img, color.White); n < min {
		t.Fatalf("only %d non-white pixels, want at least %d", n, min)
	}
}

func sensitivityCurves(layers int) []Series {
	var s []Series
	for l := range layers {
		x := []float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90}
		y := make([]float64, len(x))
		for i, sp := range x {
			y[i] = 99 - float64(l+1)*math.Pow(sp/100, 4)*60
		}
		s = append(s, Series{Name: "conv" + string(rune('1'+l)), X: x, Y: y})
	}
	return s
}

func TestLines(t *testing.T) {
	path := figurePath(t, "lines.png")
	if err := Lines(path, "Pruning sensitivity", "sparsity (%)", "accuracy (%)", sensitivityCurves(5)); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path, 0, int(figHeight.Dots(dpi)+0.5))
	if w := img.Bounds().Dx(); w <= int(figWidth.Dots(dpi)) {
		t.Errorf("width %d leaves no room for the legend beside the %v plot", w, figWidth.Dots(dpi))
	}
	requireInk(t, img, 5000)
	for i := range 5 { // every series is drawn in its own colour
		if n, _ := countColour(img, palette[i]); n < 50 {
			t.Errorf("series %d: %d pixels of its colour %v", i, n, palette[i])
		}
	}
}

func TestLinesBits(t *testing.T) {
	inits := []string{"linear", "density", "forgy", "kmeans++"}
	var s []Series
	for i, name := range inits {
		var x, y []float64
		for bits := 1; bits <= 8; bits++ {
			x = append(x, float64(bits))
			y = append(y, 99-50/float64(bits*bits)-float64(i))
		}
		s = append(s, Series{Name: name, X: x, Y: y})
	}
	s = append(s, Series{Name: "unclustered", X: []float64{math.NaN()}, Y: []float64{1}})
	path := figurePath(t, "bits.png")
	if err := Lines(path, "Accuracy vs. bits per weight (conv)", "bits per weight", "top-1 accuracy (%)", s); err != nil {
		t.Fatal(err)
	}
	requireInk(t, decodePNG(t, path, 0, int(figHeight.Dots(dpi)+0.5)), 5000)
}

func TestLinesManySeriesWrapLegend(t *testing.T) {
	s := sensitivityCurves(5)
	for len(s) < 60 {
		s = append(s, sensitivityCurves(5)...)
	}
	path := figurePath(t, "lines-many.png")
	if err := Lines(path, "60 layers", "x", "y", s); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path, 0, int(figHeight.Dots(dpi)+0.5))
	one := legendWidth([]legendEntry{{name: "conv1"}})
	if w := img.Bounds().Dx(); w < int((figWidth + 2*one).Dots(dpi)) {
		t.Errorf("width %d: 60 legend entries should need several columns", w)
	}
}

func TestLinesEmpty(t *testing.T) {
	for name, s := range map[string][]Series{
		"none":     nil,
		"nan":      {{Name: "a", X: []float64{math.NaN(), 1}, Y: []float64{1, math.Inf(1)}}},
		"empty":    {{Name: "a"}},
		"onepoint": {{Name: "a", X: []float64{3}, Y: []float64{4}}},
		"flat":     {{Name: "a", X: []float64{1, 2, 3}, Y: []float64{99, 99, 99}}},
		"ulps":     {{Name: "a", X: []float64{1, 2}, Y: []float64{1e17, math.Nextafter(1e17, 2e17)}}},
	} {
		t.Run(name, func(t *testing.T) {
			path := figurePath(t, "lines-"+name+".png")
			if err := Lines(path, "empty", "x", "y", s); err != nil {
				t.Fatal(err)
			}
			requireInk(t, decodePNG(t, path, 0, int(figHeight.Dots(dpi)+0.5)), 1000)
		})
	}
}

func TestLinesErrors(t *testing.T) {
	dir := t.TempDir()
	s := []Series{{Name: "ok", X: []float64{1}, Y: []float64{1}}, {Name: "bad", X: []float64{1, 2}, Y: []float64{1}}}
	err := Lines(filepath.Join(dir, "x.png"), "t", "x", "y", s)
	var le *LengthError
	if !errors.As(err, &le) || le.Index != 1 || le.Series != "bad" || le.X != 2 || le.Y != 1 {
		t.Fatalf("got %v, want a LengthError for series 1", err)
	}
	if !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); !os.IsNotExist(err) {
		t.Errorf("a failed figure left a file behind: %v", err)
	}

	err = Lines(filepath.Join(dir, "x.png"), "t", "x", "y", make([]Series, maxSeries+1))
	if err == nil || !strings.Contains(err.Error(), "series") {
		t.Errorf("too many series: got %v", err)
	}

	err = Lines(filepath.Join(dir, "no/such/dir/x.png"), "t", "x", "y", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "report: writing ") {
		t.Errorf("unwritable path: got %v", err)
	}
}

// gaussian returns n normal values with sd 0.05, a weight-like spread.
func gaussian(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 0.05)
	}
	return v
}

// pruned keeps the values of v with magnitude above q.
func pruned(v []float32, q float32) []float32 {
	var out []float32
	for _, x := range v {
		if x > q || x < -q {
			out = append(out, x)
		}
	}
	return out
}

func TestHistogram(t *testing.T) {
	v := pruned(gaussian(50000, 1), 0.04)
	v = append(v, float32(math.NaN()), float32(math.Inf(-1)))
	marks := make([]float32, 16)
	for i := range marks {
		marks[i] = -0.2 + 0.4*float32(i)/15
	}
	path := figurePath(t, "hist.png")
	if err := Histogram(path, "conv2 after pruning", v, 0, marks); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path, int(figWidth.Dots(dpi)+0.5), int(figHeight.Dots(dpi)+0.5))
	requireInk(t, img, 10000)
	if n, _ := countColour(img, barColor); n < 5000 {
		t.Errorf("%d pixels of bar colour", n)
	}
	if n := countReddish(img); n < 100 {
		t.Errorf("%d pixels near the mark colour: centroid lines missing", n)
	}
}

func TestHistogramEmpty(t *testing.T) {
	for name, v := range map[string][]float32{
		"nil":    nil,
		"allnan": {float32(math.NaN()), float32(math.Inf(1))},
		"single": {0.25},
	} {
		t.Run(name, func(t *testing.T) {
			path := figurePath(t, "hist-"+name+".png")
			if err := Histogram(path, name, v, 0, []float32{0.1}); err != nil {
				t.Fatal(err)
			}
			requireInk(t, decodePNG(t, path, int(figWidth.Dots(dpi)+0.5), int(figHeight.Dots(dpi)+0.5)), 1000)
		})
	}
}

func TestHistogramBadBins(t *testing.T) {
	err := Histogram(filepath.Join(t.TempDir(), "x.png"), "t", []float32{1}, MaxBins+1, nil)
	if err == nil || !strings.Contains(err.Error(), "bins") {
		t.Fatalf("got %v, want a bins error", err)
	}
	err = Histograms(filepath.Join(t.TempDir(), "x.png"), "t", []Panel{{}, {Title: "fc6", Bins: MaxBins + 1}})
	if err == nil || !strings.Contains(err.Error(), `panel 1 "fc6"`) {
		t.Fatalf("got %v, want a bins error naming panel 1", err)
	}
}

func TestHistograms(t *testing.T) {
	before := gaussian(40000, 2)
	after := pruned(before, 0.05)
	cents := []float32{-0.15, -0.1, -0.07, 0.07, 0.1, 0.15}
	panels := []Panel{
		{Title: "fc1: weights before pruning", Values: before},
		{Title: "fc1: after pruning", Values: after},
		{Title: "fc1: shared weights", Values: after, Marks: cents, Bins: 120},
		{Title: "fc2: pruned away", Values: nil},
	}
	path := figurePath(t, "hists.png")
	if err := Histograms(path, "Weight distributions", panels); err != nil {
		t.Fatal(err)
	}
	h := int((titleHeight + 4*panelHeight).Dots(dpi) + 0.5)
	requireInk(t, decodePNG(t, path, int(figWidth.Dots(dpi)+0.5), h), 20000)

	path = figurePath(t, "hists-none.png")
	if err := Histograms(path, "nothing", nil); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, path, 0, int((titleHeight+panelHeight).Dots(dpi)+0.5))

	if err := Histograms(path, "many", make([]Panel, MaxPanels+1)); err == nil {
		t.Error("more than MaxPanels panels accepted")
	}
}

func TestBinValues(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name    string
		v       []float32
		bins    int
		lo, hi  float64
		counts  []int
		skipped int
	}{
		{"spread", []float32{0, 1, 2, 3, 4}, 4, 0, 4, []int{1, 1, 1, 2}, 0},
		{"max in last bin", []float32{-1, 1}, 2, -1, 1, []int{1, 1}, 0},
		{"skips", []float32{nan, 1, inf, 3, -inf}, 2, 1, 3, []int{1, 1}, 3},
		{"constant", []float32{2, 2, 2}, 3, 1.9, 2.1, []int{0, 3, 0}, 0},
		{"zero", []float32{0}, 1, -0.5, 0.5, []int{1}, 0},
		{"none", []float32{nan}, 4, math.Inf(1), math.Inf(-1), nil, 1},
		{"default bins", make([]float32, 10000), 0, -0.5, 0.5, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := binValues(tc.v, tc.bins)
			if math.Abs(h.lo-tc.lo) > 1e-6 || math.Abs(h.hi-tc.hi) > 1e-6 {
				t.Errorf("range [%v, %v], want [%v, %v]", h.lo, h.hi, tc.lo, tc.hi)
			}
			if h.skipped != tc.skipped || h.n != len(tc.v)-tc.skipped {
				t.Errorf("n=%d skipped=%d, want %d, %d", h.n, h.skipped, len(tc.v)-tc.skipped, tc.skipped)
			}
			if tc.name == "default bins" {
				if len(h.counts) != 100 || h.counts[50] != 10000 {
					t.Errorf("default bins: %d bins, middle holds %d", len(h.counts), h.counts[50])
				}
				return
			}
			if !equalInts(h.counts, tc.counts) {
				t.Errorf("counts %v, want %v", h.counts, tc.counts)
			}
		})
	}
}

func equalInts(a, b []int) bool {
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

func TestShortCount(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {2.5, "2.5"}, {9000, "9000"}, {12500, "12.5k"},
		{250000, "250k"}, {1.5e6, "1.5M"}, {4e7, "40M"}, {2e9, "2G"},
		{0.30000000000000004, "0.3"},
	} {
		if got := shortCount(tc.v); got != tc.want {
			t.Errorf("shortCount(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}

func BenchmarkBinValues(b *testing.B) {
	v := gaussian(1<<20, 3)
	b.SetBytes(int64(4 * len(v)))
	b.ReportAllocs()
	for b.Loop() {
		binValues(v, 200)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 100, []string{"0", "20", "40", "60", "80", "100"}},
		{-98, 99, []string{"-75", "-50", "-25", "0", "25", "50", "75"}},
		{-0.21, 0.22, []string{"-0.2", "-0.1", "0", "0.1", "0.2"}},
		{0.981, 0.992, []string{"0.982", "0.984", "0.986", "0.988", "0.990", "0.992"}},
		{-1e-7, 3e-7, []string{"-1e-07", "-5e-08", "0", "5e-08", "1e-07", "1.5e-07", "2e-07", "2.5e-07", "3e-07"}},
		{1e17, math.Nextafter(1e17, 2e17), nil},
		{1, math.Nextafter(1, 2), nil},
		{1, 8, []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
		{0, 3e7, []string{"0", "5e+06", "1e+07", "1.5e+07", "2e+07", "2.5e+07", "3e+07"}},
	} {
		var got []string
		for _, tk := range niceTicks(tc.lo, tc.hi, 8) {
			if tk.Value < tc.lo-1e-12 || tk.Value > tc.hi+1e-12 {
				t.Errorf("niceTicks(%v, %v): tick %v outside the range", tc.lo, tc.hi, tk.Value)
			}
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if tc.want == nil {
			continue // only termination matters
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("niceTicks(%v, %v) labels %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}
