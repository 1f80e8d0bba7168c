package dataset

import (
	"image"
	"image/color"
)

// source is an image to preprocess, read one row at a time as c channels
// (1 or 3, already in the model's channel order) of values in [0, 255].
type source interface {
	size() (w, h int)
	row(y int, dst []float32) // dst holds w*c values, channels interleaved
}

// Luminance weights of ITU-R BT.601, those of PIL's convert("L") and Go's
// color.GrayModel.
const (
	lumR = 0.299
	lumG = 0.587
	lumB = 0.114
)

// out writes one pixel, converting to c channels in the wanted order.
type out struct {
	c   int
	bgr bool
}

func (o out) rgb(dst []float32, x int, r, g, b float32) {
	if o.c == 1 {
		dst[x] = lumR*r + lumG*g + lumB*b
		return
	}
	if o.bgr {
		r, b = b, r
	}
	d := dst[3*x : 3*x+3 : 3*x+3]
	d[0], d[1], d[2] = r, g, b
}

func (o out) gray(dst []float32, x int, v float32) {
	if o.c == 1 {
		dst[x] = v
		return
	}
	d := dst[3*x : 3*x+3 : 3*x+3]
	d[0], d[1], d[2] = v, v, v
}

// imageSource reads a decoded image, with fast paths for the types that
// the standard decoders return.
type imageSource struct {
	img image.Image
	b   image.Rectangle
	o   out
	pal *[256][3]float32 // *image.Paletted: colours by index (black past the palette)
}

func newImageSource(img image.Image, c int, bgr bool) *imageSource {
	s := &imageSource{img: img, b: img.Bounds(), o: out{c, bgr}}
	if m, ok := img.(*image.Paletted); ok {
		s.pal = new([256][3]float32)
		for i, col := range m.Palette {
			if i == 256 {
				break
			}
			if col == nil {
				continue
			}
			n := color.NRGBAModel.Convert(col).(color.NRGBA)
			s.pal[i] = [3]float32{float32(n.R), float32(n.G), float32(n.B)}
		}
	}
	return s
}

func (s *imageSource) size() (int, int) { return s.b.Dx(), s.b.Dy() }

func (s *imageSource) row(y int, dst []float32) {
	w, x0, yy := s.b.Dx(), s.b.Min.X, s.b.Min.Y+y
	o := s.o
	switch m := s.img.(type) {
	case *image.Gray:
		pix := m.Pix[m.PixOffset(x0, yy):][:w]
		for x, v := range pix {
			o.gray(dst, x, float32(v))
		}
	case *image.Gray16:
		pix := m.Pix[m.PixOffset(x0, yy):][:2*w]
		for x := range w {
			o.gray(dst, x, float32(uint16(pix[2*x])<<8|uint16(pix[2*x+1]))/257)
		}
	case *image.RGBA:
		pix := m.Pix[m.PixOffset(x0, yy):][:4*w]
		for x := range w {
			p := pix[4*x : 4*x+3 : 4*x+3]
			o.rgb(dst, x, float32(p[0]), float32(p[1]), float32(p[2]))
		}
	case *image.NRGBA:
		pix := m.Pix[m.PixOffset(x0, yy):][:4*w]
		for x := range w {
			p := pix[4*x : 4*x+3 : 4*x+3]
			o.rgb(dst, x, float32(p[0]), float32(p[1]), float32(p[2]))
		}
	case *image.YCbCr:
		for x := range w {
			yi, ci := m.YOffset(x0+x, yy), m.COffset(x0+x, yy)
			r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			o.rgb(dst, x, float32(r), float32(g), float32(b))
		}
	case *image.Paletted:
		pix := m.Pix[m.PixOffset(x0, yy):][:w]
		for x, i := range pix {
			p := &s.pal[i]
			o.rgb(dst, x, p[0], p[1], p[2])
		}
	default:
		for x := range w {
			n, _ := color.NRGBA64Model.Convert(s.img.At(x0+x, yy)).(color.NRGBA64)
			o.rgb(dst, x, float32(n.R)/257, float32(n.G)/257, float32(n.B)/257)
		}
	}
}

// arraySource reads one image of an 8-bit array: [H, W] (sc = 1), [H, W,
// sc] (hwc) or [sc, H, W], sc = 1, 3 or 4 (RGB or RGBA; alpha dropped).
// The values come from u8, or else from i64 (npy's integer form).
type arraySource struct {
	w, h, sc int
	hwc      bool
	u8       []uint8
	i64      []int64
	o        out
}

func (s *arraySource) size() (int, int) { return s.w, s.h }

func (s *arraySource) at(i int) float32 {
	if s.u8 != nil {
		return float32(s.u8[i])
	}
	return float32(s.i64[i])
}

func (s *arraySource) row(y int, dst []float32) {
	o := s.o
	if s.sc == 1 {
		for x := range s.w {
			o.gray(dst, x, s.at(y*s.w+x))
		}
		return
	}
	if s.hwc {
		for x := range s.w {
			i := (y*s.w + x) * s.sc
			o.rgb(dst, x, s.at(i), s.at(i+1), s.at(i+2))
		}
		return
	}
	plane := s.w * s.h
	for x := range s.w {
		i := y*s.w + x
		o.rgb(dst, x, s.at(i), s.at(i+plane), s.at(i+2*plane))
	}
}
