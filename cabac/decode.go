package cabac

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error the decoders return for a malformed
// stream.
var ErrCorrupt = errors.New("corrupt stream")

// CorruptError reports a malformed stream: what is wrong and the byte
// offset in the stream where it was found (for an arithmetic-coded value,
// the offset of the last byte the decoder had read).
type CorruptError struct {
	Offset int
	What   string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("cabac: corrupt stream at byte %d: %s", e.Offset, e.What)
}

// Unwrap lets errors.Is(err, ErrCorrupt) match.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func corrupt(off int, format string, args ...any) error {
	return &CorruptError{Offset: off, What: fmt.Sprintf(format, args...)}
}

// Decoder decodes streams; it keeps its buffers between calls. The zero
// value is ready to use; a Decoder must not be used concurrently.
type Decoder struct {
	md model
	gm gapModel
	rc decoder
	// the gap profile's coders, their offsets in the stream and their
	// padded copies (Decoder.decodeRuns)
	lanes [gapLanes]decoder
	offs  [gapLanes]int
	bufs  [gapLanes][]byte
	pos   []uint32
	idx   []uint16
}

// DecodeSparse decodes the stream src of a rows x cols tensor with a
// codebook of m entries, all of it, into the ascending positions and
// codebook indices of its non-zeros, appended to pos[:0] and idx[:0]
// (their capacity is reused). Shape and codebook size come from the
// caller, as in the .dcz container; the stream holds neither. Besides
// those, memory is bounded by the number of non-zeros, at most rows*cols.
func (dec *Decoder) DecodeSparse(src []byte, rows, cols, m int, pos []uint32, idx []uint16) ([]uint32, []uint16, error) {
	pos, idx = pos[:0], idx[:0]
	if err := checkShape(rows, cols, m); err != nil {
		return pos, idx, err
	}
	if len(src) == 0 {
		return pos, idx, corrupt(0, "empty stream: no profile byte")
	}
	prof := src[0]
	gaps := prof&profGaps != 0
	if prof&profReserved != 0 || gaps && prof != profGaps {
		return pos, idx, corrupt(0, "profile byte %#02x has reserved bits set", prof)
	}
	body := src[1:]
	// Every bin narrows the range by a factor of at most 65535/65536
	// (2.2e-5 bits), and the decoder reads a byte per 8 bits of narrowing
	// (the range stays in 2^24..2^32), at most 4 of them past the end: b
	// bytes after the profile hold at most (b+1)*363,405 bins, one per
	// position at least. Rejecting more positions than (b+1)*2^19 bounds
	// the work a short stream can cause, as a Huffman block's symbol count
	// is bounded by its bytes.
	// (The gap profile codes runs of pruned positions as one symbol: its
	// loop bounds its symbols by the same count instead.)
	n := uint64(rows) * uint64(cols)
	if !gaps && m > 0 && n > uint64(len(body)+1)<<19 {
		return pos, idx, corrupt(0, "%d bytes cannot hold %d positions", len(src), n)
	}
	if gaps {
		return dec.decodeGaps(src, n, m, pos, idx)
	}
	md := &dec.md
	md.reset(rows, cols, m, prof)
	d := &dec.rc
	if !d.init(body) {
		return pos, idx, corrupt(1, "initial code value outside the range")
	}
	if m > 0 {
		var err error
		if pos, idx, err = dec.run(pos, idx); err != nil {
			return pos, idx, err
		}
	}
	return pos, idx, d.finished(1)
}

