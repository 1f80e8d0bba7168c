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
)

func init() { registry = append(registry, decodeCmd) }

func decodeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "decode FILE.dcz --out FILE.safetensors|FILE.onnx",
		Short: "Expand a compressed file into a dense checkpoint or ONNX graph",
		Long: `Decode a .dcz file into dense float32 weights (shared values expanded,
pruned weights zero) and write them as a safetensors checkpoint (which
records the architecture and the pruning) or, with a .onnx output, as an
ONNX model that standard runtimes load. Files made by compress --data-free
from safetensors decode to safetensors, streamed one tensor at a time.
Files that hold a whole graph (compress --data, or --data-free from an
ONNX model) decode to ONNX with the original's inputs, outputs, node
names and opset, so the decoded model drops in where the original was.`,
		Example: "  deepcompress decode lenet300.dcz --out lenet300-decoded.onnx",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g, err := graphFile(args[0]); err != nil || g != nil {
				if err != nil {
					return err
				}
				// A graph file: the original model's graph, decoded weights.
				if !strings.EqualFold(filepath.Ext(out), ".onnx") {
					return fmt.Errorf("%s holds a graph: decode it to .onnx", args[0])
				}
				if err := onnx.ExportGraphFile(out, g); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
				return nil
			}
			if only, err := datafree.IsTensorsOnly(args[0]); err == nil && only {
				// Any-tensor files from --data-free: streamed, one tensor at a time.
				if !strings.EqualFold(filepath.Ext(out), ".safetensors") {
					return fmt.Errorf("%s holds tensors, not a network: decode it to .safetensors", args[0])
				}
				if err := datafree.Decode(args[0], out, 0); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
				return nil
			}
			m, err := modelfile.Load(args[0], modelfile.Options{})
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(out)) {
			case ".onnx":
				err = onnx.ExportFile(out, m.Spec, m.WeightMap())
			case ".safetensors":
				err = modelfile.SaveCheckpoint(out, m, nil)
			default:
				err = fmt.Errorf("--out must end in .safetensors or .onnx, got %q", out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file (.safetensors or .onnx)")
	cmd.MarkFlagRequired("out")
	return cmd
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
