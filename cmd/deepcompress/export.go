package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/datafree"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/safetensors"
)

func init() { registry = append(registry, exportCmd, decodeCmd) }

// exportOptions are the settings of export (and of decode, its former
// spelling for .dcz inputs).
type exportOptions struct {
	model      modelFlags
	out, dtype string
}

func exportCmd() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --model FILE --out FILE.onnx|FILE.safetensors [--dtype f32|f16|bf16]",
		Short: "Write any model (original, pruned or compressed) as ONNX or safetensors",
		Long: `Convert a model to the formats other tools read: an ONNX graph (opset 13;
dense layers as Gemm with transB=1, conv as Conv) or a safetensors file
(F32, or F16/BF16 with --dtype) that records the architecture and the
pruning.

A .dcz input is decoded first: shared values expanded, pruned weights
zero. Files made by compress --data-free from safetensors decode to
safetensors, streamed one tensor at a time. Files that hold a whole graph
(compress --data, or --data-free from an ONNX model) decode to ONNX with
the original's inputs, outputs, node names and opset, so the decoded model
drops in where the original was.`,
		Example: `  deepcompress export --model lenet300.dcz --out lenet300.onnx
  deepcompress export --model resnet.dcz --out resnet-small.onnx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.model.register(cmd, "model file (.safetensors, .onnx or .dcz)")
	f.StringVar(&o.out, "out", "", "output (.onnx or .safetensors)")
	f.StringVar(&o.dtype, "dtype", "f32", "safetensors element type: f32, f16 or bf16")
	cmd.MarkFlagRequired("out")
	return cmd
}

// decodeCmd is the former spelling of export for .dcz files, kept so that
// scripts keep working.
func decodeCmd() *cobra.Command {
	o := exportOptions{dtype: "f32"}
	cmd := &cobra.Command{
		Use:        "decode FILE.dcz --out FILE.safetensors|FILE.onnx",
		Short:      "Expand a compressed file into a dense checkpoint or ONNX graph (now: export)",
		Deprecated: `use "export --model FILE.dcz --out FILE"; it does the same for any model file.`,
		Args:       cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model.path = args[0]
			return o.run(cmd)
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "output file (.safetensors or .onnx)")
	cmd.MarkFlagRequired("out")
	return cmd
}

func (o exportOptions) run(cmd *cobra.Command) error {
	ext := strings.ToLower(filepath.Ext(o.out))
	dt, ok := map[string]safetensors.DType{"f32": safetensors.F32, "f16": safetensors.F16, "bf16": safetensors.BF16}[o.dtype]
	switch {
	case !ok:
		return fmt.Errorf("--dtype must be f32, f16 or bf16, got %q", o.dtype)
	case ext != ".onnx" && ext != ".safetensors":
		return fmt.Errorf("--out must end in .onnx or .safetensors, got %q", o.out)
	case ext == ".onnx" && dt != safetensors.F32:
		return fmt.Errorf("--dtype %s: ONNX export writes float32 only", o.dtype)
	}
	if err := o.write(ext, dt); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", o.out)
	return nil
}

// write converts o.model.path into o.out, of extension ext.
func (o exportOptions) write(ext string, dt safetensors.DType) error {
	g, err := graphFile(o.model.path)
	if err != nil {
		return err
	}
	if g != nil {
		// A graph file: the original model's graph, decoded weights.
		if ext != ".onnx" {
			return fmt.Errorf("%s holds a graph: export it to .onnx", o.model.path)
		}
		return onnx.ExportGraphFile(o.out, g)
	}
	if only, err := datafree.IsTensorsOnly(o.model.path); err == nil && only {
		// Any-tensor files from --data-free: streamed, one tensor at a time.
		if ext != ".safetensors" || dt != safetensors.F32 {
			return fmt.Errorf("%s holds tensors, not a network: export it to .safetensors, float32", o.model.path)
		}
		return datafree.Decode(o.model.path, o.out, 0)
	}
	m, err := o.model.load()
	if err != nil {
		return err
	}
	switch {
	case ext == ".safetensors":
		return modelfile.SaveCheckpointAs(o.out, m, nil, dt)
	case m.Graph() != nil:
		return onnx.ExportGraphFile(o.out, m.Graph())
	}
	return onnx.ExportFile(o.out, m.Spec, m.WeightMap())
}

// graphFile returns the graph, weights decoded, of a .dcz file that holds
// one (format version 2), nil for any other file.
func graphFile(path string) (*graph.Graph, error) {
	if !strings.EqualFold(filepath.Ext(path), ".dcz") {
		return nil, nil
	}
	f, err := dcz.ReadFile(path)
	if err != nil || f.Graph == nil {
		return nil, err
	}
	return f.WithWeights()
}
