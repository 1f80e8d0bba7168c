package datafree

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/deepcompress/deepcompress/safetensors"
)

// BenchmarkShareTensor prunes a Laplace-distributed fully connected
// weight to 4 % and shares the survivors among 32 values, the paper's fc6
// setting, reading from memory. (The whole 103 M-weight fc6 is timed by
// bench/vgg16gen -time-fc6.)
func BenchmarkShareTensor(b *testing.B) {
	for _, n := range []int{1 << 20, 1 << 24} {
		f := &safetensors.File{Tensors: []safetensors.Tensor{{Name: "fc.weight", Shape: []int{n / 1024, 1024}, Data: bell(newRand(1), n, 0.01)}}}
		data := encodeST(b, f)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ShareTensor(bytes.NewReader(data), int64(len(data)), "fc.weight", Setting{Keep: 0.04, Bits: 5, IndexBits: 5}, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompress compresses a model of 32 tensors of 256 K weights and
// their biases into a .dcz file in memory.
func BenchmarkCompress(b *testing.B) {
	f := &safetensors.File{}
	r := newRand(2)
	for i := range 32 {
		f.Tensors = append(f.Tensors,
			safetensors.Tensor{Name: fmt.Sprintf("l%d.weight", i), Shape: []int{512, 512}, Data: bell(r, 512*512, 0.02)},
			safetensors.Tensor{Name: fmt.Sprintf("l%d.bias", i), Shape: []int{512}, Data: bell(r, 512, 0.01)})
	}
	data := encodeST(b, f)
	opt := Options{Config: Config{Default: Setting{Keep: 0.1, Bits: 5, IndexBits: 5}}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compress(io.Discard, bytes.NewReader(data), int64(len(data)), opt); err != nil {
			b.Fatal(err)
		}
	}
}
