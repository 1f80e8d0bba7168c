package dataset

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/npy"
)

// siblingLabels returns STEM_labels.npy beside STEM.npy when it exists.
func siblingLabels(path string) string {
	if !strings.HasSuffix(strings.ToLower(path), ".npy") {
		return ""
	}
	p := path[:len(path)-len(".npy")] + "_labels.npy"
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	return ""
}

// readNPYLabels reads n class indices from a .npy file of shape [n] or
// [n, 1] (integers, bools, or floats holding integers).
func readNPYLabels(path string, n int) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: labels: %w", err)
	}
	defer f.Close()
	shape, data, err := npy.ReadInt64(f)
	if err != nil {
		return nil, fmt.Errorf("dataset: labels %s: %w", path, err)
	}
	if !(len(shape) == 1 || len(shape) == 2 && shape[1] == 1) {
		return nil, fmt.Errorf("dataset: labels %s have shape %s: want [N] or [N 1], one class index per sample", path, budget.Shape(shape))
	}
	if len(data) != n {
		return nil, fmt.Errorf("dataset: labels %s hold %d labels for %d samples", path, len(data), n)
	}
	out := make([]int, n)
	for i, v := range data {
		if v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("dataset: labels %s: label %d at index %d is not a class index (0 or more)", path, v, i)
		}
		out[i] = int(v)
	}
	return out, nil
}

// loadNPY reads a .npy file: float arrays as model inputs, uint8 arrays as
// images.
func loadNPY(path string, pre Preprocess, opt Options) (*Set, error) {
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if len(a.Shape) == 0 || a.Shape[0] == 0 {
		return nil, fmt.Errorf("dataset: %s holds an array of shape %s: want [N, ...] with N >= 1 samples", path, budget.Shape(a.Shape))
	}
	N := a.Shape[0]
	var labels []int
	if !opt.NoLabels {
		lp := opt.Labels
		if lp == "" {
			lp = siblingLabels(path)
		}
		if lp != "" {
			if kind, err := sniff(lp); err != nil {
				return nil, err
			} else if kind != "npy" {
				return nil, fmt.Errorf("dataset: labels %s of the .npy source %s are not a .npy file", lp, path)
			}
			if labels, err = readNPYLabels(lp, N); err != nil {
				return nil, err
			}
		}
	}
	idx := pick(N, opt.Max, opt.Seed)
	switch {
	case a.DType.IsFloat():
		return npyInputs(path, a, labels, idx, pre, opt)
	case a.DType.Kind == 'u' && a.DType.Size == 1:
		return npyImages(path, a, labels, idx, pre, opt)
	}
	return nil, fmt.Errorf("dataset: %s holds %s values: a .npy source is float model inputs (any float type) or uint8 images; "+
		"save other arrays as float32 model inputs", path, a.DType)
}

// npyInputs takes a float array [N, ...] as model inputs.
func npyInputs(path string, a *npy.Array, labels, idx []int, pre Preprocess, opt Options) (*Set, error) {
	if len(a.Shape) < 2 {
		return nil, fmt.Errorf("dataset: %s holds a float array of shape %s: want [N, ...], one model input per row", path, budget.Shape(a.Shape))
	}
	shape := append([]int(nil), a.Shape[1:]...)
	size := 1
	for _, d := range shape {
		size *= d
	}
	if size == 0 {
		return nil, fmt.Errorf("dataset: %s: samples of shape %s hold no values", path, budget.Shape(shape))
	}
	if pre.Height > 0 && pre.Width > 0 && pre.Channels > 0 && pre.SampleSize() != size {
		return nil, fmt.Errorf("dataset: %s: samples of shape %s hold %d values, but the model input %s holds %d",
			path, budget.Shape(shape), size, budget.Shape(pre.SampleShape()), pre.SampleSize())
	}
	s := &Set{Shape: shape, X: a.F, Labels: labels}
	if len(idx) < a.Shape[0] {
		if _, err := allocX(opt.Budget, len(idx), size, "the inputs kept from "+path); err != nil {
			return nil, err
		}
		s = s.Subset(idx)
	}
	return s, nil
}

