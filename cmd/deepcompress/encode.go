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
	coder     dcz.Coder
}

func encodeCmd() *cobra.Command {
	o := encodeOptions{indexBits: widths{}}
	cmd := &cobra.Command{
		Use:   "encode --model QUANTIZED.safetensors|IN.dcz --out FILE.dcz [--index-bits fc1=5,...] [--coder huffman|arith|auto]",
		Short: "Stage 3: Huffman-code a quantized model into a .dcz file",
		Long: `Store a quantized model (written by "deepcompress quantize --out
FILE.safetensors") in the compressed format: per layer the codebook, the
Huffman-coded weight indices and the Huffman-coded relative positions
(gaps of --index-bits bits, 8 for conv and 5 for fc by default, with filler
zeros where a gap does not fit), plus the biases and the network
description. The codebooks are the tensors' distinct values, exactly.

--coder arith codes each layer's indices and positions together with
context-adaptive binary arithmetic coding (DeepCABAC) instead; --coder auto
keeps per layer whichever section is smaller, so the file is never larger
than with Huffman. Readers from before the arithmetic coder refuse arith
tensors. Given a .dcz (--model IN.dcz), encode rewrites it with --coder:
the same tensors, coded again.`,
		Example: `  deepcompress encode --model quantized.safetensors --out lenet300.dcz
  deepcompress encode --model lenet300.dcz --out lenet300-auto.dcz --coder auto`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.model.register(cmd, "quantized checkpoint (.safetensors from deepcompress quantize)")
	cmd.Flags().StringVar(&o.out, "out", "", "compressed file to write (.dcz)")
	cmd.Flags().Var(o.indexBits, "index-bits", "relative-index bits, for every layer or by name, NAME=BITS,... (default 8 conv, 5 fc)")
	cmd.Flags().TextVar(&o.coder, "coder", dcz.CoderHuffman, "entropy coder: huffman, arith (context-adaptive arithmetic coding) or auto (the smaller per tensor)")
	cmd.MarkFlagRequired("out")
	return cmd
}

func (o *encodeOptions) run(cmd *cobra.Command) error {
	if strings.EqualFold(filepath.Ext(o.model.path), ".dcz") {
		return o.recode(cmd)
	}
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
	return o.write(cmd, f)
}

// recode rewrites a .dcz file with another coder: the same tensors, the
// same codebooks and positions, each layer coded with --coder.
func (o *encodeOptions) recode(cmd *cobra.Command) error {
	if cmd.Flags().Changed("index-bits") {
		return fmt.Errorf("--index-bits applies to a quantized checkpoint; a .dcz keeps its own")
	}
	f, err := dcz.ReadFile(o.model.path)
	if err != nil {
		return err
	}
	return o.write(cmd, f)
}

// write codes f's layers with --coder, writes it to --out and prints
// its statistics.
func (o *encodeOptions) write(cmd *cobra.Command, f *dcz.Model) error {
	f.SetCoder(o.coder)
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
