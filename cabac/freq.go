package cabac

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
)

// The gap profile (profile byte 0x40) codes a tensor as the lengths of its
// runs of pruned positions and the codebook indices of the kept weights,
// each a whole symbol of an adaptive frequency table, with the same range
// coder: two range-coder steps per kept weight instead of one bin per
// position and one per index bit. See FORMAT.md, "Gap profile".

const (
	// profGaps selects the gap profile; its other bits must be zero.
	profGaps = 1 << 6
	// freqBits: table frequencies sum to 2^freqBits; a symbol takes the
	// share freq/2^16 of the range (rng>>16)*2^16.
	freqBits = 16
	freqOne  = 1 << freqBits
	// lutShift: lut[v>>lutShift] describes the symbol whose slot holds
	// the value v<<lutShift (see freqTable.lut).
	lutShift = 5
	// firstPeriod and maxPeriod: a table is rebuilt from its counts after
	// 16 symbols, then after twice as many each time, up to every 8,192.
	firstPeriod = 16
	maxPeriod   = 8192
	// gapDirect gaps (0..31) are symbols of their own; a longer gap g with
	// e = floor(log2 g) (5..32) is the symbol of its class and the two
	// bits below its leading one, followed by its low e-2 bits coded
	// uniformly.
	gapDirect  = 32
	gapLog     = 5 // log2(gapDirect)
	gapSymbols = gapDirect + 4*(32-gapLog+1)
	// binsPerByte bounds the range-coder steps a byte of stream can hold:
	// each narrows the range by a factor of at most 65535/65536, and the
	// decoder reads a byte per 8 bits of narrowing.
	binsPerByte = 363405
)

// freqTable is an adaptive model of a symbol alphabet: counts w = 2*seen+1
// (the Krichevsky-Trofimov estimator, so an unseen symbol keeps a share),
// turned at each rebuild into frequencies that sum to 2^16, each at least
// 1. Between rebuilds the table is static, so decoding a symbol is a
// division, a lookup and a multiplication.
type freqTable struct {
	n            int // symbols, at most 256 (an index byte; 144 gap symbols)
	count        [256]uint64
	freq         [256]uint32
	cum          [257]uint32 // cum[s] = freq[0]+...+freq[s-1]; cum[n] = 2^16
	left, period int         // symbols until the next rebuild; its period
	noLUT        bool        // rebuild skips lut (the encoder's tables)
	// lut[j] packs the symbol s whose slot [cum[s], cum[s+1]) holds
	// j<<lutShift: s | cum[s]<<16 | freq[s]<<32. A decoded value v in
	// slot j belongs to s if v-cum[s] < freq[s], else to a later symbol
	// (when a slot boundary lies in j's 2^lutShift values): one load on
	// the decoder's chain instead of three.
	lut [freqOne >> lutShift]uint64
}

func (t *freqTable) reset(n int) {
	t.n = n
	for s := range n {
		t.count[s] = 1
	}
	t.period, t.left = firstPeriod, firstPeriod
	t.rebuild()
}

// rebuild sets freq[s] = 1 + floor(w[s]*k / 2^32) with k =
// floor((2^16-n) * 2^32 / W) for W the sum of the counts (one division,
// not one per symbol; the frequencies sum to at most 2^16), then gives
// what is missing to 2^16 to the symbol with the largest count (the first
// of them).
func (t *freqTable) rebuild() {
	n := t.n
	var total uint64
	best := 0
	for s, w := range t.count[:n] {
		total += w
		if w > t.count[best] {
			best = s
		}
	}
	k := (freqOne - uint64(n)) << 32 / total
	freq := t.freq[:n]
	sum := uint32(0)
	for s, w := range t.count[:n] {
		hi, lo := bits.Mul64(w, k)
		f := 1 + uint32(hi<<32|lo>>32)
		freq[s] = f
		sum += f
	}
	freq[best] += freqOne - sum
	cum := t.cum[:n+1]
	c := uint32(0)
	for s, f := range freq {
		cum[s] = c
		// The lookup entries whose value j<<lutShift falls in s's slot.
		for j := (c + 1<<lutShift - 1) >> lutShift; !t.noLUT && j < (c+f+1<<lutShift-1)>>lutShift; j++ {
			t.lut[j] = uint64(s) | uint64(c)<<16 | uint64(f)<<32
		}
		c += f
	}
	cum[n] = c
}

// find returns the symbol after s whose slot holds v, its cum and freq.
func (t *freqTable) find(s, v uint32) (uint32, uint32, uint32) {
	for s++; t.cum[int(uint8(s))+1] <= v; s++ {
	}
	return s, t.cum[uint8(s)], t.freq[uint8(s)]
}

// seen counts symbol s and rebuilds the table when its period is over.
func (t *freqTable) seen(s uint32) {
	t.count[uint8(s)] += 2
	if t.left--; t.left == 0 {
		t.nextPeriod()
	}
}

func (t *freqTable) nextPeriod() {
	t.period = min(2*t.period, maxPeriod)
	t.left = t.period
	t.rebuild()
}

// gapSymbol splits a gap into its symbol and the nb low bits coded
// uniformly.
func gapSymbol(g uint64) (s uint32, low uint64, nb uint) {
	if g < gapDirect {
		return uint32(g), 0, 0
	}
	e := bits.Len64(g) - 1 // gapLog..32
	nb = uint(e - 2)
	return uint32(gapDirect+(e-gapLog)*4) + uint32(g>>nb&3), g & (1<<nb - 1), nb
}

// gapHigh is the inverse of gapSymbol for s >= gapDirect: the gap's bits
// above its nb low ones.
func gapHigh(s uint32) (high uint64, nb uint) {
	k := s - gapDirect
	nb = uint(k>>2 + gapLog - 2)
	return uint64(4|k&3) << nb, nb
}

