// Package arch describes a feed-forward network as data: the input shape and
// an ordered list of layers. The description is what a checkpoint, a .dcz
// file and an imported ONNX graph all share, so a model can be rebuilt from
// any of them without code.
//
// Layouts follow PyTorch: a dense weight is [out, in] and computes
// y = W*x + b; a conv2d weight is [outC, inC, kh, kw]; activations are NCHW.
package arch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/deepcompress/deepcompress/budget"
)

// Kind names a layer type.
type Kind string

// Layer kinds understood by the engine.
const (
	Dense   Kind = "dense"   // y = W*x + b, W [out, in]
	Conv2D  Kind = "conv2d"  // cross-correlation, W [outC, inC, kh, kw]
	MaxPool Kind = "maxpool" // max over kh x kw windows
	AvgPool Kind = "avgpool" // mean over kh x kw windows (padding counted as absent)
	ReLU    Kind = "relu"    // y = max(x, 0)
	Flatten Kind = "flatten" // [C,H,W] -> [C*H*W]
	Dropout Kind = "dropout" // inverted dropout while training, identity otherwise
	Softmax Kind = "softmax" // probabilities over the last axis (inference only)
)

// Layer is one step of the network. Only the fields its Kind uses are set.
type Layer struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name,omitempty"` // parameter prefix: "<name>.weight", "<name>.bias"
	// Out is the number of output features (dense) or channels (conv2d).
	Out    int     `json:"out,omitempty"`
	Kernel [2]int  `json:"kernel,omitempty"` // kh, kw (conv2d, pools)
	Stride [2]int  `json:"stride,omitempty"` // sh, sw; zero means 1 for conv2d, kernel for pools
	Pad    [2]int  `json:"pad,omitempty"`    // symmetric ph, pw
	Rate   float32 `json:"rate,omitempty"`   // dropout probability
	NoBias bool    `json:"no_bias,omitempty"`
}

// Spec is a whole network: the per-sample input shape and its layers.
type Spec struct {
	Name   string  `json:"name,omitempty"`
	Input  []int   `json:"input"` // per sample: [C, H, W] or [features]
	Layers []Layer `json:"layers"`
}

// ParamInfo describes one parameter tensor of a Spec.
type ParamInfo struct {
	Name   string // "<layer>.weight" or "<layer>.bias"
	Shape  []int
	Layer  int  // index into Spec.Layers
	Weight bool // true for weights (prunable, shareable), false for biases
}

// Size is the number of elements of the tensor.
func (p ParamInfo) Size() int { return Numel(p.Shape) }

// Numel is the product of the dimensions.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// LeNet300 is LeNet-300-100: a 784-300-100-10 MLP with ReLU (266,610 parameters).
func LeNet300() Spec {
	return Spec{Name: "lenet300", Input: []int{1, 28, 28}, Layers: []Layer{
		{Kind: Flatten},
		{Kind: Dense, Name: "fc1", Out: 300}, {Kind: ReLU},
		{Kind: Dense, Name: "fc2", Out: 100}, {Kind: ReLU},
		{Kind: Dense, Name: "fc3", Out: 10},
	}}
}

// LeNet5 is the Caffe LeNet-5: conv 20@5x5, max-pool 2, conv 50@5x5,
// max-pool 2, fc 500 + ReLU, fc 10 (431,080 parameters).
func LeNet5() Spec {
	return Spec{Name: "lenet5", Input: []int{1, 28, 28}, Layers: []Layer{
		{Kind: Conv2D, Name: "conv1", Out: 20, Kernel: [2]int{5, 5}},
		{Kind: MaxPool, Kernel: [2]int{2, 2}},
		{Kind: Conv2D, Name: "conv2", Out: 50, Kernel: [2]int{5, 5}},
		{Kind: MaxPool, Kernel: [2]int{2, 2}},
		{Kind: Flatten},
		{Kind: Dense, Name: "fc1", Out: 500}, {Kind: ReLU},
		{Kind: Dense, Name: "fc2", Out: 10},
	}}
}

// Builtin returns a named built-in architecture.
func Builtin(name string) (Spec, error) {
	switch name {
	case "lenet300":
		return LeNet300(), nil
	case "lenet5":
		return LeNet5(), nil
	}
	return Spec{}, fmt.Errorf("arch: unknown architecture %q (want lenet300 or lenet5)", name)
}

