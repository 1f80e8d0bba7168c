package gemm

import (
	"sync"
	"unsafe"
)

// microKernel computes one mr x nr tile of C from packed panels:
//
//	C[r][j] = sum_{p<k} a[p*mr+r] * b[p*nr+j] + beta*C[r][j]
//
// with C row-major, leading dimension ldc; C is not read when beta is 0.
// k is at least 1.
type microKernel func(k int, a, b, c *float32, ldc int, beta float32)

// kernel is a micro-kernel with the block sizes that suit it.
//
// The loops are those of BLIS: C is cut into column blocks of nc, the k
// dimension into slices of kc, and for each slice the kc x nc block of op(B)
// is packed into nr-column panels (kept in L2/L3 and reused by every row
// block); op(A) is cut into row blocks of mc packed into mr-row panels (an
// mc x kc block stays in L2), and the micro-kernel sweeps the tiles, each
// kc x nr panel of B staying in L1 while it meets every panel of A.
type kernel struct {
	name       string
	mr, nr     int
	kc, mc, nc int // upper bounds; actual blocks are split evenly
	micro      microKernel
	// microInd is micro's indirect twin (nil: indirectGo).
	microInd indirectKernel
	// packRows and packLines pack panels (see pack.go).
	packRows, packLines packFunc
	spreadRows          func(dst, src []float32, off, ld, kc, panels, nr int)
}

// maxTile bounds mr*nr over all kernels: the size of the edge-tile buffer.
const maxTile = 16 * 32

// buffers are one goroutine's packing space, reused across calls through
// bufPool so that a steady-state product allocates nothing.
type buffers struct {
	a, b []float32
	tile [maxTile]float32
}

var bufPool = sync.Pool{New: func() any { return new(buffers) }}

// grow returns a slice of n floats aligned to 64 bytes, reusing *s.
func grow(s *[]float32, n int) []float32 {
	const align = 16 // floats in 64 bytes
	if cap(*s) < n+align {
		*s = make([]float32, n+align)
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(*s)))%64) / 4
	if off != 0 {
		off = align - off
	}
	return (*s)[off : off+n]
}

// gemm computes the product, splitting it across goroutines if parallel.
func (kn *kernel) gemm(p *problem, parallel bool) {
	if p.m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 || p.alpha == 0 {
		scaleC(p)
		return
	}
	if parallel && kn.parallelize(p) {
		return
	}
	buf := bufPool.Get().(*buffers)
	kn.serial(p, buf)
	bufPool.Put(buf)
}

// scaleC sets C = beta*C, writing zeros without reading C when beta is 0.
func scaleC(p *problem) {
	for i := 0; i < p.m; i++ {
		row := p.c[i*p.ldc : i*p.ldc+p.n]
		if p.beta == 0 {
			clear(row)
			continue
		}
		if p.beta == 1 {
			continue
		}
		for j := range row {
			row[j] *= p.beta
		}
	}
}

// serial computes the whole product on the calling goroutine.
func (kn *kernel) serial(p *problem, buf *buffers) {
	mr, nr := kn.mr, kn.nr
	kc := evenBlock(p.k, kn.kc, 1)
	mc := evenBlock(p.m, kn.mc, mr)
	nc := evenBlock(p.n, kn.nc, nr)
	ap := grow(&buf.a, roundUp(min(mc, p.m), mr)*kc)
	bp := grow(&buf.b, roundUp(min(nc, p.n), nr)*kc)
	for jc := 0; jc < p.n; jc += nc {
		ncur := min(nc, p.n-jc)
		for pc := 0; pc < p.k; pc += kc {
			kcur := min(kc, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1
			}
			kn.packB(bp, p, pc, kcur, jc, ncur)
			for ic := 0; ic < p.m; ic += mc {
				mcur := min(mc, p.m-ic)
				kn.packA(ap, p, ic, mcur, pc, kcur)
				kn.macro(kcur, mcur, ncur, ap, bp, p.c[ic*p.ldc+jc:], p.ldc, beta, &buf.tile)
			}
		}
	}
}

// macro runs the micro-kernel over an mcur x ncur block of C from packed
// blocks ap (mcur rows, in mr-row panels) and bp (ncur columns, in nr-column
// panels). Tiles that stick out of C are computed into tile and then merged.
func (kn *kernel) macro(kc, mcur, ncur int, ap, bp, c []float32, ldc int, beta float32, tile *[maxTile]float32) {
	mr, nr := kn.mr, kn.nr
	for jr := 0; jr < ncur; jr += nr {
		w := min(nr, ncur-jr)
		b := &bp[jr*kc]
		for ir := 0; ir < mcur; ir += mr {
			h := min(mr, mcur-ir)
			a := &ap[ir*kc]
			if h == mr && w == nr {
				kn.micro(kc, a, b, &c[ir*ldc+jr], ldc, beta)
				continue
			}
			kn.micro(kc, a, b, &tile[0], nr, 0)
			mergeTile(c[ir*ldc+jr:], ldc, tile[:mr*nr], nr, h, w, beta)
		}
	}
}

// mergeTile sets the h x w corner of C to tile + beta*C.
func mergeTile(c []float32, ldc int, tile []float32, nr, h, w int, beta float32) {
	for i := 0; i < h; i++ {
		dst := c[i*ldc : i*ldc+w]
		src := tile[i*nr : i*nr+w]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = v + beta*dst[j]
		}
	}
}

// evenBlock splits total into the fewest blocks of at most limit and returns
// the block size, rounded up to a multiple of unit, that makes them even.
// Even blocks avoid a thin last block (k = 784 as 4 x 196, not 3 x 256 + 16).
func evenBlock(total, limit, unit int) int {
	limit = max(unit, limit/unit*unit)
	nblocks := (total + limit - 1) / limit
	return roundUp((total+nblocks-1)/nblocks, unit)
}

func roundUp(x, unit int) int { return (x + unit - 1) / unit * unit }
