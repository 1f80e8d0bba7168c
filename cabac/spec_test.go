package cabac

import (
	"errors"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// specDecode follows FORMAT.md step by step, with none of the package's
// code: a slow second reading of the format that the package's decoder
// must agree with, on valid streams and on rejections.
func specDecode(src []byte, R, C, m int) (pos []uint32, idx []uint16, ok bool) {
	if len(src) == 0 || src[0]&0xC0 != 0 {
		return nil, nil, false
	}
	P, B := src[0], src[1:]
	n := uint64(R) * uint64(C)
	if m > 0 && n > uint64(len(B)+1)*(1<<19) {
		return nil, nil, false
	}
	pairs := [4][2]uint{{3, 7}, {4, 7}, {5, 8}, {7, 11}}
	sr, ir := pairs[P&3], pairs[P>>2&3]
	type ctx struct{ F, S uint32 }
	fresh := func(k int) []ctx {
		c := make([]ctx, k)
		for i := range c {
			c[i] = ctx{1 << 30, 1 << 30}
		}
		return c
	}
	read := 0
	next := func() uint32 {
		read++
		if read-1 < len(B) {
			return uint32(B[read-1])
		}
		return 0
	}
	rng := uint32(0xFFFFFFFF)
	code := next()<<24 | next()<<16 | next()<<8 | next()
	if code >= rng {
		return nil, nil, false
	}
	renorm := func() {
		for rng < 1<<24 {
			rng <<= 8
			code = code<<8 | next()
		}
	}
	bin := func(c *ctx, r [2]uint) uint32 {
		p0 := (c.F+c.S)>>16 | 1
		bound := (rng >> 16) * p0
		var b uint32
		if code < bound {
			rng = bound
			c.F += (1<<31 - c.F) >> r[0]
			c.S += (1<<31 - c.S) >> r[1]
		} else {
			b = 1
			code -= bound
			rng -= bound
			c.F -= c.F >> r[0]
			c.S -= c.S >> r[1]
		}
		renorm()
		return b
	}
	bypass := func() uint32 {
		rng >>= 1
		var b uint32
		if code >= rng {
			b = 1
			code -= rng
		}
		renorm()
		return b
	}
	if m > 0 && n > 0 {
		nb := 0
		if m > 1 {
			nb = bits.Len(uint(m - 1))
		}
		tb := min(nb, 8)
		bb := nb - tb
		nbr, lt := P&0x10 != 0, P&0x20 != 0
		sig := fresh(36)
		tree := fresh(5 << tb)
		count := make([]uint64, C)
		last := make([]uint64, C)
		prevTop := uint32(0)
		cls := func(t uint32) uint32 {
			if tb > 2 {
				return t >> (tb - 2)
			}
			return t
		}
		for r := 0; r < R; r++ {
			scale := (uint64(1) << 32) / (2*uint64(r) + 2)
			left := uint32(0)
			for c := 0; c < C; c++ {
				q := uint32((2*count[c] + 1) * scale >> 16)
				lg := bits.Len32(q)
				b := 2 * lg
				if lg >= 2 {
					b += int(q>>(lg-2)) & 1
				}
				class := min(33-b, 11)
				k := class
				if nbr {
					above := 0
					if r > 0 && last[c] == uint64(r) {
						above = 1
					}
					k = class*3 + int(left) + above
				}
				if bin(&sig[k], sr) == 0 {
					left = 0
					continue
				}
				base := 0
				if lt {
					if left == 1 {
						base = int(cls(prevTop)) << tb
					} else {
						base = 4 << tb
					}
				}
				node := 1
				for range tb {
					node = 2*node + int(bin(&tree[base+node], ir))
				}
				top := uint32(node - 1<<tb)
				v := top
				for range bb {
					v = v<<1 | bypass()
				}
				if v >= uint32(m) {
					return nil, nil, false
				}
				count[c]++
				last[c] = uint64(r) + 1
				prevTop = top
				left = 1
				pos = append(pos, uint32(uint64(r)*uint64(C)+uint64(c)))
				idx = append(idx, uint16(v))
			}
		}
	}
	L := read
	if L < len(B) || L > len(B)+4 || (L < len(B)+4 && B[len(B)-1] == 0) {
		return nil, nil, false
	}
	var V uint32
	for i := L - 4; i < L; i++ {
		V <<= 8
		if i < len(B) {
			V |= uint32(B[i])
		}
	}
	low := uint64(V - code)
	for s := 32; s >= 0; s-- {
		mask := uint64(1)<<s - 1
		if x := (low+mask)&^mask - low; x < uint64(rng) {
			return pos, idx, x == uint64(code)
		}
	}
	return nil, nil, false
}

func agree(t *testing.T, src []byte, R, C, m int) bool {
	t.Helper()
	var dec Decoder
	p, x, err := dec.DecodeSparse(src, R, C, m, nil, nil)
	sp, sx, ok := specDecode(src, R, C, m)
	if (err == nil) != ok {
		t.Fatalf("% x (%dx%d, m=%d): package error %v, spec accepts %v", src, R, C, m, err, ok)
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v does not wrap ErrCorrupt", err)
	}
	if ok && (!slices.Equal(p, sp) || !slices.Equal(x, sx)) {
		t.Fatalf("% x (%dx%d, m=%d): package and spec decode differently", src, R, C, m)
	}
	return ok
}

// TestSpec checks the package's decoder against FORMAT.md on encoded
// tensors of every profile, on their single-bit flips and truncations,
// and on random bytes. With -short, a stream's flips and truncations are
// sampled at most 1,024 and 256 of each (one 2 KB stream has 16,552
// flips, nine tenths of the time).
func TestSpec(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	var enc Encoder
	stride := func(n, most int) int {
		if testing.Short() {
			return max(1, n/most)
		}
		return 1
	}
	for trial := range 30 {
		R, C := rng.IntN(30), rng.IntN(30)
		m := []int{0, 1, 2, 3, 7, 64, 256, 300, 1000}[trial%9]
		pos, idx := randomTensor(rng, R, C, m, rng.Float64())
		for prof := range 64 {
			b := enc.encode(nil, R, C, pos, idx, m, byte(prof))
			if !agree(t, b, R, C, m) {
				t.Fatalf("spec rejects the encoder's stream (profile %#x)", prof)
			}
			if prof%16 == trial%16 {
				for i := 0; i < 8*len(b); i += stride(8*len(b), 1024) {
					c := slices.Clone(b)
					c[i/8] ^= 1 << (i % 8)
					agree(t, c, R, C, m)
				}
				for k := 0; k < len(b); k += stride(len(b), 256) {
					agree(t, b[:k], R, C, m)
				}
			}
		}
	}
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if len(b) > 0 && rng.IntN(4) > 0 {
			b[0] &= 0x3F
		}
		agree(t, b, 1+rng.IntN(6), 1+rng.IntN(6), rng.IntN(20))
	}
}

// FuzzSpec compares the package's decoder with the FORMAT.md reading on
// arbitrary streams.
func FuzzSpec(f *testing.F) {
	rng := rand.New(rand.NewPCG(19, 20))
	var enc Encoder
	for _, c := range []struct{ rows, cols, m int }{{3, 4, 3}, {8, 9, 2}, {10, 10, 16}, {5, 7, 300}} {
		pos, idx := randomTensor(rng, c.rows, c.cols, c.m, 0.3)
		b, _ := enc.EncodeSparse(nil, c.rows, c.cols, pos, idx, c.m)
		f.Add(b, uint8(c.rows), uint8(c.cols), uint16(c.m))
	}
	f.Fuzz(func(t *testing.T, src []byte, r, c uint8, m16 uint16) {
		agree(t, src, int(r%40), int(c%40), int(m16))
	})
}
