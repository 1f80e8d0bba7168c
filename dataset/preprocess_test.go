package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
)

func TestDefaultFor(t *testing.T) {
	for _, c := range []struct {
		shape   []int
		c, h, w int
		layout  string
		valid   bool
	}{
		{[]int{1, 3, 224, 224}, 3, 224, 224, NCHW, true},
		{[]int{-1, 1, 28, 28}, 1, 28, 28, NCHW, true},
		{[]int{0, 224, 160, 3}, 3, 224, 160, NHWC, true},
		{[]int{1, 3, -1, -1}, 3, 0, 0, NCHW, false}, // dynamic size
		{[]int{1, 784}, 0, 0, 0, NCHW, false},       // flat input
		{[]int{1, 5, 7, 9}, 0, 0, 0, NCHW, false},   // no channel dimension
	} {
		p := DefaultFor(c.shape)
		if p.Channels != c.c || p.Height != c.h || p.Width != c.w || p.Layout != c.layout {
			t.Errorf("DefaultFor(%v) = %+v", c.shape, p)
		}
		if p.Scale != DefaultScale || p.Mean != nil || p.Std != nil || p.Order != RGB {
			t.Errorf("DefaultFor(%v) defaults: %+v", c.shape, p)
		}
		if err := p.Validate(); (err == nil) != c.valid {
			t.Errorf("DefaultFor(%v).Validate() = %v", c.shape, err)
		} else if err != nil && !strings.Contains(err.Error(), "set the height and width") && p.Channels != 0 {
			t.Errorf("DefaultFor(%v): unclear error %v", c.shape, err)
		}
	}
}

func TestPresets(t *testing.T) {
	m, err := Preset("mnist")
	if err != nil || m.Channels != 1 || m.Height != 28 || m.Width != 28 || m.Mean[0] != 0.1307 || m.Std[0] != 0.3081 {
		t.Errorf("mnist: %+v %v", m, err)
	}
	in, err := Preset("ImageNet")
	if err != nil || in.Channels != 3 || in.Height != 224 || !reflect.DeepEqual(in.Std, []float32{0.229, 0.224, 0.225}) {
		t.Errorf("imagenet: %+v %v", in, err)
	}
	for _, name := range Presets {
		p, _ := Preset(name)
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Preset("coco"); err == nil || !strings.Contains(err.Error(), "mnist, imagenet") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Preprocess{Height: 4, Width: 5, Channels: 3}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Preprocess)
		want string
	}{
		{func(p *Preprocess) { p.Channels = 2 }, "2 channels"},
		{func(p *Preprocess) { p.Height = 0 }, "set the height"},
		{func(p *Preprocess) { p.Width = MaxSide + 1 }, "a side"},
		{func(p *Preprocess) { p.Order = "GBR" }, "channel order"},
		{func(p *Preprocess) { p.Layout = "CHW" }, "layout"},
		{func(p *Preprocess) { p.Resize = "zoom" }, "resize"},
		{func(p *Preprocess) { p.Scale = -1 }, "scale"},
		{func(p *Preprocess) { p.Scale = float32(math.NaN()) }, "scale"},
		{func(p *Preprocess) { p.Mean = []float32{1, 2} }, "2 mean values for 3 channels"},
		{func(p *Preprocess) { p.Std = []float32{1, 0, 1} }, "std[1]"},
		{func(p *Preprocess) { p.Std = []float32{float32(math.Inf(1))} }, "std[0]"},
		{func(p *Preprocess) { p.Version = 9 }, "newer"},
	} {
		p := ok
		c.edit(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error containing %q", p, err, c.want)
		}
	}
	// Lower case names are accepted.
	p := ok
	p.Order, p.Layout, p.Resize = "bgr", "nhwc", "PAD"
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}

