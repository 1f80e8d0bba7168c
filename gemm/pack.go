package gemm

// Packing copies a block of op(A) or op(B) into the panel layout the
// micro-kernels read: a panel of width w (mr rows of A, or nr columns of B)
// is stored k-major, dst[p*w+r], so each k step of the kernel reads w
// consecutive floats. Transposition happens here, alpha is folded into A,
// and rows or columns past the edge of the matrix are zero so that the
// kernel never needs to know about edges.

// packA packs rows ic..ic+mcur and columns pc..pc+kc of op(A), scaled by
// alpha, into mr-row panels.
func (kn *kernel) packA(dst []float32, p *problem, ic, mcur, pc, kc int) {
	mr := kn.mr
	for i0 := 0; i0 < mcur; i0 += mr {
		h := min(mr, mcur-i0)
		panel := dst[i0*kc : (i0+mr)*kc]
		if p.transA {
			// op(A)[i][q] = a[q*lda+i]: each k step is a contiguous run.
			kn.packRows(panel, p.a, pc*p.lda+ic+i0, p.lda, kc, h, mr, p.alpha)
		} else {
			// op(A)[i][q] = a[i*lda+q]: each panel row is a contiguous run.
			kn.packLines(panel, p.a, (ic+i0)*p.lda+pc, p.lda, h, kc, mr, p.alpha)
		}
	}
}

// packB packs rows pc..pc+kc and columns jc..jc+ncur of op(B) into nr-column
// panels.
func (kn *kernel) packB(dst []float32, p *problem, pc, kc, jc, ncur int) {
	nr := kn.nr
	j0 := 0
	if !p.transB {
		// Full panels row by row, so that B is read sequentially.
		j0 = ncur / nr * nr
		kn.spreadRows(dst, p.b, pc*p.ldb+jc, p.ldb, kc, j0/nr, nr)
	}
	for ; j0 < ncur; j0 += nr {
		w := min(nr, ncur-j0)
		panel := dst[j0*kc : (j0+nr)*kc]
		if p.transB {
			// op(B)[q][j] = b[j*ldb+q]: each panel column is a contiguous run.
			kn.packLines(panel, p.b, (jc+j0)*p.ldb+pc, p.ldb, w, kc, nr, 1)
		} else {
			// op(B)[q][j] = b[q*ldb+j]: each k step is a contiguous run.
			kn.packRows(panel, p.b, pc*p.ldb+jc+j0, p.ldb, kc, w, nr, 1)
		}
	}
}

// packFunc is the type of packRowsGo and packLinesGo and their faster
// versions for particular CPUs.
type packFunc func(panel, src []float32, off, ld, n1, n2, width int, scale float32)

// packRowsGo fills panel[q*width+r] = scale*src[off+q*ld+r] for q < kc,
// r < w, and zero for w <= r < width.
func packRowsGo(panel, src []float32, off, ld, kc, w, width int, scale float32) {
	for q := 0; q < kc; q++ {
		d := panel[q*width : q*width+width]
		s := src[off+q*ld : off+q*ld+w]
		if scale == 1 {
			copy(d, s)
		} else {
			for r, v := range s {
				d[r] = scale * v
			}
		}
		clear(d[w:])
	}
}

// spreadRowsGo packs panels full nr-column panels at once:
// dst[j*kc*nr+q*nr+c] = src[off+q*ld+j*nr+c] for q < kc, j < panels,
// c < nr. It reads each row of the source block once, front to back.
func spreadRowsGo(dst, src []float32, off, ld, kc, panels, nr int) {
	for q := 0; q < kc; q++ {
		row := src[off+q*ld : off+q*ld+panels*nr]
		for j := 0; j < panels; j++ {
			copy(dst[j*kc*nr+q*nr:j*kc*nr+q*nr+nr], row[j*nr:j*nr+nr])
		}
	}
}

// packLinesGo fills panel[q*width+r] = scale*src[off+r*ld+q] for q < kc,
// r < w, and zero for w <= r < width: it transposes w source lines of
// length kc into the panel.
func packLinesGo(panel, src []float32, off, ld, w, kc, width int, scale float32) {
	transposeLines(panel, src, off, ld, 0, w, 0, kc, width, scale)
	zeroColumns(panel, w, width, kc)
}

// transposeLines sets panel[q*width+r] = scale*src[off+r*ld+q] for
// r0 <= r < r1 and q0 <= q < q1.
func transposeLines(panel, src []float32, off, ld, r0, r1, q0, q1, width int, scale float32) {
	r := r0
	for ; r+4 <= r1; r += 4 {
		l0 := src[off+r*ld+q0 : off+r*ld+q1]
		l1 := src[off+(r+1)*ld+q0 : off+(r+1)*ld+q1]
		l2 := src[off+(r+2)*ld+q0 : off+(r+2)*ld+q1]
		l3 := src[off+(r+3)*ld+q0 : off+(r+3)*ld+q1]
		l1, l2, l3 = l1[:len(l0)], l2[:len(l0)], l3[:len(l0)]
		for i := range l0 {
			q := q0 + i
			d := panel[q*width+r : q*width+r+4]
			d[0] = scale * l0[i]
			d[1] = scale * l1[i]
			d[2] = scale * l2[i]
			d[3] = scale * l3[i]
		}
	}
	for ; r < r1; r++ {
		l := src[off+r*ld+q0 : off+r*ld+q1]
		for i, v := range l {
			panel[(q0+i)*width+r] = scale * v
		}
	}
}

// zeroColumns clears columns w..width of the kc rows of panel.
func zeroColumns(panel []float32, w, width, kc int) {
	if w == width {
		return
	}
	for q := 0; q < kc; q++ {
		clear(panel[q*width+w : q*width+width])
	}
}
