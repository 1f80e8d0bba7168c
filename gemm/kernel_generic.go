package gemm

import (
	"runtime"
	"unsafe"
)

// The portable micro-kernels, in plain Go: the kernel for CPUs without an
// assembly kernel and under the purego build tag. Go keeps each float32
// accumulator in a register of its own, so the tile is as large as the
// register file allows: 4x4 (16 accumulators) on CPUs with 32 floating-point
// registers such as arm64, 2x4 on amd64 and 386, whose 16 (or 8) would
// spill a 4x4 tile to the stack (2x4 measured 1.6x faster than 4x4 there).
var (
	generic4x4 = &kernel{
		name: "generic-4x4",
		mr:   4, nr: 4,
		kc: 256, mc: 128, nc: 1024,
		micro:    kernGeneric4x4,
		packRows: packRowsGo, packLines: packLinesGo,
		spreadRows: spreadRowsGo,
	}
	generic2x4 = &kernel{
		name: "generic-2x4",
		mr:   2, nr: 4,
		kc: 256, mc: 128, nc: 1024,
		micro:    kernGeneric2x4,
		packRows: packRowsGo, packLines: packLinesGo,
		spreadRows: spreadRowsGo,
	}
	genericKernel = pickGeneric(runtime.GOARCH)
)

// genericKernels are the portable kernels, all of which the tests run on
// every CPU; genericKernel comes first.
var genericKernels = []*kernel{genericKernel, otherGeneric()}

func pickGeneric(goarch string) *kernel {
	if goarch == "amd64" || goarch == "386" {
		return generic2x4
	}
	return generic4x4
}

func otherGeneric() *kernel {
	if genericKernel == generic4x4 {
		return generic2x4
	}
	return generic4x4
}

// kernGeneric4x4 is the microKernel for 4x4 tiles.
func kernGeneric4x4(k int, a, b, c *float32, ldc int, beta float32) {
	as := unsafe.Slice(a, 4*k)
	bs := unsafe.Slice(b, 4*k)
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for len(as) >= 4 && len(bs) >= 4 {
		a0, a1, a2, a3 := as[0], as[1], as[2], as[3]
		b0, b1, b2, b3 := bs[0], bs[1], bs[2], bs[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		as, bs = as[4:], bs[4:]
	}
	cs := unsafe.Slice(c, 3*ldc+4)
	storeRow(cs[0:4:4], c00, c01, c02, c03, beta)
	storeRow(cs[ldc:ldc+4:ldc+4], c10, c11, c12, c13, beta)
	storeRow(cs[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, beta)
	storeRow(cs[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, beta)
}

// kernGeneric2x4 is the microKernel for 2x4 tiles.
func kernGeneric2x4(k int, a, b, c *float32, ldc int, beta float32) {
	as := unsafe.Slice(a, 2*k)
	bs := unsafe.Slice(b, 4*k)
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	for len(as) >= 2 && len(bs) >= 4 {
		a0, a1 := as[0], as[1]
		b0, b1, b2, b3 := bs[0], bs[1], bs[2], bs[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		as, bs = as[2:], bs[4:]
	}
	cs := unsafe.Slice(c, ldc+4)
	storeRow(cs[0:4:4], c00, c01, c02, c03, beta)
	storeRow(cs[ldc:ldc+4:ldc+4], c10, c11, c12, c13, beta)
}

// storeRow sets row = (v0, v1, v2, v3) + beta*row, not reading row when
// beta is 0.
func storeRow(row []float32, v0, v1, v2, v3, beta float32) {
	row = row[:4]
	if beta != 0 {
		v0 += beta * row[0]
		v1 += beta * row[1]
		v2 += beta * row[2]
		v3 += beta * row[3]
	}
	row[0], row[1], row[2], row[3] = v0, v1, v2, v3
}
