package report

import (
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one curve of a line figure: the points (X[i], Y[i]).
type Series struct {
	Name string // legend entry; an empty name gets no entry
	X, Y []float64
}

// LengthError reports a series whose X and Y slices differ in length.
type LengthError struct {
	Series string // name of the offending series
	Index  int    // its position in the slice given to Lines
	X, Y   int    // the two lengths
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("report: series %d (%q) has %d X values but %d Y values", e.Index, e.Series, e.X, e.Y)
}

// maxSeries bounds the legend: beyond it a line figure is unreadable anyway.
const maxSeries = 100

// distinctTicks is the most distinct X values that are used as the X ticks
// themselves (sparsity steps, bit widths); with more, niceTicks chooses.
const distinctTicks = 12

// Lines draws one line with point markers per series and writes the figure
// to path as a PNG. It is used for the pruning sensitivity curves (accuracy
// against sparsity, one line per layer; the paper's Figure 6) and for
// accuracy against the number of quantization bits (one line per centroid
// initialisation; Figure 8).
//
// Points are joined in increasing X order; points where X or Y is NaN or
// ±Inf are left out. Each series gets its own colour, marker shape and, past
// the tenth, dash pattern; the legend sits in a column to the right of the
// plot so that it never covers a curve. A series with no finite point keeps
// its legend entry, marked "(no data)"; with no finite point at all, the
// figure shows a "no data" note.
func Lines(path, title, xLabel, yLabel string, series []Series) error {
	if len(series) > maxSeries {
		return fmt.Errorf("report: %d series in %q; at most %d fit one figure", len(series), title, maxSeries)
	}
	p := newPlot(title, xLabel, yLabel)
	p.Add(plotter.NewGrid())

	var legend []legendEntry
	var xs []float64 // every finite X, for the tick choice
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return &LengthError{Series: s.Name, Index: i, X: len(s.X), Y: len(s.Y)}
		}
		pts := finitePoints(s)
		line, marks := styledLine(i, pts)
		if len(pts) > 0 {
			p.Add(line, marks)
		}
		for _, pt := range pts {
			xs = append(xs, pt.X)
		}
		if s.Name != "" {
			name := s.Name
			if len(pts) == 0 {
				name += " (no data)"
			}
			legend = append(legend, legendEntry{name, []plot.Thumbnailer{line, marks}})
		}
	}
	if len(xs) == 0 {
		markEmpty(p)
	} else if t := exactTicks(xs); t != nil {
		p.X.Tick.Marker = t
	}

	lw := legendWidth(legend)
	c := newCanvas(figWidth+lw, figHeight)
	dc := inset(draw.New(c))
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	drawLegend(draw.Crop(dc, figWidth-2*margin, 0, 0, -titleHeight), legend)
	return savePNG(path, c)
}

// finitePoints returns the points of s with finite coordinates, sorted by X.
func finitePoints(s Series) plotter.XYs {
	pts := make(plotter.XYs, 0, len(s.X))
	for i, x := range s.X {
		if y := s.Y[i]; finite(x) && finite(y) {
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
	}
	slices.SortStableFunc(pts, func(a, b plotter.XY) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		}
		return 0
	})
	return pts
}

// styledLine returns the line and markers of series i in its own style.
func styledLine(i int, pts plotter.XYs) (*plotter.Line, *plotter.Scatter) {
	col := palette[i%len(palette)]
	line := &plotter.Line{XYs: pts, LineStyle: draw.LineStyle{
		Color:  col,
		Width:  vg.Points(1.5),
		Dashes: dashes[(i/len(palette))%len(dashes)],
	}}
	marks := &plotter.Scatter{XYs: pts, GlyphStyle: draw.GlyphStyle{
		Color:  col,
		Radius: vg.Points(3),
		Shape:  shapes[i%len(shapes)],
	}}
	return line, marks
}

var (
	shapes = []draw.GlyphDrawer{
		draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
		draw.CrossGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{},
		draw.PyramidGlyph{}, draw.PlusGlyph{},
	}
	dashes = [][]vg.Length{
		nil,
		{vg.Points(6), vg.Points(3)},
		{vg.Points(2), vg.Points(2)},
		{vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)},
	}
)

// exactTicks returns a ticker that labels each distinct X when there are
// few of them (bit widths 1..8, sparsity in steps of 10%), or nil.
func exactTicks(xs []float64) plot.Ticker {
	slices.Sort(xs)
	xs = slices.Compact(xs)
	if len(xs) < 2 || len(xs) > distinctTicks {
		return nil
	}
	ticks := make([]plot.Tick, len(xs))
	for i, x := range xs {
		ticks[i] = plot.Tick{Value: x, Label: strconv.FormatFloat(round3(x), 'g', -1, 64)}
	}
	return plot.ConstantTicks(ticks)
}

type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

var legendStyle = textStyle(10)

// legendRows is how many legend entries fit one column beside the plot.
func legendRows() int {
	h := legendStyle.Height("Mg") + legendPad
	return max(1, int((figHeight-titleHeight)/h))
}

var (
	legendPad   = vg.Points(3)
	legendThumb = vg.Points(20)
	legendGap   = vg.Points(12)
)

// legendColumns splits the entries into columns of at most legendRows.
func legendColumns(entries []legendEntry) [][]legendEntry {
	return slices.Collect(slices.Chunk(entries, legendRows()))
}

// columnWidth is the width of the widest entry of col.
func columnWidth(col []legendEntry) vg.Length {
	var w vg.Length
	for _, e := range col {
		w = max(w, legendThumb+legendStyle.Rectangle(" "+e.name).Max.X)
	}
	return w
}

// legendWidth is the width that the legend columns and their gaps take.
func legendWidth(entries []legendEntry) vg.Length {
	var w vg.Length
	for _, col := range legendColumns(entries) {
		w += legendGap + columnWidth(col)
	}
	if w > 0 {
		w += legendGap
	}
	return w
}

// drawLegend draws the entries in columns from the top left of c.
func drawLegend(c draw.Canvas, entries []legendEntry) {
	x := c.Min.X + legendGap
	for _, col := range legendColumns(entries) {
		l := plot.NewLegend()
		l.TextStyle = legendStyle
		l.Top, l.Left = true, true
		l.Padding = legendPad
		l.ThumbnailWidth = legendThumb
		for _, e := range col {
			l.Add(e.name, e.thumbs...)
		}
		w := columnWidth(col)
		l.Draw(draw.Crop(c, x-c.Min.X, x+w-c.Max.X, 0, 0))
		x += w + legendGap
	}
}
