package datafree

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepcompress/deepcompress/safetensors"
)

// smallChunks makes the readers work in many small chunks and parts, so
// that tests on small tensors take the paths that large ones take.
func smallChunks(t testing.TB, chunk, part int) {
	oldChunk, oldPart := chunkElems, minPart
	chunkElems, minPart = chunk, part
	t.Cleanup(func() { chunkElems, minPart = oldChunk, oldPart })
}

// bell returns n Laplace-distributed values of the given scale.
func bell(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		x := r.ExpFloat64() * scale
		if r.IntN(2) == 0 {
			x = -x
		}
		v[i] = float32(x)
	}
	return v
}

// testModel is a small model with tensors of every kind Compress meets.
func testModel(seed uint64) *safetensors.File {
	r := rand.New(rand.NewPCG(seed, 1))
	return &safetensors.File{Tensors: []safetensors.Tensor{
		{Name: "features.0.weight", Shape: []int{16, 3, 3, 3}, Data: bell(r, 432, 0.1)},
		{Name: "features.0.bias", Shape: []int{16}, Data: bell(r, 16, 0.01)},
		{Name: "features.2.weight", Shape: []int{32, 16, 3, 3}, Data: bell(r, 4608, 0.05)},
		{Name: "features.2.bias", Shape: []int{32}, Data: bell(r, 32, 0.01)},
		{Name: "classifier.0.weight", Shape: []int{64, 512}, Data: bell(r, 32768, 0.02)},
		{Name: "classifier.0.bias", Shape: []int{64}, Data: bell(r, 64, 0.01)},
		{Name: "norm.scale", Shape: []int{2048}, Data: bell(r, 2048, 1)},
		{Name: "model/emb/kernel", Shape: []int{100, 40}, Data: bell(r, 4000, 0.3), DType: safetensors.F16},
		{Name: "lm_head.weight", Shape: []int{40, 100}, Data: bell(r, 4000, 0.3), DType: safetensors.BF16},
		{Name: "scalar", Shape: []int{}, Data: []float32{3.5}},
	}}
}

func encodeST(t testing.TB, f *safetensors.File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := safetensors.Write(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// roundTo converts v to the precision of dtype, as the file stores it.
func roundTo(v []float32, d safetensors.DType) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		switch d {
		case safetensors.F16:
			out[i] = safetensors.F16ToFloat32(safetensors.Float32ToF16(x))
		case safetensors.BF16:
			out[i] = math.Float32frombits(uint32(safetensors.Float32ToBF16(x)) << 16)
		default:
			out[i] = x
		}
	}
	return out
}

// memSource is a source over values held in memory as F32.
func memSource(vals []float32) *source {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		u := math.Float32bits(v)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return &source{r: bytes.NewReader(b), name: "w", dtype: safetensors.F32, n: len(vals)}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }
