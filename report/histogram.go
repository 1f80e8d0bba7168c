package report

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Limits on what one figure may hold; callers with more layers than
// MaxPanels split them over several figures.
const (
	MaxBins   = 10000
	MaxPanels = 64
)

// Panel is one histogram of a Histograms figure.
type Panel struct {
	Title  string
	Values []float32 // values to count; NaN and ±Inf are skipped
	Marks  []float32 // positions drawn as thin vertical lines (centroids)
	Bins   int       // number of bins; 0 picks one from the count
}

// Histogram draws the distribution of values as a histogram of equal-width
// bins over [min, max] of the finite values and writes it to path as a PNG.
// Each mark is drawn as a thin vertical line across the plot: the
// shared-weight centroids of a layer, as in the paper's Figures 4 and 5.
// Callers wanting the distribution of surviving weights pass only the
// non-zero ones.
//
// bins ≤ 0 picks ⌈√n⌉ clamped to [10, 200] for n finite values; bins above
// MaxBins is an error. Binning is two passes over values (range, then
// counts) with no copy, so it suits tensors of 10⁸ weights. NaN and ±Inf
// values and marks are skipped, and their number is noted under the title;
// with no finite value the figure shows a "no data" note.
func Histogram(path, title string, values []float32, bins int, marks []float32) error {
	p, err := histPlot(title, values, bins, marks, 8)
	if err != nil {
		return err
	}
	c := newCanvas(figWidth, figHeight)
	p.Draw(inset(draw.New(c)))
	return savePNG(path, c)
}

// Histograms draws one histogram per panel, stacked vertically under a
// common title with their data areas aligned, and writes the figure to path
// as a PNG: say, the weights of each layer before and after pruning, or the
// surviving weights of each layer with its centroids. Each panel is drawn
// as by Histogram, with its own ranges. No panels gives a single empty
// panel with a "no data" note; more than MaxPanels is an error.
func Histograms(path, title string, panels []Panel) error {
	if len(panels) > MaxPanels {
		return fmt.Errorf("report: %d panels in %q; at most %d fit one figure", len(panels), title, MaxPanels)
	}
	if len(panels) == 0 {
		panels = []Panel{{}}
	}
	plots := make([][]*plot.Plot, len(panels))
	for i, pn := range panels {
		p, err := histPlot(pn.Title, pn.Values, pn.Bins, pn.Marks, 4)
		if err != nil {
			return fmt.Errorf("%w (panel %d %q)", err, i, pn.Title)
		}
		plots[i] = []*plot.Plot{p}
	}

	c := newCanvas(figWidth, titleHeight+vg.Length(len(panels))*panelHeight)
	dc := inset(draw.New(c))
	st := textStyle(14)
	st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
	dc.FillText(st, vg.Point{X: dc.Center().X, Y: dc.Max.Y - titleHeight/2}, title)

	tiles := draw.Tiles{
		Rows: len(panels), Cols: 1,
		PadY:   vg.Points(10),
		PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(10),
	}
	canvases := plot.Align(plots, tiles, draw.Crop(dc, 0, 0, 0, -titleHeight))
	for i, row := range plots {
		row[0].Draw(canvases[i][0])
	}
	return savePNG(path, c)
}

var (
	barColor  = rgb(0x44, 0x72, 0xb0)
	markColor = color.RGBA{0xd0, 0x20, 0x20, 0xd0}
)

// histPlot builds the plot of one histogram, with at most yTicks+1 labels
// on the count axis; the error reports bad bins.
func histPlot(title string, values []float32, bins int, marks []float32, yTicks int) (*plot.Plot, error) {
	if bins > MaxBins {
		return nil, fmt.Errorf("report: %d histogram bins; at most %d", bins, MaxBins)
	}
	h := binValues(values, bins)
	ml := newMarkLines(marks)

	p := newPlot(title+"\n"+h.summary(len(ml.xs), ml.skipped), "weight", "count")
	p.Title.TextStyle.Font.Size = 11
	p.Y.Tick.Marker = countTicker(yTicks)
	if h.n == 0 {
		markEmpty(p)
	} else {
		bars := h.plotter()
		p.Add(bars)
		_, _, _, top := bars.DataRange()
		p.Y.Max = top * 1.05 // headroom so the tallest bar doesn't touch the frame
	}
	if len(ml.xs) > 0 {
		p.Add(ml)
	}
	return p, nil
}

