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

// encodeOptions are the settings of encode.
type encodeOptions struct {
	model     modelFlags
	out       string
	indexBits widths
}

func encodeCmd() *cobra.Command {
	o := encodeOptions{indexBits: widths{}}
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
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.model.register(cmd, "quantized checkpoint (.safetensors from deepcompress quantize)")
	cmd.Flags().StringVar(&o.out, "out", "", "compressed file to write (.dcz)")
	cmd.Flags().Var(o.indexBits, "index-bits", "relative-index bits, for every layer or by name, NAME=BITS,... (default 8 conv, 5 fc)")
	cmd.MarkFlagRequired("out")
	return cmd
}

func (o *encodeOptions) run(cmd *cobra.Command) error {
	if !strings.EqualFold(filepath.Ext(o.model.path), ".safetensors") {
		return fmt.Errorf("encode reads the .safetensors written by quantize; %s is not one", o.model.path)
	}
	r, err := safetensors.Open(o.model.path)
	if err != nil {
		return err
	}
	bits, err := modelfile.QuantizedBits(r.Metadata())
	r.Close()
	if err != nil {
		return err
	}
	if bits == nil {
		return fmt.Errorf("%s is not quantized (no %q metadata): run deepcompress quantize first", o.model.path, modelfile.MetaQuantized)
	}
	m, err := o.model.load()
	if err != nil {
		return err
	}
	f, err := modelfile.ToDCZ(m, bits, o.indexBits)
	if err != nil {
		return err
	}
	if err := dcz.WriteFile(o.out, f); err != nil {
		return err
	}
	return printInspect(cmd, o.out, false)
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
