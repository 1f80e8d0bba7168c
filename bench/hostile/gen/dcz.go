package main

import (
	"bytes"
	"encoding/binary"
	"log"
	"os"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/quantize"
)

// encodeDCZ writes m as .dcz bytes.
func encodeDCZ(m *dcz.Model) []byte {
	var b bytes.Buffer
	if err := dcz.Write(&b, m); err != nil {
		log.Fatalf("gen: encoding a .dcz: %v", err)
	}
	return b.Bytes()
}

// oneSurvivor is a weight of the given shape whose only survivor is at 0:
// a few bytes on disk whatever the shape declares.
func oneSurvivor(name string, kind arch.Kind, shape ...int) dcz.Layer {
	return dcz.Layer{Kind: kind, IndexBits: 5, Layer: quantize.Layer{
		Name: name, Shape: shape, Bits: 1, Codebook: []float32{0.5}, Pos: []uint32{0}, Idx: []uint16{0}}}
}

// frame is a .dcz section with its checksum left for dcz.FixChecksums.
func frame(typ byte, body []byte) []byte {
	b := append([]byte{typ}, binary.AppendUvarint(nil, uint64(len(body)))...)
	return append(append(b, body...), 0, 0, 0, 0)
}

// rawSpecFile is a .dcz file whose description is the given JSON, stored
// as is, followed by sections, checksums repaired.
func rawSpecFile(js string, sections ...[]byte) []byte {
	b := append([]byte(dcz.Magic), 1)
	body := append([]byte{0}, binary.AppendUvarint(nil, uint64(len(js)))...)
	b = append(b, frame('S', append(body, js...))...)
	for _, s := range sections {
		b = append(b, s...)
	}
	return dcz.FixChecksums(append(b, frame('E', nil)...))
}

// dczCommands runs every command that reads a .dcz on file.
func (c *corpus) dczCommands(name, class, file string) {
	c.cmd(name, class, "inspect", file)
	c.cmd(name, class, "decode", file, "--out", "out/"+name+".safetensors")
	c.cmd(name, class, "eval", "--model", file)
	c.cmd(name, class, "predict", file, "base/digit.png")
	c.cmd(name, class, "export", "--model", file, "--out", "out/"+name+".onnx")
}

