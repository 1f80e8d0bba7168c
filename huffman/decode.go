package huffman

import (
	"encoding/binary"
	"sync"
)

// Decode decodes the block at the start of src into dst[:n], reusing the
// capacity of dst when it suffices. It returns the n symbols and the
// number of bytes of src the block took; bytes after the block are left
// alone.
//
// maxCount bounds the symbol count and alphabet the symbol values
// (0..alphabet-1) the block may declare; both come from what the caller
// knows about the data, and together with the input length they bound
// every allocation. A block of one distinct symbol s also gives a code to
// a dummy (0, or 1 when s is 0), so alphabet must be at least 2 even when
// only one value can occur; such a caller checks the decoded values.
func Decode[S Symbol](dst []S, src []byte, maxCount, alphabet int) ([]S, int, error) {
	h, off := binary.Uvarint(src)
	if off <= 0 {
		return nil, 0, corrupt(0, "bad symbol count")
	}
	n, four := h>>1, h&1 == 1
	if n > uint64(max(maxCount, 0)) {
		return nil, 0, corrupt(0, "%d symbols exceed the limit of %d", n, maxCount)
	}
	if n == 0 {
		if four {
			return nil, 0, corrupt(0, "empty block with four streams")
		}
		return dst[:0], off, nil
	}
	if four && n < 4 {
		return nil, 0, corrupt(0, "four streams for %d symbols", n)
	}

	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	tbits, nsym, off, err := sc.readTable(src, off, min(alphabet, MaxSymbols, symbolLimit[S]()))
	if err != nil {
		return nil, 0, err
	}

	// Stream lengths, then the bound n <= 8*bytes before allocating.
	ns := 1
	if four {
		ns = 4
	}
	parts := [5]int{0, int(n)} // symbols of stream j: dst[parts[j]:parts[j+1]]
	if four {
		q := quarters(int(n))
		parts = [5]int{q[0], q[1], q[2], q[3], int(n)}
	}
	var sizes [4]int
	for j := range ns {
		size, k := binary.Uvarint(src[off:])
		if k <= 0 || size > uint64(len(src)) {
			return nil, 0, corrupt(off, "bad length of stream %d", j)
		}
		sizes[j] = int(size)
		off += k
	}
	var streams [4]stream
	for j := range ns {
		if sizes[j] > len(src)-off {
			return nil, 0, corrupt(off, "stream %d: %d bytes declared, %d left", j, sizes[j], len(src)-off)
		}
		if count := parts[j+1] - parts[j]; count > 8*sizes[j] {
			return nil, 0, corrupt(off, "stream %d: %d symbols cannot fit in %d bytes", j, count, sizes[j])
		}
		streams[j] = stream{start: off, end: off + sizes[j], bit: 8 * off}
		off += sizes[j]
	}
	src = src[:off]

	if cap(dst) < int(n) {
		dst = make([]S, n)
	}
	dst = dst[:n]
	var done [4]int
	t := (*[1 << fastBits]uint32)(sc.table)
	double := tbits <= fastBits && nsym <= 1<<fastBits && n >= doubleMin
	if double {
		buildDouble(&sc.double, t)
	}
	switch {
	case four && double:
		done = decode4x12d(dst, &parts, src, &streams, &sc.double)
	case four && tbits <= fastBits:
		i := decode4x12(dst, &parts, src, &streams, t)
		done = [4]int{i, i, i, i}
	}
	for j := range ns {
		d := dst[parts[j]+done[j] : parts[j+1]]
		st := &streams[j]
		k := 0
		switch {
		case double:
			k = decode1x12d(d, src, st, &sc.double)
		case tbits <= fastBits:
			k = decode1x12(d, src, st, (*[1 << fastBits]uint32)(sc.table))
		case tbits <= 14:
			k = decode1x4(d, src, st, sc.table)
		}
		decodeTail(d[k:], src, st, sc.table)
		if err := st.finish(src, j); err != nil {
			return nil, 0, err
		}
	}
	return dst, off, nil
}

// symbolLimit is the number of values S can hold, capped at MaxSymbols.
func symbolLimit[S Symbol]() int {
	var top S
	top--
	return int(min(uint64(top)+1, MaxSymbols))
}

