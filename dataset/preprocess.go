package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"

	"github.com/deepcompress/deepcompress/budget"
)

// PreprocessVersion is the version of Preprocess that this package writes
// and the newest it reads.
const PreprocessVersion = 1

// Channel orders and layouts.
const (
	RGB  = "RGB"
	BGR  = "BGR"
	NCHW = "NCHW"
	NHWC = "NHWC"
)

// Resize modes.
const (
	// Stretch resizes the whole image to exactly Height x Width, changing
	// its aspect ratio when it differs.
	Stretch = "stretch"
	// Crop scales the image, keeping its aspect ratio, until it covers
	// Height x Width, and keeps the centre (torchvision's Resize followed
	// by CenterCrop to the same size).
	Crop = "crop"
	// Pad scales the image, keeping its aspect ratio, until it fits inside
	// Height x Width, centres it, and fills the borders with pixel value 0
	// (black) before normalisation (letterboxing).
	Pad = "pad"
)

// Preprocess turns an image into a model input. It is stored inside
// compressed files, as JSON (Marshal, ParsePreprocess): keep it small.
// The zero values of Version, Order, Resize, Layout and Scale mean the
// defaults (PreprocessVersion, RGB, Stretch, NCHW, 1/255); Normalize fills
// them in.
type Preprocess struct {
	Version  int    `json:"version"`
	Height   int    `json:"height"`
	Width    int    `json:"width"`
	Channels int    `json:"channels"`         // 1 (grey) or 3 (colour)
	Order    string `json:"order,omitempty"`  // RGB or BGR; colour images only
	Resize   string `json:"resize,omitempty"` // Stretch, Crop or Pad
	Layout   string `json:"layout,omitempty"` // NCHW or NHWC
	// Scale multiplies the 8-bit value v before the mean is taken away.
	Scale float32 `json:"scale"`
	// Mean and Std hold 0 (mean 0, std 1), 1 (all channels) or Channels
	// values, in the channel order of the model's input (after Order).
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
}

// DefaultScale maps 8-bit values to [0, 1].
const DefaultScale = float32(1.0 / 255)

// DefaultFor returns the default preprocessing for a model whose declared
// input shape is shape: [N, C, H, W] (NCHW) when C is 1 or 3, else
// [N, H, W, C] (NHWC) when the last dimension is 1 or 3; scale 1/255, mean
// 0, std 1, RGB, stretch. A dimension that the model leaves dynamic (0 or
// negative) is left 0, and so is anything a shape of another rank cannot
// tell: Validate then says which field to set.
func DefaultFor(shape []int) Preprocess {
	p := Preprocess{Version: PreprocessVersion, Order: RGB, Resize: Stretch, Layout: NCHW, Scale: DefaultScale}
	pos := func(d int) int { return max(d, 0) }
	if len(shape) == 4 {
		switch {
		case shape[1] == 1 || shape[1] == 3:
			p.Channels, p.Height, p.Width = shape[1], pos(shape[2]), pos(shape[3])
		case shape[3] == 1 || shape[3] == 3:
			p.Layout = NHWC
			p.Height, p.Width, p.Channels = pos(shape[1]), pos(shape[2]), shape[3]
		}
	}
	return p
}

// Presets names the built-in preprocessings (see Preset).
var Presets = []string{"mnist", "imagenet"}

// Preset returns a named preprocessing:
//
//	mnist     1 x 28 x 28 grey, mean 0.1307, std 0.3081 (the MNIST
//	          training pixels' statistics, as torchvision's MNIST examples)
//	imagenet  3 x 224 x 224 RGB, mean 0.485 0.456 0.406, std 0.229 0.224
//	          0.225 (torchvision's ImageNet models)
//
// both NCHW, scale 1/255.
func Preset(name string) (Preprocess, error) {
	p := Preprocess{Version: PreprocessVersion, Order: RGB, Resize: Stretch, Layout: NCHW, Scale: DefaultScale}
	switch strings.ToLower(name) {
	case "mnist":
		p.Height, p.Width, p.Channels = 28, 28, 1
		p.Mean, p.Std = []float32{0.1307}, []float32{0.3081}
	case "imagenet":
		p.Height, p.Width, p.Channels = 224, 224, 3
		p.Mean, p.Std = []float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}
	default:
		return Preprocess{}, fmt.Errorf("dataset: no preset %q (have %s)", name, strings.Join(Presets, ", "))
	}
	return p, nil
}

// Normalize returns p with the defaults filled in for zero fields, and the
// case of Order, Resize and Layout normalised. It does not validate.
func (p Preprocess) Normalize() Preprocess {
	if p.Version == 0 {
		p.Version = PreprocessVersion
	}
	if p.Order == "" {
		p.Order = RGB
	}
	if p.Resize == "" {
		p.Resize = Stretch
	}
	if p.Layout == "" {
		p.Layout = NCHW
	}
	if p.Scale == 0 {
		p.Scale = DefaultScale
	}
	p.Order = strings.ToUpper(p.Order)
	p.Layout = strings.ToUpper(p.Layout)
	p.Resize = strings.ToLower(p.Resize)
	return p
}

// MaxSide bounds Height and Width: larger model inputs are certainly a
// mistake.
const MaxSide = 1 << 15