// Parse decodes a JSON Spec and validates it. Unknown fields are refused
// (a misspelt "kernel" would otherwise silently become a 0 x 0 kernel), as
// is anything after the object.
func Parse(data []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&s)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err != nil {
		return Spec{}, fmt.Errorf("arch: bad JSON description: %w", err)
	}
	if _, err := s.Shapes(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// JSON encodes the Spec compactly.
func (s Spec) JSON() []byte {
	b, _ := json.Marshal(s) // a Spec holds only plain values: cannot fail
	return b
}

// MaxNameLen bounds a layer's name, so that its parameters' names fit a
// .dcz file and error messages stay short.
const MaxNameLen = 1000

// clip shortens a name or kind from input for an error message.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// maxDim bounds every dimension and maxElems every activation, so that
// sizes stay far from overflowing int; what a spec really costs is checked
// against the memory budget by CheckBudget.
const (
	maxDim   = 1 << 24
	maxElems = 1 << 31
)

// Shapes infers the per-sample output shape of every layer, checking that
// each layer fits its input. out[i] is the shape after Layers[i].
func (s Spec) Shapes() ([][]int, error) {
	if len(s.Input) == 0 || len(s.Layers) == 0 {
		return nil, errors.New("arch: a network needs an input shape and at least one layer")
	}
	for _, d := range s.Input {
		if d <= 0 || d > maxDim {
			return nil, fmt.Errorf("arch: bad input dimension %d", d)
		}
	}
	if n, err := budget.Elems(s.Input...); err != nil || n > maxElems {
		return nil, fmt.Errorf("arch: input %s too large", budget.Shape(s.Input))
	}
	cur := append([]int(nil), s.Input...)
	out := make([][]int, len(s.Layers))
	seen := map[string]bool{}
	for i, l := range s.Layers {
		next, err := l.outShape(cur)
		if err != nil {
			return nil, fmt.Errorf("arch: layer %d (%s %s): %w", i, clip(string(l.Kind)), clip(l.Name), err)
		}
		if l.HasParams() {
			if l.Name == "" || len(l.Name) > MaxNameLen || seen[l.Name] {
				return nil, fmt.Errorf("arch: layer %d (%s): needs a unique name of at most %d bytes, got %q", i, l.Kind, MaxNameLen, clip(l.Name))
			}
			seen[l.Name] = true
		}
		if n, err := budget.Elems(next...); err != nil || n > maxElems {
			return nil, fmt.Errorf("arch: layer %d (%s): output %s too large", i, l.Kind, budget.Shape(next))
		}
		out[i] = next
		cur = next
	}
	return out, nil
}

// HasParams reports whether the layer owns a weight (and usually a bias).
func (l Layer) HasParams() bool { return l.Kind == Dense || l.Kind == Conv2D }

// StrideOrDefault is the stride with zeros replaced by the kind's default.
func (l Layer) StrideOrDefault() [2]int {
	s := l.Stride
	for i := range s {
		if s[i] == 0 {
			if l.Kind == MaxPool || l.Kind == AvgPool {
				s[i] = l.Kernel[i]
			} else {
				s[i] = 1
			}
		}
	}
	return s
}

// OutShape is the per-sample output shape of the layer on an input of
// shape in, or why the layer does not fit it (Spec.Shapes checks the whole
// network, names and sizes included).
func (l Layer) OutShape(in []int) ([]int, error) { return l.outShape(in) }

func (l Layer) outShape(in []int) ([]int, error) {
	switch l.Kind {
	case Dense:
		if len(in) != 1 {
			return nil, fmt.Errorf("dense needs a flat input, got %s", budget.Shape(in))
		}
		if l.Out <= 0 || l.Out > maxDim {
			return nil, fmt.Errorf("bad output size %d", l.Out)
		}
		return []int{l.Out}, nil
	case Conv2D, MaxPool, AvgPool:
		if len(in) != 3 {
			return nil, fmt.Errorf("needs a [C,H,W] input, got %s", budget.Shape(in))
		}
		st := l.StrideOrDefault()
		c := in[0]
		if l.Kind == Conv2D {
			if l.Out <= 0 || l.Out > maxDim {
				return nil, fmt.Errorf("bad channel count %d", l.Out)
			}
			c = l.Out
		}
		oh, err := convOut(in[1], l.Kernel[0], st[0], l.Pad[0])
		if err != nil {
			return nil, err
		}
		ow, err := convOut(in[2], l.Kernel[1], st[1], l.Pad[1])
		if err != nil {
			return nil, err
		}
		return []int{c, oh, ow}, nil
	case Flatten:
		return []int{Numel(in)}, nil
	case ReLU, Softmax:
		return append([]int(nil), in...), nil
	case Dropout:
		if l.Rate < 0 || l.Rate >= 1 {
			return nil, fmt.Errorf("dropout rate %v outside [0,1)", l.Rate)
		}
		return append([]int(nil), in...), nil
	}
	return nil, fmt.Errorf("unknown layer kind %q", clip(string(l.Kind)))
}

func convOut(size, k, stride, pad int) (int, error) {
	if k <= 0 || k > maxDim || stride <= 0 || stride > maxDim || pad < 0 || pad >= k {
		return 0, fmt.Errorf("bad kernel %d / stride %d / pad %d", k, stride, pad)
	}
	o := (size+2*pad-k)/stride + 1
	if size+2*pad < k || o <= 0 {
		return 0, fmt.Errorf("kernel %d larger than padded input %d", k, size+2*pad)
	}
	return o, nil
}

// Params lists every parameter tensor in layer order (weight before bias).
func (s Spec) Params() ([]ParamInfo, error) {
	shapes, err := s.Shapes()
	if err != nil {
		return nil, err
	}
	var ps []ParamInfo
	in := s.Input
	for i, l := range s.Layers {
		switch l.Kind {
		case Dense:
			ps = append(ps, ParamInfo{Name: l.Name + ".weight", Shape: []int{l.Out, in[0]}, Layer: i, Weight: true})
		case Conv2D:
			ps = append(ps, ParamInfo{Name: l.Name + ".weight", Shape: []int{l.Out, in[0], l.Kernel[0], l.Kernel[1]}, Layer: i, Weight: true})
		}
		if l.HasParams() && !l.NoBias {
			ps = append(ps, ParamInfo{Name: l.Name + ".bias", Shape: []int{l.Out}, Layer: i})
		}
		in = shapes[i]
	}
	return ps, nil
}

// NumParams is the total number of parameters (weights and biases).
func (s Spec) NumParams() (int, error) {
	ps, err := s.Params()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		n += p.Size()
	}
	return n, nil
}

