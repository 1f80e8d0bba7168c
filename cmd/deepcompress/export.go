package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/safetensors"
)

func init() { registry = append(registry, exportCmd) }

func exportCmd() *cobra.Command {
	var model, out, archArg, dtype string
	cmd := &cobra.Command{
		Use:   "export --model FILE --out FILE.onnx|FILE.safetensors [--dtype f32|f16|bf16]",
		Short: "Write any model (original, pruned or compressed) as ONNX or safetensors",
		Long: `Convert a model to the formats other tools read: an ONNX graph (opset 13;
dense layers as Gemm with transB=1, conv as Conv) or a safetensors file
(F32, or F16/BF16 with --dtype). A .dcz input is decoded first, its shared
weights expanded.`,
		Example: "  deepcompress export --model lenet300.dcz --out lenet300.onnx",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := modelfile.Load(model, modelfile.Options{Arch: archArg})
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(out)) {
			case ".onnx":
				if dtype != "f32" {
					return fmt.Errorf("--dtype %s: ONNX export writes float32 only", dtype)
				}
				err = onnx.ExportFile(out, m.Spec, m.WeightMap())
			case ".safetensors":
				dt, ok := map[string]safetensors.DType{"f32": safetensors.F32, "f16": safetensors.F16, "bf16": safetensors.BF16}[dtype]
				if !ok {
					return fmt.Errorf("--dtype must be f32, f16 or bf16, got %q", dtype)
				}
				err = modelfile.SaveCheckpointAs(out, m, nil, dt)
			default:
				err = fmt.Errorf("--out must end in .onnx or .safetensors, got %q", out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model file (.safetensors, .onnx or .dcz)")
	cmd.Flags().StringVar(&out, "out", "", "output (.onnx or .safetensors)")
	cmd.Flags().StringVar(&archArg, "arch", "", "architecture for safetensors files that record none")
	cmd.Flags().StringVar(&dtype, "dtype", "f32", "safetensors element type: f32, f16 or bf16")
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("out")
	return cmd
}
