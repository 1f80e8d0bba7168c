package infer

// The portable kernels. They define the arithmetic the assembly kernels
// must reproduce (up to the order of the additions) and run wherever those
// are not available.

// spmvGo computes y[r] = b[r] + sum_e codebook[idx_e] * x[col_e] over the
// entries e of row r, for rows r0 <= r < r1, then max(y[r], 0) when relu
// is set. y and b are indexed by row.
func spmvGo(m *sharedMatrix, x, b, y []float32, r0, r1 int, relu bool) {
	if m.idx != nil {
		spmvRows(m, m.idx, x, b, y, r0, r1, relu)
	} else {
		spmvRows(m, m.idx16, x, b, y, r0, r1, relu)
	}
}

func spmvRows[I uint8 | uint16](m *sharedMatrix, idx []I, x, b, y []float32, r0, r1 int, relu bool) {
	cb := m.codebook
	for r := r0; r < r1; r++ {
		lo, hi := m.rowPtr[r], m.rowPtr[r+1]
		gaps, ids := m.gap[lo:hi], idx[lo:hi]
		ids = ids[:len(gaps)]
		col := -1
		var s0, s1 float32
		e := 0
		// Two entries at a time on two accumulators; fillers, which are
		// rare, leave this loop for the one below.
		for ; e+1 < len(gaps); e += 2 {
			g0, g1 := int(gaps[e]), int(gaps[e+1])
			if g0 == filler || g1 == filler {
				break
			}
			c0 := col + g0
			col = c0 + g1
			s0 += cb[ids[e]] * x[c0]
			s1 += cb[ids[e+1]] * x[col]
		}
		for ; e < len(gaps); e++ {
			if gaps[e] == filler {
				col += fillerStep
				continue
			}
			col += int(gaps[e])
			s0 += cb[ids[e]] * x[col]
		}
		s := b[r] + (s0 + s1)
		if relu {
			s = max(s, 0)
		}
		y[r] = s
	}
}

// spmmGo computes Y[r, l] = b[r] + sum_e codebook[idx_e] * X[col_e, l] for
// rows r0 <= r < r1 and lanes 0 <= l < lanes, then max(Y, 0) when relu is
// set. X and Y are row-major with row strides ldx and ldy: each survivor
// scales a whole row of X, the lanes being samples (dense layers) or
// samples times output pixels (convolutions).
func spmmGo(m *sharedMatrix, x []float32, ldx, lanes int, b, y []float32, ldy, r0, r1 int, relu bool) {
	if m.idx != nil {
		spmmRows(m, m.idx, x, ldx, lanes, b, y, ldy, r0, r1, relu)
	} else {
		spmmRows(m, m.idx16, x, ldx, lanes, b, y, ldy, r0, r1, relu)
	}
}

func spmmRows[I uint8 | uint16](m *sharedMatrix, idx []I, x []float32, ldx, lanes int, b, y []float32, ldy, r0, r1 int, relu bool) {
	cb := m.codebook
	for r := r0; r < r1; r++ {
		acc := y[r*ldy : r*ldy+lanes]
		for l := range acc {
			acc[l] = b[r]
		}
		col := -1
		for e := m.rowPtr[r]; e < m.rowPtr[r+1]; e++ {
			if m.gap[e] == filler {
				col += fillerStep
				continue
			}
			col += int(m.gap[e])
			w := cb[idx[e]]
			xs := x[col*ldx : col*ldx+lanes]
			xs = xs[:len(acc)]
			for l, v := range xs {
				acc[l] += w * v
			}
		}
		if relu {
			for l, v := range acc {
				acc[l] = max(v, 0)
			}
		}
	}
}