// gapModel holds the two tables of the gap profile.
type gapModel struct {
	gaps, index freqTable
	bb          uint // index bits coded uniformly (beyond 8)
	coded       bool // indices are coded (m > 1)
}

func (g *gapModel) reset(m int) {
	g.gaps.reset(gapSymbols)
	nb := 0
	if m > 1 {
		nb = bits.Len(uint(m - 1))
	}
	g.bb = uint(nb - min(nb, treeMax))
	g.coded = m > 1
	if g.coded {
		g.index.reset((m-1)>>g.bb + 1)
	}
}

// wideEncoder is the range encoder of the gap profile: the arithmetic of
// encoder (the same bytes for the same steps) with a carry added straight
// into the last byte written (and on through 0xFF bytes, rarely) instead
// of through a cached byte, and renormalization without a loop: after a
// step the range is at least 2^8, so it writes two bytes and keeps as
// many as the range needs. buf[0] is a zero that no carry reaches (the
// coded value stays below 1), dropped at the end.
type wideEncoder struct {
	buf []byte // buf[:n] written; len(buf) is its capacity
	n   int
	low uint64 // below 2^32 after each renormalization, but for a carry
	rng uint32
}

func (e *wideEncoder) reset(buf []byte) {
	*e = wideEncoder{buf: buf[:cap(buf)], rng: 0xFFFFFFFF}
	e.room()
	e.buf[0], e.n = 0, 1
}

// room makes space for 16 more bytes.
func (e *wideEncoder) room() {
	if len(e.buf)-e.n < 16 {
		b := make([]byte, 2*len(e.buf)+64)
		copy(b, e.buf[:e.n])
		e.buf = b
	}
}

// carry adds the carry out of low into the bytes written.
func carry(buf []byte, n int, low uint64) {
	c := byte(low >> 32)
	buf[n-1] += c
	if buf[n-1] < c { // it was 0xFF
		for i := n - 2; i > 0; i-- {
			if buf[i]++; buf[i] != 0 {
				break
			}
		}
	}
}

// renorm settles a carry and shifts bytes out until rng >= 2^24.
func (e *wideEncoder) renorm() {
	carry(e.buf, e.n, e.low)
	low := e.low & (1<<32 - 1)
	sh := uint32(bits.LeadingZeros32(e.rng)>>3) * 8
	e.buf[e.n] = byte(low >> 24)
	e.buf[e.n+1] = byte(low >> 16)
	e.n += int(sh >> 3)
	e.low = low << (sh & 31) & (1<<32 - 1)
	e.rng <<= sh & 31
	e.room()
}

// symbol codes s with table t.
func (e *wideEncoder) symbol(t *freqTable, s uint32) {
	r := e.rng >> freqBits
	e.low += uint64(r * t.cum[uint8(s)])
	e.rng = r * t.freq[uint8(s)]
	e.renorm()
	t.seen(s)
}

// uniform codes the nb (at most 16) bits v, each value with probability
// 2^-nb.
func (e *wideEncoder) uniform(v uint32, nb uint) {
	r := e.rng >> nb
	e.low += uint64(r * v)
	e.rng = r
	e.renorm()
}

// uniformWide codes nb bits (up to 32) in pieces of at most 16, high
// first.
func (e *wideEncoder) uniformWide(v uint64, nb uint) {
	if nb > 16 {
		e.uniform(uint32(v>>16), nb-16)
		nb = 16
	}
	e.uniform(uint32(v)&(1<<nb-1), nb)
}

// finish ends the stream as encoder.finish does: the value of the final
// interval with the most trailing zero bits, in 4 bytes, of which the
// trailing zero ones are dropped. It returns the bytes (without buf[0]).
func (e *wideEncoder) finish() []byte {
	end := e.low + uint64(e.rng)
	for s := 32; s >= 0; s-- {
		m := uint64(1)<<uint(s) - 1
		if v := (e.low + m) &^ m; v < end {
			e.low = v
			break
		}
	}
	carry(e.buf, e.n, e.low)
	low := uint32(e.low)
	b := append(e.buf[:e.n], byte(low>>24), byte(low>>16), byte(low>>8), byte(low))
	stop := len(b) - 4
	for len(b) > stop && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b[1:]
}

// uniform decodes nb (1..16) bits coded by encoder.uniform; ok is false
// when the code value lies in the part of the range no value owns.
func (d *decoder) uniform(nb uint) (v uint32, ok bool) {
	r := d.rng >> nb
	v = d.code / r
	if v >= 1<<nb {
		return 0, false
	}
	d.code -= r * v
	d.rng = r
	for d.rng < topValue {
		d.rng <<= 8
		d.code = d.code<<8 | d.next()
	}
	return v, true
}

// byteShift is 8 times the number of whole bytes by which rng (at least
// 2^8, as every step leaves it) must be shifted to reach 2^24: 8 for each
// of the bounds 2^24 and 2^16 that rng is below, each test the sign of a
// 64-bit difference. That is shorter on the decoder's chain of dependent
// steps than a leading-zero count, which amd64 without LZCNT (GOAMD64=v1)
// computes with BSR and three more operations.
func byteShift(rng uint32) uint32 {
	return uint32((uint64(rng)-1<<24)>>63+(uint64(rng)-1<<16)>>63) << 3
}

// gapRuns and gapIndices are the numbers of range coders of the gap
// profile for the runs of pruned positions and for the indices: the k-th
// run goes to coder k mod gapRuns, the i-th index to coder gapRuns + i mod
// gapIndices, so that a decoder's chains of dependent steps (a division,
// a lookup, a multiplication per symbol) overlap.
const (
	gapRuns    = 2
	gapIndices = 4
	gapLanes   = gapRuns + gapIndices
)