func TestPreprocessJSON(t *testing.T) {
	in, _ := Preset("imagenet")
	in.Order, in.Layout, in.Resize = BGR, NHWC, Crop
	data, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 200 {
		t.Errorf("%d bytes: %s", len(data), data)
	}
	out, err := ParsePreprocess(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: %+v -> %s -> %+v", in, data, out)
	}
	// The zero fields are written as their defaults.
	data, err = Preprocess{Height: 28, Width: 28, Channels: 1}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"height":28,"width":28,"channels":1,"order":"RGB","resize":"stretch","layout":"NCHW","scale":0.003921569}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	if p, err := ParsePreprocess(data); err != nil || p.Scale != DefaultScale {
		t.Errorf("%+v %v", p, err)
	}
	for _, c := range []struct{ json, want string }{
		{`{"version":2,"height":28,"width":28,"channels":1,"scale":1,"crop_pct":0.9}`, "newer"},
		{`{"version":1,"height":28,"width":28,"channels":1,"scale":1,"zoom":2}`, "unknown field"},
		{`{"version":1,"height":28,"width":28,"channels":4,"scale":1}`, "4 channels"},
		{`{"version":1,"height":28`, "JSON"},
		{`{"version":1,"height":28,"width":28,"channels":1} {}`, "after top-level value"},
	} {
		if _, err := ParsePreprocess([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.json, err, c.want)
		}
	}
	// Marshal refuses what is invalid.
	if _, err := (Preprocess{}).Marshal(); err == nil {
		t.Error("zero Preprocess marshalled")
	}
	var any map[string]any
	if err := json.Unmarshal(data, &any); err != nil {
		t.Error(err)
	}
}

