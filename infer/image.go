package infer

import (
	"errors"
	"fmt"
	"image"
	stddraw "image/draw"
	"io"

	"golang.org/x/image/draw"

	"github.com/deepcompress/deepcompress/budget"
)

// MNIST input geometry and normalisation of the reference models: pixels
// scaled to [0, 1], then x = (p - Mean) / Std, the mean and standard
// deviation of the MNIST training pixels (as package mnist).
const (
	MNISTSize = 28
	MNISTMean = 0.1307
	MNISTStd  = 0.3081
)

// ImageInput converts an image of a digit to the input of the MNIST
// networks: 28x28 grey pixels p, normalised to x = (p/255 - mean) / std
// (pass MNISTMean and MNISTStd), row-major. The digit must be light on a
// dark background, as in MNIST; transparent pixels count as black. Other
// sizes are resized as ImageInputSize does.
func ImageInput(img image.Image, mean, std float32) ([]float32, error) {
	return ImageInputSize(img, MNISTSize, MNISTSize, mean, std)
}

// ImageInputSize converts img to a width x height grey input normalised as
// ImageInput does. An image of another size is first centred on a black
// square canvas, so that the digit keeps its proportions, then resized
// with a Catmull-Rom kernel (which, unlike nearest-neighbour or bilinear
// sampling, averages every source pixel under the kernel when shrinking).
// For an image already of the target size, the result is exactly what
// package mnist computes from the same pixels.
func ImageInputSize(img image.Image, width, height int, mean, std float32) ([]float32, error) {
	if img == nil || img.Bounds().Empty() {
		return nil, errors.New("infer: empty image")
	}
	if width <= 0 || height <= 0 || width > 1<<14 || height > 1<<14 {
		return nil, fmt.Errorf("infer: bad input size %dx%d", width, height)
	}
	if std == 0 {
		return nil, errors.New("infer: zero standard deviation")
	}
	if err := checkCanvas(img.Bounds().Dx(), img.Bounds().Dy(), 1); err != nil {
		return nil, err
	}
	gray := toGray(img)
	if b := gray.Bounds(); b.Dx() != width || b.Dy() != height {
		gray = resize(squareCanvas(gray), width, height)
	}
	var table [256]float32
	for p := range table {
		table[p] = (float32(p)/255 - mean) / std
	}
	x := make([]float32, 0, width*height)
	for y := range height {
		row := gray.Pix[y*gray.Stride : y*gray.Stride+width]
		for _, p := range row {
			x = append(x, table[p])
		}
	}
	return x, nil
}

// toGray returns img as an 8-bit grey image with bounds starting at (0, 0),
// converting colours with the luma weights of color.GrayModel.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok && b.Min == (image.Point{}) {
		return g
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	stddraw.Draw(g, g.Bounds(), img, b.Min, stddraw.Src)
	return g
}

// squareCanvas centres g on a black square as large as its longer side.
func squareCanvas(g *image.Gray) *image.Gray {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	if w == h {
		return g
	}
	side := max(w, h)
	c := image.NewGray(image.Rect(0, 0, side, side))
	at := image.Pt((side-w)/2, (side-h)/2)
	stddraw.Draw(c, image.Rectangle{Min: at, Max: at.Add(image.Pt(w, h))}, g, image.Point{}, stddraw.Src)
	return c
}

func resize(g *image.Gray, width, height int) *image.Gray {
	dst := image.NewGray(image.Rect(0, 0, width, height))
	draw.CatmullRom.Scale(dst, dst.Bounds(), g, g.Bounds(), draw.Src, nil)
	return dst
}

// bytesPerPixel bounds what a decoder holds per pixel (16-bit RGBA).
const bytesPerPixel = 8

// DecodeImage decodes an image in a registered format (import image/png,
// image/jpeg), first reading only its header (image.DecodeConfig) and
// refusing, before the decoder allocates anything, a size whose pixels and
// square canvas (ImageInputSize) would pass the memory budget.
func DecodeImage(r io.ReadSeeker) (image.Image, error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	if err := checkCanvas(cfg.Width, cfg.Height, bytesPerPixel); err != nil {
		return nil, err
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	return img, nil
}

// checkCanvas checks an image of w x h pixels of pixelBytes each, its grey
// copy and its square canvas against the memory budget.
func checkCanvas(w, h int, pixelBytes int64) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("infer: empty image (%dx%d)", w, h)
	}
	side := int64(max(w, h))
	img, ok1 := budget.Mul(int64(w)*int64(h), pixelBytes+1) // w, h < 2^31
	canvas, ok2 := budget.Mul(side, side)
	need := img + canvas
	if !ok1 || !ok2 || need < 0 {
		need = -1 // refused as an impossible size
	}
	return budget.Default.Check(fmt.Sprintf("a %dx%d image", w, h), need, 1)
}
