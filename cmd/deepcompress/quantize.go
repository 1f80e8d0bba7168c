package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/finetune"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/report"
)

func init() { registry = append(registry, quantizeCmd) }

// quantizeOptions are the settings of quantize.
type quantizeOptions struct {
	data            dataFlags
	model           modelFlags
	out             string
	bits, indexBits widths
	init            string
	optimal         bool
	compare         bool
	tune            nn.TrainConfig
}

func quantizeCmd() *cobra.Command {
	o := quantizeOptions{bits: widths{}, indexBits: widths{}}
	cmd := &cobra.Command{
		Use:   "quantize --model FILE --out FILE.dcz|FILE.safetensors [--bits fc1=6,...]",
		Short: "Stage 2: share weights through per-layer k-means codebooks and fine-tune them",
		Long: `Cluster each layer's surviving (non-zero) weights with 1-D k-means into
k = 2^bits shared values (defaults: 8 bits for conv, 5 for fc layers), then
fine-tune the shared values: each moves by the summed gradient of the
weights in its cluster, indices fixed, pruned weights kept at zero.

--bits takes one width for every layer (--bits 6), widths by name (--bits
fc1=6,conv*=8: layer names, weight names or globs), or both (--bits
5,fc1=6); --index-bits likewise.

--out FILE.dcz writes the compressed file directly (see "encode" for the
index settings); --out FILE.safetensors writes a dense checkpoint with the
shared values expanded, for evaluation or export, which "encode" turns into
a .dcz later. A per-layer table gives each layer's bits, codebook size and
clustering inertia (with --compare-optimal, also the globally optimal
inertia found by dynamic programming).`,
		Example: "  deepcompress quantize --model pruned.safetensors --bits fc1=6,fc2=6,fc3=6 --epochs 3 --out lenet300.dcz",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.model.register(cmd, "input model, usually pruned (.safetensors, .onnx or .dcz)")
	f.StringVar(&o.out, "out", "", "output: FILE.dcz (compressed) or FILE.safetensors (shared values expanded)")
	f.Var(o.bits, "bits", "shared-value bits, for every layer or by name (default 8 conv, 5 fc)")
	f.Var(o.indexBits, "index-bits", "relative-index bits for .dcz output, for every layer or by name (default 8 conv, 5 fc)")
	f.StringVar(&o.init, "init", "linear", "centroid initialisation: linear, density, forgy or kmeans++")
	f.BoolVar(&o.optimal, "optimal", false, "use the globally optimal 1-D clustering (dynamic programming) instead of Lloyd's algorithm")
	f.BoolVar(&o.compare, "compare-optimal", false, "also report the optimal clustering's inertia per layer")
	f.IntVar(&o.tune.Epochs, "epochs", 2, "fine-tuning epochs (0: none)")
	f.IntVar(&o.tune.Batch, "batch", 64, "minibatch size")
	f.Float32Var(&o.tune.LR, "lr", 1e-4, "fine-tuning learning rate of the shared values")
	f.Float32Var(&o.tune.Momentum, "momentum", 0.9, "momentum")
	f.Uint64Var(&o.tune.Seed, "seed", 1, "random seed")
	o.data.register(cmd)
	cmd.MarkFlagRequired("out")
	return cmd
}

func (o *quantizeOptions) run(cmd *cobra.Command) error {
	m, err := o.model.load()
	if err != nil {
		return err
	}
	if err := o.tune.Validate(); err != nil {
		return err
	}
	train, test, before, err := o.data.withBaseline(m)
	if err != nil {
		return err
	}
	opt := quantize.Options{Init: quantize.Init(o.init), Optimal: o.optimal, Seed: int64(o.tune.Seed)}
	layers, err := finetune.Quantize(m, o.bits, opt)
	if err != nil {
		return err
	}
	table, err := quantizeTable(m, layers, o.compare)
	if err != nil {
		return err
	}
	if err := finetune.Tune(cmd.Context(), m, layers, train, o.tune, trainingBar("fine-tune")); err != nil {
		return err
	}
	after, err := nn.Evaluate(m, test, 500)
	if err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(o.out), ".dcz") {
		err = writeDCZ(o.out, m, layers, o.indexBits)
	} else {
		err = modelfile.SaveCheckpoint(o.out, m, map[string]string{modelfile.MetaQuantized: bitsJSON(layers)})
	}
	if err != nil {
		return err
	}
	fmt.Fprint(cmd.OutOrStdout(), table.Text())
	fmt.Fprintf(cmd.OutOrStdout(), "test accuracy: before %s, after quantization and %d epochs of fine-tuning %s\nwrote %s\n",
		pct(before, test.Len()), o.tune.Epochs, pct(after, test.Len()), o.out)
	return nil
}

func quantizeTable(m *nn.Model, layers []*quantize.Layer, compare bool) (report.Table, error) {
	t := report.Table{Header: []string{"layer", "kept", "bits", "codebook", "inertia"}}
	if compare {
		t.Header = append(t.Header, "optimal inertia")
	}
	for _, l := range layers {
		w := m.Param(l.Name).Data
		in, err := l.Inertia(w)
		if err != nil {
			return t, err
		}
		row := []string{strings.TrimSuffix(l.Name, ".weight"), strconv.Itoa(len(l.Pos)), strconv.Itoa(l.Bits), strconv.Itoa(len(l.Codebook)), fmt.Sprintf("%.4g", in)}
		if compare {
			opt, err := quantize.QuantizeTensor(l.Name, l.Shape, w, quantize.Options{Bits: l.Bits, Optimal: true})
			if err != nil {
				return t, err
			}
			oin, _ := opt.Inertia(w)
			row = append(row, fmt.Sprintf("%.4g", oin))
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}
