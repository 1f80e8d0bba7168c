package infer

import (
	"runtime"
	"sort"

	"github.com/deepcompress/deepcompress/internal/parallel"
)

// minPartWork is the least work, in entry-vectors (an entry times its
// 16-lane vectors), worth handing to another goroutine: waking a helper
// and waiting for it costs a few microseconds, about 10,000 entries of
// the batch-1 kernel.
const minPartWork = 16 << 10

// product is one sparse product Y = b + W*X over a row range, with
// everything the kernels need; it lives in the caller's scratch so that
// handing it to a helper allocates nothing.
type product struct {
	w     *sharedMatrix
	x     []float32
	ldx   int
	lanes int
	b, y  []float32
	ldy   int
	relu  bool
}

func (p *product) run(r0, r1 int) {
	if p.lanes == 1 && p.ldx == 1 && p.ldy == 1 {
		spmv(p.w, p.x, p.b, p.y, r0, r1, p.relu)
	} else {
		spmm(p.w, p.x, p.ldx, p.lanes, p.b, p.y, p.ldy, r0, r1, p.relu)
	}
}

// work is the cost estimate of the whole product in entry-vectors.
func (p *product) work() int {
	return p.w.entries() * ((p.lanes + 15) / 16)
}

// rowSplit is the scratch of a product split among the shared worker
// pool (internal/parallel): the parts' row bounds, and the loop over parts
// bound once, so that a prediction allocates nothing.
type rowSplit struct {
	p      *product
	bounds []int // part i is rows bounds[i]..bounds[i+1]
	run    func(lo, hi int)
}

func (s *rowSplit) runParts(lo, hi int) {
	for i := lo; i < hi; i++ {
		s.p.run(s.bounds[i], s.bounds[i+1])
	}
}

// runProduct computes p over all rows, splitting the rows among the
// calling goroutine and the idle workers of the shared pool when the
// product is large enough (a part no worker takes at once is computed by
// the caller, so concurrent predictions never queue behind each other).
// Rows are split so that each part holds about as many entries.
func runProduct(p *product, s *rowSplit) {
	rows := p.w.rows
	parts := min(runtime.GOMAXPROCS(0), p.work()/minPartWork, rows)
	if parts < 2 {
		p.run(0, rows)
		return
	}
	total := p.w.entries()
	s.bounds = s.bounds[:0]
	for i := range parts {
		want := uint32(total * i / parts)
		s.bounds = append(s.bounds, sort.Search(rows, func(r int) bool { return p.w.rowPtr[r] >= want }))
	}
	s.bounds = append(s.bounds, rows)
	if s.run == nil {
		s.run = s.runParts
	}
	s.p = p
	parallel.For(parts, 1, s.run)
	s.p = nil
}
