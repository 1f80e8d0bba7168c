package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
)

func init() { registry = append(registry, encodeCmd) }

func encodeCmd() *cobra.Command {
	var model, out, archArg, indexArg string
	cmd := &cobra.Command{
		Use:   "encode --model QUANTIZED.safetensors --out FILE.dcz [--index-bits fc1=5,...]",
		Short: "Stage 3: Huffman-code a quantized model into a .dcz file",
		Long: `Store a quantized model (written by "deepcompress quantize --out
FILE.safetensors") in the compressed format: per layer the codebook, the
Huffman-coded weight indices and the Huffman-coded relative positions
(gaps of --index-bits bits, 8 for conv and 5 for fc by default, with filler
zeros where a gap does not fit), plus the biases and the network
description. The codebooks are the tensors' distinct values, exactly.`,
		Example: "  deepcompress encode --model quantized.safetensors --out lenet300.dcz",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			indexBits, err := layerInts(indexArg, "--index-bits")
			if err != nil {
				return err
			}
			if !strings.EqualFold(filepath.Ext(model), ".safetensors") {
				return fmt.Errorf("encode reads the .safetensors written by quantize; %s is not one", model)
			}
			r, err := safetensors.Open(model)
			if err != nil {
				return err
			}
			bits, err := modelfile.QuantizedBits(r.Metadata())
			r.Close()
			if err != nil {
				return err
			}
			if bits == nil {
				return fmt.Errorf("%s is not quantized (no %q metadata): run deepcompress quantize first", model, modelfile.MetaQuantized)
			}
			m, err := modelfile.Load(model, modelfile.Options{Arch: archArg})
			if err != nil {
				return err
			}
			f, err := modelfile.ToDCZ(m, bits, indexBits)
			if err != nil {
				return err
			}
			if err := dcz.WriteFile(out, f); err != nil {
				return err
			}
			return printInspect(cmd, out, false)
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "quantized checkpoint (.safetensors from deepcompress quantize)")
	cmd.Flags().StringVar(&out, "out", "", "compressed file to write (.dcz)")
	cmd.Flags().StringVar(&archArg, "arch", "", "architecture, if the checkpoint records none")
	cmd.Flags().StringVar(&indexArg, "index-bits", "", "relative-index bits per layer, NAME=BITS,... (default 8 conv, 5 fc)")
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("out")
	return cmd
}

// writeDCZ stores a freshly quantized and fine-tuned model.
func writeDCZ(path string, m *nn.Model, layers []*quantize.Layer, indexBits map[string]int) error {
	bits := map[string]int{}
	for _, l := range layers {
		bits[l.Name] = l.Bits
	}
	f, err := modelfile.ToDCZ(m, bits, indexBits)
	if err != nil {
		return err
	}
	return dcz.WriteFile(path, f)
}

// bitsJSON records each quantized tensor's bits for MetaQuantized.
func bitsJSON(layers []*quantize.Layer) string {
	bits := map[string]int{}
	for _, l := range layers {
		bits[l.Name] = l.Bits
	}
	b, _ := json.Marshal(bits)
	return string(b)
}
