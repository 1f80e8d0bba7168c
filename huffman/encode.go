package huffman

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
)

// Encode appends to dst one block coding syms and returns the extended
// slice. The block layout is:
//
//	uvarint  n<<1 | four     symbol count; four = 1 for four streams
//	                         (n = 0 ends the block here)
//	uvarint  nsym            alphabet size; symbol nsym-1 is used
//	bytes    code lengths    see table.go, padded to a byte
//	uvarint  len0 [len1 len2 len3]   byte length of each stream
//	bytes    stream 0 [1 2 3]
//
// With four streams, stream j codes symbols [j*n/4, (j+1)*n/4) (integer
// division), so n >= 4 leaves none empty. A stream is the codewords, least
// significant bit first, zero-padded to a byte. A block of a single
// distinct symbol s uses a code of two one-bit codewords (s and a dummy),
// so every symbol costs one bit: that keeps the bound n <= 8*(stream
// bytes) that lets Decode size its output from its input.
func Encode[S Symbol](dst []byte, syms []S, opt *Options) ([]byte, error) {
	var o Options
	if opt != nil {
		o = *opt
	}
	if o.MaxLen == 0 {
		o.MaxLen = DefaultMaxLen
	}
	if o.MaxLen < 1 || o.MaxLen > MaxCodeLen {
		return nil, fmt.Errorf("huffman: length limit %d outside 1..%d", o.MaxLen, MaxCodeLen)
	}
	n := len(syms)
	if n == 0 {
		return append(dst, 0), nil
	}
	if n > maxBlockSymbols {
		return nil, fmt.Errorf("huffman: %d symbols exceed the block limit %d", n, maxBlockSymbols)
	}
	four := o.Streams == 4 || (o.Streams == 0 && n >= fourStreamMin)
	if o.Streams != 0 && o.Streams != 1 && o.Streams != 4 {
		return nil, fmt.Errorf("huffman: %d streams requested, want 1 or 4", o.Streams)
	}
	if four && n < 4 {
		four = false // every stream must hold a symbol
	}
	segs := [][]S{syms}
	if four {
		segs = split4(syms)
	}
	top, err := maxSymbol(syms)
	if err != nil {
		return nil, err
	}
	// One histogram per stream: the streams' sizes follow from them, and
	// four independent histograms count faster than one.
	hist := make([]uint32, len(segs)*(top+1))
	counts := make([]uint64, top+1)
	for j, seg := range segs {
		hj := hist[j*(top+1) : (j+1)*(top+1)]
		for _, s := range seg {
			hj[s]++
		}
		for s, c := range hj {
			counts[s] += uint64(c)
		}
	}
	lengths, err := lengthsFromCounts(counts, o.MaxLen)
	if err != nil {
		return nil, err
	}
	codes := canonicalCodes(lengths)
	enc := make([]uint32, len(lengths))
	maxLen := uint8(0)
	for s, l := range lengths {
		enc[s] = codes[s] | uint32(l)<<24
		maxLen = max(maxLen, l)
	}

	h := uint64(n) << 1
	if four {
		h |= 1
	}
	dst = binary.AppendUvarint(dst, h)
	dst = binary.AppendUvarint(dst, uint64(len(lengths)))
	w := bitWriter{out: dst}
	writeLengths(&w, lengths)
	dst = w.flush()

	var sizes [4]int
	total := 0
	for j := range segs {
		var nbits uint64
		for s, c := range hist[j*(top+1) : (j+1)*(top+1)] {
			nbits += uint64(c) * uint64(lengths[s])
		}
		sizes[j] = int((nbits + 7) / 8)
		total += sizes[j]
		dst = binary.AppendUvarint(dst, uint64(sizes[j]))
	}
	start := len(dst)
	dst = slices.Grow(dst, total+8)[:start+total+8] // 8 bytes of slack for 64-bit stores
	off := start
	for j, seg := range segs {
		if maxLen <= 14 {
			encodeStream4(dst[off:], seg, enc)
		} else {
			encodeStream(dst[off:], seg, enc)
		}
		off += sizes[j]
	}
	return dst[:start+total], nil
}

// maxBlockSymbols bounds n so that n<<1 fits the header and bit counts fit
// in an int on every platform.
const maxBlockSymbols = 1<<31 - 1

// split4 cuts syms into four consecutive parts, part j being
// syms[j*n/4 : (j+1)*n/4].
func split4[S Symbol](syms []S) [][]S {
	b := quarters(len(syms))
	return [][]S{syms[:b[1]], syms[b[1]:b[2]], syms[b[2]:b[3]], syms[b[3]:]}
}

// quarters returns the start of each of the four parts of n symbols.
func quarters(n int) [4]int {
	var b [4]int
	for j := range b {
		b[j] = int(uint64(j) * uint64(n) / 4)
	}
	return b
}

