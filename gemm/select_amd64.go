//go:build amd64 && !purego

package gemm

import (
	"os"

	"golang.org/x/sys/cpu"
)

//go:generate go run gen_kernels.go

// The assembly kernels. Their packing routines need AVX2, which every CPU
// with AVX-512 also has.
//
// Block sizes: a kc x nr panel of B must stay in the 32 KiB L1 of Zen 4
// while it meets every panel of A (256 x 16 x 4 B = 16 KiB; 192 x 32 x 4 B
// = 24 KiB), and an mc x kc block of A in the 1 MiB L2 (at most 480 x 256 x
// 4 B = 480 KiB). The kc x nc block of packed B streams from L2 or L3; nc
// from 256 to 2048 and kc from 128 to 384 made no difference beyond the
// noise on the LeNet shapes.
var (
	avx2Kernel = &kernel{
		name: "avx2-6x16",
		mr:   6, nr: 16,
		kc: 256, mc: 480, nc: 1024,
		micro:    kernAVX2x6x16,
		microInd: kernAVX2x6x16Ind,
		packRows: packRowsFast, packLines: packLinesFast,
		spreadRows: spreadRowsFast,
	}
	avx512Kernel = &kernel{
		name: "avx512-8x32",
		mr:   8, nr: 32,
		kc: 192, mc: 512, nc: 1024,
		micro:    kernAVX512x8x32,
		microInd: kernAVX512x8x32Ind,
		packRows: packRowsFast, packLines: packLinesFast,
		spreadRows: spreadRowsFast,
	}
)

// kernels lists the micro-kernels this build can run on this CPU, the
// generic ones first.
var kernels = available()

// active is the kernel Sgemm uses: the environment variable
// DEEPCOMPRESS_GEMM_KERNEL may name one of kernels (for benchmarks and for
// ruling a kernel out); otherwise the widest the CPU has.
//
// On Intel cores with two 512-bit FMA units the AVX-512 kernel is about
// twice as fast as the AVX2 one. AMD Zen 4 splits each 512-bit operation
// into two 256-bit halves, and there both kernels reach the same speed
// (about 115 GFLOP/s per core for the bare micro-kernels, within a few
// percent of each other on the LeNet shapes), so AVX-512 is chosen
// wherever it exists.
var active = pickKernel(os.Getenv("DEEPCOMPRESS_GEMM_KERNEL"))

func available() []*kernel {
	ks := append([]*kernel(nil), genericKernels...)
	if hasAVX2() {
		ks = append(ks, avx2Kernel)
	}
	if hasAVX512() {
		ks = append(ks, avx512Kernel)
	}
	return ks
}

func hasAVX2() bool   { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }
func hasAVX512() bool { return hasAVX2() && cpu.X86.HasAVX512F }

func pickKernel(name string) *kernel {
	for _, k := range kernels {
		if k.name == name {
			return k
		}
	}
	switch {
	case hasAVX512():
		return avx512Kernel
	case hasAVX2():
		return avx2Kernel
	}
	return genericKernel
}
