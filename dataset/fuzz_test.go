package dataset

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"runtime"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
)

// FuzzDecodeImage feeds arbitrary bytes to the image path of Load: read
// the header, check the canvas against the pixel limit and the budget,
// decode, preprocess. It must never panic, never return an image larger
// than the limit, leave nothing reserved, and allocate no more than the
// budget's estimate of the declared canvas (bytesPerPixel a pixel) plus a
// small constant.
func FuzzDecodeImage(f *testing.F) {
	grad := func(x, y int) uint8 { return uint8(7*x + 13*y) }
	g16 := image.NewGray16(image.Rect(0, 0, 5, 3))
	n64 := image.NewNRGBA64(image.Rect(0, 0, 3, 5))
	for i := range g16.Pix {
		g16.Pix[i] = uint8(i * 37)
	}
	for i := range n64.Pix {
		n64.Pix[i] = uint8(i * 11)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White, color.NRGBA{200, 10, 10, 128}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	var seeds [][]byte
	for _, c := range []struct {
		format string
		img    image.Image
	}{
		{"png", grayImage(6, 4, grad)}, {"png", rgbImage(3, 3, color.NRGBA{1, 2, 3, 4})}, {"png", g16}, {"png", n64}, {"png", pal},
		{"jpeg", grayImage(17, 9, grad)}, {"jpeg", rgbImage(9, 17, color.NRGBA{100, 150, 200, 255})},
		{"gif", pal}, {"bmp", rgbImage(5, 2, color.NRGBA{9, 8, 7, 255})}, {"bmp", pal},
	} {
		data := encode(f, c.format, c.img)
		seeds = append(seeds, data, data[:len(data)/2], data[:len(data)*3/4])
	}
	seeds = append(seeds, hugePNG(100000, 100000), hugePNG(1, 1000000), hugePNG(2048, 512), nil, []byte("RIFF\x00\x00\x00\x00WEBPVP8L"))
	for _, s := range seeds {
		f.Add(s)
	}
	const maxPixels = 1 << 20
	pre := Preprocess{Height: 7, Width: 5, Channels: 3, Mean: []float32{0.5}, Std: []float32{0.25}, Resize: Pad}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := budget.New(64 << 20)
		g := newGate(b)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		img, release, err := decodeImage(bytes.NewReader(data), "fuzz", maxPixels, g)
		if err != nil {
			if b.Used() != 0 {
				t.Fatalf("%d bytes reserved after a failure: %v", b.Used(), err)
			}
			runtime.ReadMemStats(&ms)
			if got, limit := ms.TotalAlloc-before, uint64(maxPixels*bytesPerPixel+1<<20); got > limit {
				t.Fatalf("failed decode (%v) allocated %d bytes, over the most any accepted canvas may cost, %d", err, got, limit)
			}
			return
		}
		bd := img.Bounds()
		px := int64(bd.Dx()) * int64(bd.Dy())
		if px <= 0 || px > maxPixels {
			t.Fatalf("decoded %v, over the %d-pixel limit", bd, maxPixels)
		}
		if b.Used() != px*bytesPerPixel {
			t.Fatalf("%d bytes reserved for %d pixels", b.Used(), px)
		}
		out := make([]float32, pre.SampleSize())
		if err := pre.Normalize().apply(newImageSource(img, 3, false), out); err != nil {
			t.Fatal(err)
		}
		for i, v := range out {
			if math.IsNaN(float64(v)) || v < -2.001 || v > 2.001 {
				t.Fatalf("value [%d] = %v outside [-2, 2]", i, v)
			}
		}
		release()
		if b.Used() != 0 {
			t.Fatalf("%d bytes still reserved", b.Used())
		}
		runtime.ReadMemStats(&ms)
		if got, limit := ms.TotalAlloc-before, uint64(px*bytesPerPixel+1<<20); got > limit {
			t.Fatalf("%v image: allocated %d bytes, over the estimate %d", bd, got, limit)
		}
	})
}
