//go:build amd64 && !purego

#include "textflag.h"

// func dwTapsAVX512(dst *float32, n int, src *float32, offs *int, w *float32, ntaps int, bias float32)
// func dwTapsAVX2(dst *float32, n int, src *float32, offs *int, w *float32, ntaps int, bias float32)
//
// dst[p] = bias + w[0]*src[p+offs[0]] + ... + w[ntaps-1]*src[p+offs[ntaps-1]]
// for p < n (a multiple of the vector width; ntaps >= 1), the taps added in
// order with fused multiply-adds. Blocks of 8, 4, 2 and 1 vectors keep
// their accumulators in registers while the tap loop broadcasts one weight
// and issues one FMA (with the input straight from memory) per vector.

TEXT ·dwTapsAVX512(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), R8
	MOVQ w+32(FP), R9
	MOVQ ntaps+40(FP), R10
	VBROADCASTSS bias+48(FP), Z31

b8:
	CMPQ CX, $128
	JLT  b4
	VMOVAPS Z31, Z0
	VMOVAPS Z31, Z1
	VMOVAPS Z31, Z2
	VMOVAPS Z31, Z3
	VMOVAPS Z31, Z4
	VMOVAPS Z31, Z5
	VMOVAPS Z31, Z6
	VMOVAPS Z31, Z7
	XORQ AX, AX

t8:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Z8
	VFMADD231PS 0(BX), Z8, Z0
	VFMADD231PS 64(BX), Z8, Z1
	VFMADD231PS 128(BX), Z8, Z2
	VFMADD231PS 192(BX), Z8, Z3
	VFMADD231PS 256(BX), Z8, Z4
	VFMADD231PS 320(BX), Z8, Z5
	VFMADD231PS 384(BX), Z8, Z6
	VFMADD231PS 448(BX), Z8, Z7
	INCQ AX
	CMPQ AX, R10
	JLT  t8
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	ADDQ $512, DI
	ADDQ $512, SI
	SUBQ $128, CX
	JMP  b8

b4:
	CMPQ CX, $64
	JLT  b2
	VMOVAPS Z31, Z0
	VMOVAPS Z31, Z1
	VMOVAPS Z31, Z2
	VMOVAPS Z31, Z3
	XORQ AX, AX

t4:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Z8
	VFMADD231PS 0(BX), Z8, Z0
	VFMADD231PS 64(BX), Z8, Z1
	VFMADD231PS 128(BX), Z8, Z2
	VFMADD231PS 192(BX), Z8, Z3
	INCQ AX
	CMPQ AX, R10
	JLT  t4
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  b4

b2:
	CMPQ CX, $32
	JLT  b1
	VMOVAPS Z31, Z0
	VMOVAPS Z31, Z1
	XORQ AX, AX

t2:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Z8
	VFMADD231PS 0(BX), Z8, Z0
	VFMADD231PS 64(BX), Z8, Z1
	INCQ AX
	CMPQ AX, R10
	JLT  t2
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  b2

b1:
	CMPQ CX, $16
	JLT  done
	VMOVAPS Z31, Z0
	XORQ AX, AX

