//go:build amd64 && !purego

package infer

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate go run gen_kernels.go

// The assembly kernels run on two-byte entries only. spmvFMA needs FMA3;
// the many-lane kernels need AVX-512 F (masks and 16-lane vectors).
var (
	haveFMA    = cpu.X86.HasFMA && cpu.X86.HasAVX
	haveAVX512 = cpu.X86.HasAVX512F && haveFMA
)

// kernelName names the kernels in use, for benchmarks and reports.
func kernelName() string {
	switch {
	case haveAVX512:
		return "fma+avx512"
	case haveFMA:
		return "fma+go"
	}
	return "go"
}

// spmv is spmvGo, in assembly where it can be.
func spmv(m *sharedMatrix, x, b, y []float32, r0, r1 int, relu bool) {
	if !haveFMA || m.ent == nil {
		spmvGo(m, x, b, y, r0, r1, relu)
		return
	}
	if r0 >= r1 {
		return
	}
	// The assembly trusts these bounds.
	_, _, _ = x[m.cols-1], b[r1-1], y[r1-1]
	spmvFMA(&m.rowPtr[r0], unsafe.SliceData(m.ent), &m.codebook[0], &x[0], &b[r0], &y[r0], r1-r0, relu)
}

// spmmLanes is the most lanes one call of the assembly kernel covers.
const spmmLanes = 16 * len(spmmAVX512)

// spmm is spmmGo, in assembly where it can be. Lanes are taken up to 128
// at a time, the last vector masked.
func spmm(m *sharedMatrix, x []float32, ldx, lanes int, b, y []float32, ldy, r0, r1 int, relu bool) {
	if !haveAVX512 || m.ent == nil {
		spmmGo(m, x, ldx, lanes, b, y, ldy, r0, r1, relu)
		return
	}
	if r0 >= r1 || lanes <= 0 {
		return
	}
	// The assembly trusts these bounds.
	_, _, _ = x[(m.cols-1)*ldx+lanes-1], b[r1-1], y[(r1-1)*ldy+lanes-1]
	for l0 := 0; l0 < lanes; l0 += spmmLanes {
		nl := min(spmmLanes, lanes-l0)
		nv := (nl + 15) / 16
		tail := 1<<(nl-16*(nv-1)) - 1
		spmmAVX512[nv-1](&m.rowPtr[r0], unsafe.SliceData(m.ent), &m.codebook[0],
			&x[l0], ldx, &b[r0], &y[r0*ldy+l0], ldy, r1-r0, tail, relu)
	}
}
