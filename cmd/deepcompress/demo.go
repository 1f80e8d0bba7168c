package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
	"github.com/deepcompress/deepcompress/prune"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/report"
)

func init() { registry = append(registry, demoCmd) }

// demoOptions are the settings of demo.
type demoOptions struct {
	data   dataFlags
	outDir string
	epochs int
}

func demoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "Train LeNet-300-100 on MNIST, compress it, and write a report",
		Long: `The whole of Deep Compression in one command, a few minutes on 2 cores:
train LeNet-300-100 on MNIST (found in the Go module cache, no download step),
measure each layer's pruning sensitivity, compress with the "quick" preset
(prune and retrain, share weights and fine-tune, Huffman-code), and print
the stage table and the compressed file's per-layer table.

Writes into DIR (default: a new folder in the current directory): the
trained checkpoint, lenet300.dcz, REPORT.md and its PNG figures.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().StringVar(&o.outDir, "out", "", "output folder (default: deepcompress-demo-DATE-TIME in the current directory)")
	cmd.Flags().IntVar(&o.epochs, "epochs", 15, "training epochs before compression")
	o.data.register(cmd)
	return cmd
}

func (o *demoOptions) run(cmd *cobra.Command) error {
	w := cmd.OutOrStdout()
	if o.outDir == "" {
		o.outDir = "deepcompress-demo-" + time.Now().Format("20060102-150405")
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(w, "deepcompress demo: writing into %s\n", o.outDir)
	start := time.Now()
	train, test, err := o.data.both()
	if err != nil {
		return err
	}
	m, curves, err := o.trainAndMeasure(cmd, train, test)
	if err != nil {
		return err
	}
	out := filepath.Join(o.outDir, "lenet300.dcz")
	res, err := o.compress(cmd, m, train, test, out)
	if err != nil {
		return err
	}
	inspect, err := o.writeReport(w, m, res, curves, train, test, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, pipeline.StageTable(res.Stages).Text())
	fmt.Fprintln(w)
	fmt.Fprint(w, inspect.Text())
	last := res.Stages[len(res.Stages)-1]
	fmt.Fprintf(w, "\n%s: %.1fx smaller than the dense model (%d -> %d bytes) at %.2f%% test error, in %s\n",
		out, last.Ratio, res.Stages[0].Bytes, last.Bytes, 100-100*last.Accuracy, time.Since(start).Round(time.Second))
	fmt.Fprintf(w, "report: %s\n", filepath.Join(o.outDir, "REPORT.md"))
	return nil
}

// trainAndMeasure trains LeNet-300-100 from seed 1, saves its checkpoint
// and measures each layer's pruning sensitivity (steps 1 and 2).
func (o *demoOptions) trainAndMeasure(cmd *cobra.Command, train, test nn.Dataset) (*nn.Model, []prune.Curve, error) {
	w := cmd.OutOrStdout()
	m, err := nn.New(arch.LeNet300(), 1)
	if err != nil {
		return nil, nil, err
	}
	recipe := nn.Recipe("lenet300")
	recipe.Epochs = o.epochs
	fmt.Fprintf(w, "1. training lenet300 (%d epochs)\n", o.epochs)
	if err := nn.TrainContext(cmd.Context(), m, train, recipe, nil, trainingBar("train")); err != nil {
		return nil, nil, err
	}
	if err := modelfile.SaveCheckpoint(filepath.Join(o.outDir, "lenet300.safetensors"), m, nil); err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(w, "2. pruning sensitivity of each layer")
	curves, err := prune.Sensitivity(cmd.Context(), m, test, prune.DefaultSparsities, nil)
	return m, curves, err
}

// compress runs the "quick" preset on m into out (step 3), its work
// directory removed once it succeeds.
func (o *demoOptions) compress(cmd *cobra.Command, m *nn.Model, train, test nn.Dataset, out string) (*pipeline.Result, error) {
	cfg, err := pipeline.Preset("quick", "lenet300")
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(cmd.OutOrStdout(), "3. compressing: prune + retrain, quantize + fine-tune, Huffman-code")
	work := filepath.Join(o.outDir, "work")
	res, err := runPipeline(cmd.Context(), m, cfg, train, test, out, work, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	os.RemoveAll(work)
	return res, nil
}

// writeReport measures accuracy against bits (step 4) and writes
// REPORT.md and its figures; it returns the per-layer table of out.
func (o *demoOptions) writeReport(w io.Writer, m *nn.Model, res *pipeline.Result, curves []prune.Curve, train, test nn.Dataset, out string) (report.Table, error) {
	fmt.Fprintln(w, "4. accuracy against bits (pruned model, linear init, no fine-tuning)")
	sweep, err := bitsSweepFromPruned(m, res, train, test)
	if err != nil {
		return report.Table{}, err
	}
	inspect, err := inspectTable(out)
	if err != nil {
		return report.Table{}, err
	}
	extras := pipeline.Extras{Title: "deepcompress demo: LeNet-300-100 on MNIST", Command: "deepcompress demo --out " + o.outDir,
		Inspect: inspect, Sensitivity: curves, BitsSweep: sweep,
		BitsNote: "Every layer quantized to the same bits from the pruned model, linear initialisation, no fine-tuning."}
	return inspect, pipeline.WriteReport(o.outDir, res, extras)
}

// bitsSweepFromPruned rebuilds the pruned model and measures accuracy at
// 2..8 bits without fine-tuning.
func bitsSweepFromPruned(m *nn.Model, res *pipeline.Result, train, test nn.Dataset) ([]report.Series, error) {
	for _, p := range m.Weights() {
		copy(p.Data, res.Pruned[p.Name])
		p.MaskFromZeros()
	}
	return pipeline.BitsSweep(m, train, test, []int{2, 3, 4, 5, 6, 7, 8}, []quantize.Init{quantize.Linear}, pipeline.Recipe{}, 1, nil)
}