t1:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Z8
	VFMADD231PS 0(BX), Z8, Z0
	INCQ AX
	CMPQ AX, R10
	JLT  t1
	VMOVUPS Z0, 0(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  b1

done:
	VZEROUPPER
	RET

TEXT ·dwTapsAVX2(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), R8
	MOVQ w+32(FP), R9
	MOVQ ntaps+40(FP), R10
	VBROADCASTSS bias+48(FP), Y15

b8:
	CMPQ CX, $64
	JLT  b4
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	VMOVAPS Y15, Y4
	VMOVAPS Y15, Y5
	VMOVAPS Y15, Y6
	VMOVAPS Y15, Y7
	XORQ AX, AX

t8:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Y8
	VFMADD231PS 0(BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	VFMADD231PS 64(BX), Y8, Y2
	VFMADD231PS 96(BX), Y8, Y3
	VFMADD231PS 128(BX), Y8, Y4
	VFMADD231PS 160(BX), Y8, Y5
	VFMADD231PS 192(BX), Y8, Y6
	VFMADD231PS 224(BX), Y8, Y7
	INCQ AX
	CMPQ AX, R10
	JLT  t8
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  b8

b4:
	CMPQ CX, $32
	JLT  b2
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	XORQ AX, AX

t4:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Y8
	VFMADD231PS 0(BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	VFMADD231PS 64(BX), Y8, Y2
	VFMADD231PS 96(BX), Y8, Y3
	INCQ AX
	CMPQ AX, R10
	JLT  t4
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  b4

b2:
	CMPQ CX, $16
	JLT  b1
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	XORQ AX, AX

t2:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Y8
	VFMADD231PS 0(BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	INCQ AX
	CMPQ AX, R10
	JLT  t2
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  b2

b1:
	CMPQ CX, $8
	JLT  done
	VMOVAPS Y15, Y0
	XORQ AX, AX

t1:
	MOVQ (R8)(AX*8), BX
	LEAQ (SI)(BX*4), BX
	VBROADCASTSS (R9)(AX*4), Y8
	VFMADD231PS 0(BX), Y8, Y0
	INCQ AX
	CMPQ AX, R10
	JLT  t1
	VMOVUPS Y0, 0(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  b1

done:
	VZEROUPPER
	RET

// func reluAVX2(dst, src *float32, n int)
//
// dst[i] = src[i] with the negative values (sign bit set, -0 and -NaN
// included) cleared to +0: src &^ (src >> 31 arithmetic), as the Go loop.
// n is a multiple of 32 here and below.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $5, CX
	JZ   done_reluAVX2

loop_reluAVX2:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VPSRAD $31, Y0, Y4
	VPSRAD $31, Y1, Y5
	VPSRAD $31, Y2, Y6
	VPSRAD $31, Y3, Y7
	VPANDN Y0, Y4, Y4
	VPANDN Y1, Y5, Y5
	VPANDN Y2, Y6, Y6
	VPANDN Y3, Y7, Y7
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop_reluAVX2

done_reluAVX2:
	VZEROUPPER
	RET

// func clipAVX2(dst, src *float32, n int, lo, hi float32)
//
// dst[i] = min(max(src[i], lo), hi), a NaN passed through.
TEXT ·clipAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y14
	VBROADCASTSS hi+28(FP), Y15
	SHRQ $5, CX
	JZ   done_clipAVX2

loop_clipAVX2:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMAXPS Y0, Y14, Y4
	VMAXPS Y1, Y14, Y5
	VMAXPS Y2, Y14, Y6
	VMAXPS Y3, Y14, Y7
	VMINPS Y4, Y15, Y4
	VMINPS Y5, Y15, Y5
	VMINPS Y6, Y15, Y6
	VMINPS Y7, Y15, Y7
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop_clipAVX2

done_clipAVX2:
	VZEROUPPER
	RET

// func hardSigmoidAVX2(dst, src *float32, n int, a, b float32)
//
// dst[i] = min(max(a*src[i]+b, 0), 1) (a product then a sum, each
// rounded, as the Go loop), a NaN passed through.
TEXT ·hardSigmoidAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y12
	VBROADCASTSS b+28(FP), Y13
	MOVL $0x3f800000, AX
	MOVQ AX, X15
	VBROADCASTSS X15, Y15
	VXORPS Y14, Y14, Y14
	SHRQ $5, CX
	JZ   done_hardSigmoidAVX2

loop_hardSigmoidAVX2:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMULPS Y0, Y12, Y4
	VMULPS Y1, Y12, Y5
	VMULPS Y2, Y12, Y6
	VMULPS Y3, Y12, Y7
	VADDPS Y4, Y13, Y4
	VADDPS Y5, Y13, Y5
	VADDPS Y6, Y13, Y6
	VADDPS Y7, Y13, Y7
	VMAXPS Y4, Y14, Y4
	VMAXPS Y5, Y14, Y5
	VMAXPS Y6, Y14, Y6
	VMAXPS Y7, Y14, Y7
	VMINPS Y4, Y15, Y4
	VMINPS Y5, Y15, Y5
	VMINPS Y6, Y15, Y6
	VMINPS Y7, Y15, Y7
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop_hardSigmoidAVX2

done_hardSigmoidAVX2:
	VZEROUPPER
	RET

// func hardSwishAVX2(dst, src *float32, n int, sixth, half float32)
//
// dst[i] = src[i] * min(max(src[i]*sixth+half, 0), 1), each operation
// rounded as in the Go loop.
TEXT ·hardSwishAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS sixth+24(FP), Y12
	VBROADCASTSS half+28(FP), Y13
	MOVL $0x3f800000, AX
	MOVQ AX, X15
	VBROADCASTSS X15, Y15
	VXORPS Y14, Y14, Y14
	SHRQ $5, CX
	JZ   done_hardSwishAVX2

loop_hardSwishAVX2:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMULPS Y0, Y12, Y4
	VMULPS Y1, Y12, Y5
	VMULPS Y2, Y12, Y6
	VMULPS Y3, Y12, Y7
	VADDPS Y4, Y13, Y4
	VADDPS Y5, Y13, Y5
	VADDPS Y6, Y13, Y6
	VADDPS Y7, Y13, Y7
	VMAXPS Y4, Y14, Y4
	VMAXPS Y5, Y14, Y5
	VMAXPS Y6, Y14, Y6
	VMAXPS Y7, Y14, Y7
	VMINPS Y4, Y15, Y4
	VMINPS Y5, Y15, Y5
	VMINPS Y6, Y15, Y6
	VMINPS Y7, Y15, Y7
	VMULPS Y0, Y4, Y4
	VMULPS Y1, Y5, Y5
	VMULPS Y2, Y6, Y6
	VMULPS Y3, Y7, Y7
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop_hardSwishAVX2

done_hardSwishAVX2:
	VZEROUPPER
	RET

// func copyRowsAVX512(dst *float32, ldd int, src *float32, lds int, rows, w int)
// func copyRowsAVX2(dst *float32, ldd int, src *float32, lds int, rows, w int)
//
// dst[r*ldd+j] = src[r*lds+j] for r < rows (>= 1) and j < w (>= 1): whole
// vectors, then the last w mod width floats of each row with masked
// loads and stores (no access past them).
TEXT ·copyRowsAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), DX
	MOVQ w+40(FP), R10
	MOVQ R10, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHRQ $4, R10

row512:
	MOVQ R10, BX
	XORQ AX, AX

full512:
	TESTQ BX, BX
	JZ   tail512
	VMOVUPS (SI)(AX*1), Z0
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ $64, AX
	DECQ BX
	JMP  full512

tail512:
	TESTQ CX, CX
	JZ   next512
	VMOVUPS.Z (SI)(AX*1), K1, Z0
	VMOVUPS Z0, K1, (DI)(AX*1)

next512:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ DX
	JNZ  row512
	VZEROUPPER
	RET

TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), DX
	MOVQ w+40(FP), R10
	MOVQ R10, CX
	ANDQ $7, CX
	// Y15: the first CX lanes set, from the table at (8-CX)*4.
	MOVQ $8, AX
	SUBQ CX, AX
	LEAQ dwLaneMask<>(SB), R11
	VMOVDQU (R11)(AX*4), Y15
	SHRQ $3, R10

row2:
	MOVQ R10, BX
	XORQ AX, AX

full2:
	TESTQ BX, BX
	JZ   tail2
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	DECQ BX
	JMP  full2

tail2:
	TESTQ CX, CX
	JZ   next2
	VMASKMOVPS (SI)(AX*1), Y15, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*1)

next2:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ DX
	JNZ  row2
	VZEROUPPER
	RET

// Eight lanes set then eight clear: a load at lane 8-k sets the first k.
DATA dwLaneMask<>+0(SB)/8, $0xffffffffffffffff
DATA dwLaneMask<>+8(SB)/8, $0xffffffffffffffff
DATA dwLaneMask<>+16(SB)/8, $0xffffffffffffffff
DATA dwLaneMask<>+24(SB)/8, $0xffffffffffffffff
DATA dwLaneMask<>+32(SB)/8, $0
DATA dwLaneMask<>+40(SB)/8, $0
DATA dwLaneMask<>+48(SB)/8, $0
DATA dwLaneMask<>+56(SB)/8, $0
GLOBL dwLaneMask<>(SB), RODATA|NOPTR, $64

// The even lanes of two vectors: 0, 2, ..., 30.
DATA dwEven<>+0(SB)/8, $0x0000000200000000
DATA dwEven<>+8(SB)/8, $0x0000000600000004
DATA dwEven<>+16(SB)/8, $0x0000000a00000008
DATA dwEven<>+24(SB)/8, $0x0000000e0000000c
DATA dwEven<>+32(SB)/8, $0x0000001200000010
DATA dwEven<>+40(SB)/8, $0x0000001600000014
DATA dwEven<>+48(SB)/8, $0x0000001a00000018
DATA dwEven<>+56(SB)/8, $0x0000001e0000001c
GLOBL dwEven<>(SB), RODATA|NOPTR, $64

// func gather2AVX512(dst *float32, ldd int, src *float32, lds int, rows, n int)
//
// dst[r*ldd+i] = src[r*lds+2i] for r < rows (>= 1) and i < n (>= 1),
// reading src[r*lds .. r*lds+2n-2] only: 32 floats loaded (the last lane
// masked off, and more on the last block of a row), their even lanes
// picked by VPERMT2PS, 16 (or the rest, masked) stored.
TEXT ·gather2AVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), R12
	MOVQ n+40(FP), DX
	LEAQ dwEven<>(SB), AX
	VMOVDQU32 (AX), Z30
	MOVQ $0x7fff, AX
	KMOVW AX, K2
	// K3: the first min(16, 2t-1) source lanes of the last block of t =
	// n mod 16 outputs; K4: the next max(0, 2t-1-16); K5: its t outputs.
	MOVQ DX, R13
	ANDQ $15, R13
	LEAQ -1(R13)(R13*1), CX
	MOVQ CX, BX
	CMPQ CX, $16
	JLE  g2lo
	MOVQ $16, CX

g2lo:
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3
	SUBQ CX, BX
	MOVQ BX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K4
	MOVQ R13, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K5
	SHRQ $4, DX

g2row:
	MOVQ SI, R10
	MOVQ DI, R11
	MOVQ DX, BX

g2full:
	TESTQ BX, BX
	JZ   g2tail
	VMOVUPS (R10), Z0
	VMOVUPS.Z 64(R10), K2, Z1
	VPERMT2PS Z1, Z30, Z0
	VMOVUPS Z0, (R11)
	ADDQ $128, R10
	ADDQ $64, R11
	DECQ BX
	JMP  g2full

g2tail:
	TESTQ R13, R13
	JZ   g2next
	VMOVUPS.Z (R10), K3, Z0
	VMOVUPS.Z 64(R10), K4, Z1
	VPERMT2PS Z1, Z30, Z0
	VMOVUPS Z0, K5, (R11)

g2next:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R12
	JNZ  g2row
	VZEROUPPER
	RET

// func fillAVX512(dst *float32, n int, v float32)
// func fillAVX2(dst *float32, n int, v float32)
//
// dst[i] = v for i < n (>= 1): four vectors at a time, then one, then the
// last n mod width with a masked store.
TEXT ·fillAVX512(SB), NOSPLIT, $0-20
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), DX
	VBROADCASTSS v+16(FP), Z0

