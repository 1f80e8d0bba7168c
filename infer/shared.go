package infer

import (
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/quantize"
)

// filler is the gap byte of an entry that carries no weight: it moves the
// column cursor on by fillerStep, like the filler zeros of the paper's
// relative indexing (figure 2), so that every real gap fits a byte.
const (
	filler     = 0
	fillerStep = 255
)

// cbPad is the least length of the stored codebook: the AVX-512 kernel
// loads 64 entries into four registers and looks them up with permutes.
const cbPad = 64

// sharedMatrix is a pruned, weight-shared matrix W [rows, cols] in the form
// the kernels run on, built once at load time. Row r owns the entries
// rowPtr[r] to rowPtr[r+1]-1. A column cursor starts at -1 for each row;
// entry k moves it on by gap[k] (1..255) and contributes
// codebook[idx[k]] * x[cursor], or, when gap[k] is 0 (a filler), moves it
// on by 255 and contributes nothing. So a survivor costs two bytes, and the
// codebook, at most 2^b floats, stays in registers or L1.
type sharedMatrix struct {
	rows, cols int
	rowPtr     []uint32
	gap        []uint8
	idx        []uint8   // codebook indices when the codebook has at most 256 entries
	idx16      []uint16  // otherwise
	codebook   []float32 // padded with zeros to at least cbPad entries
	ncb        int       // entries in use
	survivors  int       // entries that are not fillers
}

// newSharedMatrix converts a pruned, weight-shared tensor, viewed as
// rows x cols (a conv weight [outC, inC, kh, kw] is outC x inC*kh*kw), to
// the per-row form. The layer must be valid (quantize.Layer.Validate).
func newSharedMatrix(l *quantize.Layer, rows, cols int) (*sharedMatrix, error) {
	if rows*cols == 0 || rows > math.MaxUint32 || len(l.Pos) > math.MaxUint32/2 {
		return nil, fmt.Errorf("infer: layer %s: %d x %d matrix not supported", l.Name, rows, cols)
	}
	entries := countEntries(l.Pos, cols)
	m := &sharedMatrix{
		rows: rows, cols: cols,
		rowPtr:    make([]uint32, rows+1),
		gap:       make([]uint8, entries),
		codebook:  make([]float32, max(cbPad, len(l.Codebook))),
		ncb:       len(l.Codebook),
		survivors: len(l.Pos),
	}
	copy(m.codebook, l.Codebook)
	if m.ncb <= 256 {
		m.idx = make([]uint8, entries)
	} else {
		m.idx16 = make([]uint16, entries)
	}
	e, k := 0, 0
	for r := range rows {
		m.rowPtr[r] = uint32(e)
		end := uint64(r+1) * uint64(cols)
		cur := -1
		for ; k < len(l.Pos) && uint64(l.Pos[k]) < end; k++ {
			c := int(uint64(l.Pos[k]) - uint64(r)*uint64(cols))
			for c-cur > fillerStep {
				cur += fillerStep
				e++ // gap and index stay 0
			}
			m.gap[e] = uint8(c - cur)
			if m.idx != nil {
				m.idx[e] = uint8(l.Idx[k])
			} else {
				m.idx16[e] = l.Idx[k]
			}
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
		if g := c - cur; g > fillerStep {
			n += (g - 1) / fillerStep
		}
		cur = c
	}
	return n
}

// bytes is the memory the matrix holds, for reports.
func (m *sharedMatrix) bytes() int {
	return 4*len(m.rowPtr) + len(m.gap) + len(m.idx) + 2*len(m.idx16) + 4*len(m.codebook)
}

// dense expands the matrix to row-major float32, for tests and for
// layers that run decoded.
func (m *sharedMatrix) dense() []float32 {
	w := make([]float32, m.rows*m.cols)
	for r := range m.rows {
		cur := -1
		for e := m.rowPtr[r]; e < m.rowPtr[r+1]; e++ {
			if m.gap[e] == filler {
				cur += fillerStep
				continue
			}
			cur += int(m.gap[e])
			w[r*m.cols+cur] = m.codebook[m.index(int(e))]
		}
	}
	return w
}

func (m *sharedMatrix) index(e int) int {
	if m.idx != nil {
		return int(m.idx[e])
	}
	return int(m.idx16[e])
}
