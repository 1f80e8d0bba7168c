package cabac

import "math/bits"

// The profile byte that starts every stream selects the adaptation rates
// and context sets (see the package documentation):
//
//	bits 0-1  rate pair of the significance contexts, an index into rateTable
//	bits 2-3  rate pair of the index contexts
//	bit 4     significance contexts also see the left and upper neighbours
//	bit 5     index contexts also see the left neighbour (treeBase)
//	bit 6     the gap profile (freq.go): bits 0-5 zero
//	bit 7     zero
const (
	profNeighbours = 1 << 4
	profPrevClass  = 1 << 5
	profReserved   = 0x80
)

// rateTable holds the (fast, slow) adaptation shifts a profile may choose:
// from quickly adapting (windows of about 8 and 128 bins), which trained
// layers prefer, to nearly static (128 and 2048 bins), which pays on big
// layers whose statistics do not drift.
var rateTable = [4]rates{{3, 7}, {4, 7}, {5, 8}, {7, 11}}

// colBuckets is the number of classes of a column's density so far: half
// octaves of (2c+1)/(2r+2) for c non-zeros in the r rows above, from 1
// down to 2^-5.5, the last class holding everything sparser.
const colBuckets = 12

// treeMax is the most index bits coded with contexts (a binary tree of
// 2^treeMax-1 contexts); lower bits of wider indices are bypass bins.
const treeMax = 8

// colState is what the model remembers of a column: its non-zeros so far
// and 1 + the row of its last non-zero (0 for none).
type colState struct{ count, last uint32 }

// model is the context model of one tensor, shared by the encoder, the
// decoder and the cost counter, which must step it identically.
type model struct {
	rows, cols, m int
	prof          byte
	sr, ir        rates // rates of the significance and index contexts
	nbits, tbits  int   // index bits; those coded by the context tree
	sig           []state
	tree          []state
	col           []colState
	tab           []uint8 // classTable's buffer
}

func (md *model) reset(rows, cols, m int, prof byte) {
	md.rows, md.cols, md.m, md.prof = rows, cols, m, prof
	md.sr, md.ir = rateTable[prof&3], rateTable[prof>>2&3]
	md.nbits = 0
	if m > 1 {
		md.nbits = bits.Len(uint(m - 1))
	}
	md.tbits = min(md.nbits, treeMax)
	nsig := colBuckets
	if prof&profNeighbours != 0 {
		nsig *= 3
	}
	ntree := 1 << md.tbits
	if prof&profPrevClass != 0 {
		ntree *= 5
	}
	md.sig = fill(md.sig, nsig)
	md.tree = fill(md.tree, ntree)
	if cap(md.col) < cols {
		md.col = make([]colState, cols)
	}
	md.col = md.col[:cols]
	clear(md.col)
}

func fill(s []state, n int) []state {
	if cap(s) < n {
		s = make([]state, n)
	}
	s = s[:n]
	for i := range s {
		s[i] = newState()
	}
	return s
}

// rowScale is 2^32/(2r+2) for row r: a column's density class is then
// found with a multiplication.
func rowScale(r int) uint64 { return (1 << 32) / (2*uint64(r) + 2) }

// colClass maps a column with count non-zeros in the rows above to its
// density class: 0 for the densest, colBuckets-1 for the sparsest.
func colClass(count uint32, scale uint64) int {
	q := uint32((2*uint64(count) + 1) * scale >> 16) // (2c+1)/(2r+2) in units of 2^-16
	lg := bits.Len32(q)
	b := 2 * lg
	if lg >= 2 {
		b += int(q>>uint(lg-2)) & 1
	}
	return min(33-b, colBuckets-1)
}

// classTable returns the density class of every count 0..r of row r
// (colClass), or nil when the row is too short to pay for the table.
func (md *model) classTable(r int, scale uint64) []uint8 {
	if r+1 > 2*md.cols {
		return nil
	}
	if cap(md.tab) < r+1 {
		md.tab = make([]uint8, r+1, max(2*(r+1), 64))
	}
	t := md.tab[:r+1]
	for c := range t {
		t[c] = uint8(colClass(uint32(c), scale))
	}
	return t
}

// class is the class a coded index gives the next one if that is its
// right neighbour: the top two of its context-coded bits.
func (md *model) class(top uint32) int {
	if md.tbits > 2 {
		return int(top >> uint(md.tbits-2))
	}
	return int(top)
}

// treeBase is the first context of the tree that codes an index: with the
// previous-class profile bit, tree c (0..3) when the left neighbour in the
// row is kept and its index has class c, tree 4 when it is pruned (weights
// side by side, as neighbouring pixels' weights are, tend to be alike);
// otherwise the one tree.
func (md *model) treeBase(left, last int) int {
	switch {
	case md.prof&profPrevClass == 0:
		return 0
	case left == 0:
		return 4 << uint(md.tbits)
	}
	return last << uint(md.tbits)
}

// sink receives the bins of run: the cost counter of Bound. (The coder
// loops, Encoder.run and Decoder.run, are this function with the range
// coder inlined; TestSpec and the golden streams keep the three alike.)
type sink interface {
	sigBin(s *state, bit uint32, r rates)
	idxBin(s *state, bit uint32, r rates)
	bypass(v uint32, n int)
}

// run codes the first limit positions of the tensor (pos, idx) into s. The
// caller has validated the input.
func run[S sink](md *model, s S, pos []uint32, idx []uint16, limit uint64) {
	if md.m == 0 {
		return
	}
	nbr := md.prof&profNeighbours != 0
	last := 0 // class of the last index coded
	bbits := md.nbits - md.tbits
	p := 0
	next := uint64(1) << 63
	if len(pos) > 0 {
		next = uint64(pos[0])
	}
	flat := uint64(0)
	for i := 0; i < md.rows; i++ {
		scale := rowScale(i)
		tab := md.classTable(i, scale)
		left := 0
		row := uint32(i)
		for j := range md.cols {
			if flat >= limit {
				return
			}
			cs := &md.col[j]
			var ctx int
			if tab != nil {
				ctx = int(tab[cs.count])
			} else {
				ctx = colClass(cs.count, scale)
			}
			if nbr {
				above := 0
				if cs.last == row && row > 0 {
					above = 1
				}
				ctx = ctx*3 + left + above
			}
			if flat != next {
				s.sigBin(&md.sig[ctx], 0, md.sr)
				left = 0
				flat++
				continue
			}
			s.sigBin(&md.sig[ctx], 1, md.sr)
			tbase := md.treeBase(left, last)
			left = 1
			cs.count++
			cs.last = row + 1
			v := uint32(idx[p])
			top := v >> uint(bbits)
			node := 1
			for b := md.tbits - 1; b >= 0; b-- {
				bit := top >> uint(b) & 1
				s.idxBin(&md.tree[tbase+node], bit, md.ir)
				node = node<<1 | int(bit)
			}
			if bbits > 0 {
				s.bypass(v, bbits)
			}
			last = md.class(top)
			p++
			if p < len(pos) {
				next = uint64(pos[p])
			} else {
				next = 1 << 63
			}
			flat++
		}
	}
}
