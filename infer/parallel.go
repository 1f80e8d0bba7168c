package infer

import (
	"runtime"
	"sort"
	"sync"
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

// task is a helper's share of a product.
type task struct {
	p      *product
	r0, r1 int
	done   *sync.WaitGroup
}

// helpers are GOMAXPROCS-1 goroutines, started on first use, that take
// tasks from an unbuffered channel. A product is split only among helpers
// that are idle at that moment (a send that would block is not made), so
// concurrent predictions never queue behind each other.
var helpers struct {
	once  sync.Once
	tasks chan task
}

func startHelpers() {
	helpers.tasks = make(chan task)
	for range runtime.GOMAXPROCS(0) - 1 {
		go func() {
			for t := range helpers.tasks {
				t.p.run(t.r0, t.r1)
				t.done.Done()
			}
		}()
	}
}

// runProduct computes p over all rows, splitting the rows among the
// calling goroutine and idle helpers when the product is large enough.
// Rows are split so that each part holds about as many entries.
func runProduct(p *product, wg *sync.WaitGroup) {
	rows := p.w.rows
	parts := min(runtime.GOMAXPROCS(0), p.work()/minPartWork, rows)
	if parts < 2 {
		p.run(0, rows)
		return
	}
	helpers.once.Do(startHelpers)
	total := p.w.entries()
	bound := func(i int) int {
		if i == parts {
			return rows
		}
		want := uint32(total * i / parts)
		return sort.Search(rows, func(r int) bool { return p.w.rowPtr[r] >= want })
	}
	r0 := bound(1)
	lo := r0
	for i := 1; i < parts; i++ {
		hi := bound(i + 1)
		wg.Add(1)
		select {
		case helpers.tasks <- task{p, lo, hi, wg}:
		default: // no helper idle: do it here
			wg.Done()
			p.run(lo, hi)
		}
		lo = hi
	}
	p.run(0, r0)
	wg.Wait()
}
