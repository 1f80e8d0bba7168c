package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
)

// pngChunk is one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// pngOf is a PNG of w x h pixels of the given depth and colour type whose
// IDAT holds idat (possibly less than the image needs: truncated).
func pngOf(w, h uint32, depth, colorType byte, idat []byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	if idat != nil {
		b = append(b, pngChunk("IDAT", idat)...)
	}
	return append(b, pngChunk("IEND", nil)...)
}

// zeroRows is the zlib stream of h rows of rowBytes zero bytes, each with
// its filter byte: the image data of an all-black PNG.
func zeroRows(h, rowBytes int) []byte {
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	row := make([]byte, rowBytes+1)
	for range h {
		zw.Write(row)
	}
	zw.Close()
	return b.Bytes()
}

// jpegSOF is the start of a baseline JFIF JPEG declaring w x h: enough
// for image.DecodeConfig.
func jpegSOF(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0} // SOI, JFIF
	b = append(b, 0xff, 0xc0, 0, 11, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	return append(b, 1, 1, 0x11, 0)
}

func (c *corpus) imageCases() error {
	var legit bytes.Buffer
	w, h := 3000, 2000
	if c.quick {
		w, h = 300, 200
	}
	big := image.NewRGBA64(image.Rect(0, 0, w, h))
	big.SetRGBA64(w/2, h/2, color.RGBA64{R: 65535, A: 65535})
	png.Encode(&legit, big)
	files := map[string][]byte{
		// 1 x 1,000,000 pixels in 2 KB: a square canvas of 10^12 bytes.
		"png-1x1e6": pngOf(1, 1000000, 8, 0, zeroRows(1000000, 1)),
		// 100k x 100k declared, truncated after the header: 10 GB for image/png.
		"png-100k-truncated": pngOf(100000, 100000, 8, 0, nil)[:33+12],
		// 16-bit RGBA 3000 x 2000 (300 x 200 when quick): big but fair; it must classify.
		"png-legit-16bit": legit.Bytes(),
		"png-zero-size":   pngOf(0, 0, 8, 0, zeroRows(0, 0)),
		"png-bad-crc":     append(pngOf(28, 28, 8, 0, zeroRows(28, 28))[:40], 0, 0, 0, 0),
		"png-truncated":   pngOf(28, 28, 8, 0, zeroRows(28, 28))[:60],
		"jpeg-65535":      jpegSOF(65535, 65535),
		"gif-unknown":     []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
	}
	if !c.quick {
		// 30k x 30k grey, all its (zero) rows present: 900 MB of pixels.
		files["png-30k-bomb"] = pngOf(30000, 30000, 8, 0, zeroRows(30000, 30000))
	}
	for name, data := range files {
		f := c.file("image/"+name+".png", data)
		c.cmd(name, "image", "predict", "base/lenet300.dcz", f)
	}
	return nil
}
