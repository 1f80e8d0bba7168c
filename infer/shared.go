package infer

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/quantize"
)

// maxGap is the largest column step one entry makes. A longer step takes
// filler entries: step maxGap, weight zero, as the filler zeros of the
// paper's relative indexing (figure 2).
const maxGap = 255

// narrowCodebook is the most codebook entries the two-byte entry form
// holds when the matrix needs fillers: the index must fit a byte, and one
// more slot holds the zero that fillers point at. Without fillers it holds
// 256, as 8-bit convolution layers usually need none.
const narrowCodebook = 255

// sharedMatrix is a pruned, weight-shared matrix W [rows, cols] in the form
// the kernels run on, built once at load time and never expanded.
//
// Row r owns the entries rowPtr[r] to rowPtr[r+1]-1. An entry packs the
// column step (1..255, the low byte) and the codebook index (the bits
// above). A column cursor starts at -1 on every row; each entry moves it
// on by its step and adds codebook[index] * x[cursor]. Fillers use the
// index of the zero slot that follows the real codebook entries, so every
// kernel treats them like survivors and no loop needs a branch for them.
//
// With a codebook of up to 255 entries, as every b <= 7 bit layer and
// most 8-bit ones have, an entry is a uint16: a survivor costs two bytes,
// against four for a dense float32 weight of which 92% are zeros, and six
// for a CSR value and column. The codebook, at most 256 floats, stays in
// L1 or in registers.
type sharedMatrix struct {
	rows, cols int
	rowPtr     []uint32
	ent        []uint16  // gap | index<<8, codebooks of up to 255 entries
	wide       []uint32  // gap | index<<8, larger codebooks
	codebook   []float32 // the shared values, then a zero for the fillers
	survivors  int       // entries that are not fillers
}

// newSharedMatrix converts a pruned, weight-shared tensor, viewed as
// rows x cols (a conv weight [outC, inC, kh, kw] is outC x inC*kh*kw), to
// the per-row form. The layer must be valid (quantize.Layer.Validate).
func newSharedMatrix(l *quantize.Layer, rows, cols int) (*sharedMatrix, error) {
	n := uint64(rows) * uint64(cols)
	if rows <= 0 || cols <= 0 || n > math.MaxUint32+1 || uint64(arch.Numel(l.Shape)) != n {
		return nil, fmt.Errorf("infer: layer %s: shape %s is not a %d x %d matrix", l.Name, budget.Shape(l.Shape), rows, cols)
	}
	entries := countEntries(l.Pos, cols)
	if entries > math.MaxUint32 {
		return nil, fmt.Errorf("infer: layer %s: %d entries exceed 2^32", l.Name, entries)
	}
	ncb := len(l.Codebook)
	m := &sharedMatrix{
		rows: rows, cols: cols,
		rowPtr:    make([]uint32, rows+1),
		codebook:  make([]float32, ncb+1),
		survivors: len(l.Pos),
	}
	copy(m.codebook, l.Codebook)
	if ncb <= narrowCodebook || ncb == narrowCodebook+1 && entries == len(l.Pos) {
		m.ent = make([]uint16, entries)
	} else {
		m.wide = make([]uint32, entries)
	}
	put := func(e int, gap, idx uint32) {
		if m.ent != nil {
			m.ent[e] = uint16(gap | idx<<8)
		} else {
			m.wide[e] = gap | idx<<8
		}
	}
	e, k := 0, 0
	for r := range rows {
		m.rowPtr[r] = uint32(e)
		end := uint64(r+1) * uint64(cols)
		cur := -1
		for ; k < len(l.Pos) && uint64(l.Pos[k]) < end; k++ {
			c := int(uint64(l.Pos[k]) - uint64(r)*uint64(cols))
			for c-cur > maxGap {
				put(e, maxGap, uint32(ncb))
				cur += maxGap
				e++
			}
			put(e, uint32(c-cur), uint32(l.Idx[k]))
			cur = c
			e++
		}
	}
	m.rowPtr[rows] = uint32(e)
	return m, nil
}

// countEntries is the number of survivors plus fillers of pos, a valid
// ascending position list of a matrix with cols columns.
func countEntries(pos []uint32, cols int) int {
	n := len(pos)
	prevRow, cur := -1, -1
	for _, p := range pos {
		r, c := int(p)/cols, int(p)%cols
		if r != prevRow {
			prevRow, cur = r, -1
		}
		if g := c - cur; g > maxGap {
			n += (g - 1) / maxGap
		}
		cur = c
	}
	return n
}

// entries is the number of stored entries, survivors and fillers.
func (m *sharedMatrix) entries() int { return int(m.rowPtr[m.rows]) }

// bytes is the memory the matrix holds, for reports.
func (m *sharedMatrix) bytes() int {
	return 4*len(m.rowPtr) + 2*len(m.ent) + 4*len(m.wide) + 4*len(m.codebook)
}

// entry returns the column step and codebook index of entry e.
func (m *sharedMatrix) entry(e int) (gap, idx int) {
	if m.ent != nil {
		return int(m.ent[e] & 0xff), int(m.ent[e] >> 8)
	}
	return int(m.wide[e] & 0xff), int(m.wide[e] >> 8)
}

// dense expands the matrix to row-major float32, for tests and for
// layers that run decoded.
func (m *sharedMatrix) dense() []float32 {
	w := make([]float32, m.rows*m.cols)
	for r := range m.rows {
		cur := -1
		for e := m.rowPtr[r]; e < m.rowPtr[r+1]; e++ {
			gap, idx := m.entry(int(e))
			cur += gap
			if v := m.codebook[idx]; v != 0 {
				w[r*m.cols+cur] = v
			}
		}
	}
	return w
}
