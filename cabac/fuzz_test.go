package cabac

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// FuzzDecode feeds arbitrary streams to DecodeSparse: it must not panic,
// what it returns must be a valid tensor, and a stream it accepts must be
// exactly what the encoder writes for that tensor with that profile.
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 12))
	var enc Encoder
	for _, c := range []struct{ rows, cols, m int }{{3, 4, 3}, {8, 9, 2}, {10, 10, 16}, {5, 7, 300}, {1, 1, 1}} {
		pos, idx := randomTensor(rng, c.rows, c.cols, c.m, 0.3)
		b, _ := enc.EncodeSparse(nil, c.rows, c.cols, pos, idx, c.m)
		f.Add(b, uint8(c.rows), uint8(c.cols), uint16(c.m))
		f.Add(enc.encode(nil, c.rows, c.cols, pos, idx, c.m, profGaps), uint8(c.rows), uint8(c.cols), uint16(c.m))
	}
	f.Add([]byte{0x3f, 0xff, 0xff, 0xff, 0xff}, uint8(4), uint8(4), uint16(4))
	f.Fuzz(func(t *testing.T, src []byte, r, c uint8, m16 uint16) {
		rows, cols, m := int(r%40), int(c%40), int(m16)
		var dec Decoder
		pos, idx, err := dec.DecodeSparse(src, rows, cols, m, nil, nil)
		if err != nil {
			return
		}
		if err := checkSparse(rows, cols, pos, idx, m); err != nil {
			t.Fatalf("accepted an invalid tensor: %v", err)
		}
		var enc Encoder
		if again := enc.encode(nil, rows, cols, pos, idx, m, src[0]); !bytes.Equal(again, src) {
			t.Fatalf("accepted % x, the encoder writes % x", src, again)
		}
	})
}

// FuzzRoundTrip codes random tensors drawn from the fuzzer's parameters.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint16(30), uint16(40), uint32(64), uint8(20))
	f.Add(uint64(2), uint16(1), uint16(500), uint32(257), uint8(200))
	f.Add(uint64(3), uint16(7), uint16(3), uint32(65536), uint8(255))
	f.Fuzz(func(t *testing.T, seed uint64, r, c uint16, m32 uint32, dens uint8) {
		rows, cols, m := int(r%300), int(c%300), int(m32%(MaxCodebook+1))
		rng := rand.New(rand.NewPCG(seed, 0))
		pos, idx := randomTensor(rng, rows, cols, m, float64(dens)/255)
		var enc Encoder
		var dec Decoder
		b, err := enc.EncodeSparse(nil, rows, cols, pos, idx, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range [][]byte{b, enc.encode(nil, rows, cols, pos, idx, m, profGaps)} {
			gp, gi, err := dec.DecodeSparse(s, rows, cols, m, nil, nil)
			if err != nil {
				t.Fatalf("%dx%d m=%d profile %#x: %v", rows, cols, m, s[0], err)
			}
			if len(gp) != len(pos) || len(pos) > 0 && (!slices.Equal(gp, pos) || !slices.Equal(gi, idx)) {
				t.Fatalf("%dx%d m=%d profile %#x: round trip differs", rows, cols, m, s[0])
			}
		}
		if n := uint64(rows) * uint64(cols); m > 0 && n > uint64(len(b))<<19 {
			t.Fatalf("%d bytes for %d positions, over the decoder's bound", len(b), n)
		}
	})
}
