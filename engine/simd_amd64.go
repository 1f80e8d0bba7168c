//go:build amd64 && !purego

package engine

// The assembly kernels of simd_amd64.s: the depthwise convolution's tap
// loop (AVX2+FMA, or AVX-512F) and the forward loops of Relu, Clip,
// HardSigmoid and HardSwish (AVX2). CPUs without AVX2 and FMA keep the Go
// loops.

import "golang.org/x/sys/cpu"

//go:noescape
func dwTapsAVX512(dst *float32, n int, src *float32, offs *int, w *float32, ntaps int, bias float32)

//go:noescape
func dwTapsAVX2(dst *float32, n int, src *float32, offs *int, w *float32, ntaps int, bias float32)

//go:noescape
func reluAVX2(dst, src *float32, n int)

//go:noescape
func clipAVX2(dst, src *float32, n int, lo, hi float32)

//go:noescape
func hardSigmoidAVX2(dst, src *float32, n int, a, b float32)

//go:noescape
func hardSwishAVX2(dst, src *float32, n int, sixth, half float32)

//go:noescape
func copyRowsAVX512(dst *float32, ldd int, src *float32, lds int, rows, w int)

//go:noescape
func copyRowsAVX2(dst *float32, ldd int, src *float32, lds int, rows, w int)

//go:noescape
func gather2AVX512(dst *float32, ldd int, src *float32, lds int, rows, n int)

//go:noescape
func fillAVX512(dst *float32, n int, v float32)

//go:noescape
func fillAVX2(dst *float32, n int, v float32)

var (
	simdAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	simdAVX512 = simdAVX2 && cpu.X86.HasAVX512F
)

// simdWithout512 runs f as on a CPU with AVX2 but not AVX-512 (tests);
// it does nothing on a CPU without AVX-512.
func simdWithout512(f func()) {
	if !simdAVX512 {
		return
	}
	defer func(v int) { simdAVX512, dwVec = true, v }(dwVec)
	simdAVX512, dwVec = false, 8
	f()
}

// dwVec is the vector width of dwTaps: the count of outputs it computes
// is rounded up to a multiple of it; 0 when there is no SIMD kernel.
var dwVec = dwVecWidth()

// dwVecAll lists the vector widths this CPU has kernels for (tests).
func dwVecAll() []int {
	var ws []int
	if simdAVX2 {
		ws = append(ws, 8)
	}
	if simdAVX512 {
		ws = append(ws, 16)
	}
	return ws
}

func dwVecWidth() int {
	switch {
	case simdAVX512:
		return 16
	case simdAVX2:
		return 8
	}
	return 0
}

// dwTaps sets dst[p] = bias + sum_t w[t]*src[p+offs[t]] for every p <
// len(dst) (a multiple of dwVec), each tap added with a fused multiply-add.
func dwTaps(dst, src []float32, offs []int, w []float32, bias float32) {
	n := len(dst)
	if n == 0 {
		return
	}
	if (dwVec != 8 && dwVec != 16) || n%dwVec != 0 || len(offs) == 0 {
		dwTapsGo(dst, src, offs, w, bias)
		return
	}
	w = w[:len(offs)]
	last := 0
	for _, o := range offs {
		last = max(last, o)
		if o < 0 {
			panic("dwTaps: negative offset")
		}
	}
	_ = src[n-1+last] // the last element read
	if dwVec == 16 {
		dwTapsAVX512(&dst[0], n, &src[0], &offs[0], &w[0], len(offs), bias)
		return
	}
	dwTapsAVX2(&dst[0], n, &src[0], &offs[0], &w[0], len(offs), bias)
}

// copyRows sets dst[r*ldd+j] = src[r*lds+j] for r < rows and j < w.
func copyRows(dst []float32, ldd int, src []float32, lds int, rows, w int) {
	if rows <= 0 || w <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+w-1]
	_ = src[(rows-1)*lds+w-1]
	switch {
	case ldd < w || lds < w:
		copyRowsGo(dst, ldd, src, lds, rows, w)
	case simdAVX512:
		copyRowsAVX512(&dst[0], ldd, &src[0], lds, rows, w)
	case simdAVX2:
		copyRowsAVX2(&dst[0], ldd, &src[0], lds, rows, w)
	default:
		copyRowsGo(dst, ldd, src, lds, rows, w)
	}
}

// gather2Rows sets dst[r*ldd+i] = src[r*lds+2i] for r < rows and i < n.
func gather2Rows(dst []float32, ldd int, src []float32, lds int, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+n-1]
	_ = src[(rows-1)*lds+2*n-2]
	if !simdAVX512 || ldd < n || lds < 2*n-1 {
		gather2RowsGo(dst, ldd, src, lds, rows, n)
		return
	}
	gather2AVX512(&dst[0], ldd, &src[0], lds, rows, n)
}

// fillVec sets every element of row to v and reports whether it could
// (false without AVX2: the caller fills).
func fillVec(row []float32, v float32) bool {
	switch {
	case len(row) == 0:
		return true
	case simdAVX512:
		fillAVX512(&row[0], len(row), v)
	case simdAVX2:
		fillAVX2(&row[0], len(row), v)
	default:
		return false
	}
	return true
}

// actSIMD runs the vector loop of an activation over the first multiple
// of 32 elements of x into y and returns how many it did (0 without
// AVX2).
func actSIMD(op unaryOp, x, y []float32, a, b float32) int {
	n := len(x) &^ 31
	if !simdAVX2 || n == 0 {
		return 0
	}
	y = y[:n]
	switch op {
	case unRelu:
		reluAVX2(&y[0], &x[0], n)
	case unClip:
		clipAVX2(&y[0], &x[0], n, a, b)
	case unHardSigmoid:
		hardSigmoidAVX2(&y[0], &x[0], n, a, b)
	case unHardSwish:
		hardSwishAVX2(&y[0], &x[0], n, 1.0/6, 0.5)
	default:
		return 0
	}
	return n
}
