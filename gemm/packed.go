package gemm

import (
	"fmt"
	"unsafe"
)

// Products with a constant left operand and an unpacked right one.
//
// A layer applies the same weights A to many inputs, and Sgemm packs A
// again on every call. PackA packs op(A) once, into the mr-row panels the
// micro-kernel reads, each panel holding all k columns:
//
//	data[i*mr*k + p*mr + r] = alpha * op(A)[i*mr + r][p]   (zero past row m)
//
// so that the slice for k-block [pc, pc+kc) of panel i starts at
// i*mr*k + pc*mr. MulIndirect multiplies it by a B that is not packed at
// all: row p of the nr-column panel j is the run b[base + j*nr + offs[p]:]
// of nr floats. When B is an unfolded image (im2col) whose rows are
// shifted copies of input planes, offs[p] is where tap p's shift of its
// plane starts, and the micro-kernel reads the planes in place: no
// unfolding and no packing (the indirect kernels of gen_kernels.go).

// PackedA is an m x k matrix packed for MulIndirect by PackA.
type PackedA struct {
	kn   *kernel
	m, k int
	data []float32
}

// PackA packs alpha*op(A) (m x k; A is k x m when transA) with the
// micro-kernel in use.
func PackA(transA bool, m, k int, alpha float32, a []float32, lda int) *PackedA {
	return packAWith(active, transA, m, k, alpha, a, lda)
}

func packAWith(kn *kernel, transA bool, m, k int, alpha float32, a []float32, lda int) *PackedA {
	rows, cols := m, k
	if transA {
		rows, cols = k, m
	}
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d k=%d", m, k))
	}
	checkMatrix("a", a, rows, cols, lda)
	pa := &PackedA{kn: kn, m: m, k: k, data: make([]float32, roundUp(m, kn.mr)*k)}
	if k == 0 {
		return pa
	}
	p := problem{transA: transA, m: m, k: k, alpha: alpha, a: a, lda: lda}
	for i := 0; i < m; i += kn.mr {
		h := min(kn.mr, m-i)
		panel := pa.data[i*k : (i+kn.mr)*k]
		if transA {
			kn.packRows(panel, p.a, i, p.lda, k, h, kn.mr, alpha)
		} else {
			kn.packLines(panel, p.a, i*p.lda, p.lda, h, k, kn.mr, alpha)
		}
	}
	return pa
}

// Rows is m, the rows of op(A); RowsPadded rounds it up to whole panels:
// the rows of C that MulIndirect writes.
func (pa *PackedA) Rows() int       { return pa.m }
func (pa *PackedA) RowsPadded() int { return roundUp(pa.m, pa.kn.mr) }

// PanelWidth is nr, the columns of C one panel of B covers.
func (pa *PackedA) PanelWidth() int { return pa.kn.nr }

// MulIndirect computes, on the calling goroutine,
//
//	C[i][j*nr + q] = sum_p A[i][p] * b[base + j*nr + offs[p] + q] + beta*C[i][j*nr + q]
//
// for i < RowsPadded() and j < panels, q < nr: A times the panels columns
// of a B whose row p, panel j, is the run of nr floats at base + j*nr +
// offs[p]. len(offs) is k. C is row-major with leading dimension ldc >=
// panels*nr and must hold RowsPadded() rows (the rows past m get
// beta*C). When beta is 0, C is not read. Offsets must be non-negative
// and every run inside b; it panics otherwise, naming the argument.
func (pa *PackedA) MulIndirect(panels int, b []float32, base int, offs []int, beta float32, c []float32, ldc int) {
	kn, k := pa.kn, pa.k
	mr, nr := kn.mr, kn.nr
	if len(offs) != k {
		panic(fmt.Sprintf("gemm: %d offsets for k = %d", len(offs), k))
	}
	if panels <= 0 || pa.m == 0 {
		return
	}
	rows := roundUp(pa.m, mr)
	checkMatrix("c", c, rows, panels*nr, ldc)
	if k == 0 {
		scaleC(&problem{m: rows, n: panels * nr, beta: beta, c: c, ldc: ldc})
		return
	}
	hi := 0
	for _, o := range offs {
		if o < 0 {
			panic(fmt.Sprintf("gemm: negative offset %d", o))
		}
		hi = max(hi, o)
	}
	if base < 0 || base+(panels-1)*nr+hi+nr > len(b) {
		panic(fmt.Sprintf("gemm: runs up to %d past len(b)=%d (base %d, %d panels, largest offset %d)",
			base+(panels-1)*nr+hi+nr, len(b), base, panels, hi))
	}
	kc := evenBlock(k, kn.kc, 1)
	for pc := 0; pc < k; pc += kc {
		kcur := min(kc, k-pc)
		bt := beta
		if pc > 0 {
			bt = 1
		}
		for j := range panels {
			bj := &b[base+j*nr]
			for i := 0; i < rows; i += mr {
				kn.indirect(kcur, &pa.data[i*k+pc*mr], bj, &offs[pc], &c[i*ldc+j*nr], ldc, bt)
			}
		}
	}
}

// indirectKernel is the type of the indirect micro-kernels: microKernel
// with row p of B at b + offs[p].
type indirectKernel func(k int, a, b *float32, offs *int, c *float32, ldc int, beta float32)

// indirect runs kn's indirect micro-kernel, or the portable one.
func (kn *kernel) indirect(k int, a, b *float32, offs *int, c *float32, ldc int, beta float32) {
	if kn.microInd != nil {
		kn.microInd(k, a, b, offs, c, ldc, beta)
		return
	}
	indirectGo(kn.mr, kn.nr, k, a, b, offs, c, ldc, beta)
}

// indirectGo is the portable indirect micro-kernel, for any tile.
func indirectGo(mr, nr, k int, a, b *float32, offs *int, c *float32, ldc int, beta float32) {
	as := unsafe.Slice(a, mr*k)
	os := unsafe.Slice(offs, k)
	hi := 0
	for _, o := range os {
		hi = max(hi, o)
	}
	bs := unsafe.Slice(b, hi+nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	var acc [maxTile]float32
	for p, o := range os {
		row := bs[o : o+nr]
		ap := as[p*mr : p*mr+mr]
		for r, av := range ap {
			t := acc[r*nr : r*nr+nr]
			for q, bv := range row {
				t[q] += av * bv
			}
		}
	}
	for r := range mr {
		dst := cs[r*ldc : r*ldc+nr]
		for q, v := range acc[r*nr : r*nr+nr] {
			if beta != 0 {
				v += beta * dst[q]
			}
			dst[q] = v
		}
	}
}
