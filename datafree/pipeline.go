package datafree

import (
	"context"
	"fmt"
	"sync"
)

// budget bounds the work in flight: the sum of the estimated bytes of the
// tensors admitted and not yet written, and their number. A tensor costing
// more than the whole byte budget is admitted alone.
type budget struct {
	mu        sync.Mutex
	cond      sync.Cond
	bytes     int64 // capacity
	tensors   int
	used      int64
	inFlight  int
	aborted   bool
	peakUsed  int64
	peakCount int
	// ctx, if set, stops the run: no item is admitted once it is done.
	ctx context.Context
}

func newBudget(bytes int64, tensors int) *budget {
	b := &budget{bytes: bytes, tensors: tensors}
	b.cond.L = &b.mu
	return b
}

// clamp is the cost charged for a tensor estimated at cost bytes.
func (b *budget) clamp(cost int64) int64 { return min(max(cost, 1), b.bytes) }

// acquire waits until cost fits, and reports false if the run was aborted.
func (b *budget) acquire(cost int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.aborted && (b.used+cost > b.bytes || b.inFlight >= b.tensors) {
		b.cond.Wait()
	}
	if b.aborted {
		return false
	}
	b.used += cost
	b.inFlight++
	b.peakUsed = max(b.peakUsed, b.used)
	b.peakCount = max(b.peakCount, b.inFlight)
	return true
}

func (b *budget) release(cost int64) {
	b.mu.Lock()
	b.used -= cost
	b.inFlight--
	b.mu.Unlock()
	b.cond.Broadcast()
}

// stopped is the error of a run whose context is done, else nil.
func (b *budget) stopped() error {
	if b.ctx == nil || b.ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("datafree: stopped before the next tensor: %w", b.ctx.Err())
}

func (b *budget) abort() {
	b.mu.Lock()
	b.aborted = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// stages are the three steps of an ordered pipeline over n items. admit
// runs in item order on one goroutine once the item's cost fits the
// budget (reading a section of a sequential file, say), work on any of the
// workers, emit in item order on the caller's goroutine.
type stages[J, R any] struct {
	n       int
	workers int
	cost    func(i int) int64
	admit   func(i int) (J, error)
	work    func(i int, job J) (R, error)
	emit    func(i int, res R) error
}

type indexed[T any] struct {
	i int
	v T
}

// run executes the pipeline and returns the first error. Items are
// admitted in order, so the next item to emit is always admitted before
// any later one holds budget: the pipeline cannot deadlock. Once b's
// context is done no item is admitted, the items in work finish unemitted,
// and run returns an error wrapping the context's.
func (s stages[J, R]) run(b *budget) error {
	var (
		once     sync.Once
		firstErr error
		done     = make(chan struct{})
	)
	fail := func(err error) {
		once.Do(func() {
			firstErr = err
			close(done)
			b.abort()
		})
	}
	if b.ctx != nil { // wake the admitting goroutine when the context ends
		stop := context.AfterFunc(b.ctx, b.abort)
		defer stop()
	}
	costs := make([]int64, s.n)
	jobs := make(chan indexed[J])
	go func() {
		defer close(jobs)
		for i := range s.n {
			costs[i] = b.clamp(s.cost(i))
			if err := b.stopped(); err != nil || !b.acquire(costs[i]) {
				if err := b.stopped(); err != nil {
					fail(err)
				}
				return
			}
			j, err := s.admit(i)
			if err != nil {
				fail(err)
				return
			}
			select {
			case jobs <- indexed[J]{i, j}:
			case <-done:
				return
			}
		}
	}()
	results := make(chan indexed[R], s.workers)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Go(func() {
			for jb := range jobs {
				r, err := s.work(jb.i, jb.v)
				if err != nil {
					fail(err)
					continue
				}
				select {
				case results <- indexed[R]{jb.i, r}:
				case <-done:
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	pending := map[int]R{}
	next := 0
	for res := range results {
		pending[res.i] = res.v
		for {
			v, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			if err := b.stopped(); err != nil {
				fail(err)
			}
			select {
			case <-done: // failed or stopped: drain without emitting
			default:
				if err := s.emit(next, v); err != nil {
					fail(err)
				}
			}
			// costs[next] was set before the item was admitted.
			b.release(costs[next])
			next++
		}
	}
	return firstErr
}