// Lengths returns the code lengths Encode uses for syms with the length
// limit maxLen (0 for DefaultMaxLen), over the alphabet 0..nsym-1, nsym
// being one past the largest symbol with a codeword. The coded size of
// syms is sum lengths[s] bits. A lone distinct symbol s is paired with a
// dummy so that the code is complete: both get length 1.
func Lengths[S Symbol](syms []S, maxLen int) ([]uint8, error) {
	if maxLen == 0 {
		maxLen = DefaultMaxLen
	}
	if len(syms) == 0 {
		return nil, nil
	}
	top, err := maxSymbol(syms)
	if err != nil {
		return nil, err
	}
	counts := make([]uint64, top+1)
	for _, s := range syms {
		counts[s]++
	}
	return lengthsFromCounts(counts, maxLen)
}

// maxSymbol returns the largest symbol, checking it against MaxSymbols.
func maxSymbol[S Symbol](syms []S) (int, error) {
	top := S(0)
	for _, s := range syms {
		top = max(top, s)
	}
	if uint64(top) >= MaxSymbols {
		return 0, fmt.Errorf("huffman: symbol %d outside the alphabet 0..%d", top, MaxSymbols-1)
	}
	return int(top), nil
}

// lengthsFromCounts is Lengths given the symbol counts; the last count is
// not zero.
func lengthsFromCounts(counts []uint64, maxLen int) ([]uint8, error) {
	if maxLen < 1 || maxLen > MaxCodeLen {
		return nil, fmt.Errorf("huffman: length limit %d outside 1..%d", maxLen, MaxCodeLen)
	}
	used := 0
	for _, c := range counts {
		if c > 0 {
			used++
		}
	}
	if used == 1 {
		// Lone symbol: pair it with a dummy so the code is complete.
		top := len(counts) - 1
		lengths := make([]uint8, max(top+1, 2))
		lengths[top] = 1
		if top == 0 {
			lengths[1] = 1
		} else {
			lengths[0] = 1
		}
		return lengths, nil
	}
	return CodeLengths(counts, max(maxLen, bits.Len(uint(used-1))))
}

// encodeStream writes the codewords of syms into out, which has room for
// the stream plus 8 bytes. enc[s] holds the reversed codeword in its low
// 24 bits and the length above. Three codewords of at most 17 bits plus 7
// pending bits fit a 64-bit accumulator, so the loop stores 8 bytes after
// every three symbols without branching on the fill level.
func encodeStream[S Symbol](out []byte, syms []S, enc []uint32) {
	var acc uint64
	var nb uint
	p := 0
	i := 0
	for ; i+3 <= len(syms); i += 3 {
		e0, e1, e2 := enc[syms[i]], enc[syms[i+1]], enc[syms[i+2]]
		acc |= uint64(e0&0xffffff) << nb
		nb += uint(e0 >> 24)
		acc |= uint64(e1&0xffffff) << nb
		nb += uint(e1 >> 24)
		acc |= uint64(e2&0xffffff) << nb
		nb += uint(e2 >> 24)
		binary.LittleEndian.PutUint64(out[p:], acc)
		k := nb >> 3
		p += int(k)
		acc >>= k << 3
		nb &= 7
	}
	encodeStreamTail(out[p:], syms[i:], enc, acc, nb)
}

// encodeStreamTail codes the last symbols one at a time, then writes the
// final partial byte.
func encodeStreamTail[S Symbol](out []byte, syms []S, enc []uint32, acc uint64, nb uint) {
	p := 0
	for _, s := range syms {
		e := enc[s]
		acc |= uint64(e&0xffffff) << nb
		nb += uint(e >> 24)
		binary.LittleEndian.PutUint64(out[p:], acc)
		k := nb >> 3
		p += int(k)
		acc >>= k << 3
		nb &= 7
	}
	if nb > 0 {
		out[p] = byte(acc)
	}
}

// encodeStream4 is encodeStream for codewords of at most 14 bits: four of
// them plus 7 pending bits fit the accumulator.
func encodeStream4[S Symbol](out []byte, syms []S, enc []uint32) {
	var acc uint64
	var nb uint
	p := 0
	i := 0
	for ; i+4 <= len(syms); i += 4 {
		e0, e1, e2, e3 := enc[syms[i]], enc[syms[i+1]], enc[syms[i+2]], enc[syms[i+3]]
		acc |= uint64(e0&0xffffff) << nb
		nb += uint(e0 >> 24)
		acc |= uint64(e1&0xffffff) << nb
		nb += uint(e1 >> 24)
		acc |= uint64(e2&0xffffff) << nb
		nb += uint(e2 >> 24)
		acc |= uint64(e3&0xffffff) << nb
		nb += uint(e3 >> 24)
		binary.LittleEndian.PutUint64(out[p:], acc)
		k := nb >> 3
		p += int(k)
		acc >>= k << 3
		nb &= 7
	}
	encodeStreamTail(out[p:], syms[i:], enc, acc, nb)
}