// Every period of a table (firstPeriod, doubled up to maxPeriod) is a
// multiple of gapRuns and of gapIndices, so that the decoders' loops can
// code a period at a time starting at their first coder; this fails to
// compile otherwise.
const _ uint = -(firstPeriod%gapRuns + firstPeriod%gapIndices + maxPeriod%firstPeriod)

// encodeGaps appends the stream of the tensor in the gap profile: the
// profile byte, the lengths of all coders' bytes but the last's
// (uvarints), then the coders' bytes.
func (enc *Encoder) encodeGaps(dst []byte, n uint64, pos []uint32, idx []uint16, m int) []byte {
	dst = append(dst, profGaps)
	enc.gm.reset(m)
	for l := range enc.coders {
		enc.coders[l].reset(enc.laneBufs[l][:0])
	}
	if m > 0 {
		enc.codeRuns(n, pos)
		if enc.gm.coded {
			enc.codeIndices(idx)
		}
	}
	var out [gapLanes][]byte
	for l := range enc.coders {
		out[l] = enc.coders[l].finish()
		enc.laneBufs[l] = enc.coders[l].buf
	}
	for _, b := range out[:gapLanes-1] {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
	}
	for _, b := range out {
		dst = append(dst, b...)
	}
	return dst
}

// codeRuns codes the run of pruned positions before each kept weight, then
// the run to the end when the last position is pruned, the k-th into
// coder k mod gapRuns: wideEncoder.symbol and uniform inlined, the coders'
// states in locals. (A step leaves rng >= 2^8: renormalization writes two
// bytes and keeps one or two of them when rng < 2^24; each buffer has room
// for 16 bytes at the start of a step.)
func (enc *Encoder) codeRuns(n uint64, pos []uint32) {
	gt := &enc.gm.gaps
	gt.noLUT = true
	defer func() { gt.noLUT = false }()
	buf0, w0, low0, rng0 := enc.coders[0].buf, enc.coders[0].n, enc.coders[0].low, enc.coders[0].rng
	buf1, w1, low1, rng1 := enc.coders[1].buf, enc.coders[1].n, enc.coders[1].low, enc.coders[1].rng
	var r, sh uint32
	cur := uint64(0)
	k := len(pos) + 1 // runs: one per kept weight and the last, maybe empty
	if len(pos) > 0 && uint64(pos[len(pos)-1]) == n-1 {
		k--
	}
	for j := 0; j < k; j += gapRuns {
		p0 := n
		if j+0 < len(pos) {
			p0 = uint64(pos[j+0])
		}
		g0 := p0 - cur
		cur = p0 + 1
		{
			gs, lowBits, nb := gapSymbol(g0)
			s := uint8(gs)
			r = rng0 >> freqBits
			low0 += uint64(r * gt.cum[s])
			rng0 = r * gt.freq[s]
			carry(buf0, w0, low0)
			low0 &= 1<<32 - 1
			sh = uint32(bits.LeadingZeros32(rng0)>>3) * 8
			buf0[w0] = byte(low0 >> 24)
			buf0[w0+1] = byte(low0 >> 16)
			w0 += int(sh >> 3)
			low0 = low0 << (sh & 31) & (1<<32 - 1)
			rng0 <<= sh & 31
			if nb > 0 {
				if nb > 16 {
					r = rng0 >> (nb - 16)
					low0 += uint64(r * (uint32(lowBits >> 16)))
					rng0 = r
					carry(buf0, w0, low0)
					low0 &= 1<<32 - 1
					sh = uint32(bits.LeadingZeros32(rng0)>>3) * 8
					buf0[w0] = byte(low0 >> 24)
					buf0[w0+1] = byte(low0 >> 16)
					w0 += int(sh >> 3)
					low0 = low0 << (sh & 31) & (1<<32 - 1)
					rng0 <<= sh & 31
					nb = 16
				}
				r = rng0 >> nb
				low0 += uint64(r * (uint32(lowBits) & (1<<nb - 1)))
				rng0 = r
				carry(buf0, w0, low0)
				low0 &= 1<<32 - 1
				sh = uint32(bits.LeadingZeros32(rng0)>>3) * 8
				buf0[w0] = byte(low0 >> 24)
				buf0[w0+1] = byte(low0 >> 16)
				w0 += int(sh >> 3)
				low0 = low0 << (sh & 31) & (1<<32 - 1)
				rng0 <<= sh & 31
			}
			if len(buf0)-w0 < 16 {
				e := &enc.coders[0]
				e.buf, e.n = buf0, w0
				e.room()
				buf0 = e.buf
			}
			gt.count[s] += 2
			if gt.left--; gt.left == 0 {
				gt.nextPeriod()
			}
		}
		if j+1 == k {
			break
		}
		p1 := n
		if j+1 < len(pos) {
			p1 = uint64(pos[j+1])
		}
		g1 := p1 - cur
		cur = p1 + 1
		{
			gs, lowBits, nb := gapSymbol(g1)
			s := uint8(gs)
			r = rng1 >> freqBits
			low1 += uint64(r * gt.cum[s])
			rng1 = r * gt.freq[s]
			carry(buf1, w1, low1)
			low1 &= 1<<32 - 1
			sh = uint32(bits.LeadingZeros32(rng1)>>3) * 8
			buf1[w1] = byte(low1 >> 24)
			buf1[w1+1] = byte(low1 >> 16)
			w1 += int(sh >> 3)
			low1 = low1 << (sh & 31) & (1<<32 - 1)
			rng1 <<= sh & 31
			if nb > 0 {
				if nb > 16 {
					r = rng1 >> (nb - 16)
					low1 += uint64(r * (uint32(lowBits >> 16)))
					rng1 = r
					carry(buf1, w1, low1)
					low1 &= 1<<32 - 1
					sh = uint32(bits.LeadingZeros32(rng1)>>3) * 8
					buf1[w1] = byte(low1 >> 24)
					buf1[w1+1] = byte(low1 >> 16)
					w1 += int(sh >> 3)
					low1 = low1 << (sh & 31) & (1<<32 - 1)
					rng1 <<= sh & 31
					nb = 16
				}
				r = rng1 >> nb
				low1 += uint64(r * (uint32(lowBits) & (1<<nb - 1)))
				rng1 = r
				carry(buf1, w1, low1)
				low1 &= 1<<32 - 1
				sh = uint32(bits.LeadingZeros32(rng1)>>3) * 8
				buf1[w1] = byte(low1 >> 24)
				buf1[w1+1] = byte(low1 >> 16)
				w1 += int(sh >> 3)
				low1 = low1 << (sh & 31) & (1<<32 - 1)
				rng1 <<= sh & 31
			}
			if len(buf1)-w1 < 16 {
				e := &enc.coders[1]
				e.buf, e.n = buf1, w1
				e.room()
				buf1 = e.buf
			}
			gt.count[s] += 2
			if gt.left--; gt.left == 0 {
				gt.nextPeriod()
			}
		}
	}
	enc.coders[0].buf, enc.coders[0].n, enc.coders[0].low, enc.coders[0].rng = buf0, w0, low0, rng0
	enc.coders[1].buf, enc.coders[1].n, enc.coders[1].low, enc.coders[1].rng = buf1, w1, low1, rng1
}

