package cabac

import (
	"errors"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// specDecode follows FORMAT.md step by step, with none of the package's
// code: a slow second reading of the format that the package's decoder
// must agree with, on valid streams and on rejections.
func specDecode(src []byte, R, C, m int) (pos []uint32, idx []uint16, ok bool) {
	if len(src) == 0 || src[0]&0x80 != 0 || src[0]&0x40 != 0 && src[0] != 0x40 {
		return nil, nil, false
	}
	if src[0] == 0x40 {
		return specDecodeGaps(src[1:], uint64(R)*uint64(C), m)
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
	if !specEnd(B, read, code, rng) {
		return nil, nil, false
	}
	return pos, idx, true
}

// specEnd is FORMAT.md's "End": L bytes read from B, final code and rng.
func specEnd(B []byte, L int, code, rng uint32) bool {
	if L < len(B) || L > len(B)+4 || (L < len(B)+4 && B[len(B)-1] == 0) {
		return false
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
			return x == uint64(code)
		}
	}
	return false
}

// specCoder is a range decoder of FORMAT.md over its bytes B.
type specCoder struct {
	B         []byte
	read      int
	code, rng uint32
}

func (c *specCoder) next() uint32 {
	c.read++
	if c.read-1 < len(c.B) {
		return uint32(c.B[c.read-1])
	}
	return 0
}

func (c *specCoder) renorm() {
	for c.rng < 1<<24 {
		c.rng <<= 8
		c.code = c.code<<8 | c.next()
	}
}

// specTable is an adaptive frequency table of FORMAT.md's gap profile.
type specTable struct {
	w, freq, cum []uint64
	left, period int
}

func newSpecTable(S int) *specTable {
	t := &specTable{w: make([]uint64, S), freq: make([]uint64, S), cum: make([]uint64, S+1), left: 16, period: 16}
	for s := range t.w {
		t.w[s] = 1
	}
	t.rebuild()
	return t
}

func (t *specTable) rebuild() {
	S := uint64(len(t.w))
	var W uint64
	b := 0
	for s, w := range t.w {
		W += w
		if w > t.w[b] {
			b = s
		}
	}
	k := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(int64(1<<16-S)), 32), new(big.Int).SetUint64(W))
	var sum uint64
	for s, w := range t.w {
		q := new(big.Int).Rsh(new(big.Int).Mul(new(big.Int).SetUint64(w), k), 32)
		t.freq[s] = 1 + q.Uint64()
		sum += t.freq[s]
	}
	t.freq[b] += 1<<16 - sum
	t.cum[0] = 0
	for s := range t.freq {
		t.cum[s+1] = t.cum[s] + t.freq[s]
	}
}

// sym decodes a symbol of t with coder c; ok is false for a rejection.
func (c *specCoder) sym(t *specTable) (int, bool) {
	r := c.rng >> 16
	v := c.code / r
	if v >= 1<<16 {
		return 0, false
	}
	s := 0
	for !(t.cum[s] <= uint64(v) && uint64(v) < t.cum[s+1]) {
		s++
	}
	c.code -= r * uint32(t.cum[s])
	c.rng = r * uint32(t.freq[s])
	c.renorm()
	t.w[s] += 2
	t.left--
	if t.left == 0 {
		t.period = min(2*t.period, 8192)
		t.left = t.period
		t.rebuild()
	}
	return s, true
}

func (c *specCoder) uniform(k int) (uint64, bool) {
	r := c.rng >> k
	v := c.code / r
	if v >= 1<<k {
		return 0, false
	}
	c.code -= r * v
	c.rng = r
	c.renorm()
	return uint64(v), true
}

// specDecodeGaps follows FORMAT.md's "Gap profile" on the bytes after the
// profile byte.
func specDecodeGaps(B []byte, n uint64, m int) (pos []uint32, idx []uint16, ok bool) {
	var L [6]uint64
	rest := B
	for i := range 5 {
		k := 0
		for {
			if k == len(rest) || k == 10 {
				return nil, nil, false
			}
			L[i] |= uint64(rest[k]&0x7F) << (7 * k)
			k++
			if rest[k-1] < 0x80 {
				break
			}
		}
		if k > 1 && rest[k-1] == 0 || k == 10 && rest[9] > 1 {
			return nil, nil, false
		}
		rest = rest[k:]
	}
	var sum uint64
	for _, l := range L[:5] {
		if l > uint64(len(rest)) {
			return nil, nil, false
		}
		sum += l
	}
	if sum > uint64(len(rest)) {
		return nil, nil, false
	}
	var coders [6]*specCoder
	off := 0
	for i := range 6 {
		end := len(rest)
		if i < 5 {
			end = off + int(L[i])
		}
		c := &specCoder{B: rest[off:end], rng: 0xFFFFFFFF}
		c.code = c.next()<<24 | c.next()<<16 | c.next()<<8 | c.next()
		if c.code >= c.rng {
			return nil, nil, false
		}
		coders[i] = c
		off = end
	}
	if m > 0 {
		gaps := newSpecTable(144)
		cur := uint64(0)
		for k := 0; cur < n; k++ {
			c := coders[k%2]
			s, ok := c.sym(gaps)
			if !ok {
				return nil, nil, false
			}
			g := uint64(s)
			if s >= 32 {
				e := 5 + (s-32)/4
				nb := e - 2
				var low uint64
				if nb > 16 {
					hi, ok1 := c.uniform(nb - 16)
					lo, ok2 := c.uniform(16)
					if !ok1 || !ok2 {
						return nil, nil, false
					}
					low = hi<<16 | lo
				} else if low, ok = c.uniform(nb); !ok {
					return nil, nil, false
				}
				g = uint64(4+(s-32)%4)<<nb | low
			}
			cur += g
			if cur > n {
				return nil, nil, false
			}
			if cur == n {
				break
			}
			pos = append(pos, uint32(cur))
			cur++
		}
		nb := 0
		if m > 1 {
			nb = bits.Len(uint(m - 1))
		}
		bb := nb - min(nb, 8)
		index := newSpecTable((m-1)>>bb + 1)
		for i := range pos {
			v := uint64(0)
			if m > 1 {
				c := coders[2+i%4]
				top, ok := c.sym(index)
				if !ok {
					return nil, nil, false
				}
				v = uint64(top)
				if bb > 0 {
					low, ok := c.uniform(bb)
					if !ok {
						return nil, nil, false
					}
					v = v<<bb | low
				}
				if v >= uint64(m) {
					return nil, nil, false
				}
			}
			idx = append(idx, uint16(v))
		}
	}
	for _, c := range coders {
		if !specEnd(c.B, c.read, c.code, c.rng) {
			return nil, nil, false
		}
	}
	return pos, idx, true
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
		for prof := range 65 { // 0x00..0x3F and the gap profile 0x40
			b := enc.encode(nil, R, C, pos, idx, m, byte(prof))
			if !agree(t, b, R, C, m) {
				t.Fatalf("spec rejects the encoder's stream (profile %#x)", prof)
			}
			if prof%16 == trial%16 || prof == 0x40 {
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
		if len(b) > 0 {
			switch rng.IntN(4) {
			case 0:
			case 1:
				b[0] = 0x40
			default:
				b[0] &= 0x3F
			}
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
		f.Add(enc.encode(nil, c.rows, c.cols, pos, idx, c.m, profGaps), uint8(c.rows), uint8(c.cols), uint16(c.m))
	}
	f.Fuzz(func(t *testing.T, src []byte, r, c uint8, m16 uint16) {
		agree(t, src, int(r%40), int(c%40), int(m16))
	})
}