func TestParseFloats(t *testing.T) {
	got, err := ParseFloats("0.485, 0.456,0.406")
	if err != nil || !reflect.DeepEqual(got, []float32{0.485, 0.456, 0.406}) {
		t.Errorf("%v %v", got, err)
	}
	if got, err := ParseFloats("1/255"); err != nil || got[0] != DefaultScale {
		t.Errorf("%v %v", got, err)
	}
	for _, s := range []string{"", "a", "1,,2", "nan", "1/x"} {
		if _, err := ParseFloats(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestApplyNormalize(t *testing.T) {
	img := grayImage(2, 2, func(x, y int) uint8 { return []uint8{0, 51, 102, 255}[2*y+x] })
	p := Preprocess{Height: 2, Width: 2, Channels: 1, Mean: []float32{0.5}, Std: []float32{0.25}}
	got, err := p.Apply(img)
	if err != nil {
		t.Fatal(err)
	}
	allNear(t, "gray", got, []float32{-2, -1.2, -0.4, 2}, 1e-6)

	// The default scale is a division by 255, as torchvision computes it.
	p = Preprocess{Height: 2, Width: 2, Channels: 1, Mean: []float32{0.1307}, Std: []float32{0.3081}}
	got, _ = p.Apply(img)
	for i, v := range []uint8{0, 51, 102, 255} {
		want := (float32(v)/255 - float32(0.1307)) / float32(0.3081)
		if got[i] != want {
			t.Errorf("[%d] = %v, want %v exactly", i, got[i], want)
		}
	}
}

func TestApplyChannels(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.SetNRGBA(0, 0, color.NRGBA{10, 20, 30, 255})
	img.SetNRGBA(1, 0, color.NRGBA{40, 50, 60, 7}) // alpha is dropped
	p := Preprocess{Height: 1, Width: 2, Channels: 3, Scale: 1}
	for _, c := range []struct {
		order, layout string
		want          []float32
	}{
		{RGB, NCHW, []float32{10, 40, 20, 50, 30, 60}},
		{RGB, NHWC, []float32{10, 20, 30, 40, 50, 60}},
		{BGR, NCHW, []float32{30, 60, 20, 50, 10, 40}},
		{BGR, NHWC, []float32{30, 20, 10, 60, 50, 40}},
	} {
		p.Order, p.Layout = c.order, c.layout
		got, err := p.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		allNear(t, c.order+" "+c.layout, got, c.want, 1e-4)
	}
	// Per-channel mean and std, in the model's channel order.
	p.Order, p.Layout, p.Mean, p.Std = BGR, NCHW, []float32{30, 20, 10}, []float32{1, 2, 10}
	got, _ := p.Apply(img)
	allNear(t, "mean/std", got, []float32{0, 30, 0, 15, 0, 3}, 1e-4)

	// Colour to grey: BT.601 luminance.
	col := rgbImage(1, 1, color.NRGBA{100, 200, 50, 255})
	got, _ = Preprocess{Height: 1, Width: 1, Channels: 1, Scale: 1}.Apply(col)
	allNear(t, "luminance", got, []float32{153}, 1e-3)
	// Grey to colour: replicated.
	got, _ = Preprocess{Height: 1, Width: 1, Channels: 3, Scale: 1}.Apply(grayImage(1, 1, func(int, int) uint8 { return 77 }))
	allNear(t, "replicate", got, []float32{77, 77, 77}, 0)

	// The image types of the decoders agree: paletted, YCbCr, 16-bit, RGBA.
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{100, 150, 200, 255}})
	pal.SetColorIndex(0, 0, 1)
	ycc := image.NewYCbCr(image.Rect(0, 0, 1, 1), image.YCbCrSubsampleRatio444)
	ycc.Y[0], ycc.Cb[0], ycc.Cr[0] = color.RGBToYCbCr(100, 150, 200)
	g16 := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	g16.SetRGBA64(0, 0, color.RGBA64{100 * 257, 150 * 257, 200 * 257, 0xffff})
	rgba := image.NewRGBA(image.Rect(0, 0, 1, 1))
	rgba.SetRGBA(0, 0, color.RGBA{100, 150, 200, 255})
	p = Preprocess{Height: 1, Width: 1, Channels: 3, Scale: 1}
	for name, img := range map[string]image.Image{"paletted": pal, "ycbcr": ycc, "rgba64": g16, "rgba": rgba} {
		got, err := p.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		allNear(t, name, got, []float32{100, 150, 200}, 2)
	}
	// An image whose bounds do not start at 0.
	sub := grayImage(4, 4, func(x, y int) uint8 { return uint8(10*y + x) }).SubImage(image.Rect(1, 2, 3, 3))
	got, _ = Preprocess{Height: 1, Width: 2, Channels: 1, Scale: 1}.Apply(sub)
	allNear(t, "sub-image", got, []float32{21, 22}, 0)
}

func TestResize(t *testing.T) {
	p := Preprocess{Height: 1, Width: 2, Channels: 1, Scale: 1}
	// Shrinking 4 -> 2: PIL's triangle filter widened to support 2, by hand.
	row := grayImage(4, 1, func(x, _ int) uint8 { return uint8(40 * x) })
	got, _ := p.Apply(row)
	allNear(t, "shrink", got, []float32{200.0 / 7, 640.0 / 7}, 1e-4)
	// Enlarging 2 -> 4: linear interpolation, half-pixel centres, edges clamped.
	p.Width = 4
	got, _ = p.Apply(grayImage(2, 1, func(x, _ int) uint8 { return uint8(100 * x) }))
	allNear(t, "enlarge", got, []float32{0, 25, 75, 100}, 1e-4)
	// Both axes, RGB, shrinking by 3: a constant stays constant.
	col := rgbImage(9, 6, color.NRGBA{10, 20, 30, 255})
	got, _ = Preprocess{Height: 2, Width: 3, Channels: 3, Scale: 1}.Apply(col)
	allNear(t, "constant", got, []float32{10, 10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20, 30, 30, 30, 30, 30, 30}, 1e-4)
	// Every mode keeps a constant image constant where the image is.
	for _, mode := range []string{Stretch, Crop, Pad} {
		for _, sz := range [][2]int{{7, 3}, {3, 7}, {1, 50}, {50, 1}, {28, 28}, {100, 80}} {
			img := grayImage(sz[0], sz[1], func(int, int) uint8 { return 200 })
			got, err := Preprocess{Height: 28, Width: 28, Channels: 1, Scale: 1, Resize: mode}.Apply(img)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				if !near(float64(v), 200, 1e-3) && !(mode == Pad && v == 0) {
					t.Fatalf("%s %v: [%d] = %v", mode, sz, i, v)
				}
			}
		}
	}
}

// TestResizeMatchesPIL compares the resize with PIL's bilinear resize of
// float images (mode "F", no rounding), stretched and centre-cropped:
// testdata/pil_bilinear.json, written by testdata/pil_bilinear.py.
func TestResizeMatchesPIL(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "pil_bilinear.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			SW, SH, W, H int
			Mode         string
			Out          []float32
		}
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 50 {
		t.Fatalf("%d cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		img := grayImage(c.SW, c.SH, func(x, y int) uint8 { return uint8((x*37 + y*101) % 256) })
		got, err := Preprocess{Height: c.H, Width: c.W, Channels: 1, Scale: 1, Resize: c.Mode}.Apply(img)
		if err != nil {
			t.Fatal(err)
		}
		allNear(t, fmt.Sprintf("%dx%d -> %dx%d %s", c.SW, c.SH, c.W, c.H, c.Mode), got, c.Out, 1e-3)
	}
}

