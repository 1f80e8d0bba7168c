// Package report draws the figures and tables of a Deep Compression report
// (Han, Mao, Dally, "Deep Compression: Compressing Deep Neural Networks with
// Pruning, Trained Quantization and Huffman Coding", ICLR 2016): pruning
// sensitivity and accuracy-versus-bits curves in the style of the paper's
// Figures 6 and 8, and weight distributions with the shared-weight centroids
// marked, in the style of its Figures 4 and 5.
//
// The package is data-only: it takes plain slices and knows nothing of
// models or training. Figures are PNG images drawn with gonum.org/v1/plot
// using the Liberation fonts embedded in that module, so no system fonts are
// needed. Every file is written atomically (temporary file, then rename), so
// a reader never sees a half-written image.
//
// Empty inputs are not errors: a figure with no finite data is still drawn,
// with its axes and title and a "no data" note in the middle, so that a
// report generated for a degenerate layer (say, pruned to nothing) keeps
// all its figures. Inconsistent inputs, such as a series whose X and Y have
// different lengths, are errors.
package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/deepcompress/deepcompress/internal/atomicfile"
)

// dpi is the resolution of every PNG: an 8 in wide figure is 960 pixels.
const dpi = 120

// Figure sizes, before the legend column that Lines adds on the right.
const (
	figWidth    = 8 * vg.Inch
	figHeight   = 5 * vg.Inch
	panelHeight = 2.2 * vg.Inch
	titleHeight = 0.45 * vg.Inch
)

// palette is a qualitative palette (matplotlib's "tab10") whose colours stay
// distinguishable from each other on white and in print.
var palette = []color.Color{
	rgb(0x1f, 0x77, 0xb4), rgb(0xff, 0x7f, 0x0e), rgb(0x2c, 0xa0, 0x2c),
	rgb(0xd6, 0x27, 0x28), rgb(0x94, 0x67, 0xbd), rgb(0x8c, 0x56, 0x4b),
	rgb(0xe3, 0x77, 0xc2), rgb(0x7f, 0x7f, 0x7f), rgb(0xbc, 0xbd, 0x22),
	rgb(0x17, 0xbe, 0xcf),
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 0xff} }

// newCanvas returns a white image canvas of the given size.
func newCanvas(w, h vg.Length) *vgimg.Canvas {
	return vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
}

// savePNG encodes c as PNG and writes it to path atomically.
func savePNG(path string, c *vgimg.Canvas) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

// sans is the face of all text: Liberation Sans, embedded in gonum/plot.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// margin is the white border around every figure.
var margin = vg.Points(6)

// textStyle returns a black, left- and bottom-aligned style in sans of the
// given size.
func textStyle(size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(sans, size),
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot with the report's fonts and axis ticks.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.Title.TextStyle.Font = font.From(sans, 12)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 10)
		a.Tick.Marker = ticker(8)
	}
	return p
}

// inset returns c less the figure margin on every side.
func inset(c draw.Canvas) draw.Canvas {
	return draw.Crop(c, margin, -margin, margin, -margin)
}

// niceTicks places about intervals+1 labelled ticks on [lo, hi] (never
// more, down to half as many) at multiples of a step of 1, 2, 2.5 or 5 times
// a power of ten, with an unlabelled minor tick half way between; labels
// carry just the decimals the step needs.
func niceTicks(lo, hi float64, intervals int) []plot.Tick {
	raw := (hi - lo) / float64(intervals)
	if !(raw > 0) || !finite(raw) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	decimals := 0 // as many as the step has: 25 → 0, 2.5 → 1, 0.02 → 2
	for d := step; decimals < 10 && math.Abs(d-math.Round(d)) > 1e-6*d; d *= 10 {
		decimals++
	}
	// Exponent form for the whole axis when plain digits would be too long.
	exp := max(math.Abs(lo), math.Abs(hi)) >= 1e7 || decimals > 5
	var ticks []plot.Tick
	first := math.Ceil(lo/step - 1e-9)
	// The count bounds the loop where i++ stops changing i: a span of a few
	// ulps far from zero puts i past 2⁵³.
	for i, n := first-1, 0; n <= 2*intervals+2; i, n = i+1, n+1 {
		v := i * step
		if mid := v + step/2; mid >= lo && mid <= hi {
			ticks = append(ticks, plot.Tick{Value: mid})
		}
		if v > hi+step*1e-9 {
			break
		}
		if v >= lo-step*1e-9 {
			ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v, decimals, exp)})
		}
	}
	return ticks
}

// formatTick writes a tick value with the given decimals, or in exponent
// form.
func formatTick(v float64, decimals int, exp bool) string {
	if exp && v != 0 {
		return strconv.FormatFloat(round3(v), 'g', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Trim(s, "-0.") == "" {
		return "0" // not "-0.00"
	}
	return s
}

// note is a plotter that writes a line of text in the middle of the data
// area; it marks figures that have no data to show.
type note string

func (n note) Plot(c draw.Canvas, _ *plot.Plot) {
	st := textStyle(14)
	st.Color = color.Gray{0x70}
	st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
	c.FillText(st, c.Center(), string(n))
}

// markEmpty gives an empty plot a unit range (plot refuses to draw an
// axis with no range), no ticks to pretend a scale, and the "no data" note.
func markEmpty(p *plot.Plot) {
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Tick.Marker = plot.ConstantTicks{}
	p.Y.Tick.Marker = plot.ConstantTicks{}
	p.Add(note("no data"))
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ticker returns the niceTicks ticker with at most intervals+1 labels.
func ticker(intervals int) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		return niceTicks(lo, hi, intervals)
	})
}

// countTicker labels a count axis at whole numbers only, written short
// (250k, 1.5M) rather than with exponents.
func countTicker(intervals int) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		var ticks []plot.Tick
		for _, t := range niceTicks(lo, hi, intervals) {
			if t.Value != math.Trunc(t.Value) {
				continue // counts are whole: no 0.2 on a tiny histogram
			}
			if t.Label != "" {
				t.Label = shortCount(t.Value)
			}
			ticks = append(ticks, t)
		}
		return ticks
	})
}

// shortCount formats v with a k, M or G suffix from 10 000 up.
func shortCount(v float64) string {
	units := []struct {
		scale  float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}}
	if math.Abs(v) >= 1e4 {
		for _, u := range units {
			if math.Abs(v) >= u.scale {
				return strconv.FormatFloat(round3(v/u.scale), 'f', -1, 64) + u.suffix
			}
		}
	}
	return strconv.FormatFloat(round3(v), 'f', -1, 64)
}

// round3 rounds v to three significant digits, hiding the float noise that
// tick arithmetic leaves (0.30000000000000004).
func round3(v float64) float64 {
	if v == 0 || !finite(v) {
		return v
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return f
}

// groupDigits writes n with thousands separators: 1234567 → "1,234,567".
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
