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

// iidTensor is a rows x cols tensor whose positions are kept independently
// with probability d, indices bell-shaped below m: the statistics of a
// data-free layer, which the encoder codes in the gap profile.
func iidTensor(rows, cols, m int, d float64) ([]uint32, []uint16) {
	rng := rand.New(rand.NewPCG(9, 9))
	var pos []uint32
	var idx []uint16
	for p := range rows * cols {
		if rng.Float64() < d {
			v := int(rng.NormFloat64()*float64(m)/6 + float64(m)/2)
			pos = append(pos, uint32(p))
			idx = append(idx, uint16(min(max(v, 0), m-1)))
		}
	}
	return pos, idx
}

// BenchmarkGaps codes VGG-16-like layers (conv5_1: 512 x 4608, 36 % kept,
// 256 clusters; fc7: 4096 x 4096, 4 % kept, 32 clusters); bytes are
// positions.
func BenchmarkGaps(b *testing.B) {
	for _, c := range []struct {
		name          string
		rows, cols, m int
		d             float64
	}{{"conv", 512, 4608, 256, 0.36}, {"fc", 4096, 4096, 32, 0.04}} {
		pos, idx := iidTensor(c.rows, c.cols, c.m, c.d)
		var enc Encoder
		src, err := enc.EncodeSparse(nil, c.rows, c.cols, pos, idx, c.m)
		if err != nil || src[0] != profGaps {
			b.Fatalf("%s: profile %#x, %v", c.name, src[0], err)
		}
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.SetBytes(int64(c.rows * c.cols))
			for b.Loop() {
				src, _ = enc.EncodeSparse(src[:0], c.rows, c.cols, pos, idx, c.m)
			}
		})
		var dec Decoder
		var p []uint32
		var x []uint16
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(c.rows * c.cols))
			for b.Loop() {
				if p, x, err = dec.DecodeSparse(src, c.rows, c.cols, c.m, p, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
