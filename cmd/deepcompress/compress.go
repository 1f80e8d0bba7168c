package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
)

func init() { registry = append(registry, compressCmd) }

// compressOptions are the settings of compress, whose three paths share
// --model, --out, --config, --preset, --coder and --json: the MNIST chain
// (the default), --data (a graph with the user's inputs) and --data-free.
type compressOptions struct {
	data       dataFlags
	model      modelFlags
	out        string
	configPath string
	preset     string
	workDir    string
	keepWork   bool
	asJSON     bool
	dataFree   bool
	df         *dataFreeArgs
	ga         *graphArgs
	reportDir  string
	coder      dcz.Coder
	maxError   float64
	rateLambda float64
}

func compressCmd() *cobra.Command {
	var o compressOptions
	cmd := &cobra.Command{
		Use:   "compress --model FILE --out FILE.dcz [--preset paper|quick|max | --config FILE.json]",
		Short: "Run the whole pipeline: prune, quantize, Huffman-code into one .dcz",
		Long: `Compress a trained model (.safetensors, .onnx) in three stages: prune and
retrain, share weights through per-layer codebooks and fine-tune them, and
encode with relative sparse indices and Huffman coding into a .dcz file.
Prints a table with the test accuracy, size and ratio after each stage.

Settings come from a built-in preset (--preset paper: the paper's per-layer
settings for lenet300 and lenet5; --preset quick: a few minutes on 2 cores;
--preset max: the smallest files at the paper's error, about 3x smaller)
or a JSON config file (start from "deepcompress compress print-config --arch lenet300").

Each completed step (every epoch of the pruning retraining, each round, the
quantized model) is checkpointed in a work directory (default OUT.work);
an interrupted run started again with the same arguments resumes there and
ends with the same file, byte for byte. Ctrl-C stops at the next training
batch (a second Ctrl-C at once). The work directory is removed after a
successful run unless --keep-work is given.

--data DIR|FILE.npy|IDX compresses a real model (an ONNX graph: ResNets,
MobileNets, U-Nets...) with your own inputs, no labels needed: the
original model teaches the compressed one. A sensitivity pass on held-out
inputs picks each layer's kept fraction, pruning retrains against the
original's outputs (soft targets for a classifier, squared error for any
other output), the codebooks are fine-tuned the same way, and the .dcz
file carries the whole graph and the preprocessing ("deepcompress export"
gives an ONNX model back; "deepcompress run" runs the .dcz). The stage
table reports top-1 agreement with the original (classifiers), relative
error of the outputs, and accuracy when labels are given.

--data-free compresses a safetensors file of any tensors (F32, F16, BF16)
with no training data: magnitude pruning, weight sharing and Huffman
coding, no retraining, one tensor at a time with bounded memory on all
cores. Settings per tensor come from --config (rules matched by name) or
--preset vgg16-paper, and --keep/--bits/--index-bits for the rest; tensors
below --min-size elements (biases, norms) are stored dense. On an ONNX
model (--model M.onnx) it keeps the whole graph in the file, shares the
weights of Conv, ConvTranspose, Gemm and MatMul, stores a tensor raw when
coding it would not make it smaller, and --max-bytes N|int8 picks the bits
(and --grid kmeans|uniform) per tensor that lose least within N bytes.

--max-error E (or --max-drop P) on the MNIST models (lenet300, lenet5)
searches the settings for the smallest file whose error on held-out
images is at most E percent (or at most P points above the input
model's). Held-out are the last 10,000 training images: the search's
retraining does not see them, and the test set is never used to choose.
The input model saw them in its own training, so held-out errors are
optimistic: the input model's is near 0 (so --max-drop P is about
--max-error P), and on LeNet-300-100 the compressed files' test errors
were 0.5 to 0.9 points above their held-out errors, on LeNet-5 0.5
(choose E with that in mind). The search starts from --config, --preset if given, else the
preset max; it scales every kept fraction along a ladder (2.4 to 0.42
times the base's) with the base's bits and its fully connected bits one
more or one fewer, measures each candidate cheaply (pruned at once,
retrained with distillation two epochs on 20,000 images, LeNet-5 one on
10,000, shared and coded: the exact bytes), then runs the base's full recipe on the best (2 runs
unless --search-retries says otherwise; minutes each) and keeps the
smallest that met the bound. The chosen recipe is written to
OUT.config.json for --config.`,
		Example: `  deepcompress compress --model lenet300.safetensors --out lenet300.dcz --preset paper
  deepcompress compress --model ../shared/models/lenet300.onnx --out l300.dcz --config my.json
  deepcompress compress --model resnet.onnx --data my_images/ --out resnet.dcz
  deepcompress compress --model unet.onnx --data inputs.npy --out unet.dcz --tolerance 1
  deepcompress compress --model resnet.onnx --data my_images/ --out resnet.dcz --max-drop 0.5
  deepcompress compress --model lenet300.safetensors --out l300.dcz --max-error 1.6 --coder auto
  deepcompress compress --data-free --model vgg16.safetensors --out vgg16.dcz --keep 0.1 --bits 5 --index-bits 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.model.register(cmd, "trained model (.safetensors, .onnx)")
	f.StringVar(&o.out, "out", "", "compressed file to write (.dcz)")
	f.StringVar(&o.configPath, "config", "", "JSON config file (overrides --preset)")
	f.StringVar(&o.preset, "preset", "paper", "built-in settings: paper, quick or max (the smallest files at the paper's error: distillation, float16, arithmetic coding)")
	f.StringVar(&o.workDir, "work-dir", "", "where to checkpoint each step (default OUT.work)")
	f.BoolVar(&o.keepWork, "keep-work", false, "keep the work directory after success")
	f.BoolVar(&o.asJSON, "json", false, "print the stage table as JSON")
	f.StringVar(&o.reportDir, "report", "", "also write REPORT.md and its PNG figures (weight distributions, shared weights) into this folder")
	f.Float64Var(&o.maxError, "max-error", 0, "MNIST models (not with --data): search the kept fractions and bits for the smallest file whose held-out error is at most this percent (see above)")
	f.Float64Var(&o.rateLambda, "rate-lambda", 0, "MNIST chain: rate-aware weight sharing in every layer, replacing the config's quantize.lambda: each weight goes to the shared value of least squared error plus this times the layer's weight variance times the value's index code length in bits (0: k-means)")
	f.BoolVar(&o.dataFree, "data-free", false, "compress any safetensors file without data or retraining: prune, share and Huffman-code tensor by tensor, streaming (see --keep, --bits, --index-bits, --min-size)")
	f.TextVar(&o.coder, "coder", dcz.CoderHuffman, "entropy coder of the shared weights: huffman (the paper's), arith (context-adaptive binary arithmetic coding, DeepCABAC) or auto (per tensor the smaller of the two, never larger than huffman); older readers refuse arith tensors")
	o.df = addDataFreeFlags(cmd)
	o.ga = addGraphFlags(cmd)
	cmd.MarkFlagsMutuallyExclusive("data", "data-free")
	cmd.MarkFlagsMutuallyExclusive("rate-lambda", "data")
	cmd.MarkFlagsMutuallyExclusive("rate-lambda", "data-free")
	cmd.MarkFlagsMutuallyExclusive("max-error", "max-drop")
	cmd.MarkFlagsMutuallyExclusive("max-error", "data")
	cmd.MarkFlagsMutuallyExclusive("max-error", "data-free")
	cmd.MarkFlagsMutuallyExclusive("max-drop", "data-free")
	o.data.register(cmd)
	cmd.MarkFlagRequired("out")
	cmd.AddCommand(printConfigCmd(), printGraphConfigCmd())
	return cmd
}

// run takes the path the flags ask for: --data-free, --data, or the
// MNIST chain.
func (o *compressOptions) run(cmd *cobra.Command) error {
	if o.dataFree {
		opt, err := o.df.options(cmd, o.configPath, o.preset)
		if err != nil {
			return err
		}
		opt.Coder = o.coder
		return runDataFree(cmd, o.model.path, o.out, opt)
	}
	if o.ga.data != "" {
		return o.runGraph(cmd)
	}
	return o.runChain(cmd)
}

// runChain compresses a model of the MNIST pipeline: prune and retrain,
// quantize and fine-tune, encode, checkpointing each step in the work
// directory.
func (o *compressOptions) runChain(cmd *cobra.Command) error {
	searching, err := o.searchGoal(cmd)
	if err != nil {
		return err
	}
	m, err := o.model.load()
	if err != nil {
		return err
	}
	var cfg pipeline.Config
	if searching {
		cfg, err = o.searchBase(cmd, m.Spec)
	} else {
		cfg, err = compressConfig(o.configPath, o.preset, m.Spec)
	}
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("rate-lambda") {
		cfg.Quantize.Lambda = map[string]float64{"*": o.rateLambda}
	}
	if err := cfg.Validate(m); err != nil { // before loading any data
		return err
	}
	if cmd.Flags().Changed("coder") {
		cfg.Encode.Coder = o.coder
	}
	cfg.Encode.HalfCodebooks = cfg.Encode.HalfCodebooks || o.df.halfCodebooks
	cfg.Encode.HalfRaw = cfg.Encode.HalfRaw || o.df.halfRaw
	workDir := o.workDir
	if workDir == "" {
		workDir = o.out + ".work"
	}
	train, test, err := o.data.both()
	if err != nil {
		return err
	}
	if searching {
		return o.runChainSearch(cmd, m, cfg, train, test, workDir)
	}
	start := time.Now()
	res, err := runPipeline(cmd.Context(), m, cfg, train, test, o.out, workDir, cmd.ErrOrStderr())
	if errors.As(err, new(*pipeline.Interrupted)) {
		return resumable{err} // the work directory holds the steps done
	}
	if err != nil {
		return err
	}
	if !o.keepWork {
		os.RemoveAll(workDir)
	}
	if o.reportDir != "" {
		if err := writeCompressReport(o.reportDir, res, os.Args); err != nil {
			return err
		}
	}
	return printCompressResult(cmd.OutOrStdout(), res, o.asJSON, time.Since(start))
}

// printConfigOptions are the settings of compress print-config.
type printConfigOptions struct{ preset, arch string }

func printConfigCmd() *cobra.Command {
	var o printConfigOptions
	cmd := &cobra.Command{
		Use:   "print-config [--preset paper|quick|max] [--arch lenet300|lenet5]",
		Short: "Print a preset as a JSON config file to start from",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().StringVar(&o.preset, "preset", "paper", "preset to print: paper, quick or max")
	cmd.Flags().StringVar(&o.arch, "arch", "lenet300", "architecture: lenet300, lenet5, or any other name for the generic settings")
	return cmd
}

func (o *printConfigOptions) run(cmd *cobra.Command) error {
	c, err := pipeline.Preset(o.preset, o.arch)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// compressConfig picks the config file or the preset for the model's
// architecture (recognised by its layers, whatever its name).
func compressConfig(path, preset string, spec arch.Spec) (pipeline.Config, error) {
	if path != "" {
		return pipeline.LoadConfig(path)
	}
	return pipeline.Preset(preset, arch.Identify(spec))
}

func runPipeline(ctx context.Context, m *nn.Model, cfg pipeline.Config, train, test nn.Dataset, out, workDir string, log io.Writer) (*pipeline.Result, error) {
	r := &pipeline.Runner{Config: cfg, WorkDir: workDir, Train: train, Test: test, Log: log,
		Progress: func(step string) func(nn.Progress) { return trainingBar(step) }}
	return r.Run(ctx, m, out)
}

func printCompressResult(w io.Writer, res *pipeline.Result, asJSON bool, took time.Duration) error {
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]any{"out": res.Out, "stages": res.Stages, "seconds": took.Seconds()})
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, pipeline.StageTable(res.Stages).Text())
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(pipeline.SizeNotes))
	fmt.Fprintf(w, "wrote %s in %s\n", res.Out, took.Round(time.Second))
	return nil
}

// writeCompressReport writes the Markdown report of a run with the
// compressed file's per-layer table.
func writeCompressReport(dir string, res *pipeline.Result, args []string) error {
	inspect, err := inspectTable(res.Out)
	if err != nil {
		return err
	}
	return pipeline.WriteReport(dir, res, pipeline.Extras{
		Title:   "deepcompress report: " + res.Out,
		Command: "deepcompress " + strings.Join(args[1:], " "),
		Inspect: inspect,
	})
}