// codeIndices codes the index of each kept weight, the i-th into coder
// gapRuns + i mod gapIndices, as codeRuns codes runs.
func (enc *Encoder) codeIndices(idx []uint16) {
	it := &enc.gm.index
	it.noLUT = true
	defer func() { it.noLUT = false }()
	bb := enc.gm.bb
	buf2, w2, low2, rng2 := enc.coders[2].buf, enc.coders[2].n, enc.coders[2].low, enc.coders[2].rng
	buf3, w3, low3, rng3 := enc.coders[3].buf, enc.coders[3].n, enc.coders[3].low, enc.coders[3].rng
	buf4, w4, low4, rng4 := enc.coders[4].buf, enc.coders[4].n, enc.coders[4].low, enc.coders[4].rng
	buf5, w5, low5, rng5 := enc.coders[5].buf, enc.coders[5].n, enc.coders[5].low, enc.coders[5].rng
	var r, sh uint32
	for i := 0; i < len(idx); i += gapIndices {
		i2 := i + 0
		{
			v := uint32(idx[i2])
			s := uint8(v >> bb)
			r = rng2 >> freqBits
			low2 += uint64(r * it.cum[s])
			rng2 = r * it.freq[s]
			carry(buf2, w2, low2)
			low2 &= 1<<32 - 1
			sh = uint32(bits.LeadingZeros32(rng2)>>3) * 8
			buf2[w2] = byte(low2 >> 24)
			buf2[w2+1] = byte(low2 >> 16)
			w2 += int(sh >> 3)
			low2 = low2 << (sh & 31) & (1<<32 - 1)
			rng2 <<= sh & 31
			if bb > 0 {
				r = rng2 >> bb
				low2 += uint64(r * (v & (1<<bb - 1)))
				rng2 = r
				carry(buf2, w2, low2)
				low2 &= 1<<32 - 1
				sh = uint32(bits.LeadingZeros32(rng2)>>3) * 8
				buf2[w2] = byte(low2 >> 24)
				buf2[w2+1] = byte(low2 >> 16)
				w2 += int(sh >> 3)
				low2 = low2 << (sh & 31) & (1<<32 - 1)
				rng2 <<= sh & 31
			}
			if len(buf2)-w2 < 16 {
				e := &enc.coders[2]
				e.buf, e.n = buf2, w2
				e.room()
				buf2 = e.buf
			}
			it.count[s] += 2
			if it.left--; it.left == 0 {
				it.nextPeriod()
			}
		}
		if i+1 == len(idx) {
			break
		}
		i3 := i + 1
		{
			v := uint32(idx[i3])
			s := uint8(v >> bb)
			r = rng3 >> freqBits
			low3 += uint64(r * it.cum[s])
			rng3 = r * it.freq[s]
			carry(buf3, w3, low3)
			low3 &= 1<<32 - 1
			sh = uint32(bits.LeadingZeros32(rng3)>>3) * 8
			buf3[w3] = byte(low3 >> 24)
			buf3[w3+1] = byte(low3 >> 16)
			w3 += int(sh >> 3)
			low3 = low3 << (sh & 31) & (1<<32 - 1)
			rng3 <<= sh & 31
			if bb > 0 {
				r = rng3 >> bb
				low3 += uint64(r * (v & (1<<bb - 1)))
				rng3 = r
				carry(buf3, w3, low3)
				low3 &= 1<<32 - 1
				sh = uint32(bits.LeadingZeros32(rng3)>>3) * 8
				buf3[w3] = byte(low3 >> 24)
				buf3[w3+1] = byte(low3 >> 16)
				w3 += int(sh >> 3)
				low3 = low3 << (sh & 31) & (1<<32 - 1)
				rng3 <<= sh & 31
			}
			if len(buf3)-w3 < 16 {
				e := &enc.coders[3]
				e.buf, e.n = buf3, w3
				e.room()
				buf3 = e.buf
			}
			it.count[s] += 2
			if it.left--; it.left == 0 {
				it.nextPeriod()
			}
		}
		if i+2 == len(idx) {
			break
		}
		i4 := i + 2
		{
			v := uint32(idx[i4])
			s := uint8(v >> bb)
			r = rng4 >> freqBits
			low4 += uint64(r * it.cum[s])
			rng4 = r * it.freq[s]
			carry(buf4, w4, low4)
			low4 &= 1<<32 - 1
			sh = uint32(bits.LeadingZeros32(rng4)>>3) * 8
			buf4[w4] = byte(low4 >> 24)
			buf4[w4+1] = byte(low4 >> 16)
			w4 += int(sh >> 3)
			low4 = low4 << (sh & 31) & (1<<32 - 1)
			rng4 <<= sh & 31
			if bb > 0 {
				r = rng4 >> bb
				low4 += uint64(r * (v & (1<<bb - 1)))
				rng4 = r
				carry(buf4, w4, low4)
				low4 &= 1<<32 - 1
				sh = uint32(bits.LeadingZeros32(rng4)>>3) * 8
				buf4[w4] = byte(low4 >> 24)
				buf4[w4+1] = byte(low4 >> 16)
				w4 += int(sh >> 3)
				low4 = low4 << (sh & 31) & (1<<32 - 1)
				rng4 <<= sh & 31
			}
			if len(buf4)-w4 < 16 {
				e := &enc.coders[4]
				e.buf, e.n = buf4, w4
				e.room()
				buf4 = e.buf
			}
			it.count[s] += 2
			if it.left--; it.left == 0 {
				it.nextPeriod()
			}
		}
		if i+3 == len(idx) {
			break
		}
		i5 := i + 3
		{
			v := uint32(idx[i5])
			s := uint8(v >> bb)
			r = rng5 >> freqBits
			low5 += uint64(r * it.cum[s])
			rng5 = r * it.freq[s]
			carry(buf5, w5, low5)
			low5 &= 1<<32 - 1
			sh = uint32(bits.LeadingZeros32(rng5)>>3) * 8
			buf5[w5] = byte(low5 >> 24)
			buf5[w5+1] = byte(low5 >> 16)
			w5 += int(sh >> 3)
			low5 = low5 << (sh & 31) & (1<<32 - 1)
			rng5 <<= sh & 31
			if bb > 0 {
				r = rng5 >> bb
				low5 += uint64(r * (v & (1<<bb - 1)))
				rng5 = r
				carry(buf5, w5, low5)
				low5 &= 1<<32 - 1
				sh = uint32(bits.LeadingZeros32(rng5)>>3) * 8
				buf5[w5] = byte(low5 >> 24)
				buf5[w5+1] = byte(low5 >> 16)
				w5 += int(sh >> 3)
				low5 = low5 << (sh & 31) & (1<<32 - 1)
				rng5 <<= sh & 31
			}
			if len(buf5)-w5 < 16 {
				e := &enc.coders[5]
				e.buf, e.n = buf5, w5
				e.room()
				buf5 = e.buf
			}
			it.count[s] += 2
			if it.left--; it.left == 0 {
				it.nextPeriod()
			}
		}
	}
	enc.coders[2].buf, enc.coders[2].n, enc.coders[2].low, enc.coders[2].rng = buf2, w2, low2, rng2
	enc.coders[3].buf, enc.coders[3].n, enc.coders[3].low, enc.coders[3].rng = buf3, w3, low3, rng3
	enc.coders[4].buf, enc.coders[4].n, enc.coders[4].low, enc.coders[4].rng = buf4, w4, low4, rng4
	enc.coders[5].buf, enc.coders[5].n, enc.coders[5].low, enc.coders[5].rng = buf5, w5, low5, rng5
}