func (c *corpus) dczCases() error {
	dense := func(in, out int) arch.Spec {
		return arch.Spec{Name: "h", Input: []int{in}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: out, NoBias: true}}}
	}
	conv := func(input []int, out, k, pad int) arch.Spec {
		return arch.Spec{Name: "h", Input: input, Layers: []arch.Layer{
			{Kind: arch.Conv2D, Name: "c", Out: out, Kernel: [2]int{k, k}, Pad: [2]int{pad, pad}, NoBias: true},
			{Kind: arch.Flatten}}}
	}
	files := map[string][]byte{
		// A nearly empty dense layer declaring 2^32 weights: 16 GiB dense.
		"dcz-huge-sparse-dense": encodeDCZ(&dcz.Model{Spec: dense(1<<16, 1<<16),
			Layers: []dcz.Layer{oneSurvivor("fc.weight", arch.Dense, 1<<16, 1<<16)}}),
		// A conv kernel of 4096x4096 with padding 4095: the scratch of
		// infer.getScratch ("makeslice: len out of range").
		"dcz-huge-conv-kernel": encodeDCZ(&dcz.Model{Spec: conv([]int{1, 28, 28}, 1, 4096, 4095),
			Layers: []dcz.Layer{oneSurvivor("c.weight", arch.Conv2D, 1, 1, 4096, 4096)}}),
		// A 28x28 kernel padded by 27: 2.4M unfolded floats per sample,
		// an im2col buffer of 4.7 GB at eval's batch of 500.
		"dcz-im2col-batch": encodeDCZ(&dcz.Model{Spec: conv([]int{1, 28, 28}, 8, 28, 27),
			Layers: []dcz.Layer{oneSurvivor("c.weight", arch.Conv2D, 8, 1, 28, 28)}}),
		// 2^22 output channels of a 28x28 conv on the MNIST input: 13 GB of weights.
		"dcz-many-channels": encodeDCZ(&dcz.Model{Spec: conv([]int{1, 28, 28}, 1<<22, 28, 0),
			Layers: []dcz.Layer{oneSurvivor("c.weight", arch.Conv2D, 1<<22, 1, 28, 28)}}),
		// 2^16 channels of a 1x1 conv on the MNIST input: 51 M activations
		// per sample, fine alone (predict), 100 GB at eval's batch.
		"dcz-wide-activation": encodeDCZ(&dcz.Model{Spec: conv([]int{1, 28, 28}, 1<<16, 1, 0),
			Layers: []dcz.Layer{oneSurvivor("c.weight", arch.Conv2D, 1<<16, 1, 1, 1)}}),
		// An input of 2 x 32768 x 32768 flattened into one output: 8 GiB of weights.
		"dcz-wide-input": encodeDCZ(&dcz.Model{Spec: arch.Spec{Name: "h", Input: []int{2, 32768, 32768}, Layers: []arch.Layer{
			{Kind: arch.Flatten}, {Kind: arch.Dense, Name: "fc", Out: 1, NoBias: true}}},
			Layers: []dcz.Layer{oneSurvivor("fc.weight", arch.Dense, 1, 1<<31)}}),
		// Tensors only (a data-free file), one tensor of 2^32 elements.
		"dcz-tensors-only-huge": encodeDCZ(&dcz.Model{
			Layers: []dcz.Layer{oneSurvivor("w", arch.Dense, 1<<16, 1<<16)}}),
		// Tensors only, 20,000 tiny raw tensors.
		"dcz-tensors-only-many": encodeDCZ(&dcz.Model{Raw: manyTensors(20000)}),
		// Codebook of NaN and Inf: runs, gives NaN, never crashes.
		"dcz-nan-codebook": nanCodebook(c.dir),
		// A description that is not a network: unknown field, bad JSON,
		// trailing data, overflowing shapes, 20,000 layers.
		"dcz-spec-unknown-field": rawSpecFile(`{"input":[4],"layers":[{"kind":"dense","name":"a","out":2,"colour":1}]}`),
		"dcz-spec-overflow":      rawSpecFile(`{"input":[16777216,16777216,16777216],"layers":[{"kind":"flatten"}]}`),
		"dcz-spec-not-json":      rawSpecFile(`{"input":[4],"layers":[`),
		"dcz-spec-deep":          rawSpecFile(deepSpec(20000)),
		// A layer section declaring a 2^32 symbols Huffman block in 20 bytes.
		"dcz-huffman-count-lie": rawSpecFile(`{"input":[65536],"layers":[{"kind":"dense","name":"fc","out":65536,"no_bias":true}]}`,
			frame('L', layerBody("fc.weight", []int{65536, 65536}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3, 4}))),
		// Rank 8 of 2^4 each with a 1 KiB name.
		"dcz-long-name-rank": encodeDCZ(&dcz.Model{Raw: []dcz.Tensor{{Name: string(bytes.Repeat([]byte("n"), 1024)),
			Shape: []int{1, 1, 1, 1, 1, 1, 1, 2}, Data: []float32{1, 2}}}}),
		// Broken files.
		"dcz-empty":     {},
		"dcz-magic":     []byte(dcz.Magic),
		"dcz-garbage":   bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 64),
		"dcz-truncated": truncated(c.dir),
	}
	for name, data := range files {
		c.dczCommands(name, "dcz", c.file("dcz/"+name+".dcz", data))
	}
	return nil
}

// layerBody is a layer section body: name, kind (dense), shape, weight
// bits 1, index bits 5, a codebook of one value, then rest (the Huffman
// blocks).
func layerBody(name string, shape []int, rest []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(len(name)))
	b = append(append(b, name...), 1)
	b = binary.AppendUvarint(b, uint64(len(shape)))
	for _, d := range shape {
		b = binary.AppendUvarint(b, uint64(d))
	}
	b = append(b, 1, 5)
	b = binary.AppendUvarint(b, 1)
	b = append(b, 0, 0, 0, 0x3f)
	return append(b, rest...)
}

func manyTensors(n int) []dcz.Tensor {
	ts := make([]dcz.Tensor, n)
	for i := range ts {
		ts[i] = dcz.Tensor{Name: "t" + itoa(i), Shape: []int{1}, Data: []float32{float32(i)}}
	}
	return ts
}

func deepSpec(n int) string {
	var b bytes.Buffer
	b.WriteString(`{"input":[4],"layers":[{"kind":"dense","name":"a","out":2}`)
	for range n {
		b.WriteString(`,{"kind":"relu"}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// nanCodebook is the base LeNet-300-100 with NaN and Inf shared values.
func nanCodebook(dir string) []byte {
	m := baseDCZ(dir)
	for i := range m.Layers {
		cb := m.Layers[i].Codebook
		for j := range cb {
			cb[j] = []float32{nan, inf}[j%2]
		}
	}
	return encodeDCZ(m)
}

// truncated is the base file cut in the middle of a section.
func truncated(dir string) []byte {
	b, err := os.ReadFile(dir + "/base/lenet300.dcz")
	if err != nil {
		log.Fatal(err)
	}
	return b[:len(b)/2]
}