f512x4:
	CMPQ DX, $64
	JLT  f512x1
	VMOVUPS Z0, (DI)
	VMOVUPS Z0, 64(DI)
	VMOVUPS Z0, 128(DI)
	VMOVUPS Z0, 192(DI)
	ADDQ $256, DI
	SUBQ $64, DX
	JMP  f512x4

f512x1:
	CMPQ DX, $16
	JLT  f512tail
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	SUBQ $16, DX
	JMP  f512x1

f512tail:
	TESTQ DX, DX
	JZ   f512done
	MOVQ DX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS Z0, K1, (DI)

f512done:
	VZEROUPPER
	RET

TEXT ·fillAVX2(SB), NOSPLIT, $0-20
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), DX
	VBROADCASTSS v+16(FP), Y0

f2x4:
	CMPQ DX, $32
	JLT  f2x1
	VMOVUPS Y0, (DI)
	VMOVUPS Y0, 32(DI)
	VMOVUPS Y0, 64(DI)
	VMOVUPS Y0, 96(DI)
	ADDQ $128, DI
	SUBQ $32, DX
	JMP  f2x4

f2x1:
	CMPQ DX, $8
	JLT  f2tail
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, DX
	JMP  f2x1

f2tail:
	TESTQ DX, DX
	JZ   f2done
	MOVQ $8, AX
	SUBQ DX, AX
	LEAQ dwLaneMask<>(SB), R11
	VMOVDQU (R11)(AX*4), Y15
	VMASKMOVPS Y0, Y15, (DI)

f2done:
	VZEROUPPER
	RET
