package huffman

import "encoding/binary"

// bitWriter packs values least-significant bit first into a byte slice.
type bitWriter struct {
	out  []byte
	acc  uint64 // pending bits, the oldest in the low end
	nacc uint   // number of pending bits, < 8 between calls
}

// write appends the low n bits of v, n <= 32.
func (w *bitWriter) write(v uint32, n uint) {
	w.acc |= uint64(v) << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// flush pads the last byte with zero bits.
func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	w.acc, w.nacc = 0, 0
	return w.out
}

// bitReader reads values least-significant bit first. Reading past the end
// yields zero bits and sets over, so callers check once at the end.
type bitReader struct {
	src  []byte
	pos  int    // next byte of src to load
	buf  uint64 // loaded bits, the next in the low end
	nb   uint   // number of loaded bits
	over bool   // a read went past the end of src
}

func (r *bitReader) read(n uint) uint32 {
	for r.nb < n {
		if r.pos < len(r.src) {
			r.buf |= uint64(r.src[r.pos]) << r.nb
		} else {
			r.over = true
		}
		r.pos++
		r.nb += 8
	}
	v := uint32(r.buf & (1<<n - 1))
	r.buf >>= n
	r.nb -= n
	return v
}

// bytesUsed is the number of whole bytes touched by the bits read so far.
func (r *bitReader) bytesUsed() int { return r.pos - int(r.nb/8) }

// load64 reads 8 bytes little-endian; the caller guarantees they exist.
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