// gapCost is the ideal code length in the gap profile of the kept weights
// before position limit/2 (half) and before limit (c), and when limit >= n
// of the whole tensor.
func (enc *Encoder) gapCost(n uint64, m int, pos []uint32, idx []uint16, limit uint64) (half, c Cost) {
	if m == 0 {
		return c, c
	}
	gm := &enc.gm
	gm.reset(m)
	log := log2Table()
	sym := func(t *freqTable, s uint32) float64 {
		b := float64(log[t.freq[uint8(s)]])
		t.seen(s)
		return b
	}
	cur := uint64(0)
	halved := false
	for i, p := range pos {
		if !halved && uint64(p) >= limit/2 {
			half, halved = c, true
		}
		if uint64(p) >= limit {
			return half, c
		}
		s, _, nb := gapSymbol(uint64(p) - cur)
		c.Sig += sym(&gm.gaps, s) + float64(nb)
		if gm.coded {
			c.Index += sym(&gm.index, uint32(idx[i])>>gm.bb)
			c.Bypass += float64(gm.bb)
		}
		cur = uint64(p) + 1
	}
	if !halved {
		half = c
	}
	if cur < n && limit >= n {
		s, _, nb := gapSymbol(n - cur)
		c.Sig += sym(&gm.gaps, s) + float64(nb)
	}
	return half, c
}

// decodeGaps decodes src, a stream of the gap profile (the caller has
// checked its profile byte).
func (dec *Decoder) decodeGaps(src []byte, n uint64, m int, pos []uint32, idx []uint16) ([]uint32, []uint16, error) {
	body := src[1:]
	var lens [gapLanes]int
	rest := len(body)
	k := 0
	for l := range gapLanes - 1 {
		v, w := binary.Uvarint(body[k:])
		if w <= 0 || w > 1 && body[k+w-1] == 0 || w > rest || v > uint64(rest-w) {
			return pos, idx, corrupt(1+k, "no valid length of coder %d's bytes", l)
		}
		k += w
		rest -= w + int(v)
		lens[l] = int(v)
	}
	lens[gapLanes-1] = rest
	off := 1 + k
	for l := range gapLanes {
		dec.offs[l] = off
		if !dec.lanes[l].init(src[off : off+lens[l]]) {
			return pos, idx, corrupt(off, "coder %d: initial code value outside the range", l)
		}
		off += lens[l]
	}
	if m > 0 {
		dec.gm.reset(m)
		var err error
		if pos, err = dec.decodeRuns(n, pos); err != nil {
			return pos, idx, err
		}
		if dec.gm.coded {
			idx = slices.Grow(idx, len(pos))[:len(pos)]
			if err := dec.decodeIndices(uint32(m), idx); err != nil {
				return pos, idx, err
			}
		} else {
			idx = append(idx, make([]uint16, len(pos))...)
		}
	}
	for l := range gapLanes {
		if err := dec.lanes[l].finished(dec.offs[l]); err != nil {
			return pos, idx, err
		}
	}
	return pos, idx, nil
}