// npyImages preprocesses a uint8 array of images.
func npyImages(path string, a *npy.Array, labels, idx []int, pre Preprocess, opt Options) (*Set, error) {
	if err := pre.Validate(); err != nil {
		return nil, err
	}
	pre = pre.Normalize()
	src := arraySource{sc: 1, o: out{pre.Channels, pre.Order == BGR}}
	sh := a.Shape
	isC := func(d int) bool { return d == 1 || d == 3 || d == 4 }
	switch len(sh) {
	case 3:
		src.h, src.w = sh[1], sh[2]
	case 4:
		layout := strings.ToUpper(opt.ArrayLayout)
		if layout == "" {
			switch {
			case isC(sh[3]):
				layout = NHWC
			case isC(sh[1]):
				layout = NCHW
			}
		}
		switch layout {
		case NHWC:
			src.h, src.w, src.sc, src.hwc = sh[1], sh[2], sh[3], true
		case NCHW:
			src.sc, src.h, src.w = sh[1], sh[2], sh[3]
		case "":
			return nil, fmt.Errorf("dataset: %s: uint8 images of shape %s have no channel dimension of 1, 3 or 4 (want [N H W], [N H W C] or [N C H W])", path, budget.Shape(sh))
		default:
			return nil, fmt.Errorf("dataset: array layout %q: want NHWC or NCHW", opt.ArrayLayout)
		}
		if !isC(src.sc) {
			return nil, fmt.Errorf("dataset: %s: uint8 images of shape %s read as %s have %d channels: want 1, 3 or 4", path, budget.Shape(sh), layout, src.sc)
		}
	default:
		return nil, fmt.Errorf("dataset: %s: uint8 images of shape %s: want [N H W], [N H W C] or [N C H W]", path, budget.Shape(sh))
	}
	if src.w == 0 || src.h == 0 {
		return nil, fmt.Errorf("dataset: %s: empty images (shape %s)", path, budget.Shape(sh))
	}
	per := src.w * src.h * src.sc
	return applyArrays(path, len(idx), pre, opt, func(i int) arraySource {
		s := src
		j := idx[i]
		s.i64 = a.I[j*per : (j+1)*per]
		return s
	}, subsetLabels(labels, idx))
}

func subsetLabels(labels, idx []int) []int {
	if labels == nil {
		return nil
	}
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = labels[j]
	}
	return out
}

// applyArrays preprocesses n array images.
func applyArrays(path string, n int, pre Preprocess, opt Options, src func(i int) arraySource, labels []int) (*Set, error) {
	size := pre.SampleSize()
	X, err := allocX(opt.Budget, n, size, "the inputs of "+path)
	if err != nil {
		return nil, err
	}
	err = parallel(n, opt.workers(), func(i int) error {
		s := src(i)
		return pre.apply(&s, X[i*size:(i+1)*size])
	})
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return &Set{X: X, Shape: pre.SampleShape(), Labels: labels, Pre: &pre}, nil
}

// WriteNPY writes the inputs to path as a float32 .npy array of shape
// [N, Shape...] and, when the set is labelled, the labels beside it as
// STEM_labels.npy (int64 [N]), the names Load looks for: Load(path, ...)
// gives the same X, Shape and Labels back. Both files are written
// atomically.
func (s *Set) WriteNPY(path string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if !strings.HasSuffix(strings.ToLower(path), ".npy") {
		return fmt.Errorf("dataset: %s: the inputs file must end in .npy", path)
	}
	lp := path[:len(path)-len(".npy")] + "_labels.npy"
	if s.Labels == nil && isFile(lp) {
		return fmt.Errorf("dataset: the set is unlabelled but %s exists and would be read as the labels of %s: remove it", lp, path)
	}
	shape := append([]int{s.Len()}, s.Shape...)
	if err := npy.WriteFile(path, shape, s.X); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if s.Labels == nil {
		return nil
	}
	labels := make([]int64, len(s.Labels))
	for i, l := range s.Labels {
		labels[i] = int64(l)
	}
	err := atomicfile.Write(lp, func(w io.Writer) error {
		return npy.WriteInt64(w, []int{len(labels)}, labels)
	})
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}
