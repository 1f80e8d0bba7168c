package infer

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/internal/testmodel"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
)

// pruneTop zeroes all but the keep fraction of w with the largest
// magnitudes, in place.
func pruneTop(w []float32, keep float64) {
	mags := make([]float32, len(w))
	for i, v := range w {
		mags[i] = float32(math.Abs(float64(v)))
	}
	slices.SortFunc(mags, func(a, b float32) int { return cmp.Compare(b, a) })
	k := int(math.Round(keep * float64(len(w))))
	if k >= len(w) {
		return
	}
	thr := mags[k]
	for i, v := range w {
		if float32(math.Abs(float64(v))) <= thr {
			w[i] = 0
		}
	}
}

// compress prunes every weight of the float32 parameters w of spec to the
// keep fraction and shares it with bits-bit codebooks; biases stay raw.
func compress(tb testing.TB, spec arch.Spec, w map[string][]float32, keep float64, bits int) *dcz.Model {
	tb.Helper()
	m, err := compressModel(spec, w, keep, bits)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func compressModel(spec arch.Spec, w map[string][]float32, keep float64, bits int) (*dcz.Model, error) {
	ps, err := spec.Params()
	if err != nil {
		return nil, err
	}
	m := &dcz.Model{Spec: spec}
	for _, p := range ps {
		data := slices.Clone(w[p.Name])
		if len(data) != p.Size() {
			return nil, fmt.Errorf("parameter %s: %d values, want %d", p.Name, len(data), p.Size())
		}
		if !p.Weight {
			m.Raw = append(m.Raw, dcz.Tensor{Name: p.Name, Shape: p.Shape, Data: data})
			continue
		}
		pruneTop(data, keep)
		l, err := quantize.QuantizeTensor(p.Name, p.Shape, data, quantize.Options{Bits: bits})
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, dcz.Layer{Layer: *l})
	}
	return m, nil
}

var lenet300 struct {
	once sync.Once
	m    *dcz.Model
	file []byte
	err  error
}

// loadLenet300 makes the trained LeNet-300-100 with every weight pruned
// to its 8% largest magnitudes and shared with 6-bit codebooks, without
// retraining, and its .dcz encoding, once.
func loadLenet300() (*dcz.Model, []byte, error) {
	lenet300.once.Do(func() {
		path, err := testmodel.Find("lenet300.safetensors")
		if err != nil {
			lenet300.err = err
			return
		}
		f, err := safetensors.ReadFile(path)
		if err != nil {
			lenet300.err = err
			return
		}
		w := map[string][]float32{}
		for _, t := range f.Tensors {
			w[t.Name] = t.Data
		}
		if lenet300.m, lenet300.err = compressModel(arch.LeNet300(), w, 0.08, 6); lenet300.err != nil {
			return
		}
		var buf bytes.Buffer
		if lenet300.err = dcz.Write(&buf, lenet300.m); lenet300.err == nil {
			lenet300.file = buf.Bytes()
		}
	})
	return lenet300.m, lenet300.file, lenet300.err
}

// compressedLenet300 is loadLenet300, failing tb when the trained model is
// not on this machine.
func compressedLenet300(tb testing.TB) (*dcz.Model, []byte) {
	tb.Helper()
	m, file, err := loadLenet300()
	if err != nil {
		tb.Fatal(err)
	}
	return m, file
}

// randomCompressed is spec with PyTorch-initialised weights drawn from
// seed, pruned to keep and shared with bits-bit codebooks.
func randomCompressed(tb testing.TB, spec arch.Spec, seed uint64, keep float64, bits int) *dcz.Model {
	tb.Helper()
	ref, err := nn.New(spec, seed)
	if err != nil {
		tb.Fatal(err)
	}
	return compress(tb, spec, ref.WeightMap(), keep, bits)
}

// reference is the dense engine (package nn) running the decoded weights
// of m: the model the compressed engine must reproduce.
func reference(tb testing.TB, m *dcz.Model) *nn.Model {
	tb.Helper()
	ref, err := nn.New(m.Spec, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ref.SetWeights(m.DenseWeights()); err != nil {
		tb.Fatal(err)
	}
	return ref
}

// testImages is the first n normalised MNIST test images and their labels.
func testImages(tb testing.TB, n int) ([]float32, []uint8) {
	tb.Helper()
	set, err := mnist.LoadTest("")
	if err != nil {
		tb.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
	n = min(n, set.N)
	x := set.Normalized(mnist.Mean, mnist.Std)
	return x[:n*set.ImageSize()], set.Labels[:n]
}

func randomInputs(seed uint64, n int) []float32 {
	return randomVec(rand.New(rand.NewPCG(seed, 7)), n)
}
