// Package sparse implements the relative-index storage of a pruned layer
// from Deep Compression (Han, Mao, Dally, ICLR 2016, section 2 and
// figure 2): instead of the absolute position of each surviving weight it
// stores the gap to the previous one in b bits, and inserts a filler zero
// where a gap exceeds the span 2^b.
//
// Gaps count from a cursor that starts at position 0 and moves to each
// stored entry: the first entry's gap is its position (0..2^b), every
// later gap is 1..2^b. A filler is an entry with gap exactly 2^b that holds
// no weight. The paper's example, 3-bit gaps (span 8) and survivors at
// positions 1, 4 and 15, gives gaps 1, 3, 8 (filler, at position 12), 3.
//
// The representation is canonical: a filler is inserted only when the next
// survivor lies more than 2^b past the cursor, so Decode rejects fillers
// after the last survivor and gaps outside their ranges, and
// Encode(Decode(x)) == x for every accepted x.
package sparse

import (
	"errors"
	"fmt"
)

// MaxBits is the widest gap field: the gap alphabet 0..2^16 then fits the
// Huffman coder's 2^17 symbols.
const MaxBits = 16

// MaxLen is the largest tensor Encode and Decode handle: positions are
// uint32.
const MaxLen = 1 << 32

// ErrCorrupt is wrapped by Decode's errors.
var ErrCorrupt = errors.New("sparse: corrupt gap sequence")

// Span is the largest gap a b-bit field expresses, 2^b.
func Span(bits int) uint32 { return 1 << bits }

func checkArgs(n, bits int) error {
	if bits < 1 || bits > MaxBits {
		return fmt.Errorf("sparse: gap width %d outside 1..%d bits", bits, MaxBits)
	}
	if n < 0 || uint64(n) > MaxLen {
		return fmt.Errorf("sparse: tensor size %d outside 0..2^32", n)
	}
	return nil
}

// Entries is the number of entries, survivors plus fillers, that Encode
// produces for pos, assuming pos is valid.
func Entries(pos []uint32, bits int) int {
	span := uint64(Span(bits))
	m := len(pos)
	prev := uint64(0)
	for i, p := range pos {
		g := uint64(p) - prev
		if i == 0 {
			g = uint64(p) // the first gap may be 0
		}
		if g > span {
			m += int((g - 1) / span) // fillers before this survivor
		}
		prev = uint64(p)
	}
	return m
}

// Encode converts the strictly ascending positions of the surviving
// weights of an n-element tensor into gaps of at most 2^bits. It returns
// the gap of every entry and the ascending indices of the filler entries.
//
// For survivor positions p_0 < p_1 < ... and cursor c (initially 0), the
// gap p_i - c is stored directly when it is at most 2^bits; otherwise
// fillers of gap 2^bits advance c until the remainder fits.
func Encode(pos []uint32, n, bits int) (gaps []uint32, fillers []int, err error) {
	if err := checkArgs(n, bits); err != nil {
		return nil, nil, err
	}
	for i, p := range pos {
		if uint64(p) >= uint64(n) || (i > 0 && p <= pos[i-1]) {
			return nil, nil, fmt.Errorf("sparse: position %d (index %d) out of order or outside 0..%d", p, i, n-1)
		}
	}
	span := uint64(Span(bits))
	gaps = make([]uint32, 0, Entries(pos, bits))
	cur := uint64(0)
	for _, p := range pos {
		g := uint64(p) - cur
		for g > span {
			fillers = append(fillers, len(gaps))
			gaps = append(gaps, uint32(span))
			g -= span
		}
		gaps = append(gaps, uint32(g))
		cur = uint64(p)
	}
	return gaps, fillers, nil
}

// Decode inverts Encode: from the gaps of all entries and the ascending
// indices of the fillers it rebuilds the survivor positions in an
// n-element tensor. It rejects gaps outside their ranges (0..2^bits for
// the first entry, 1..2^bits after it, exactly 2^bits for a filler),
// fillers after the last survivor, and positions at or beyond n.
func Decode(gaps []uint32, fillers []int, n, bits int) ([]uint32, error) {
	if err := checkArgs(n, bits); err != nil {
		return nil, err
	}
	for k, f := range fillers {
		if f < 0 || f >= len(gaps) || (k > 0 && f <= fillers[k-1]) {
			return nil, fmt.Errorf("%w: filler index %d out of order or outside 0..%d", ErrCorrupt, f, len(gaps)-1)
		}
	}
	if len(fillers) > 0 && fillers[len(fillers)-1] == len(gaps)-1 {
		return nil, fmt.Errorf("%w: filler after the last survivor", ErrCorrupt)
	}
	span := uint64(Span(bits))
	pos := make([]uint32, 0, len(gaps)-len(fillers))
	cur := uint64(0)
	f := 0 // next filler
	for i, g := range gaps {
		lo := uint64(1)
		if i == 0 {
			lo = 0
		}
		if uint64(g) < lo || uint64(g) > span {
			return nil, fmt.Errorf("%w: entry %d has gap %d outside %d..%d", ErrCorrupt, i, g, lo, span)
		}
		cur += uint64(g)
		if f < len(fillers) && fillers[f] == i {
			if uint64(g) != span {
				return nil, fmt.Errorf("%w: filler entry %d has gap %d, want %d", ErrCorrupt, i, g, span)
			}
			f++
			continue
		}
		if cur >= uint64(n) {
			return nil, fmt.Errorf("%w: entry %d at position %d outside 0..%d", ErrCorrupt, i, cur, n-1)
		}
		pos = append(pos, uint32(cur))
	}
	return pos, nil
}
