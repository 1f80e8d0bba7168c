package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"path/filepath"
	"strings"

	"github.com/deepcompress/deepcompress/safetensors"
)

// stFile is a safetensors file of the given JSON header and data.
func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// withArch is a small safetensors file whose "arch" metadata is js.
func withArch(js string) []byte {
	meta, _ := jsonString(js)
	return stFile(`{"__metadata__":{"arch":`+meta+`},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))
}

func jsonString(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// stCommands runs every command that reads a safetensors model on file.
func (c *corpus) stCommands(name, class, file string) {
	c.cmd(name, class, "eval", "--model", file)
	c.cmd(name, class, "export", "--model", file, "--out", "out/"+name+".onnx")
	c.cmd(name, class, "encode", "--model", file, "--out", "out/"+name+".dcz")
	c.cmd(name, class, "compress", "--data-free", "--model", file, "--out", "out/"+name+"-df.dcz")
}

func (c *corpus) safetensorsCases() error {
	files := map[string][]byte{
		// The arch metadata declares a 2^24-wide dense layer on a 2^24 input (nn.newParam).
		"st-arch-dense-2^24": withArch(`{"input":[16777216],"layers":[{"kind":"dense","name":"fc","out":16777216}]}`),
		"st-arch-conv-huge":  withArch(`{"input":[1,28,28],"layers":[{"kind":"conv2d","name":"c","out":4096,"kernel":[4096,4096],"pad":[4095,4095]}]}`),
		"st-arch-overflow":   withArch(`{"input":[16777216,16777216,16777216],"layers":[{"kind":"flatten"},{"kind":"dense","name":"fc","out":16777216}]}`),
		"st-arch-unknown":    withArch(`{"input":[4],"layers":[{"kind":"dense","name":"a","out":2,"kernal":[3,3]}]}`),
		"st-arch-deep":       withArch(deepSpec(20000)),
		// Header lies and impossible shapes.
		"st-header-length": binary.LittleEndian.AppendUint64(nil, 1<<62),
		"st-shape-overflow": stFile(`{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}`,
			make([]byte, 16)),
		"st-zero-dim-huge": stFile(`{"w":{"dtype":"F32","shape":[0,1099511627776,1099511627776],"data_offsets":[0,0]}}`, nil),
		"st-long-shape": stFile(`{"w":{"dtype":"F32","shape":[`+strings.Repeat("1,", 200000)+`1],"data_offsets":[0,4]}}`,
			make([]byte, 4)),
		"st-dtype-i64":       stFile(`{"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}`, make([]byte, 16)),
		"st-offsets-overlap": stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)),
		"st-not-json":        stFile(`{"w":{"dtype":"F32","shape":[2]`, nil),
		"st-deep-json":       stFile(`{"w":`+strings.Repeat("[", 200000)+strings.Repeat("]", 200000)+`}`, nil),
		"st-empty":           {},
		"st-nan-weights":     nanWeights(c.dir),
	}
	if !c.quick {
		// 200,000 one-element tensors: header parsing and data-free memory.
		files["st-many-tensors"] = manySmallTensors(200000)
	}
	for name, data := range files {
		c.stCommands(name, "safetensors", c.file("st/"+name+".safetensors", data))
	}
	return nil
}

func manySmallTensors(n int) []byte {
	var h strings.Builder
	h.WriteString("{")
	for i := range n {
		if i > 0 {
			h.WriteString(",")
		}
		fmt.Fprintf(&h, `"t%d":{"dtype":"F32","shape":[1],"data_offsets":[%d,%d]}`, i, 4*i, 4*i+4)
	}
	h.WriteString("}")
	return stFile(h.String(), make([]byte, 4*n))
}

// nanWeights is the base LeNet-300-100 checkpoint with NaN and Inf weights.
func nanWeights(dir string) []byte {
	f, err := safetensors.ReadFile(filepath.Join(dir, "base/lenet300.safetensors"))
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range f.Tensors {
		for i := range t.Data {
			if i%7 == 0 {
				t.Data[i] = []float32{nan, inf}[i%2]
			}
		}
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}
