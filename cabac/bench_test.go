package cabac

import (
	"math/rand/v2"
	"testing"
)

func benchTensor(b *testing.B) ([]uint32, []uint16) {
	rng := rand.New(rand.NewPCG(9, 9))
	return randomTensor(rng, 300, 784, 64, 0.08)
}

func BenchmarkEncode(b *testing.B) {
	pos, idx := benchTensor(b)
	var enc Encoder
	var out []byte
	b.SetBytes(300 * 784)
	for b.Loop() {
		out, _ = enc.EncodeSparse(out[:0], 300, 784, pos, idx, 64)
	}
}

func BenchmarkDecode(b *testing.B) {
	pos, idx := benchTensor(b)
	var enc Encoder
	var dec Decoder
	src, _ := enc.EncodeSparse(nil, 300, 784, pos, idx, 64)
	b.SetBytes(300 * 784)
	var p []uint32
	var x []uint16
	for b.Loop() {
		var err error
		if p, x, err = dec.DecodeSparse(src, 300, 784, 64, p, x); err != nil {
			b.Fatal(err)
		}
	}
}
