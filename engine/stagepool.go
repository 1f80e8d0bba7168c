package engine

import "sync"

// stagePool keeps the staging buffers of a kernel's workers for reuse. A
// buffer comes back as its worker left it: the kernels write only the
// interior of a stage, so its padding stays zero from the first use on.
type stagePool struct {
	mu   sync.Mutex
	free [][]float32
}

// get returns a buffer used before, or a new one of n floats.
func (p *stagePool) get(n int) []float32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := len(p.free); k > 0 {
		s := p.free[k-1]
		p.free = p.free[:k-1]
		return s
	}
	return make([]float32, n)
}

// put gives s back for the next get.
func (p *stagePool) put(s []float32) {
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
}
