package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/report"
)

func init() { registry = append(registry, sensitivityCmd) }

// sensitivityOptions are the settings of sensitivity.
type sensitivityOptions struct {
	data    dataFlags
	model   modelFlags
	png     string
	maxDrop float64
	asJSON  bool
}

func sensitivityCmd() *cobra.Command {
	var o sensitivityOptions
	cmd := &cobra.Command{
		Use:   "sensitivity --model FILE [--png FILE.png]",
		Short: "Measure how each layer's accuracy falls as it alone is pruned",
		Long: `Prune each layer alone to 10 %, 20 %, ... 90 %, 95 % and 99 % sparsity (by
magnitude, no retraining) and measure the test accuracy: the paper's
sensitivity analysis. Prints a table (accuracy per layer and sparsity),
writes a plot with one line per layer (--png), and suggests per-layer kept
fractions: for each layer, the highest sparsity that loses at most
--max-drop points of accuracy.`,
		Example: "  deepcompress sensitivity --model lenet300.safetensors --png sensitivity.png",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.model.register(cmd, "model file (.safetensors, .onnx or .dcz)")
	f.StringVar(&o.png, "png", "", "write the accuracy-vs-sparsity plot here")
	f.Float64Var(&o.maxDrop, "max-drop", 0.5, "accuracy points a layer may lose for the suggestion")
	f.BoolVar(&o.asJSON, "json", false, "print the curves and suggestions as JSON")
	o.data.register(cmd)
	return cmd
}

func (o *sensitivityOptions) run(cmd *cobra.Command) error {
	m, test, base, err := loadAndScore(o.model.path, o.model.arch, &o.data)
	if err != nil {
		return err
	}
	levels := prune.DefaultSparsities
	bar := newBar(len(m.Weights())*len(levels), "sensitivity")
	curves, err := prune.Sensitivity(cmd.Context(), m, test, levels, func() { bar.Add(1) })
	bar.Finish()
	if err != nil {
		return err
	}
	baseline := float64(base) / float64(test.Len())
	suggest := prune.Suggest(curves, baseline, o.maxDrop/100)
	if o.png != "" {
		if err := report.Lines(o.png, "Pruning sensitivity (no retraining)", "sparsity (%)", "test accuracy (%)", sensitivitySeries(curves)); err != nil {
			return err
		}
	}
	if o.asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"baseline": baseline, "curves": curves, "suggested": suggest})
	}
	w := cmd.OutOrStdout()
	fmt.Fprint(w, sensitivityTable(curves).Text())
	fmt.Fprintf(w, "baseline accuracy %.2f%%; suggested kept fractions (at most %.2g points lost, before retraining):\n", 100*baseline, o.maxDrop)
	fmt.Fprintf(w, "  --layers %s\n", keepFlag(suggest))
	if o.png != "" {
		fmt.Fprintf(w, "wrote %s\n", o.png)
	}
	return nil
}

// keepFlag is the value of prune's --layers for the suggested kept
// fractions, the layers in name order.
func keepFlag(suggest map[string]prune.Rule) string {
	names := make([]string, 0, len(suggest))
	for n := range suggest {
		names = append(names, n)
	}
	sort.Strings(names)
	var flags []string
	for _, n := range names {
		flags = append(flags, fmt.Sprintf("%s=%.2f", n, suggest[n].Keep))
	}
	return strings.Join(flags, ",")
}

func sensitivitySeries(curves []prune.Curve) []report.Series {
	var s []report.Series
	for _, c := range curves {
		var x, y []float64
		for i, sp := range c.Sparsities {
			x = append(x, 100*sp)
			y = append(y, 100*c.Accuracy[i])
		}
		s = append(s, report.Series{Name: c.Layer, X: x, Y: y})
	}
	return s
}

func sensitivityTable(curves []prune.Curve) report.Table {
	t := report.Table{Header: []string{"sparsity"}}
	for _, c := range curves {
		t.Header = append(t.Header, c.Layer)
	}
	for i, sp := range curves[0].Sparsities {
		row := []string{fmt.Sprintf("%.0f%%", 100*sp)}
		for _, c := range curves {
			row = append(row, fmt.Sprintf("%.2f%%", 100*c.Accuracy[i]))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