// bad reports a corrupt symbol of coder l, read up to byte sp of its
// stream.
func (dec *Decoder) bad(l, sp int, what string) error {
	d := &dec.lanes[l]
	return corrupt(dec.offs[l]+min(sp, len(d.src)), "coder %d: %s", l, what)
}

// early reports why decoding stopped before the end: coder l read more
// than 4 bytes past its end (truncated), or more symbols than its bytes
// can hold.
func (dec *Decoder) early(l int, truncated bool) error {
	d := &dec.lanes[l]
	if truncated {
		return corrupt(dec.offs[l]+len(d.src), "coder %d: truncated", l)
	}
	return corrupt(dec.offs[l]+len(d.src), "coder %d: more symbols than its bytes can hold", l)
}

// pad returns buf holding src and 16 zero bytes.
func pad(buf, src []byte) []byte {
	return append(append(buf[:0], src...), make([]byte, 16)...)
}

// decodeRuns decodes the runs of pruned positions, the k-th from coder
// k mod gapRuns, appending the positions of the kept weights to pos:
// Encoder.codeRuns's loop with the range decoder inlined, its states in
// locals. Renormalization reads two bytes of a copy of each stream padded
// with zeros, without a test (a step leaves rng >= 2^8, so at most two
// bytes are needed); one step reads at most 7 bytes past where it
// started, and a coder read more than 4 bytes past its end is rejected at
// once (it is truncated, and its end would be rejected).
func (dec *Decoder) decodeRuns(n uint64, pos []uint32) ([]uint32, error) {
	var steps uint64 // each step narrows a coder's range: the coders' bytes hold at most this many
	for l := range gapRuns {
		dec.bufs[l] = pad(dec.bufs[l], dec.lanes[l].src)
		steps += uint64(len(dec.lanes[l].src)+1) * binsPerByte
	}
	d0 := &dec.lanes[0]
	buf0, code0, rng0, sp0, end0 := dec.bufs[0], d0.code, d0.rng, d0.pos, len(d0.src)+4
	d1 := &dec.lanes[1]
	buf1, code1, rng1, sp1, end1 := dec.bufs[1], d1.code, d1.rng, d1.pos, len(d1.src)+4
	gt := &dec.gm.gaps
	var r, v, w, sh uint32
	var err error
	cur := uint64(0)
	// The table is static within a period, whose length is a multiple of
	// gapRuns (16, 32, ..., 8,192 symbols): the inner loop codes one
	// period, starting at coder 0, without the count of symbols left nor
	// the call that rebuilds the table.
	for cur < n && err == nil {
		for k := gt.left; k > 0; k -= gapRuns {
			{
				if steps == 0 || sp0 > end0 {
					err = dec.early(0, sp0 > end0)
					break
				}
				steps--
				r = rng0 >> freqBits
				v = code0 / r
				if v >= freqOne {
					err = dec.bad(0, sp0, "code value outside the symbols' range")
					break
				}
				e := gt.lut[v>>lutShift]
				s, c, f := uint32(e)&0xFF, uint32(e>>16)&0xFFFF, uint32(e>>32)
				if v-c >= f {
					s, c, f = gt.find(s, v)
				}
				code0 -= r * c
				rng0 = r * f
				sh = byteShift(rng0)
				w = uint32(buf0[sp0])<<8 | uint32(buf0[sp0+1])
				code0 = code0<<(sh&31) | w>>((16-sh)&31)
				rng0 <<= sh & 31
				sp0 += int(sh >> 3)
				gt.count[uint8(s)] += 2
				g := uint64(s)
				if s >= gapDirect && s < gapDirect+4*(18-gapLog+1) { // low bits: 3..16
					high, nb := gapHigh(s)
					r = rng0 >> nb
					low := code0 / r
					if low >= 1<<nb {
						err = dec.bad(0, sp0, "code value outside the range of a run's low bits")
						break
					}
					code0 -= r * low
					rng0 = r
					sh = byteShift(rng0)
					w = uint32(buf0[sp0])<<8 | uint32(buf0[sp0+1])
					code0 = code0<<(sh&31) | w>>((16-sh)&31)
					rng0 <<= sh & 31
					sp0 += int(sh >> 3)
					g = high | uint64(low)
				} else if s >= gapDirect {
					high, nb := gapHigh(s)
					d0.code, d0.rng, d0.pos = code0, rng0, sp0
					var x uint32
					ok := true
					if nb > 16 {
						x, ok = d0.uniform(nb - 16)
						high |= uint64(x) << 16
						nb = 16
					}
					if ok {
						x, ok = d0.uniform(nb)
					}
					code0, rng0, sp0 = d0.code, d0.rng, d0.pos
					if !ok {
						err = dec.bad(0, sp0, "code value outside the range of a run's low bits")
						break
					}
					g = high | uint64(x)
				}
				if cur += g; cur >= n {
					if cur > n {
						err = dec.bad(0, sp0, "a run of pruned weights passes the end of the tensor")
					}
					break
				}
				pos = append(pos, uint32(cur))
				cur++
			}
			if cur >= n {
				break
			}
			{
				if steps == 0 || sp1 > end1 {
					err = dec.early(1, sp1 > end1)
					break
				}
				steps--
				r = rng1 >> freqBits
				v = code1 / r
				if v >= freqOne {
					err = dec.bad(1, sp1, "code value outside the symbols' range")
					break
				}
				e := gt.lut[v>>lutShift]
				s, c, f := uint32(e)&0xFF, uint32(e>>16)&0xFFFF, uint32(e>>32)
				if v-c >= f {
					s, c, f = gt.find(s, v)
				}
				code1 -= r * c
				rng1 = r * f
				sh = byteShift(rng1)
				w = uint32(buf1[sp1])<<8 | uint32(buf1[sp1+1])
				code1 = code1<<(sh&31) | w>>((16-sh)&31)
				rng1 <<= sh & 31
				sp1 += int(sh >> 3)
				gt.count[uint8(s)] += 2
				g := uint64(s)
				if s >= gapDirect && s < gapDirect+4*(18-gapLog+1) { // low bits: 3..16
					high, nb := gapHigh(s)
					r = rng1 >> nb
					low := code1 / r
					if low >= 1<<nb {
						err = dec.bad(1, sp1, "code value outside the range of a run's low bits")
						break
					}
					code1 -= r * low
					rng1 = r
					sh = byteShift(rng1)
					w = uint32(buf1[sp1])<<8 | uint32(buf1[sp1+1])
					code1 = code1<<(sh&31) | w>>((16-sh)&31)
					rng1 <<= sh & 31
					sp1 += int(sh >> 3)
					g = high | uint64(low)
				} else if s >= gapDirect {
					high, nb := gapHigh(s)
					d1.code, d1.rng, d1.pos = code1, rng1, sp1
					var x uint32
					ok := true
					if nb > 16 {
						x, ok = d1.uniform(nb - 16)
						high |= uint64(x) << 16
						nb = 16
					}
					if ok {
						x, ok = d1.uniform(nb)
					}
					code1, rng1, sp1 = d1.code, d1.rng, d1.pos
					if !ok {
						err = dec.bad(1, sp1, "code value outside the range of a run's low bits")
						break
					}
					g = high | uint64(x)
				}
				if cur += g; cur >= n {
					if cur > n {
						err = dec.bad(1, sp1, "a run of pruned weights passes the end of the tensor")
					}
					break
				}
				pos = append(pos, uint32(cur))
				cur++
			}
			if cur >= n {
				break
			}
		}
		if cur < n && err == nil {
			gt.nextPeriod()
		}
	}
	d0.code, d0.rng, d0.pos = code0, rng0, sp0
	d1.code, d1.rng, d1.pos = code1, rng1, sp1
	return pos, err
}

