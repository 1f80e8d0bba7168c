package dcz

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/internal/testmodel"
	"github.com/deepcompress/deepcompress/quantize"
)

// readSafetensors reads the float32 tensors of a .safetensors file.
func readSafetensors(tb testing.TB, path string) map[string][]float32 {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &hdr); err != nil {
		tb.Fatal(err)
	}
	out := map[string][]float32{}
	for name, raw := range hdr {
		if name == "__metadata__" {
			continue
		}
		var t struct {
			Dtype   string `json:"dtype"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &t); err != nil || t.Dtype != "F32" {
			tb.Fatalf("tensor %s: %v %s", name, err, t.Dtype)
		}
		b := data[8+int(n)+t.Offsets[0] : 8+int(n)+t.Offsets[1]]
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		out[name] = v
	}
	return out
}

// laplaceWeights stands in for trained weights: Laplace-distributed with
// scale 0.05, as trained fully connected layers roughly are.
func laplaceWeights(spec arch.Spec, seed uint64) map[string][]float32 {
	r := rand.New(rand.NewPCG(seed, 99))
	ps, _ := spec.Params()
	out := map[string][]float32{}
	for _, p := range ps {
		v := make([]float32, p.Size())
		for i := range v {
			x := r.ExpFloat64() * 0.05
			if r.IntN(2) == 0 {
				x = -x
			}
			v[i] = float32(x)
		}
		out[p.Name] = v
	}
	return out
}

// pruneQuantize keeps the fraction keep of w with the largest magnitudes
// and shares them among 2^bits values found by 1-D k-means with linear
// initialisation, as in the paper (no retraining).
func pruneQuantize(name string, shape []int, w []float32, keep float64, bits int) quantize.Layer {
	mags := make([]float32, len(w))
	for i, v := range w {
		mags[i] = float32(math.Abs(float64(v)))
	}
	slices.Sort(mags)
	cut := int(float64(len(w)) * (1 - keep))
	thr := float32(0)
	if cut > 0 && cut <= len(mags) {
		thr = mags[cut-1]
	}
	var pos []uint32
	var vals []float32
	for i, v := range w {
		if float32(math.Abs(float64(v))) > thr || keep >= 1 {
			pos = append(pos, uint32(i))
			vals = append(vals, v)
		}
	}
	k := 1 << bits
	lo, hi := slices.Min(vals), slices.Max(vals)
	cb := make([]float32, k)
	for j := range cb {
		cb[j] = lo + (hi-lo)*float32(j)/float32(k-1)
	}
	idx := make([]uint16, len(vals))
	for range 15 {
		sum := make([]float64, k)
		cnt := make([]int, k)
		for i, v := range vals {
			j, _ := slices.BinarySearch(cb, v)
			if j == k || (j > 0 && v-cb[j-1] < cb[j]-v) {
				j--
			}
			idx[i] = uint16(j)
			sum[j] += float64(v)
			cnt[j]++
		}
		for j := range cb {
			if cnt[j] > 0 {
				cb[j] = float32(sum[j] / float64(cnt[j]))
			}
		}
		slices.Sort(cb)
	}
	return quantize.Layer{Name: name, Shape: shape, Bits: bits, Codebook: cb, Pos: pos, Idx: idx}
}

// compressModel prunes and quantizes every weight of spec; biases stay raw.
// keep, bits and ibits map a layer kind to its settings.
func compressModel(spec arch.Spec, w map[string][]float32, keep map[string]float64, bits, ibits map[arch.Kind]int) *Model {
	m := &Model{Spec: spec}
	ps, _ := spec.Params()
	for _, p := range ps {
		kind := spec.Layers[p.Layer].Kind
		if !p.Weight {
			m.Raw = append(m.Raw, Tensor{Name: p.Name, Shape: p.Shape, Data: w[p.Name]})
			continue
		}
		l := pruneQuantize(p.Name, p.Shape, w[p.Name], keep[p.Name], bits[kind])
		m.Layers = append(m.Layers, Layer{Layer: l, IndexBits: ibits[kind]})
	}
	return m
}

// lenet300 is LeNet-300-100 pruned as in Table 2 (8 %, 9 %, 26 %) with
// 6-bit weights and 5-bit gaps, from the trained weights (real) or from
// stand-in weights.
func lenet300(tb testing.TB, real bool) *Model {
	spec := arch.LeNet300()
	var w map[string][]float32
	if real {
		w = readSafetensors(tb, testmodel.Path(tb, "lenet300.safetensors"))
	} else {
		w = laplaceWeights(spec, 1)
	}
	return compressModel(spec, w,
		map[string]float64{"fc1.weight": 0.08, "fc2.weight": 0.09, "fc3.weight": 0.26},
		map[arch.Kind]int{arch.Dense: 6}, map[arch.Kind]int{arch.Dense: 5})
}

// lenet5 is LeNet-5 pruned as in Table 3 with 8-bit conv and 5-bit fc
// weights and the paper's default gaps (8 bits conv, 5 bits fc).
func lenet5() *Model {
	spec := arch.LeNet5()
	return compressModel(spec, laplaceWeights(spec, 2),
		map[string]float64{"conv1.weight": 0.66, "conv2.weight": 0.12, "fc1.weight": 0.08, "fc2.weight": 0.19},
		map[arch.Kind]int{arch.Conv2D: 8, arch.Dense: 5}, map[arch.Kind]int{arch.Conv2D: 8, arch.Dense: 5})
}

func encode(tb testing.TB, m *Model) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := Write(&b, m); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// equalModels compares two models field by field, floats bitwise.
func equalModels(a, b *Model) error {
	if !bytes.Equal(a.Spec.JSON(), b.Spec.JSON()) {
		return fmt.Errorf("specs differ")
	}
	if len(a.Layers) != len(b.Layers) || len(a.Raw) != len(b.Raw) {
		return fmt.Errorf("%d+%d tensors vs %d+%d", len(a.Layers), len(a.Raw), len(b.Layers), len(b.Raw))
	}
	bits := func(v []float32) []uint32 {
		o := make([]uint32, len(v))
		for i, x := range v {
			o[i] = math.Float32bits(x)
		}
		return o
	}
	for i := range a.Layers {
		x, y := &a.Layers[i], &b.Layers[i]
		switch {
		case x.Name != y.Name || !slices.Equal(x.Shape, y.Shape) || x.Bits != y.Bits:
			return fmt.Errorf("layer %d: header %s %v %d vs %s %v %d", i, x.Name, x.Shape, x.Bits, y.Name, y.Shape, y.Bits)
		case !slices.Equal(bits(x.Codebook), bits(y.Codebook)):
			return fmt.Errorf("layer %s: codebooks differ", x.Name)
		case !slices.Equal(x.Pos, y.Pos) && len(x.Pos)+len(y.Pos) > 0:
			return fmt.Errorf("layer %s: positions differ", x.Name)
		case !slices.Equal(x.Idx, y.Idx) && len(x.Idx)+len(y.Idx) > 0:
			return fmt.Errorf("layer %s: indices differ", x.Name)
		case x.Kind != "" && x.Kind != y.Kind:
			return fmt.Errorf("layer %s: kind %s vs %s", x.Name, x.Kind, y.Kind)
		case x.IndexBits != 0 && x.IndexBits != y.IndexBits:
			return fmt.Errorf("layer %s: index bits %d vs %d", x.Name, x.IndexBits, y.IndexBits)
		case x.Precision != y.Precision:
			return fmt.Errorf("layer %s: codebook %v vs %v", x.Name, x.Precision, y.Precision)
		case x.Coder != CoderAuto && y.Coder != CoderAuto && x.Coder != y.Coder:
			return fmt.Errorf("layer %s: coder %v vs %v", x.Name, x.Coder, y.Coder)
		}
	}
	for i := range a.Raw {
		x, y := &a.Raw[i], &b.Raw[i]
		if x.Name != y.Name || !slices.Equal(x.Shape, y.Shape) || !slices.Equal(bits(x.Data), bits(y.Data)) || x.Precision != y.Precision {
			return fmt.Errorf("raw tensor %s differs", x.Name)
		}
	}
	return nil
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
