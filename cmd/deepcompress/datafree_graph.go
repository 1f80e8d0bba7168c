package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/datafree"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx"
)

// isGraphModel reports whether compress --data-free reads path as a whole
// network graph (an ONNX model) rather than a safetensors file of tensors.
func isGraphModel(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".onnx")
}

// runDataFreeGraph compresses the ONNX model in into the version 2 .dcz
// file out, graph included, without training data: every weight (Conv,
// ConvTranspose, Gemm, MatMul operand) planned by the data-free rules,
// pruned, shared and Huffman coded, or stored float32 when that is
// smaller; every other float parameter float32. It prints the table per
// tensor and the file's statistics (or, with --json, one JSON object).
func runDataFreeGraph(cmd *cobra.Command, in, out string, opt datafree.Options) error {
	asJSON, _ := cmd.Flags().GetBool("json")
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	g, err := onnx.ImportGraphFile(in)
	if err != nil {
		return err
	}
	if opt.Name == "" && g.Name == "" {
		opt.Name = strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	}
	finish := func() {}
	if cmd.ErrOrStderr() == os.Stderr {
		bar := newBar(countFloatParams(g), "data-free")
		finish = func() { bar.Finish() }
		opt.Progress = func(s datafree.TensorStats) {
			bar.Describe(s.Name)
			bar.Add(1)
		}
	}
	start := time.Now()
	res, err := datafree.WriteGraphFile(out, g, opt)
	finish()
	if err != nil {
		return err
	}
	res.InBytes = st.Size()
	took := time.Since(start)
	stats, err := dcz.Inspect(out)
	if err != nil {
		return err
	}
	for _, i := range res.UnusedRules {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: rule %d (%q) matched no weight\n", i, opt.Config.Rules[i].Match)
	}
	w := cmd.OutOrStdout()
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]any{"out": out, "result": res, "stats": stats, "seconds": took.Seconds()})
	}
	t := dataFreeTable(res)
	fallbacks := 0
	for _, s := range res.Tensors {
		if s.Fallback {
			fallbacks++
		}
	}
	fmt.Fprint(w, t.Text())
	fmt.Fprintln(w)
	if len(stats.Layers) > 0 {
		fmt.Fprint(w, statsTable(stats).Text())
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s: %d bytes (graph and headers %d); input %s %d bytes; dense 32-bit %d bytes; ratio %.1fx (against the input file %.1fx)\n",
		out, res.OutBytes, res.GraphBytes, filepath.Base(in), res.InBytes, res.DenseBytes, res.Ratio(), float64(res.InBytes)/float64(res.OutBytes))
	fmt.Fprintf(w, "%d float parameters: %d pruned and shared (%.2f%% of their weights kept), %d stored float32 because coding them was larger, in %s\n",
		len(res.Tensors), len(stats.Layers), 100*float64(res.Kept)/float64(max(res.Compressed, 1)), fallbacks, took.Round(time.Millisecond))
	return nil
}

// countFloatParams is the number of float parameters of g: the tensor
// sections of its graph file.
func countFloatParams(g *graph.Graph) int {
	n := 0
	for _, t := range g.Params {
		if t.DType == graph.Float32 {
			n++
		}
	}
	return n
}
