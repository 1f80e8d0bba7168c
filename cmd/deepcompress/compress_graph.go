package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/dataset"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
)

// graphArgs are the flags of compress --data: a real model compressed
// with the user's own inputs.
type graphArgs struct {
	data, labels, preset     string
	mean, std                string
	scale                    float64
	maxSamples               int
	config                   string
	tolerance                float64
	convBits, fcBits, epochs int
	ftEpochs                 int
	heldOut                  float64
	maxDrop, targetRatio     float64
	retries                  int
	saveConfig               string
	coder                    dcz.Coder // compress's --coder
}

func addGraphFlags(cmd *cobra.Command) *graphArgs {
	a := &graphArgs{}
	f := cmd.Flags()
	def := pipeline.DefaultGraphConfig()
	f.StringVar(&a.data, "data", "", "your inputs, labels not needed: a folder of images (one sub-folder per class when labelled), a .npy file, or MNIST-style IDX files; the original model teaches the compressed one")
	f.StringVar(&a.labels, "labels", "", "with --data: a .npy (or IDX) file of labels, to report accuracy too")
	f.StringVar(&a.preset, "preprocess", "", "with --data: preprocessing preset for images (mnist, imagenet; default: from the model's input shape, scale 1/255)")
	f.StringVar(&a.mean, "mean", "", "with --data: per-channel mean subtracted after scaling, e.g. 0.485,0.456,0.406")
	f.StringVar(&a.std, "std", "", "with --data: per-channel standard deviation, e.g. 0.229,0.224,0.225")
	f.Float64Var(&a.scale, "scale", 0, "with --data: multiplies 8-bit pixel values (default 1/255)")
	f.IntVar(&a.maxSamples, "max-samples", 0, "with --data: use at most this many samples (a seeded random subset)")
	f.StringVar(&a.config, "graph-config", "", "with --data: JSON recipe (see compress print-graph-config)")
	f.Float64Var(&a.tolerance, "tolerance", def.Tolerance, "with --data: points of agreement (or of relative error) pruning one layer alone may cost in the sensitivity pass")
	f.IntVar(&a.convBits, "conv-bits", def.ConvBits, "with --data: shared-value bits of convolution kernels")
	f.IntVar(&a.fcBits, "fc-bits", def.FCBits, "with --data: shared-value bits of fully connected weights")
	f.IntVar(&a.epochs, "epochs", def.Prune.Epochs, "with --data: epochs of retraining while pruning")
	f.IntVar(&a.ftEpochs, "finetune-epochs", def.FineTune.Epochs, "with --data: epochs of codebook fine-tuning")
	f.Float64Var(&a.heldOut, "held-out", def.HeldOut, "with --data: fraction of the inputs kept aside to measure agreement")
	search := pipeline.DefaultGraphSearch()
	f.Float64Var(&a.maxDrop, "max-drop", 0, "search the kept fractions and bits for the smallest file losing at most this many held-out points: with --data of accuracy with --labels, else of top-1 agreement with the original (of relative error for map outputs); on the MNIST models of accuracy against the input model's (see above)")
	f.Float64Var(&a.targetRatio, "target-ratio", 0, "with --data: search the kept fractions and bits for the closest file at least this many times smaller than the float32 weights (whole file)")
	f.IntVar(&a.retries, "search-retries", search.Retries, "with --max-drop/--target-ratio/--max-error: full runs after the first, bisecting the ladder of the chosen bits (the MNIST models: 1 unless set, each run takes minutes)")
	f.StringVar(&a.saveConfig, "save-graph-config", "", "with --max-drop/--target-ratio: write the chosen settings here, to repeat the run with --graph-config (default: OUT with .graph-config.json for .dcz)")
	cmd.MarkFlagsMutuallyExclusive("max-drop", "target-ratio")
	cmd.MarkFlagsMutuallyExclusive("max-drop", "tolerance")
	cmd.MarkFlagsMutuallyExclusive("target-ratio", "tolerance")
	return a
}

// recipe is the graph recipe: the config file, or the defaults with the
// flags the user set.
func (a *graphArgs) recipe(cmd *cobra.Command) (pipeline.GraphConfig, error) {
	cfg := pipeline.DefaultGraphConfig()
	if a.config != "" {
		var err error
		if cfg, err = pipeline.LoadGraphConfig(a.config); err != nil {
			return cfg, err
		}
	}
	set := cmd.Flags().Changed
	if set("tolerance") {
		cfg.Tolerance = a.tolerance
	}
	if set("conv-bits") {
		cfg.ConvBits = a.convBits
	}
	if set("fc-bits") {
		cfg.FCBits = a.fcBits
	}
	if set("epochs") {
		cfg.Prune.Epochs = a.epochs
	}
	if set("finetune-epochs") {
		cfg.FineTune.Epochs = a.ftEpochs
	}
	if set("held-out") {
		cfg.HeldOut = a.heldOut
	}
	if set("coder") {
		cfg.Coder = a.coder
	}
	return cfg, cfg.Validate()
}

// preprocess is the preprocessing for images: a preset or the model's
// input shape, with the flags the user set.
func (a *graphArgs) preprocess(g *graph.Graph) (dataset.Preprocess, error) {
	var pre dataset.Preprocess
	if a.preset != "" {
		var err error
		if pre, err = dataset.Preset(a.preset); err != nil {
			return pre, err
		}
	} else if len(g.Inputs) > 0 {
		shape := make([]int, len(g.Inputs[0].Shape))
		for i, d := range g.Inputs[0].Shape {
			shape[i] = d.Size
		}
		pre = dataset.DefaultFor(shape)
	}
	if a.scale != 0 {
		pre.Scale = float32(a.scale)
	}
	for _, f := range []struct {
		s   string
		dst *[]float32
	}{{a.mean, &pre.Mean}, {a.std, &pre.Std}} {
		if f.s == "" {
			continue
		}
		v, err := dataset.ParseFloats(f.s)
		if err != nil {
			return pre, err
		}
		*f.dst = v
	}
	return pre.Normalize(), nil
}

