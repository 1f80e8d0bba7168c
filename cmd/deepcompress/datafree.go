package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/datafree"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/report"
	"github.com/deepcompress/deepcompress/safetensors"
)

// dataFreeArgs are the flags of compress --data-free that compress does not
// already have (it has --model, --out, --config, --preset and --json).
type dataFreeArgs struct {
	keep, quality          float64
	bits, indexBits        widths
	minSize                int
	workers, maxInFlight   int
	memoryMiB              int64
	halfCodebooks, halfRaw bool
	grid, maxBytes         string
}

// addDataFreeFlags registers the data-free flags on cmd.
func addDataFreeFlags(cmd *cobra.Command) *dataFreeArgs {
	a := &dataFreeArgs{bits: widths{}, indexBits: widths{}}
	f := cmd.Flags()
	f.Float64Var(&a.keep, "keep", 0, "data-free: fraction of each tensor's weights kept, (0,1] (default 1: no pruning)")
	f.Float64Var(&a.quality, "quality", 0, "data-free: prune |w| < QUALITY*std(W) instead of --keep")
	f.Var(a.bits, "bits", "data-free: weight bits of every tensor, 1..16 (default 8 for rank-4 tensors, 5 for others; by name: rules in --config)")
	f.Var(a.indexBits, "index-bits", "data-free: gap bits between survivors of every tensor (default 8 for rank-4 tensors, 5 for others)")
	f.IntVar(&a.minSize, "min-size", 0, fmt.Sprintf("data-free: tensors with fewer elements stay float32 (default %d; rank-1 tensors always do)", datafree.DefaultMinSize))
	f.IntVar(&a.workers, "workers", 0, "data-free: tensors processed at once (default: all cores)")
	f.IntVar(&a.maxInFlight, "max-in-flight", 0, "data-free: most tensors read and not yet written (default 2*workers)")
	f.Int64Var(&a.memoryMiB, "memory", datafree.DefaultMemoryBudget>>20, "data-free: MiB of tensors in flight (estimated)")
	f.StringVar(&a.grid, "grid", "", "data-free: shared values by \"kmeans\" (default) or a \"uniform\" grid (a linear quantizer, Huffman coded)")
	f.StringVar(&a.maxBytes, "max-bytes", "", "data-free, .onnx models: choose bits and grid per weight so that the file takes at most N bytes, or \"int8\": the size of plain per-tensor int8")
	f.BoolVar(&a.halfCodebooks, "half-codebooks", false, "store codebooks in float16: after fine-tuning (training pipelines; entries that meet are merged), or, with --data-free on .onnx models, rounded before the weights are assigned where the sharing error grows by at most 1%")
	f.BoolVar(&a.halfRaw, "half-raw", false, "store raw tensors (biases, normalisation) in float16 where that moves no value by more than 2^-11 of the tensor's largest magnitude (not with --data-free on safetensors)")
	cmd.MarkFlagsMutuallyExclusive("keep", "quality")
	return a
}

// options builds the data-free options: the rules of --config FILE, or of
// --preset NAME when that flag was given (compress's default preset is for
// the MNIST pipeline), with --keep, --quality, --bits and --index-bits as
// the setting of tensors no rule matches and of fields a rule leaves
// unset.
func (a *dataFreeArgs) options(cmd *cobra.Command, configPath, preset string) (datafree.Options, error) {
	var cfg datafree.Config
	var err error
	switch {
	case configPath != "":
		cfg, err = datafree.LoadConfig(configPath)
	case cmd.Flags().Changed("preset"):
		cfg, err = datafree.Preset(preset)
	}
	if err != nil {
		return datafree.Options{}, err
	}
	f := cmd.Flags()
	for _, name := range []string{"keep", "quality"} {
		if v := f.Lookup(name).Value.String(); f.Changed(name) && (v == "0" || strings.HasPrefix(v, "-")) {
			return datafree.Options{}, fmt.Errorf("--%s %s: must be positive", name, v)
		}
	}
	if f.Changed("keep") || f.Changed("quality") {
		cfg.Default.Keep, cfg.Default.Quality = a.keep, a.quality
	}
	for _, w := range []struct {
		flag string
		v    widths
		to   *int
	}{{"bits", a.bits, &cfg.Default.Bits}, {"index-bits", a.indexBits, &cfg.Default.IndexBits}} {
		if !f.Changed(w.flag) {
			continue
		}
		b, ok := w.v.only()
		if !ok {
			return datafree.Options{}, fmt.Errorf("--%s %s: data-free takes one width for every tensor; give widths by name as rules in --config", w.flag, w.v)
		}
		*w.to = b
	}
	if f.Changed("grid") {
		cfg.Default.Grid = a.grid
	}
	maxBytes := int64(0)
	if a.maxBytes == "int8" {
		maxBytes = datafree.MaxBytesInt8
	} else if a.maxBytes != "" {
		if maxBytes, err = strconv.ParseInt(a.maxBytes, 10, 64); err != nil || maxBytes <= 0 {
			return datafree.Options{}, fmt.Errorf("--max-bytes %s: want a positive number of bytes or \"int8\"", a.maxBytes)
		}
	}
	if f.Changed("min-size") {
		cfg.MinSize = a.minSize
	}
	if err := cfg.Validate(); err != nil {
		return datafree.Options{}, fmt.Errorf("%w (from --keep, --quality, --bits, --index-bits or --min-size)", err)
	}
	return datafree.Options{Config: cfg, Workers: a.workers, MaxInFlight: a.maxInFlight, MemoryBudget: a.memoryMiB << 20, HalfCodebooks: a.halfCodebooks, HalfRaw: a.halfRaw, MaxBytes: maxBytes, Context: cmd.Context()}, nil
}

