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

func quantizeCmd() *cobra.Command {
	var (
		data       dataFlags
		model, out string
		archArg    string
		bitsArg    string
		indexArg   string
		initMethod string
		optimal    bool
		compare    bool
		tune       nn.TrainConfig
	)
	cmd := &cobra.Command{
		Use:   "quantize --model FILE --out FILE.dcz|FILE.safetensors [--bits fc1=6,...]",
		Short: "Stage 2: share weights through per-layer k-means codebooks and fine-tune them",
		Long: `Cluster each layer's surviving (non-zero) weights with 1-D k-means into
k = 2^bits shared values (defaults: 8 bits for conv, 5 for fc layers), then
fine-tune the shared values: each moves by the summed gradient of the
weights in its cluster, indices fixed, pruned weights kept at zero.

--out FILE.dcz writes the compressed file directly (see "encode" for the
index settings); --out FILE.safetensors writes a dense checkpoint with the
shared values expanded, for evaluation or export, which "encode" turns into
a .dcz later. A per-layer table gives each layer's bits, codebook size and
clustering inertia (with --compare-optimal, also the globally optimal
inertia found by dynamic programming).`,
		Example: "  deepcompress quantize --model pruned.safetensors --bits fc1=6,fc2=6,fc3=6 --epochs 3 --out lenet300.dcz",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bits, err := layerInts(bitsArg, "--bits")
			if err != nil {
				return err
			}
			indexBits, err := layerInts(indexArg, "--index-bits")
			if err != nil {
				return err
			}
			m, err := modelfile.Load(model, modelfile.Options{Arch: archArg})
			if err != nil {
				return err
			}
			if err := tune.Validate(); err != nil {
				return err
			}
			train, test, err := data.both()
			if err != nil {
				return err
			}
			before, err := nn.Evaluate(m, test, 500)
			if err != nil {
				return err
			}
			opt := quantize.Options{Init: quantize.Init(initMethod), Optimal: optimal, Seed: int64(tune.Seed)}
			layers, err := finetune.Quantize(m, bits, opt)
			if err != nil {
				return err
			}
			table, err := quantizeTable(m, layers, compare)
			if err != nil {
				return err
			}
			ft, err := finetune.New(m, layers, tune.Momentum)
			if err != nil {
				return err
			}
			if tune.Epochs > 0 {
				if err := nn.TrainContext(cmd.Context(), m, train, tune, ft, trainingBar("fine-tune")); err != nil {
					return err
				}
			}
			after, err := nn.Evaluate(m, test, 500)
			if err != nil {
				return err
			}
			if strings.EqualFold(filepath.Ext(out), ".dcz") {
				err = writeDCZ(out, m, layers, indexBits)
			} else {
				err = modelfile.SaveCheckpoint(out, m, map[string]string{modelfile.MetaQuantized: bitsJSON(layers)})
			}
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), table.Text())
			fmt.Fprintf(cmd.OutOrStdout(), "test accuracy: before %s, after quantization and %d epochs of fine-tuning %s\nwrote %s\n",
				pct(before, test.Len()), tune.Epochs, pct(after, test.Len()), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "input model, usually pruned (.safetensors, .onnx or .dcz)")
	f.StringVar(&out, "out", "", "output: FILE.dcz (compressed) or FILE.safetensors (shared values expanded)")
	f.StringVar(&archArg, "arch", "", "architecture for safetensors files that record none")
	f.StringVar(&bitsArg, "bits", "", "bits per layer, NAME=BITS,... (default 8 conv, 5 fc)")
	f.StringVar(&indexArg, "index-bits", "", "relative-index bits per layer for .dcz output, NAME=BITS,... (default 8 conv, 5 fc)")
	f.StringVar(&initMethod, "init", "linear", "centroid initialisation: linear, density, forgy or kmeans++")
	f.BoolVar(&optimal, "optimal", false, "use the globally optimal 1-D clustering (dynamic programming) instead of Lloyd's algorithm")
	f.BoolVar(&compare, "compare-optimal", false, "also report the optimal clustering's inertia per layer")
	f.IntVar(&tune.Epochs, "epochs", 2, "fine-tuning epochs (0: none)")
	f.IntVar(&tune.Batch, "batch", 64, "minibatch size")
	f.Float32Var(&tune.LR, "lr", 1e-4, "fine-tuning learning rate of the shared values")
	f.Float32Var(&tune.Momentum, "momentum", 0.9, "momentum")
	f.Uint64Var(&tune.Seed, "seed", 1, "random seed")
	data.register(cmd)
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("out")
	return cmd
}

// layerInts parses NAME=INT,... .
func layerInts(s, flag string) (map[string]int, error) {
	out := map[string]int{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if !ok || err != nil {
			return nil, fmt.Errorf("%s wants NAME=BITS,..., got %q", flag, kv)
		}
		out[strings.TrimSpace(name)] = n
	}
	return out, nil
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