// run decodes the bins of every position. It is the model's run (package
// file model.go) with the range decoder inlined: the coder's state lives
// in locals and goes back to dec.rc at the end.
func (dec *Decoder) run(pos []uint32, idx []uint16) ([]uint32, []uint16, error) {
	md := &dec.md
	d := &dec.rc
	src, sp, code, rng := d.src, d.pos, d.code, d.rng
	sr, ir := md.sr, md.ir
	nmul, nmask := 1, 0 // ctx = class*3 + left + above with neighbours, class without
	if md.prof&profNeighbours != 0 {
		nmul, nmask = 3, 3
	}
	tbits := md.tbits
	bbits := md.nbits - md.tbits
	m := uint32(md.m)
	sig, tree, col := md.sig, md.tree, md.col
	last := 0 // class of the last index coded
	flat := uint32(0)
	for i := 0; i < md.rows; i++ {
		scale := rowScale(i)
		tab := md.classTable(i, scale)
		left := 0
		row := uint32(i)
		aboveKey := row // cs.last == aboveKey: the column's last non-zero is in the row above
		if row == 0 {
			aboveKey = 1<<32 - 1
		}
		for j := range col {
			cs := &col[j]
			var ctx int
			if tab != nil {
				ctx = int(tab[cs.count])
			} else {
				ctx = colClass(cs.count, scale)
			}
			above := 0
			if cs.last == aboveKey {
				above = 1
			}
			ctx = ctx*nmul + (left+above)&nmask
			st := &sig[ctx]
			bound := (rng >> 16) * st.p0()
			if code < bound {
				rng = bound
				st.fast += (probOne - st.fast) >> sr.fast
				st.slow += (probOne - st.slow) >> sr.slow
				for rng < topValue {
					rng <<= 8
					code <<= 8
					if uint(sp) < uint(len(src)) {
						code |= uint32(src[sp])
					}
					sp++
				}
				left = 0
				flat++
				continue
			}
			code -= bound
			rng -= bound
			st.fast -= st.fast >> sr.fast
			st.slow -= st.slow >> sr.slow
			for rng < topValue {
				rng <<= 8
				code <<= 8
				if uint(sp) < uint(len(src)) {
					code |= uint32(src[sp])
				}
				sp++
			}
			tbase := md.treeBase(left, last)
			left = 1
			cs.count++
			cs.last = row + 1
			node := 1
			for range tbits {
				st := &tree[tbase+node]
				bound := (rng >> 16) * st.p0()
				if code < bound {
					rng = bound
					st.fast += (probOne - st.fast) >> ir.fast
					st.slow += (probOne - st.slow) >> ir.slow
					node <<= 1
				} else {
					code -= bound
					rng -= bound
					st.fast -= st.fast >> ir.fast
					st.slow -= st.slow >> ir.slow
					node = node<<1 | 1
				}
				for rng < topValue {
					rng <<= 8
					code <<= 8
					if uint(sp) < uint(len(src)) {
						code |= uint32(src[sp])
					}
					sp++
				}
			}
			top := uint32(node) - 1<<uint(tbits)
			v := top
			if bbits > 0 {
				d.pos, d.code, d.rng = sp, code, rng
				v = v<<uint(bbits) | d.bypass(bbits)
				sp, code, rng = d.pos, d.code, d.rng
			}
			if v >= m {
				d.pos, d.code, d.rng = sp, code, rng
				return pos, idx, corrupt(min(sp, len(src))+1, "index %d at position %d outside the codebook of %d", v, flat, m)
			}
			last = md.class(top)
			pos = append(pos, flat)
			idx = append(idx, uint16(v))
			flat++
		}
	}
	d.pos, d.code, d.rng = sp, code, rng
	return pos, idx, nil
}

// DecodeTensor decodes the stream of a dense rows x cols tensor of values
// 0..k-1 (0 for a pruned weight, v for codebook entry v-1), as written by
// EncodeTensor, into dst, which must hold exactly rows*cols values.
func DecodeTensor[S Symbol](src []byte, rows, cols, k int, dst []S) error {
	var dec Decoder
	return decodeDense(&dec, src, rows, cols, k, dst)
}

func decodeDense[S Symbol](dec *Decoder, src []byte, rows, cols, k int, dst []S) error {
	if k < 1 {
		return fmt.Errorf("cabac: alphabet size %d, want at least 1 (the zero)", k)
	}
	var top S
	top--
	if uint64(k-1) > uint64(top) {
		return fmt.Errorf("cabac: alphabet size %d does not fit the destination type", k)
	}
	if err := checkShape(rows, cols, k-1); err != nil {
		return err
	}
	if len(dst) != rows*cols {
		return fmt.Errorf("cabac: destination of %d values for a %d x %d tensor", len(dst), rows, cols)
	}
	var err error
	dec.pos, dec.idx, err = dec.DecodeSparse(src, rows, cols, k-1, dec.pos, dec.idx)
	if err != nil {
		return err
	}
	clear(dst)
	for i, p := range dec.pos {
		dst[p] = S(dec.idx[i] + 1)
	}
	return nil
}