// Validate checks p (after Normalize) and says what is wrong and how to
// fix it.
func (p Preprocess) Validate() error {
	p = p.Normalize()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("dataset: preprocessing: "+format, args...)
	}
	if p.Version < 0 || p.Version > PreprocessVersion {
		return bad("version %d is not one this reader knows (1 to %d): the file was written by a newer deepcompress", p.Version, PreprocessVersion)
	}
	if p.Height <= 0 || p.Width <= 0 {
		return bad("input size %d x %d is not set (the model's input shape does not give it, e.g. a dynamic or flat input): set the height and width", p.Height, p.Width)
	}
	if p.Height > MaxSide || p.Width > MaxSide {
		return bad("input size %d x %d is over %d pixels a side", p.Height, p.Width, MaxSide)
	}
	if p.Channels != 1 && p.Channels != 3 {
		return bad("%d channels: want 1 (grey) or 3 (colour)", p.Channels)
	}
	if p.Order != RGB && p.Order != BGR {
		return bad("channel order %q: want RGB or BGR", p.Order)
	}
	if p.Layout != NCHW && p.Layout != NHWC {
		return bad("layout %q: want NCHW or NHWC", p.Layout)
	}
	if p.Resize != Stretch && p.Resize != Crop && p.Resize != Pad {
		return bad("resize %q: want %s, %s or %s", p.Resize, Stretch, Crop, Pad)
	}
	if !finite(p.Scale) || p.Scale <= 0 {
		return bad("scale %v: want a positive number (1/255 maps 8-bit pixels to [0, 1])", p.Scale)
	}
	for _, v := range []struct {
		name string
		xs   []float32
	}{{"mean", p.Mean}, {"std", p.Std}} {
		if n := len(v.xs); n != 0 && n != 1 && n != p.Channels {
			return bad("%d %s values for %d channels: give 1 or %d", n, v.name, p.Channels, p.Channels)
		}
		for i, x := range v.xs {
			if !finite(x) || (v.name == "std" && x <= 0) {
				return bad("%s[%d] = %v: want a finite number%s", v.name, i, x, map[bool]string{true: " > 0"}[v.name == "std"])
			}
		}
	}
	return nil
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// SampleShape is the shape of one input: [C, H, W] for NCHW, [H, W, C]
// for NHWC.
func (p Preprocess) SampleShape() []int {
	p = p.Normalize()
	if p.Layout == NHWC {
		return []int{p.Height, p.Width, p.Channels}
	}
	return []int{p.Channels, p.Height, p.Width}
}

// SampleSize is Channels*Height*Width, the float32 values of one input.
func (p Preprocess) SampleSize() int { return p.Channels * p.Height * p.Width }

// Marshal validates p and writes it, normalised, as compact JSON.
func (p Preprocess) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(p.Normalize())
}

// ParsePreprocess reads what Marshal wrote. A version newer than
// PreprocessVersion and unknown fields are errors, and so is anything
// Validate refuses.
func ParsePreprocess(data []byte) (Preprocess, error) {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return Preprocess{}, fmt.Errorf("dataset: preprocessing JSON: %w", err)
	}
	if v.Version > PreprocessVersion {
		return Preprocess{}, fmt.Errorf("dataset: preprocessing version %d is newer than this reader's %d: upgrade deepcompress", v.Version, PreprocessVersion)
	}
	var p Preprocess
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Preprocess{}, fmt.Errorf("dataset: preprocessing JSON: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Preprocess{}, err
	}
	return p.Normalize(), nil
}

// ParseFloats reads a comma-separated list of numbers, as command-line
// flags give mean and std ("0.485,0.456,0.406"); "1/255" style fractions
// are accepted too.
func ParseFloats(s string) ([]float32, error) {
	var out []float32
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		num, den, frac := strings.Cut(f, "/")
		x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err == nil && frac {
			var d float64
			if d, err = strconv.ParseFloat(strings.TrimSpace(den), 64); err == nil {
				x /= d
			}
		}
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("dataset: %q in %q is not a number", f, s)
		}
		out = append(out, float32(x))
	}
	return out, nil
}

// Apply preprocesses one image into Channels*Height*Width values in
// Layout. The image must not be empty. Decoding is the caller's: check
// the canvas size before decoding untrusted files (Load does).
func (p Preprocess) Apply(img image.Image) ([]float32, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if img == nil {
		return nil, errors.New("dataset: nil image")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("dataset: empty image (%d x %d)", b.Dx(), b.Dy())
	}
	p = p.Normalize()
	// The input and the accumulator of the resize, both float32.
	if err := budget.Default.CheckDims("the preprocessed input", 8, p.Channels, p.Height, p.Width); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	out := make([]float32, p.SampleSize())
	if err := p.apply(newImageSource(img, p.Channels, p.Order == BGR), out); err != nil {
		return nil, err
	}
	return out, nil
}

// norm is the per-channel affine map x = (v*scale - mean)/std, with v/255
// for the default scale (as torchvision's ToTensor computes it).
type norm struct {
	div       bool
	scale     float32
	mean, std [3]float32
}

func (p Preprocess) norm() norm {
	n := norm{div: p.Scale == DefaultScale, scale: p.Scale}
	for c := range 3 {
		n.mean[c], n.std[c] = 0, 1
		if len(p.Mean) == 1 {
			n.mean[c] = p.Mean[0]
		} else if c < len(p.Mean) {
			n.mean[c] = p.Mean[c]
		}
		if len(p.Std) == 1 {
			n.std[c] = p.Std[0]
		} else if c < len(p.Std) {
			n.std[c] = p.Std[c]
		}
	}
	return n
}

func (n *norm) at(v float32, c int) float32 {
	if n.div {
		v /= 255
	} else {
		v *= n.scale
	}
	return (v - n.mean[c]) / n.std[c]
}