// scratch holds the per-block decoding tables, pooled across calls.
type scratch struct {
	lengths []uint8
	table   []uint32 // entry = symbol<<8 | codeword length
	double  [1 << fastBits]uint32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// readTable reads the alphabet size and code lengths starting at src[off],
// checks that they form a complete prefix code over at most limit symbols,
// and builds the decoding table: entry i is the symbol whose reversed
// codeword is a prefix of the bits of i. It returns the table's index
// width (the longest length) and the offset after the lengths.
func (sc *scratch) readTable(src []byte, off, limit int) (tbits uint, nsym int, next int, err error) {
	ns, k := binary.Uvarint(src[off:])
	if k <= 0 || ns < 2 || ns > uint64(limit) {
		return 0, 0, 0, corrupt(off, "alphabet size %d outside 2..%d", ns, limit)
	}
	nsym = int(ns)
	off += k
	if cap(sc.lengths) < int(nsym) {
		sc.lengths = make([]uint8, nsym)
	}
	lengths := sc.lengths[:nsym]
	r := bitReader{src: src[off:]}
	if ok, why := readLengths(&r, lengths); !ok {
		return 0, 0, 0, corrupt(off+r.bytesUsed(), "%s", why)
	}
	if r.buf&(1<<r.nb-1) != 0 {
		return 0, 0, 0, corrupt(off+r.bytesUsed()-1, "nonzero padding after code lengths")
	}
	off += r.bytesUsed()
	if lengths[nsym-1] == 0 {
		return 0, 0, 0, corrupt(off, "last symbol of the alphabet unused")
	}

	var count [MaxCodeLen + 1]uint64
	maxLen := uint(0)
	for _, l := range lengths {
		count[l]++
		maxLen = max(maxLen, uint(l))
	}
	var kraft uint64
	for l := uint(1); l <= maxLen; l++ {
		kraft += count[l] << (maxLen - l)
	}
	if maxLen == 0 || kraft != 1<<maxLen {
		return 0, 0, 0, corrupt(off, "code lengths do not form a complete prefix code")
	}

	size := 1 << max(maxLen, fastBits) // short codes: entries repeat
	if cap(sc.table) < size {
		sc.table = make([]uint32, size)
	}
	sc.table = sc.table[:size]
	codes := canonicalCodes(lengths)
	for s, l := range lengths {
		if l == 0 {
			continue
		}
		e := uint32(s)<<8 | uint32(l)
		for j := int(codes[s]); j < size; j += 1 << l {
			sc.table[j] = e
		}
	}
	return maxLen, nsym, off, nil
}

// fastBits is the index width of the fixed-size decoding table used for
// codes of at most fastBits bits: a constant mask needs no bounds checks.
const fastBits = 12

// stream is one bit stream inside the block: bytes src[start:end], of
// which bit bits (counted from the start of the block) are consumed.
type stream struct {
	start, end int
	bit        int
}

// finish checks that the codewords used every byte of the stream and
// nothing beyond, and that the padding bits are zero.
func (st *stream) finish(src []byte, j int) error {
	used, size := st.bit-8*st.start, 8*(st.end-st.start)
	switch {
	case used > size:
		return corrupt(st.end, "stream %d truncated", j)
	case used <= size-8:
		return corrupt(st.start+used/8+1, "stream %d has trailing bytes", j)
	case used&7 != 0 && src[st.end-1]>>(used&7) != 0:
		return corrupt(st.end-1, "stream %d: nonzero padding bits", j)
	}
	return nil
}

// peek returns the next 64 bits of the stream at bit position bit, bits
// past its end read as zero (finish then reports the truncation).
func (st *stream) peek(src []byte, bit int) uint64 {
	p := bit >> 3
	var v uint64
	if p+8 <= st.end {
		v = load64(src, p)
	} else {
		for k := 0; p+k < st.end && k < 8; k++ {
			v |= uint64(src[p+k]) << (8 * k)
		}
	}
	return v >> (bit & 7)
}

// decodeTail decodes len(dst) symbols one at a time.
func decodeTail[S Symbol](dst []S, src []byte, st *stream, table []uint32) {
	mask := uint64(len(table) - 1)
	bit := st.bit
	for i := range dst {
		if bit > 8*st.end {
			bit = 8*st.end + 1 // truncated: stop reading, finish reports it
			break
		}
		e := table[st.peek(src, bit)&mask]
		bit += int(e & 0xff)
		dst[i] = S(e >> 8)
	}
	st.bit = bit
}

// decode1x12 is the fast path of one stream with codes of at most 12 bits:
// one unaligned 64-bit load gives at least 57 bits, enough for four
// symbols. It runs while 8 bytes of the stream remain and returns the
// number of symbols decoded.
func decode1x12[S Symbol](dst []S, src []byte, st *stream, t *[1 << fastBits]uint32) int {
	const mask = 1<<fastBits - 1
	bit := uint(st.bit)
	end := st.end - 8
	i := 0
	for ; i+4 <= len(dst) && int(bit>>3) <= end; i += 4 {
		v := load64(src, int(bit>>3)) >> (bit & 7)
		e0 := t[v&mask]
		v >>= e0 & 0xff
		e1 := t[v&mask]
		v >>= e1 & 0xff
		e2 := t[v&mask]
		v >>= e2 & 0xff
		e3 := t[v&mask]
		bit += uint(e0&0xff + e1&0xff + e2&0xff + e3&0xff)
		d := dst[i : i+4 : i+4]
		d[0], d[1], d[2], d[3] = S(e0>>8), S(e1>>8), S(e2>>8), S(e3>>8)
	}
	st.bit = int(bit)
	return i
}

// decode1x4 is decode1x12 for codes of 13 or 14 bits, with a table of
// 2^maxLen entries.
func decode1x4[S Symbol](dst []S, src []byte, st *stream, t []uint32) int {
	mask := uint64(len(t) - 1)
	bit := uint(st.bit)
	end := st.end - 8
	i := 0
	for ; i+4 <= len(dst) && int(bit>>3) <= end; i += 4 {
		v := load64(src, int(bit>>3)) >> (bit & 7)
		e0 := t[v&mask]
		v >>= e0 & 0xff
		e1 := t[v&mask]
		v >>= e1 & 0xff
		e2 := t[v&mask]
		v >>= e2 & 0xff
		e3 := t[v&mask]
		bit += uint(e0&0xff + e1&0xff + e2&0xff + e3&0xff)
		d := dst[i : i+4 : i+4]
		d[0], d[1], d[2], d[3] = S(e0>>8), S(e1>>8), S(e2>>8), S(e3>>8)
	}
	st.bit = int(bit)
	return i
}

// decode4x12 decodes four streams in lockstep, four symbols from each per
// round: four independent chains of loads and table lookups keep more of
// a superscalar CPU busy than one. Loads may run past a stream's end into
// the next stream (never past the block): the surplus bits are never
// consumed by a valid stream, and finish catches an invalid one. It
// returns the number of symbols decoded from each stream.
func decode4x12[S Symbol](dst []S, parts *[5]int, src []byte, st *[4]stream, t *[1 << fastBits]uint32) int {
	const mask = 1<<fastBits - 1
	n := min(parts[1]-parts[0], parts[2]-parts[1], parts[3]-parts[2], parts[4]-parts[3])
	b0, b1, b2, b3 := uint(st[0].bit), uint(st[1].bit), uint(st[2].bit), uint(st[3].bit)
	o1, o2, o3 := parts[1], parts[2], parts[3]
	end := len(src) - 8
	var e0, e1, e2, e3 uint32
	i := 0
	for ; i+4 <= n && int(max(b0, b1, b2, b3)>>3) <= end; i += 4 {
		v0 := load64(src, int(b0>>3)) >> (b0 & 7)
		v1 := load64(src, int(b1>>3)) >> (b1 & 7)
		v2 := load64(src, int(b2>>3)) >> (b2 & 7)
		v3 := load64(src, int(b3>>3)) >> (b3 & 7)
		d0 := dst[i : i+4 : i+4]
		d1 := dst[o1+i : o1+i+4 : o1+i+4]
		d2 := dst[o2+i : o2+i+4 : o2+i+4]
		d3 := dst[o3+i : o3+i+4 : o3+i+4]
		e0, e1, e2, e3 = t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&0xff), v1>>(e1&0xff), v2>>(e2&0xff), v3>>(e3&0xff)
		b0, b1, b2, b3 = b0+uint(e0&0xff), b1+uint(e1&0xff), b2+uint(e2&0xff), b3+uint(e3&0xff)
		d0[0], d1[0], d2[0], d3[0] = S(e0>>8), S(e1>>8), S(e2>>8), S(e3>>8)
		e0, e1, e2, e3 = t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&0xff), v1>>(e1&0xff), v2>>(e2&0xff), v3>>(e3&0xff)
		b0, b1, b2, b3 = b0+uint(e0&0xff), b1+uint(e1&0xff), b2+uint(e2&0xff), b3+uint(e3&0xff)
		d0[1], d1[1], d2[1], d3[1] = S(e0>>8), S(e1>>8), S(e2>>8), S(e3>>8)
		e0, e1, e2, e3 = t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&0xff), v1>>(e1&0xff), v2>>(e2&0xff), v3>>(e3&0xff)
		b0, b1, b2, b3 = b0+uint(e0&0xff), b1+uint(e1&0xff), b2+uint(e2&0xff), b3+uint(e3&0xff)
		d0[2], d1[2], d2[2], d3[2] = S(e0>>8), S(e1>>8), S(e2>>8), S(e3>>8)
		e0, e1, e2, e3 = t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&0xff), v1>>(e1&0xff), v2>>(e2&0xff), v3>>(e3&0xff)
		b0, b1, b2, b3 = b0+uint(e0&0xff), b1+uint(e1&0xff), b2+uint(e2&0xff), b3+uint(e3&0xff)
		d0[3], d1[3], d2[3], d3[3] = S(e0>>8), S(e1>>8), S(e2>>8), S(e3>>8)
	}
	st[0].bit, st[1].bit, st[2].bit, st[3].bit = int(b0), int(b1), int(b2), int(b3)
	return i
}
