//go:build amd64 && !purego

#include "textflag.h"

// func packLinesAVX2(dst *float32, width int, src *float32, ld int, lines int, q8 int, scale float32)
//
// Transposes lines (even) source lines of 8*q8 floats, line r at src+r*ld,
// into dst[q*width+r] = scale*src[r*ld+q]. Four lines at a time become
// 8 rows of 4 floats by an in-register 4x8 transpose; a last pair becomes
// 8 rows of 2.
TEXT ·packLinesAVX2(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ width+8(FP), R10
	SHLQ $2, R10
	MOVQ src+16(FP), SI
	MOVQ ld+24(FP), R8
	SHLQ $2, R8
	MOVQ lines+32(FP), R12
	MOVQ q8+40(FP), CX
	VBROADCASTSS scale+48(FP), Y15
	LEAQ (R8)(R8*2), R9
	LEAQ (R10)(R10*2), R11
	TESTQ CX, CX
	JZ   done

qblock:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R12, DX

quad:
	CMPQ DX, $4
	JLT  pair
	VMULPS (AX), Y15, Y0
	VMULPS (AX)(R8*1), Y15, Y1
	VMULPS (AX)(R8*2), Y15, Y2
	VMULPS (AX)(R9*1), Y15, Y3
	VUNPCKLPS Y1, Y0, Y4          // l0q0 l1q0 l0q1 l1q1 | q4 q5
	VUNPCKHPS Y1, Y0, Y5          // l0q2 l1q2 l0q3 l1q3 | q6 q7
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VSHUFPS $0x44, Y6, Y4, Y0     // q0 | q4
	VSHUFPS $0xEE, Y6, Y4, Y1     // q1 | q5
	VSHUFPS $0x44, Y7, Y5, Y2     // q2 | q6
	VSHUFPS $0xEE, Y7, Y5, Y3     // q3 | q7
	VMOVUPS X0, (BX)
	VMOVUPS X1, (BX)(R10*1)
	VMOVUPS X2, (BX)(R10*2)
	VMOVUPS X3, (BX)(R11*1)
	LEAQ (BX)(R10*4), R13
	VEXTRACTF128 $1, Y0, (R13)
	VEXTRACTF128 $1, Y1, (R13)(R10*1)
	VEXTRACTF128 $1, Y2, (R13)(R10*2)
	VEXTRACTF128 $1, Y3, (R13)(R11*1)
	LEAQ (AX)(R8*4), AX
	ADDQ $16, BX
	SUBQ $4, DX
	JMP  quad

pair:
	CMPQ DX, $2
	JLT  next
	VMULPS (AX), Y15, Y0
	VMULPS (AX)(R8*1), Y15, Y1
	VUNPCKLPS Y1, Y0, Y2          // q0 q1 | q4 q5, as pairs
	VUNPCKHPS Y1, Y0, Y3          // q2 q3 | q6 q7
	VMOVLPS X2, (BX)
	VMOVHPS X2, (BX)(R10*1)
	VMOVLPS X3, (BX)(R10*2)
	VMOVHPS X3, (BX)(R11*1)
	LEAQ (BX)(R10*4), R13
	VEXTRACTF128 $1, Y2, X2
	VEXTRACTF128 $1, Y3, X3
	VMOVLPS X2, (R13)
	VMOVHPS X2, (R13)(R10*1)
	VMOVLPS X3, (R13)(R10*2)
	VMOVHPS X3, (R13)(R11*1)

next:
	ADDQ $32, SI
	LEAQ (DI)(R10*8), DI
	DECQ CX
	JNZ  qblock

done:
	VZEROUPPER
	RET

// func packRowsAVX2(dst *float32, width int, src *float32, ld int, rows int, w int, scale float32)
//
// Copies rows source rows of w floats, row q at src+q*ld, to
// dst[q*width+r] = scale*src[q*ld+r], r < w.
TEXT ·packRowsAVX2(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ width+8(FP), R10
	SHLQ $2, R10
	MOVQ src+16(FP), SI
	MOVQ ld+24(FP), R8
	SHLQ $2, R8
	MOVQ rows+32(FP), CX
	MOVQ w+40(FP), DX
	VBROADCASTSS scale+48(FP), Y15
	TESTQ CX, CX
	JZ   rdone

row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ DX, R11

v16:
	CMPQ R11, $16
	JLT  v8
	VMULPS (AX), Y15, Y0
	VMULPS 32(AX), Y15, Y1
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	ADDQ $64, AX
	ADDQ $64, BX
	SUBQ $16, R11
	JMP  v16

v8:
	CMPQ R11, $8
	JLT  v4
	VMULPS (AX), Y15, Y0
	VMOVUPS Y0, (BX)
	ADDQ $32, AX
	ADDQ $32, BX
	SUBQ $8, R11

v4:
	CMPQ R11, $4
	JLT  v2
	VMULPS (AX), X15, X0
	VMOVUPS X0, (BX)
	ADDQ $16, AX
	ADDQ $16, BX
	SUBQ $4, R11

v2:
	CMPQ R11, $2
	JLT  v1
	VMOVSD (AX), X0
	VMULPS X0, X15, X0
	VMOVSD X0, (BX)
	ADDQ $8, AX
	ADDQ $8, BX
	SUBQ $2, R11

v1:
	TESTQ R11, R11
	JZ   nextrow
	VMOVSS (AX), X0
	VMULSS X0, X15, X0
	VMOVSS X0, (BX)

nextrow:
	ADDQ R8, SI
	ADDQ R10, DI
	DECQ CX
	JNZ  row

rdone:
	VZEROUPPER
	RET
