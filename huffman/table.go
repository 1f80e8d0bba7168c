package huffman

import "math/bits"

// The code lengths of a block are stored as a bit-packed sequence, one
// length per symbol 0..nsym-1, each coded against the previous length p
// (initially 0):
//
//	0 gamma(r)   the next r >= 1 symbols have length p
//	1 0 s        one symbol of length p+1 (s = 0) or p-1 (s = 1)
//	1 1 v        one symbol of length v, 5 bits
//
// gamma(r) is the Elias gamma code: k = floor(log2 r) zero bits, a one
// bit, then the low k bits of r. Bell-shaped and geometric distributions
// give smoothly varying lengths, so a 64-symbol table takes ~15 bytes.

// writeLengths appends the coded lengths to w.
func writeLengths(w *bitWriter, lengths []uint8) {
	p := uint8(0)
	for i := 0; i < len(lengths); {
		l := lengths[i]
		switch {
		case l == p:
			r := 1
			for i+r < len(lengths) && lengths[i+r] == p {
				r++
			}
			w.write(0, 1)
			writeGamma(w, uint32(r))
			i += r
			continue
		case l == p+1:
			w.write(0b01, 3) // bits 1, 0, then s = 0
		case l+1 == p:
			w.write(0b101, 3) // bits 1, 0, then s = 1
		default:
			w.write(0b11|uint32(l)<<2, 7)
		}
		p = l
		i++
	}
}

func writeGamma(w *bitWriter, r uint32) {
	k := uint(bits.Len32(r)) - 1
	w.write(0, k)
	w.write(1, 1)
	w.write(r&(1<<k-1), k)
}

// readLengths decodes nsym lengths into dst (len(dst) == nsym). It reports
// false on a malformed sequence: an overlong run, a length outside
// 0..MaxCodeLen, or a gamma code longer than 17 bits.
func readLengths(r *bitReader, dst []uint8) (ok bool, why string) {
	p := uint8(0)
	for i := 0; i < len(dst); {
		if r.read(1) == 0 {
			k := uint(0)
			for r.read(1) == 0 {
				k++
				if k > 17 || r.over {
					return false, "run length code too long"
				}
			}
			n := int(1<<k | r.read(k))
			if n > len(dst)-i {
				return false, "run of code lengths past the alphabet"
			}
			for j := range n {
				dst[i+j] = p
			}
			i += n
			continue
		}
		var l uint32
		if r.read(1) == 0 {
			l = uint32(p) + 1
			if r.read(1) == 1 {
				l = uint32(p) - 1 // wraps to a huge value when p == 0
			}
		} else {
			l = r.read(5)
		}
		if l > MaxCodeLen {
			return false, "code length out of range"
		}
		p = uint8(l)
		dst[i] = p
		i++
	}
	return !r.over, "code lengths truncated"
}
