package infer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/mnist"
)

// TestImageInputMatchesMNIST: a 28x28 PNG of an MNIST digit gives exactly
// the input package mnist computes from the IDX file.
func TestImageInputMatchesMNIST(t *testing.T) {
	set, err := mnist.LoadTest("")
	if err != nil {
		t.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
	want := set.Normalized(mnist.Mean, mnist.Std)
	for i := range 5 {
		var buf bytes.Buffer
		if err := png.Encode(&buf, &image.Gray{Pix: set.Image(i), Stride: 28, Rect: image.Rect(0, 0, 28, 28)}); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		x, err := ImageInput(img, MNISTMean, MNISTStd)
		if err != nil {
			t.Fatal(err)
		}
		if !equalFloats(x, want[i*784:(i+1)*784]) {
			t.Fatalf("image %d: input differs from mnist.Normalized", i)
		}
	}
}

func TestImageInputConversions(t *testing.T) {
	norm := func(p float64) float32 { return float32((p/255 - MNISTMean) / MNISTStd) }
	// Colour and alpha: white is 255, transparent is black.
	rgba := image.NewNRGBA(image.Rect(5, 7, 33, 35)) // 28x28, offset origin
	rgba.Set(5, 7, color.NRGBA{255, 255, 255, 255})
	rgba.Set(6, 7, color.NRGBA{255, 255, 255, 0})
	rgba.Set(7, 7, color.NRGBA{255, 0, 0, 255})
	x, err := ImageInput(rgba, MNISTMean, MNISTStd)
	if err != nil {
		t.Fatal(err)
	}
	red := float64(color.GrayModel.Convert(color.RGBA{255, 0, 0, 255}).(color.Gray).Y)
	for i, want := range []float32{norm(255), norm(0), norm(red), norm(0)} {
		if math.Abs(float64(x[i]-want)) > 1e-6 {
			t.Errorf("pixel %d = %v, want %v", i, x[i], want)
		}
	}

	// Resizing: a flat grey image stays that grey; a 2x upscaled digit
	// comes back close to the original.
	flat := image.NewGray(image.Rect(0, 0, 90, 90))
	for i := range flat.Pix {
		flat.Pix[i] = 200
	}
	x, err = ImageInput(flat, MNISTMean, MNISTStd)
	if err != nil || len(x) != 784 {
		t.Fatalf("flat image: %d values, %v", len(x), err)
	}
	for i, v := range x {
		if math.Abs(float64(v-norm(200))) > 0.02 {
			t.Fatalf("flat 90x90 image resized: pixel %d = %v, want %v", i, v, norm(200))
		}
	}

	// A wide image is centred on a square black canvas: the top and
	// bottom quarters come out black.
	wide := image.NewGray(image.Rect(0, 0, 56, 28))
	for i := range wide.Pix {
		wide.Pix[i] = 255
	}
	x, _ = ImageInput(wide, MNISTMean, MNISTStd)
	for _, i := range []int{0, 27, 5*28 + 14, 27*28 + 3} {
		if x[i] > norm(10) {
			t.Errorf("wide image: pixel %d = %v, want black", i, x[i])
		}
	}
	if x[14*28+14] < norm(245) {
		t.Errorf("wide image: centre pixel = %v, want white", x[14*28+14])
	}
}

func TestImageInputErrors(t *testing.T) {
	if _, err := ImageInput(nil, MNISTMean, MNISTStd); err == nil {
		t.Error("nil image accepted")
	}
	if _, err := ImageInput(image.NewGray(image.Rect(3, 3, 3, 9)), MNISTMean, MNISTStd); err == nil {
		t.Error("empty image accepted")
	}
	if _, err := ImageInput(image.NewGray(image.Rect(0, 0, 9, 9)), MNISTMean, 0); err == nil {
		t.Error("zero std accepted")
	}
	if _, err := ImageInputSize(image.NewGray(image.Rect(0, 0, 9, 9)), 0, 5, 0, 1); err == nil {
		t.Error("zero width accepted")
	}
}

// pngHeader is the signature and IHDR chunk of a w x h 8-bit grey PNG,
// with no image data: enough for image.DecodeConfig.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)-4))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

// TestDecodeImageRefusesHugeCanvas: a PNG declaring 100k x 100k pixels, or
// one a million pixels wide (a square canvas of 10^12), is refused from its
// header with the budget's error, before anything is decoded.
func TestDecodeImageRefusesHugeCanvas(t *testing.T) {
	for _, size := range [][2]uint32{{100000, 100000}, {1, 1000000}, {1 << 20, 1 << 20}} {
		_, err := DecodeImage(bytes.NewReader(pngHeader(size[0], size[1])))
		var ex *budget.ExceededError
		if !errors.As(err, &ex) {
			t.Errorf("%dx%d: got %v, want the budget's error", size[0], size[1], err)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28)))
	if _, err := DecodeImage(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
}

// FuzzImage: no image file makes DecodeImage or ImageInput panic or pass
// the memory budget; an accepted image gives 28x28 finite inputs.
func FuzzImage(f *testing.F) {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28)))
	f.Add(buf.Bytes())
	buf.Reset()
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 3, 7)))
	f.Add(buf.Bytes())
	f.Add(pngHeader(100000, 100000))
	defer budget.Default.SetLimit(budget.Default.Limit())
	budget.Default.SetLimit(64 << 20)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(bytes.NewReader(data))
		if err != nil {
			return
		}
		x, err := ImageInput(img, MNISTMean, MNISTStd)
		if err != nil {
			return
		}
		if len(x) != MNISTSize*MNISTSize {
			t.Fatalf("%d inputs", len(x))
		}
		for _, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatal("non-finite input")
			}
		}
	})
}
