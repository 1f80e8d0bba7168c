//go:build !amd64 || purego

package gemm

// kernels lists the micro-kernels this build can run on this CPU, the
// generic ones first.
var kernels = genericKernels

// active is the kernel Sgemm uses.
var active = genericKernel
