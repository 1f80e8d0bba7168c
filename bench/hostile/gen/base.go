package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/safetensors"
)

// baseModel is the real compressed LeNet-300-100 of examples/embed, read
// relative to the repository root (the working directory of go run).
const baseModel = "examples/embed/lenet300.dcz"

var (
	nan = float32(math.NaN())
	inf = float32(math.Inf(1))
)

func itoa(i int) string { return strconv.Itoa(i) }

// base writes the valid files the cases start from or run with:
// base/lenet300.dcz, base/lenet300.safetensors (with its architecture),
// base/noarch.safetensors (without) and base/digit.png.
func (c *corpus) base() error {
	data, err := os.ReadFile(baseModel)
	if err != nil {
		return err
	}
	c.file("base/lenet300.dcz", data)
	m, err := modelfile.FromDCZ(baseDCZ(c.dir), 1)
	if err != nil {
		return err
	}
	if err := modelfile.SaveCheckpoint(filepath.Join(c.dir, "base/lenet300.safetensors"), m, nil); err != nil {
		return err
	}
	f := &safetensors.File{}
	for _, p := range m.Params() {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		return err
	}
	c.file("base/noarch.safetensors", b.Bytes())
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 6; y < 22; y++ {
		img.SetGray(14, y, color.Gray{Y: 255})
	}
	b.Reset()
	png.Encode(&b, img)
	c.file("base/digit.png", b.Bytes())
	return os.MkdirAll(filepath.Join(c.dir, "out"), 0o755)
}

// baseDCZ reads the base model back (a fresh copy each call).
func baseDCZ(dir string) *dcz.Model {
	m, err := dcz.ReadFile(filepath.Join(dir, "base/lenet300.dcz"))
	if err != nil {
		log.Fatal(err)
	}
	return m
}
