//go:build !amd64 || purego

package engine

// Without the assembly kernels of simd_amd64.s the depthwise convolution
// keeps its scalar loops and the activations their Go loops.

// dwVec is 0: there is no vector tap kernel.
var dwVec = 0

// dwVecAll lists the vector widths there are kernels for: none.
func dwVecAll() []int { return nil }

// dwTaps sets dst[p] = bias + sum_t w[t]*src[p+offs[t]] for every p <
// len(dst).
func dwTaps(dst, src []float32, offs []int, w []float32, bias float32) {
	dwTapsGo(dst, src, offs, w, bias)
}

// actSIMD does nothing here: the Go loops compute every element.
func actSIMD(op unaryOp, x, y []float32, a, b float32) int { return 0 }

// copyRows sets dst[r*ldd+j] = src[r*lds+j] for r < rows and j < w.
func copyRows(dst []float32, ldd int, src []float32, lds int, rows, w int) {
	copyRowsGo(dst, ldd, src, lds, rows, w)
}

// gather2Rows sets dst[r*ldd+i] = src[r*lds+2i] for r < rows and i < n.
func gather2Rows(dst []float32, ldd int, src []float32, lds int, rows, n int) {
	gather2RowsGo(dst, ldd, src, lds, rows, n)
}

// simdWithout512 does nothing: there is no AVX-512 kernel to rule out.
func simdWithout512(f func()) {}

// fillVec reports false: the caller fills.
func fillVec(row []float32, v float32) bool { return false }