func TestResizeModes(t *testing.T) {
	// Pad: a 4 x 2 white image in a 4 x 4 input is letterboxed, black
	// rows above and below.
	white := grayImage(4, 2, func(int, int) uint8 { return 255 })
	got, _ := Preprocess{Height: 4, Width: 4, Channels: 1, Resize: Pad, Scale: 1}.Apply(white)
	want := append(append(constant(4, 0), constant(8, 255)...), constant(4, 0)...)
	allNear(t, "pad", got, want, 1e-3)
	// The border is pixel value 0, normalised like the others.
	got, _ = Preprocess{Height: 4, Width: 4, Channels: 1, Resize: Pad, Scale: 1, Mean: []float32{1}}.Apply(white)
	if got[0] != -1 || got[5] != 254 {
		t.Errorf("pad normalised: %v", got)
	}
	// Crop: a 4 x 2 image, left half 0 and right half 200, cropped to its
	// centre 2 x 2 shows columns 1 and 2.
	halves := grayImage(4, 2, func(x, _ int) uint8 { return uint8(200 * (x / 2)) })
	got, _ = Preprocess{Height: 2, Width: 2, Channels: 1, Resize: Crop, Scale: 1}.Apply(halves)
	allNear(t, "crop", got, []float32{0, 200, 0, 200}, 1e-3)
	// Stretch shows all four columns, through the triangle filter of
	// support 2: weights 3/7, 3/7, 1/7 for the first output.
	got, _ = Preprocess{Height: 2, Width: 2, Channels: 1, Scale: 1}.Apply(halves)
	allNear(t, "stretch", got, []float32{200.0 / 7, 1200.0 / 7, 200.0 / 7, 1200.0 / 7}, 1e-3)
}

func TestBilinearTaps(t *testing.T) {
	// Weights sum to 1, lie in the source, and an unscaled axis is the
	// identity with one tap each.
	for _, c := range [][2]int{{1, 1}, {5, 5}, {1, 7}, {7, 1}, {1000, 3}, {3, 1000}, {28, 224}, {224, 28}} {
		tp := bilinearTaps(c[0], 0, float64(c[0]), c[1])
		for i := range c[1] {
			ws := tp.w[tp.off[i]:tp.off[i+1]]
			s := 0.0
			for _, w := range ws {
				s += float64(w)
			}
			if len(ws) == 0 || !near(s, 1, 1e-5) || tp.lo[i] < 0 || tp.lo[i]+len(ws) > c[0] {
				t.Fatalf("%v: output %d: lo %d weights %v", c, i, tp.lo[i], ws)
			}
			if c[0] == c[1] && (len(ws) != 1 || tp.lo[i] != i) {
				t.Fatalf("%v: output %d not the identity: lo %d weights %v", c, i, tp.lo[i], ws)
			}
		}
	}
}

func TestApplyErrors(t *testing.T) {
	p := Preprocess{Height: 2, Width: 2, Channels: 1}
	if _, err := p.Apply(image.NewGray(image.Rect(0, 0, 0, 3))); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty image: %v", err)
	}
	if _, err := p.Apply(nil); err == nil {
		t.Error("nil image accepted")
	}
	// A preprocessing read from a file cannot ask for more than the budget.
	var ex *budget.ExceededError
	if _, err := (Preprocess{Height: MaxSide, Width: MaxSide, Channels: 3}).Apply(image.NewGray(image.Rect(0, 0, 1, 1))); !errors.As(err, &ex) {
		t.Errorf("huge input: %v", err)
	}
	if _, err := (Preprocess{Height: 2}).Apply(image.NewGray(image.Rect(0, 0, 1, 1))); err == nil {
		t.Error("invalid preprocessing accepted")
	}
}

// BenchmarkApply is the preprocessing of a decoded 500 x 375 colour photo
// (JPEG's YCbCr) for an ImageNet model: colour conversion, resize to
// 224 x 224, normalisation.
func BenchmarkApply(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 500, 375), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i)
	}
	p, _ := Preset("imagenet")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Apply(img); err != nil {
			b.Fatal(err)
		}
	}
}