// runGraph compresses a real model (compress --data) with the user's
// inputs.
func (o *compressOptions) runGraph(cmd *cobra.Command) error {
	a, modelPath, out := o.ga, o.model.path, o.out
	a.coder = o.coder
	cfg, err := a.recipe(cmd)
	if err != nil {
		return err
	}
	cfg.HalfCodebooks = cfg.HalfCodebooks || o.df.halfCodebooks
	cfg.HalfRaw = cfg.HalfRaw || o.df.halfRaw
	g, err := modelfile.LoadGraph(modelPath, modelfile.Options{})
	if err != nil {
		return err
	}
	pre, err := a.preprocess(g)
	if err != nil {
		return err
	}
	set, err := dataset.Load(a.data, pre, dataset.Options{Labels: a.labels, Max: a.maxSamples, Seed: cfg.Seed})
	if err != nil {
		return err
	}
	samples, err := toSamples(set)
	if err != nil {
		return err
	}
	anc := dcz.Ancillary{Meta: map[string]string{"source": filepath.Base(modelPath)}}
	if info, err := os.Stat(modelPath); err == nil {
		anc.Meta["source_bytes"] = fmt.Sprint(info.Size())
	}
	if set.Pre != nil {
		if anc.Preprocess, err = set.Pre.Marshal(); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	c := &pipeline.GraphCompressor{Config: cfg, Log: cmd.ErrOrStderr(), Ancillary: anc,
		Progress: func(step string) func(nn.Progress) { return trainingBar(step) }}
	start := time.Now()
	var res *pipeline.GraphResult
	search, searching, err := a.search()
	if err != nil {
		return err
	}
	if searching {
		res, err = c.SearchGraph(ctx, g, samples, out, search)
	} else {
		res, err = c.CompressGraph(ctx, g, samples, out)
	}
	if err != nil {
		return err
	}
	saved := ""
	if searching {
		saved = a.settingsPath(out)
		if err := pipeline.WriteGraphConfig(saved, res.Config); err != nil {
			return err
		}
	}
	if err := printGraphResult(cmd.OutOrStdout(), res, out, saved, o.asJSON, time.Since(start)); err != nil {
		return err
	}
	if res.Search != nil && !res.Search.Met {
		return fmt.Errorf("the goal (%s) was missed after %d full runs; %s holds the nearest miss", res.Search.Goal, len(res.Search.Attempts), out)
	}
	return nil
}

// search is the settings search the flags ask for (searching false when
// they ask for none).
func (a *graphArgs) search() (s pipeline.GraphSearch, searching bool, err error) {
	s = pipeline.DefaultGraphSearch()
	if a.maxDrop == 0 && a.targetRatio == 0 {
		return s, false, nil
	}
	s.MaxDrop, s.TargetRatio, s.Retries = a.maxDrop, a.targetRatio, a.retries
	return s, true, s.Validate()
}

// settingsPath is where the chosen settings go: --save-graph-config, or
// beside the output.
func (a *graphArgs) settingsPath(out string) string {
	if a.saveConfig != "" {
		return a.saveConfig
	}
	return strings.TrimSuffix(out, ".dcz") + ".graph-config.json"
}

// toSamples turns a loaded set into the pipeline's samples; labels are
// kept when every one fits a byte (the class indices training uses).
func toSamples(s *dataset.Set) (pipeline.Samples, error) {
	out := pipeline.Samples{X: s.X, Shape: s.Shape}
	if s.Labels == nil {
		return out, nil
	}
	out.Labels = make([]uint8, len(s.Labels))
	for i, l := range s.Labels {
		if l < 0 || l > 255 {
			return pipeline.Samples{}, fmt.Errorf("label %d of sample %d: only classes 0..255 are supported", l, i)
		}
		out.Labels[i] = uint8(l)
	}
	return out, nil
}

func printGraphResult(w io.Writer, res *pipeline.GraphResult, out, saved string, asJSON bool, took time.Duration) error {
	if asJSON {
		r := map[string]any{"out": out, "stages": res.Stages, "keep": res.Keep, "seconds": took.Seconds()}
		if res.Search != nil {
			r["search"], r["settings"], r["graph_config"] = res.Search, saved, res.Config
		}
		return json.NewEncoder(w).Encode(r)
	}
	fmt.Fprintln(w)
	if res.Search != nil {
		fmt.Fprintf(w, "settings search, %s (loss: held-out points; candidates briefly retrained):\n", res.Search.Goal)
		fmt.Fprint(w, pipeline.GraphSearchTable(res.Search).Text())
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, pipeline.GraphStageTable(res).Text())
	fmt.Fprintf(w, "\nagreement, relative error and accuracy on the held-out inputs; original: the float32 weights of the model; huffman: the .dcz file, every byte counted\n")
	fmt.Fprintf(w, "settings: %s\n", pipeline.DescribeGraphSettings(res.Config))
	if saved != "" {
		fmt.Fprintf(w, "wrote the settings to %s (repeat with --graph-config %s)\n", saved, saved)
	}
	fmt.Fprintf(w, "wrote %s in %s\n", out, took.Round(time.Second))
	return nil
}

// printGraphConfigCmd prints the default graph recipe.
func printGraphConfigCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "print-graph-config",
		Short: "Print the default recipe of compress --data as a JSON file to start from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(pipeline.DefaultGraphConfig())
		},
	}
}
