package engine

// Multidirectional (numpy) broadcasting, shared by every elementwise binary
// operator and by the reductions.
//
// Shapes are aligned on their last dimension; a missing leading dimension
// counts as 1, and each dimension of the result is the size the operands
// agree on, a size-1 operand dimension being repeated:
//
//	out[i0,...,ik] = f(a[i0 mod A0, ...], b[i0 mod B0, ...]).
//
// An iteration over the result is planned once per compiled shape: size-1
// result dimensions are dropped, and adjacent dimensions along which every
// operand is laid out alike (all contiguous, or all repeated) are merged.
// What remains is an outer loop over "rows" and an inner loop over the last
// merged dimension, along which each operand is either contiguous (stride
// 1) or repeated (stride 0): the same-shape case is one row, the
// squeeze-excitation product [N,C,1,1]*[N,C,H,W] is N*C rows of a scalar
// times H*W values, a bias [C,1,1] added to [N,C,H,W] is N*C rows of a
// scalar plus a vector.

import (
	"fmt"
	"math"
)

// bcastMaxOps is the most operands one plan iterates (Where has three).
const bcastMaxOps = 3

// bcastShapes returns the broadcast of the given shapes, or an error
// naming them when two disagree on a dimension or the result's size
// overflows.
func bcastShapes(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for d := range out {
		out[d] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for d, n := range s {
			switch {
			case n < 0:
				return nil, fmt.Errorf("negative dimension in shape %s", ShapeString(s))
			case n == out[off+d] || n == 1:
			case out[off+d] == 1:
				out[off+d] = n
			default:
				return nil, fmt.Errorf("shapes %s cannot be broadcast together (dimension %d: %d against %d)",
					bcastList(shapes), d-len(s), n, out[off+d])
			}
		}
	}
	if _, err := bcastNumel(out); err != nil {
		return nil, err
	}
	return out, nil
}

func bcastList(shapes [][]int) string {
	s := ""
	for i, sh := range shapes {
		if i > 0 {
			s += " and "
		}
		s += ShapeString(sh)
	}
	return s
}

// bcastNumel is the number of elements of a shape, or an error when it
// overflows.
func bcastNumel(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %s", ShapeString(shape))
		}
		if d > 0 && n > math.MaxInt/d {
			return 0, fmt.Errorf("shape %s has too many elements", ShapeString(shape))
		}
		n *= d
	}
	return n, nil
}

// bcastPlan iterates over a result of shape out for operands of the given
// shapes (each broadcastable to out).
type bcastPlan struct {
	n     int // elements of the result
	nops  int
	inner int // length of the inner loop (1 when the result is empty or a scalar)
	rows  int // number of outer iterations; n == rows*inner
	// outer holds the merged outer dimensions, outermost first, and
	// stride[k][d] operand k's stride along outer dimension d.
	outer  []int
	stride [bcastMaxOps][]int
	// istride[k] is operand k's stride along the inner dimension: 0 or 1.
	istride [bcastMaxOps]int
	// full[k] reports that operand k has the result's shape (no
	// broadcasting): element i of the result reads element i of it.
	full [bcastMaxOps]bool
	// distinct[k] reports that different rows read disjoint parts of
	// operand k (no zero stride among the outer dimensions), so that
	// rows accumulating into it may run in parallel.
	distinct [bcastMaxOps]bool
}

// newBcastPlan plans the iteration; out must be the broadcast of ins (see
// bcastShapes), at most bcastMaxOps operands.
func newBcastPlan(out []int, ins ...[]int) *bcastPlan {
	p := &bcastPlan{nops: len(ins)}
	p.n = 1
	for _, d := range out {
		p.n *= d
	}
	// Per result dimension (size > 1), each operand's stride.
	type dim struct {
		size int
		st   [bcastMaxOps]int
	}
	var dims []dim
	var acc [bcastMaxOps]int
	for k, s := range ins {
		acc[k] = 1
		n := 1
		for _, d := range s {
			n *= d
		}
		p.full[k] = n == p.n
	}
	for d := len(out) - 1; d >= 0; d-- {
		var dm dim
		dm.size = out[d]
		for k, s := range ins {
			j := d - (len(out) - len(s))
			if j >= 0 && s[j] == out[d] {
				dm.st[k] = acc[k]
				acc[k] *= s[j]
			}
		}
		if dm.size != 1 {
			dims = append(dims, dm) // innermost first
		}
	}
	// Merge dims[i+1] (outer) into dims[i] (inner) when every operand
	// continues contiguously or stays repeated.
	var merged []dim
	for _, dm := range dims {
		if len(merged) > 0 {
			last := &merged[len(merged)-1]
			ok := true
			for k := range ins {
				if dm.st[k] != last.st[k]*last.size {
					ok = false
					break
				}
			}
			if ok {
				last.size *= dm.size
				continue
			}
		}
		merged = append(merged, dm)
	}
	p.inner = 1
	if len(merged) > 0 && p.n > 0 {
		in := merged[0]
		p.inner = in.size
		for k := range ins {
			p.istride[k] = in.st[k]
		}
		merged = merged[1:]
	}
	p.rows = 0
	if p.inner > 0 {
		p.rows = p.n / p.inner
	}
	p.outer = make([]int, len(merged))
	for k := range ins {
		p.stride[k] = make([]int, len(merged))
		p.distinct[k] = true
	}
	for d := range merged {
		dm := merged[len(merged)-1-d]
		p.outer[d] = dm.size
		for k := range ins {
			p.stride[k][d] = dm.st[k]
			if dm.st[k] == 0 {
				p.distinct[k] = false
			}
		}
	}
	return p
}

// offsets returns each operand's offset at the start of row r.
func (p *bcastPlan) offsets(r int) (off [bcastMaxOps]int) {
	for d := len(p.outer) - 1; d >= 0 && r > 0; d-- {
		sz := p.outer[d]
		q := r % sz
		r /= sz
		if q == 0 {
			continue
		}
		for k := 0; k < p.nops; k++ {
			off[k] += q * p.stride[k][d]
		}
	}
	return off
}

// bcastGrain is the least number of elements worth handing to another
// worker in an elementwise loop.
const bcastGrain = 1 << 14

// rowGrain is the least number of rows per worker so that a part holds
// about bcastGrain elements.
func (p *bcastPlan) rowGrain() int { return max(1, bcastGrain/max(p.inner, 1)) }