// binned is a histogram of float32 values: counts[i] holds the values in
// [lo+i·w, lo+(i+1)·w) with w = (hi-lo)/len(counts), the last bin closed.
type binned struct {
	lo, hi  float64
	counts  []int
	n       int // finite values counted
	skipped int // NaN and ±Inf values left out
}

// binValues counts the finite values into bins equal-width bins (bins ≤ 0:
// a default from the count), in two passes without copying values.
func binValues(values []float32, bins int) binned {
	h := binned{lo: math.Inf(1), hi: math.Inf(-1)}
	for _, v := range values {
		if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
			h.skipped++
			continue
		}
		h.lo = min(h.lo, float64(v))
		h.hi = max(h.hi, float64(v))
	}
	h.n = len(values) - h.skipped
	if h.n == 0 {
		return h
	}
	if h.lo == h.hi { // one distinct value: centre it in a visible bin
		pad := math.Abs(h.lo) * 0.05
		if pad == 0 {
			pad = 0.5
		}
		h.lo, h.hi = h.lo-pad, h.hi+pad
	}
	if bins <= 0 {
		bins = min(max(int(math.Ceil(math.Sqrt(float64(h.n)))), 10), 200)
	}
	h.counts = make([]int, bins)
	scale := float64(bins) / (h.hi - h.lo)
	last := bins - 1
	for _, v := range values {
		if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
			continue
		}
		// v ≥ lo, so the index is never negative; v = hi lands on bins.
		h.counts[min(int((float64(v)-h.lo)*scale), last)]++
	}
	return h
}

// plotter returns the bars of h.
func (h binned) plotter() *plotter.Histogram {
	w := (h.hi - h.lo) / float64(len(h.counts))
	bins := make([]plotter.HistogramBin, len(h.counts))
	for i, c := range h.counts {
		bins[i] = plotter.HistogramBin{
			Min:    h.lo + float64(i)*w,
			Max:    h.lo + float64(i+1)*w,
			Weight: float64(c),
		}
	}
	return &plotter.Histogram{
		Bins:      bins,
		Width:     w,
		FillColor: barColor,
		LineStyle: draw.LineStyle{Color: barColor, Width: vg.Points(0.3)},
	}
}

// summary is the line under a histogram's title: what was counted.
func (h binned) summary(marks, marksSkipped int) string {
	parts := []string{"n = " + groupDigits(h.n)}
	if marks > 0 {
		parts = append(parts, plural(marks, "shared value")+" (red)")
	}
	if s := h.skipped + marksSkipped; s > 0 {
		parts = append(parts, groupDigits(s)+" NaN/Inf skipped")
	}
	return strings.Join(parts, "; ")
}

// markLines is a plotter drawing a vertical line across the data area at
// each x.
type markLines struct {
	xs      []float64
	skipped int
}

func newMarkLines(marks []float32) markLines {
	ml := markLines{xs: make([]float64, 0, len(marks))}
	for _, m := range marks {
		if v := float64(m); finite(v) {
			ml.xs = append(ml.xs, v)
		} else {
			ml.skipped++
		}
	}
	return ml
}

func (ml markLines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	st := draw.LineStyle{Color: markColor, Width: vg.Points(0.6)}
	for _, x := range ml.xs {
		tx := trX(x)
		c.StrokeLine2(st, tx, c.Min.Y, tx, c.Max.Y)
	}
}

// DataRange widens the X axis to show every mark; the Y range [0, 0] adds
// nothing to a histogram's, which starts at zero.
func (ml markLines) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, x := range ml.xs {
		xmin, xmax = min(xmin, x), max(xmax, x)
	}
	return xmin, xmax, 0, 0
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return groupDigits(n) + " " + noun + "s"
}
