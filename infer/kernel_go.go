package infer

// The portable kernels. They define the arithmetic the assembly kernels
// reproduce (up to the order of the additions) and run wherever those
// cannot.

// spmvGo computes y[r] = b[r] + sum_e codebook[idx_e] * x[col_e] over the
// entries e of row r, for rows r0 <= r < r1, then max(y[r], 0) when relu
// is set. y and b are indexed by row.
func spmvGo(m *sharedMatrix, x, b, y []float32, r0, r1 int, relu bool) {
	if m.ent != nil {
		spmvRows(m, m.ent, x, b, y, r0, r1, relu)
	} else {
		spmvRows(m, m.wide, x, b, y, r0, r1, relu)
	}
}

func spmvRows[E uint16 | uint32](m *sharedMatrix, ent []E, x, b, y []float32, r0, r1 int, relu bool) {
	cb := m.codebook
	for r := r0; r < r1; r++ {
		row := ent[m.rowPtr[r]:m.rowPtr[r+1]]
		col := -1
		// Four accumulators hide the latency of the additions.
		var s0, s1, s2, s3 float32
		e := 0
		for ; e+3 < len(row); e += 4 {
			c0 := col + int(row[e]&0xff)
			c1 := c0 + int(row[e+1]&0xff)
			c2 := c1 + int(row[e+2]&0xff)
			col = c2 + int(row[e+3]&0xff)
			s0 += cb[row[e]>>8] * x[c0]
			s1 += cb[row[e+1]>>8] * x[c1]
			s2 += cb[row[e+2]>>8] * x[c2]
			s3 += cb[row[e+3]>>8] * x[col]
		}
		for ; e < len(row); e++ {
			col += int(row[e] & 0xff)
			s0 += cb[row[e]>>8] * x[col]
		}
		s := b[r] + ((s0 + s1) + (s2 + s3))
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
	if m.ent != nil {
		spmmRows(m, m.ent, x, ldx, lanes, b, y, ldy, r0, r1, relu)
	} else {
		spmmRows(m, m.wide, x, ldx, lanes, b, y, ldy, r0, r1, relu)
	}
}

func spmmRows[E uint16 | uint32](m *sharedMatrix, ent []E, x []float32, ldx, lanes int, b, y []float32, ldy, r0, r1 int, relu bool) {
	cb := m.codebook
	for r := r0; r < r1; r++ {
		acc := y[r*ldy : r*ldy+lanes]
		for l := range acc {
			acc[l] = b[r]
		}
		col := -1
		for _, v := range ent[m.rowPtr[r]:m.rowPtr[r+1]] {
			col += int(v & 0xff)
			w := cb[v>>8]
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
