package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/report"
)

// StageTable is the stage table: accuracy, size and ratio of the dense,
// pruned, quantized and Huffman-coded model.
func StageTable(stages []Stage) report.Table {
	t := report.Table{Header: []string{"stage", "test accuracy", "error", "bytes", "ratio"}}
	for _, s := range stages {
		size := strconv.FormatInt(s.Bytes, 10)
		if !s.Measured {
			size += " (computed)"
		}
		t.Rows = append(t.Rows, []string{s.Name, fmt.Sprintf("%d/%d (%.2f%%)", s.Correct, s.Total, 100*s.Accuracy),
			fmt.Sprintf("%.2f%%", 100-100*s.Accuracy), size, fmt.Sprintf("%.1fx", s.Ratio)})
	}
	return t
}

// PruneTable lists the weights kept per layer.
func PruneTable(rows []PruneRow) report.Table {
	t := report.Table{Header: []string{"layer", "weights", "kept", "kept %"}}
	for _, l := range rows {
		t.Rows = append(t.Rows, []string{l.Name, strconv.Itoa(l.Weights), strconv.Itoa(l.Kept), fmt.Sprintf("%.2f", l.KeptPct)})
	}
	return t
}

// Extras are the report's optional parts, computed by the caller.
type Extras struct {
	Title       string
	Command     string // the command line that produced the run
	Inspect     report.Table
	Sensitivity []prune.Curve
	BitsSweep   []report.Series // accuracy (%) against bits
	BitsNote    string
}

// WriteReport writes REPORT.md and its PNG figures into dir.
func WriteReport(dir string, res *Result, x Extras) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", x.Title)
	if x.Command != "" {
		fmt.Fprintf(&b, "Produced by:\n\n```\n%s\n```\n\n", x.Command)
	}
	fmt.Fprintf(&b, "## Stages\n\n%s\n%s\n\n", StageTable(res.Stages).Markdown(), SizeNotes)
	if len(res.Layers) > 0 {
		fmt.Fprintf(&b, "## Pruning\n\n%s\n", PruneTable(res.Layers).Markdown())
	}
	if len(x.Inspect.Rows) > 0 {
		fmt.Fprintf(&b, "## The compressed file (%s)\n\n%s\n", filepath.Base(res.Out), x.Inspect.Markdown())
	}
	figures, err := writeFigures(dir, res, x)
	if err != nil {
		return err
	}
	if len(figures) > 0 {
		b.WriteString("## Figures\n\n")
		for _, f := range figures {
			fmt.Fprintf(&b, "### %s\n\n![%s](%s)\n\n", f.title, f.title, f.file)
			if f.note != "" {
				fmt.Fprintf(&b, "%s\n\n", f.note)
			}
		}
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "REPORT.md"), []byte(b.String()))
}

type figure struct{ title, file, note string }

func writeFigures(dir string, res *Result, x Extras) ([]figure, error) {
	var figs []figure
	add := func(title, file, note string, err error) error {
		if err == nil {
			figs = append(figs, figure{title, file, note})
		}
		return err
	}
	if res.Before != nil && res.Pruned != nil {
		var panels []report.Panel
		for _, name := range sortedKeys(res.Before) {
			panels = append(panels,
				report.Panel{Title: name + " before pruning", Values: res.Before[name]},
				report.Panel{Title: name + " after pruning and retraining (non-zero)", Values: nonZero(res.Pruned[name])})
		}
		if err := add("Weight distribution before and after pruning", "weights.png", "",
			report.Histograms(filepath.Join(dir, "weights.png"), "Weight distribution", panels)); err != nil {
			return nil, err
		}
	}
	if res.File != nil && len(res.File.Layers) > 0 {
		var panels []report.Panel
		for _, l := range res.File.Layers {
			vals := make([]float32, len(l.Idx))
			for i, k := range l.Idx {
				vals[i] = l.Codebook[k]
			}
			before := res.Pruned[l.Name]
			if before == nil {
				before = vals
			}
			panels = append(panels, report.Panel{Title: fmt.Sprintf("%s: %d-bit codebook (lines) over the pruned weights", l.Name, l.Bits),
				Values: nonZero(before), Marks: l.Codebook})
		}
		if err := add("Shared weights per layer", "shared.png", "Histogram of each layer's pruned weights before quantization; vertical lines are the fine-tuned shared values.",
			report.Histograms(filepath.Join(dir, "shared.png"), "Weight sharing", panels)); err != nil {
			return nil, err
		}
	}
	if len(x.Sensitivity) > 0 {
		var series []report.Series
		for _, c := range x.Sensitivity {
			s := report.Series{Name: c.Layer}
			for i, sp := range c.Sparsities {
				s.X = append(s.X, 100*sp)
				s.Y = append(s.Y, 100*c.Accuracy[i])
			}
			series = append(series, s)
		}
		if err := add("Pruning sensitivity", "sensitivity.png", "Each layer pruned alone, no retraining.",
			report.Lines(filepath.Join(dir, "sensitivity.png"), "Pruning sensitivity (no retraining)", "sparsity (%)", "test accuracy (%)", series)); err != nil {
			return nil, err
		}
	}
	if len(x.BitsSweep) > 0 {
		if err := add("Accuracy against bits", "bits.png", x.BitsNote,
			report.Lines(filepath.Join(dir, "bits.png"), "Accuracy against weight bits", "bits per weight", "test accuracy (%)", x.BitsSweep)); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

func nonZero(w []float32) []float32 {
	var out []float32
	for _, v := range w {
		if v != 0 {
			out = append(out, v)
		}
	}
	return out
}
