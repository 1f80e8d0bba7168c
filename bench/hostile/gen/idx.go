package main

import (
	"bytes"
	"encoding/binary"

	"github.com/klauspost/compress/gzip"
)

// idxFile is an IDX file: magic, dimensions, then data.
func idxFile(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

// gz gzips b; n zero bytes are appended as they stream (so that a huge
// body never sits in memory).
func gz(b []byte, zeros int) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(b)
	chunk := make([]byte, 1<<20)
	for zeros > 0 {
		n := min(zeros, len(chunk))
		zw.Write(chunk[:n])
		zeros -= n
	}
	zw.Close()
	return out.Bytes()
}

const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
	testImages  = "t10k-images-idx3-ubyte"
	testLabels  = "t10k-labels-idx1-ubyte"
)

// idxCases: --data-dir folders whose test files are hostile; eval reads
// them.
func (c *corpus) idxCases() error {
	labels := func(n int) []byte { return idxFile(labelsMagic, []uint32{uint32(n)}, make([]byte, n)) }
	images := func(n, rows, cols int) []byte {
		return idxFile(imagesMagic, []uint32{uint32(n), uint32(rows), uint32(cols)}, make([]byte, n*rows*cols))
	}
	dirs := map[string]map[string][]byte{
		// A header that claims 2^31 images in a 20-byte file.
		"idx-count-lie":    {testImages: idxFile(imagesMagic, []uint32{1 << 31, 28, 28}, nil), testLabels: labels(10)},
		"idx-gzip-lie":     {testImages + ".gz": gz(idxFile(imagesMagic, []uint32{60000, 28, 28}, nil), 1000), testLabels: labels(10)},
		"idx-wrong-magic":  {testImages: idxFile(labelsMagic, []uint32{10}, make([]byte, 10)), testLabels: labels(10)},
		"idx-count-differ": {testImages: images(10, 28, 28), testLabels: labels(9)},
		"idx-label-99":     {testImages: images(2, 28, 28), testLabels: idxFile(labelsMagic, []uint32{2}, []byte{1, 99})},
		"idx-1x1-images":   {testImages: images(10, 1, 1), testLabels: labels(10)},
		"idx-zero-dim":     {testImages: idxFile(imagesMagic, []uint32{0, 28, 28}, nil), testLabels: labels(0)},
		"idx-empty":        {testImages: nil, testLabels: nil},
		"idx-gzip-garbage": {testImages + ".gz": append(gz(images(2, 28, 28), 0), "trailing"...), testLabels: labels(2)},
	}
	if !c.quick {
		// 2 GB of images in a 2 MB gzip: 10 GB once normalised.
		dirs["idx-gzip-2GB"] = map[string][]byte{testLabels: labels(10),
			testImages + ".gz": gz(idxFile(imagesMagic, []uint32{2739000, 28, 28}, nil), 2739000*784)}
	}
	for name, files := range dirs {
		dir := "idx/" + name
		for fname, data := range files {
			c.file(dir+"/"+fname, data)
		}
		c.cmd(name, "idx", "eval", "--model", "base/lenet300.dcz", "--data-dir", dir)
	}
	return nil
}