// runDataFree compresses the safetensors file in into the .dcz file out
// without training data, showing progress, then prints a table per tensor
// and the file's statistics (or, with --json, one JSON object).
func runDataFree(cmd *cobra.Command, in, out string, opt datafree.Options) error {
	if isGraphModel(in) {
		return runDataFreeGraph(cmd, in, out, opt)
	}
	asJSON, _ := cmd.Flags().GetBool("json") // false where compress has no --json
	if opt.Name == "" {
		opt.Name = strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	}
	total, err := countTensors(in)
	if err != nil {
		return fmt.Errorf("%w (compress --data-free reads .safetensors files and .onnx models)", err)
	}
	// The bar draws on the process's stderr, so not when the command's
	// output goes elsewhere (tests, embedding).
	finish := func() {}
	if cmd.ErrOrStderr() == os.Stderr {
		bar := newBar(total, "data-free")
		finish = func() { bar.Finish() }
		opt.Progress = func(s datafree.TensorStats) {
			bar.Describe(s.Name)
			bar.Add(1)
		}
	}
	start := time.Now()
	res, err := datafree.CompressFile(in, out, opt)
	finish()
	if err != nil {
		return err
	}
	took := time.Since(start)
	stats, err := dcz.Inspect(out)
	if err != nil {
		return err
	}
	for _, i := range res.UnusedRules {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: rule %d (%q) matched no tensor\n", i, opt.Config.Rules[i].Match)
	}
	w := cmd.OutOrStdout()
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]any{"out": out, "result": res, "stats": stats, "seconds": took.Seconds()})
	}
	fmt.Fprint(w, dataFreeTable(res).Text())
	fmt.Fprintln(w)
	fmt.Fprint(w, statsTable(stats).Text())
	fmt.Fprintf(w, "\n%s: %d bytes; input %d bytes; dense 32-bit %d bytes; ratio %.1fx (against the input file %.1fx)\n",
		out, res.OutBytes, res.InBytes, res.DenseBytes, res.Ratio(), float64(res.InBytes)/float64(res.OutBytes))
	fmt.Fprintf(w, "compressed %d tensors (%d of them pruned and shared, %.2f%% of their weights kept) in %s, at most %d tensors in flight\n",
		len(res.Tensors), len(stats.Layers), 100*float64(res.Kept)/float64(max(res.Compressed, 1)), took.Round(time.Millisecond), res.PeakInFlight)
	return nil
}

// countTensors is the number of tensors in a safetensors file.
func countTensors(path string) (int, error) {
	rd, err := safetensors.Open(path)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	return len(rd.Entries()), nil
}

// dataFreeTable lists what happened to each tensor.
func dataFreeTable(res *datafree.Result) report.Table {
	t := report.Table{Header: []string{"tensor", "shape", "dtype", "weights", "kept %", "bits", "idx bits", "shared",
		"rms error", "in bytes", "out bytes", "ratio", "time"}}
	for _, s := range res.Tensors {
		row := []string{s.Name, shapeString(s.Shape), string(s.DType), strconv.Itoa(s.Weights)}
		f16 := map[bool]string{true: " f16"}[s.Half]
		if s.Raw {
			dense := "dense" + f16
			if s.Fallback {
				dense += fmt.Sprintf(" (coded %d B)", s.CodedBytes)
			}
			row = append(row, dense, "-", "-", "-", "-")
		} else {
			row = append(row, fmt.Sprintf("%.1f%%", 100*float64(s.Kept)/float64(s.Weights)), strconv.Itoa(s.Setting.Bits),
				strconv.Itoa(s.Setting.IndexBits), strconv.Itoa(s.Codebook)+f16, fmt.Sprintf("%.2g", s.RMSError))
		}
		row = append(row, strconv.FormatInt(s.InBytes, 10), strconv.Itoa(s.Bytes),
			fmt.Sprintf("%.1fx", 4*float64(s.Weights)/float64(s.Bytes)), s.Time.Round(time.Millisecond).String())
		t.Rows = append(t.Rows, row)
	}
	t.Rows = append(t.Rows, []string{"total", "", "", strconv.FormatInt(res.Params, 10),
		fmt.Sprintf("%.1f%%", 100*float64(res.Kept)/float64(max(res.Compressed, 1))), "", "", "", "",
		strconv.FormatInt(res.InBytes, 10), strconv.FormatInt(res.OutBytes, 10), fmt.Sprintf("%.1fx", res.Ratio()), ""})
	return t
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