// decodeIndices decodes the indices of the kept weights into idx, the
// i-th from coder gapRuns + i mod gapIndices, as decodeRuns decodes runs.
func (dec *Decoder) decodeIndices(m uint32, idx []uint16) error {
	for l := gapRuns; l < gapLanes; l++ {
		dec.bufs[l] = pad(dec.bufs[l], dec.lanes[l].src)
	}
	d2 := &dec.lanes[2]
	buf2, code2, rng2, sp2, end2 := dec.bufs[2], d2.code, d2.rng, d2.pos, len(d2.src)+4
	d3 := &dec.lanes[3]
	buf3, code3, rng3, sp3, end3 := dec.bufs[3], d3.code, d3.rng, d3.pos, len(d3.src)+4
	d4 := &dec.lanes[4]
	buf4, code4, rng4, sp4, end4 := dec.bufs[4], d4.code, d4.rng, d4.pos, len(d4.src)+4
	d5 := &dec.lanes[5]
	buf5, code5, rng5, sp5, end5 := dec.bufs[5], d5.code, d5.rng, d5.pos, len(d5.src)+4
	it := &dec.gm.index
	bb := dec.gm.bb
	var r, v, w, sh uint32
	var err error
	// The table is static within a period, whose length is a multiple of
	// gapIndices (16, 32, ..., 8,192 symbols): the inner loop codes one
	// period, or the rest of the tensor, starting at coder gapRuns, without
	// the count of symbols left nor the call that rebuilds the table.
	for i := 0; i < len(idx) && err == nil; {
		stop := i + min(it.left, len(idx)-i)
		it.left -= stop - i
		for ; i < stop; i += gapIndices {
			{
				if sp2 > end2 {
					err = dec.early(2, sp2 > end2)
					break
				}
				r = rng2 >> freqBits
				v = code2 / r
				if v >= freqOne {
					err = dec.bad(2, sp2, "code value outside the symbols' range")
					break
				}
				e := it.lut[v>>lutShift]
				s, c, f := uint32(e)&0xFF, uint32(e>>16)&0xFFFF, uint32(e>>32)
				if v-c >= f {
					s, c, f = it.find(s, v)
				}
				code2 -= r * c
				rng2 = r * f
				sh = byteShift(rng2)
				w = uint32(buf2[sp2])<<8 | uint32(buf2[sp2+1])
				code2 = code2<<(sh&31) | w>>((16-sh)&31)
				rng2 <<= sh & 31
				sp2 += int(sh >> 3)
				it.count[uint8(s)] += 2
				x := s
				if bb > 0 {
					r = rng2 >> bb
					low := code2 / r
					if low >= 1<<bb {
						err = dec.bad(2, sp2, "code value outside the range of an index's low bits")
						break
					}
					code2 -= r * low
					rng2 = r
					sh = byteShift(rng2)
					w = uint32(buf2[sp2])<<8 | uint32(buf2[sp2+1])
					code2 = code2<<(sh&31) | w>>((16-sh)&31)
					rng2 <<= sh & 31
					sp2 += int(sh >> 3)
					x = x<<bb | low
				}
				if x >= m {
					err = dec.bad(2, sp2, fmt.Sprintf("index %d of kept weight %d outside the codebook of %d", x, i+0, m))
					break
				}
				idx[i+0] = uint16(x)
			}
			if i+1 == stop {
				break
			}
			{
				if sp3 > end3 {
					err = dec.early(3, sp3 > end3)
					break
				}
				r = rng3 >> freqBits
				v = code3 / r
				if v >= freqOne {
					err = dec.bad(3, sp3, "code value outside the symbols' range")
					break
				}
				e := it.lut[v>>lutShift]
				s, c, f := uint32(e)&0xFF, uint32(e>>16)&0xFFFF, uint32(e>>32)
				if v-c >= f {
					s, c, f = it.find(s, v)
				}
				code3 -= r * c
				rng3 = r * f
				sh = byteShift(rng3)
				w = uint32(buf3[sp3])<<8 | uint32(buf3[sp3+1])
				code3 = code3<<(sh&31) | w>>((16-sh)&31)
				rng3 <<= sh & 31
				sp3 += int(sh >> 3)
				it.count[uint8(s)] += 2
				x := s
				if bb > 0 {
					r = rng3 >> bb
					low := code3 / r
					if low >= 1<<bb {
						err = dec.bad(3, sp3, "code value outside the range of an index's low bits")
						break
					}
					code3 -= r * low
					rng3 = r
					sh = byteShift(rng3)
					w = uint32(buf3[sp3])<<8 | uint32(buf3[sp3+1])
					code3 = code3<<(sh&31) | w>>((16-sh)&31)
					rng3 <<= sh & 31
					sp3 += int(sh >> 3)
					x = x<<bb | low
				}
				if x >= m {
					err = dec.bad(3, sp3, fmt.Sprintf("index %d of kept weight %d outside the codebook of %d", x, i+1, m))
					break
				}
				idx[i+1] = uint16(x)
			}
			if i+2 == stop {
				break
			}
			{
				if sp4 > end4 {
					err = dec.early(4, sp4 > end4)
					break
				}
				r = rng4 >> freqBits
				v = code4 / r
				if v >= freqOne {
					err = dec.bad(4, sp4, "code value outside the symbols' range")
					break
				}
				e := it.lut[v>>lutShift]
				s, c, f := uint32(e)&0xFF, uint32(e>>16)&0xFFFF, uint32(e>>32)
				if v-c >= f {
					s, c, f = it.find(s, v)
				}
				code4 -= r * c
				rng4 = r * f
				sh = byteShift(rng4)
				w = uint32(buf4[sp4])<<8 | uint32(buf4[sp4+1])
				code4 = code4<<(sh&31) | w>>((16-sh)&31)
				rng4 <<= sh & 31
				sp4 += int(sh >> 3)
				it.count[uint8(s)] += 2
				x := s
				if bb > 0 {
					r = rng4 >> bb
					low := code4 / r
					if low >= 1<<bb {
						err = dec.bad(4, sp4, "code value outside the range of an index's low bits")
						break
					}
					code4 -= r * low
					rng4 = r
					sh = byteShift(rng4)
					w = uint32(buf4[sp4])<<8 | uint32(buf4[sp4+1])
					code4 = code4<<(sh&31) | w>>((16-sh)&31)
					rng4 <<= sh & 31
					sp4 += int(sh >> 3)
					x = x<<bb | low
				}
				if x >= m {
					err = dec.bad(4, sp4, fmt.Sprintf("index %d of kept weight %d outside the codebook of %d", x, i+2, m))
					break
				}
				idx[i+2] = uint16(x)
			}
			if i+3 == stop {
				break
			}
			{
				if sp5 > end5 {
					err = dec.early(5, sp5 > end5)
					break
				}
				r = rng5 >> freqBits
				v = code5 / r
				if v >= freqOne {
					err = dec.bad(5, sp5, "code value outside the symbols' range")
					break
				}
				e := it.lut[v>>lutShift]
				s, c, f := uint32(e)&0xFF, uint32(e>>16)&0xFFFF, uint32(e>>32)
				if v-c >= f {
					s, c, f = it.find(s, v)
				}
				code5 -= r * c
				rng5 = r * f
				sh = byteShift(rng5)
				w = uint32(buf5[sp5])<<8 | uint32(buf5[sp5+1])
				code5 = code5<<(sh&31) | w>>((16-sh)&31)
				rng5 <<= sh & 31
				sp5 += int(sh >> 3)
				it.count[uint8(s)] += 2
				x := s
				if bb > 0 {
					r = rng5 >> bb
					low := code5 / r
					if low >= 1<<bb {
						err = dec.bad(5, sp5, "code value outside the range of an index's low bits")
						break
					}
					code5 -= r * low
					rng5 = r
					sh = byteShift(rng5)
					w = uint32(buf5[sp5])<<8 | uint32(buf5[sp5+1])
					code5 = code5<<(sh&31) | w>>((16-sh)&31)
					rng5 <<= sh & 31
					sp5 += int(sh >> 3)
					x = x<<bb | low
				}
				if x >= m {
					err = dec.bad(5, sp5, fmt.Sprintf("index %d of kept weight %d outside the codebook of %d", x, i+3, m))
					break
				}
				idx[i+3] = uint16(x)
			}
		}
		i = stop
		if it.left == 0 {
			it.nextPeriod()
		}
	}
	d2.code, d2.rng, d2.pos = code2, rng2, sp2
	d3.code, d3.rng, d3.pos = code3, rng3, sp3
	d4.code, d4.rng, d4.pos = code4, rng4, sp4
	d5.code, d5.rng, d5.pos = code5, rng5, sp5
	return err
}