// Identify returns the name of the built-in architecture that s has the
// same layers as (lenet300, lenet5), whatever s is called, or s.Name.
func Identify(s Spec) string {
	for _, name := range []string{"lenet300", "lenet5"} {
		b, _ := Builtin(name)
		b.Name = s.Name
		if string(b.JSON()) == string(s.JSON()) {
			return name
		}
	}
	return s.Name
}

// Footprint is what a network costs in float32 values, computed with
// overflow checks: every parameter, and per sample the largest activation
// and the largest unfolded (im2col) convolution input.
type Footprint struct {
	Params  int64 // weights and biases
	MaxAct  int64 // floats per sample of the largest layer output (or the input)
	MaxCols int64 // floats per sample of the largest im2col buffer
}

// Footprint computes the network's Footprint; it fails on an invalid spec
// or on sizes that overflow int64.
func (s Spec) Footprint() (Footprint, error) {
	shapes, err := s.Shapes()
	if err != nil {
		return Footprint{}, err
	}
	var fp Footprint
	fp.MaxAct, _ = budget.Elems(s.Input...) // checked by Shapes
	in := s.Input
	for i, l := range s.Layers {
		out := shapes[i]
		n, _ := budget.Elems(out...)
		fp.MaxAct = max(fp.MaxAct, n)
		if l.HasParams() {
			if err := fp.addLayer(l, in, out); err != nil {
				return Footprint{}, fmt.Errorf("arch: layer %d (%s %s): %w", i, l.Kind, clip(l.Name), err)
			}
		}
		in = out
	}
	return fp, nil
}

// addLayer adds the parameters and im2col size of a dense or conv layer.
func (fp *Footprint) addLayer(l Layer, in, out []int) error {
	dims := []int{l.Out, in[0]}
	if l.Kind == Conv2D {
		dims = append(dims, l.Kernel[0], l.Kernel[1])
	}
	w, err := budget.Elems(dims...)
	if err != nil {
		return err
	}
	if l.Kind == Conv2D {
		cols, err := budget.Elems(in[0], l.Kernel[0], l.Kernel[1], out[1], out[2])
		if err != nil {
			return err
		}
		fp.MaxCols = max(fp.MaxCols, cols)
	}
	total := fp.Params + w + int64(l.Out)
	if total < fp.Params {
		return budget.ErrSize
	}
	fp.Params = total
	return nil
}

// CheckBudget refuses, before anything is allocated, a network whose
// parameters (copies of them: 1 to run, more to train with gradients and
// momentum) or whose working memory for batch samples would pass b (nil
// means budget.Default).
func (s Spec) CheckBudget(b *budget.Budget, copies, batch int) error {
	fp, err := s.Footprint()
	if err != nil {
		return err
	}
	name := clip(s.Name)
	if name == "" {
		name = "the network"
	}
	params := mulOr(fp.Params, int64(max(copies, 1)))
	if err := b.Check(fmt.Sprintf("%s: %d parameters", name, fp.Params), params, 4); err != nil {
		return err
	}
	perSample := fp.MaxAct*2 + fp.MaxCols // MaxAct is at most 2^31
	if perSample < fp.MaxCols {
		perSample = -1
	}
	return b.Check(fmt.Sprintf("%s: working memory for %d samples", name, batch),
		mulOr(perSample, int64(max(batch, 1))), 4)
}

// mulOr is a*b, or -1 (which budget checks refuse) when it overflows.
func mulOr(a, b int64) int64 {
	if p, ok := budget.Mul(a, b); ok {
		return p
	}
	return -1
}
