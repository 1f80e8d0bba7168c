package cabac

// The binary range coder: 32-bit range, 64-bit low with carry propagation
// through a cached byte and a count of pending 0xFF bytes (the scheme of
// LZMA's range coder), exact multiplication by a 16-bit probability.

const (
	probBits = 31 // each estimate is P(bin = 0) in units of 2^-31
	probHalf = 1 << (probBits - 1)
	probOne  = 1 << probBits
	topValue = 1 << 24 // the range is renormalised to stay at or above this
)

// state is an adaptive context: two estimates of the probability that the
// next bin is 0, each in 1..2^31-1. Thirty-one bits let an estimate that
// moves 2^-12 of the way at each bin still reach probabilities near 0 and
// 1 (with 15 bits, as in VVC, a shift of 10 stops 2^-5 short of them).
type state struct{ fast, slow uint32 }

func newState() state { return state{probHalf, probHalf} }

// p0 is P(bin = 0) in units of 2^-16: the mean of the two estimates,
// made odd so that it lies in 1..2^16-1 and neither value of the bin ever
// gets an empty sub-range.
func (s *state) p0() uint32 { return (s.fast+s.slow)>>16 | 1 }

// rates are the adaptation shifts of the two estimates of a context, as
// in the two-rate estimator of VVC and NNR: after each bin an estimate
// moves 2^-shift of the way towards the bin's value, so it averages about
// the last 2^shift bins. A context codes with the mean of the two.
type rates struct{ fast, slow uint8 }

func (s *state) update(bit uint32, r rates) {
	if bit == 0 {
		s.fast += (probOne - s.fast) >> r.fast
		s.slow += (probOne - s.slow) >> r.slow
	} else {
		s.fast -= s.fast >> r.fast
		s.slow -= s.slow >> r.slow
	}
}

// encoder writes bins into buf.
type encoder struct {
	buf     []byte
	start   int // len(buf) when coding began: trimming stops here
	low     uint64
	rng     uint32
	cache   byte
	pending int  // 0xFF bytes waiting behind cache for a possible carry
	started bool // cache holds a real byte (the first one is a virtual 0)
}

func (e *encoder) reset(dst []byte) {
	*e = encoder{buf: dst, start: len(dst), rng: 0xFFFFFFFF}
}

func (e *encoder) shiftLow() {
	if uint32(e.low) < 0xFF000000 || e.low >= 1<<32 {
		carry := byte(e.low >> 32)
		if e.started {
			e.buf = append(e.buf, e.cache+carry)
		}
		for ; e.pending > 0; e.pending-- {
			e.buf = append(e.buf, 0xFF+carry)
		}
		e.started = true
		e.cache = byte(e.low >> 24)
	} else {
		e.pending++
	}
	e.low = (e.low & 0x00FFFFFF) << 8
}

// renorm shifts bytes out until the range is at least 2^24 again; the
// coder loops (Encoder.run) code each bin inline and call it.
func (e *encoder) renorm() {
	for e.rng < topValue {
		e.rng <<= 8
		e.shiftLow()
	}
}

// bypass codes the low n bits of v, most significant first, each with
// probability 1/2.
func (e *encoder) bypass(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		e.rng >>= 1
		if v>>uint(i)&1 != 0 {
			e.low += uint64(e.rng)
		}
		for e.rng < topValue {
			e.rng <<= 8
			e.shiftLow()
		}
	}
}

// finish ends the stream with the shortest tail: it picks the value in
// [low, low+range) with the most trailing zero bits and writes it in the
// last 4 bytes, then drops those of the 4 that are trailing zeros (at
// least 3: the range is at least 2^24, so the interval holds a multiple
// of 2^24); the decoder reads zeros past the end of its input. It returns
// the buffer.
func (e *encoder) finish() []byte {
	end := e.low + uint64(e.rng)
	for s := 32; s >= 0; s-- {
		m := uint64(1)<<uint(s) - 1
		if v := (e.low + m) &^ m; v < end {
			e.low = v
			break
		}
	}
	for range 5 {
		e.shiftLow()
	}
	b := e.buf
	stop := max(e.start, len(b)-4)
	for len(b) > stop && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// decoder reads bins from src. Past the end of src it reads zero bytes
// (the encoder drops trailing zeros of its last 4 bytes); pos counts every
// byte read, real or not, so the caller can check that exactly src was
// used and at most 4 bytes were missing.
type decoder struct {
	src  []byte
	pos  int
	code uint32
	rng  uint32
}

func (d *decoder) next() uint32 {
	p := d.pos
	d.pos++
	if p < len(d.src) {
		return uint32(d.src[p])
	}
	return 0
}

// init starts decoding src. It reports false if the first four bytes
// cannot start a stream (a code value at or above the initial range).
func (d *decoder) init(src []byte) bool {
	*d = decoder{src: src, rng: 0xFFFFFFFF}
	for range 4 {
		d.code = d.code<<8 | d.next()
	}
	return d.code < d.rng
}

func (d *decoder) bin(s *state, r rates) uint32 {
	bound := (d.rng >> 16) * s.p0()
	var bit uint32
	if d.code < bound {
		d.rng = bound
		s.fast += (probOne - s.fast) >> r.fast
		s.slow += (probOne - s.slow) >> r.slow
	} else {
		d.code -= bound
		d.rng -= bound
		s.fast -= s.fast >> r.fast
		s.slow -= s.slow >> r.slow
		bit = 1
	}
	for d.rng < topValue {
		d.rng <<= 8
		d.code = d.code<<8 | d.next()
	}
	return bit
}

func (d *decoder) bypass(n int) uint32 {
	var v uint32
	for range n {
		d.rng >>= 1
		var bit uint32
		if d.code >= d.rng {
			d.code -= d.rng
			bit = 1
		}
		v = v<<1 | bit
		for d.rng < topValue {
			d.rng <<= 8
			d.code = d.code<<8 | d.next()
		}
	}
	return v
}

// finished checks that decoding used exactly d.src, with at most 4 bytes
// read past its end, and ended as the encoder ends a stream; off is the
// offset of d.src in the caller's stream, for errors.
func (d *decoder) finished(off int) error {
	switch missing := d.pos - len(d.src); {
	case missing < 0:
		return corrupt(off+d.pos, "%d bytes after the end of the coded data", -missing)
	case missing > 4:
		return corrupt(off+len(d.src), "truncated: the coded data needs %d more bytes", missing-4)
	case missing < 4 && d.src[len(d.src)-1] == 0:
		return corrupt(off+len(d.src)-1, "stream ends with a zero byte")
	}
	if !d.canonicalEnd() {
		return corrupt(off+len(d.src), "the stream does not end as the encoder ends it")
	}
	return nil
}

// canonicalEnd reports whether the stream ended as encoder.finish ends
// it: the value in the last 4 bytes read, V, is the one in the final
// interval [low, low+range) with the most trailing zero bits. The decoder
// knows code = V - low (mod 2^32), hence low.
func (d *decoder) canonicalEnd() bool {
	var v uint32
	for i := d.pos - 4; i < d.pos; i++ {
		v <<= 8
		if i < len(d.src) {
			v |= uint32(d.src[i])
		}
	}
	low := uint64(v - d.code)
	for s := 32; s >= 0; s-- {
		m := uint64(1)<<uint(s) - 1
		if off := (low+m)&^m - low; off < uint64(d.rng) {
			return off == uint64(d.code)
		}
	}
	return false
}
