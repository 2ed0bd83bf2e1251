#include "textflag.h"

// The kernels of gemmNN on amd64 (AVX2 and FMA). Every element of C gets its
// terms in increasing p, each one fused into the running sum
// (c = a·b + c, rounded once, VFMADD231PD), exactly like math.FMA in
// gemmGo. Rows of A and C are lda and ldc elements apart.

// func kern4x8FMA(k, nb int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)
//
// For r = 0 … 3 and each of nb blocks of 8 columns j:
// c[r·ldc + j] = Σ_{p<k} a[r·lda + p] · b[p·ldb + j] added to c, in increasing p.
// k ≥ 1, nb ≥ 1. The 4×8 block of C stays in Y0 … Y7 while p runs.
TEXT ·kern4x8FMA(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), AX
	MOVQ nb+8(FP), BX
	MOVQ a+16(FP), R11
	MOVQ lda+24(FP), R9
	SHLQ $3, R9
	LEAQ (R9)(R9*2), R10
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), DX
	SHLQ $3, DX
	MOVQ c+48(FP), R12
	MOVQ ldc+56(FP), R13
	SHLQ $3, R13
	LEAQ (R13)(R13*2), R14

block8:
	MOVQ DI, SI
	MOVQ R11, R8
	MOVQ AX, CX
	VMOVUPD (R12), Y0
	VMOVUPD 32(R12), Y1
	VMOVUPD (R12)(R13*1), Y2
	VMOVUPD 32(R12)(R13*1), Y3
	VMOVUPD (R12)(R13*2), Y4
	VMOVUPD 32(R12)(R13*2), Y5
	VMOVUPD (R12)(R14*1), Y6
	VMOVUPD 32(R12)(R14*1), Y7

loop8:
	VMOVUPD      (SI), Y12
	VMOVUPD      32(SI), Y13
	VBROADCASTSD (R8), Y8
	VFMADD231PD  Y12, Y8, Y0
	VFMADD231PD  Y13, Y8, Y1
	VBROADCASTSD (R8)(R9*1), Y9
	VFMADD231PD  Y12, Y9, Y2
	VFMADD231PD  Y13, Y9, Y3
	VBROADCASTSD (R8)(R9*2), Y10
	VFMADD231PD  Y12, Y10, Y4
	VFMADD231PD  Y13, Y10, Y5
	VBROADCASTSD (R8)(R10*1), Y11
	VFMADD231PD  Y12, Y11, Y6
	VFMADD231PD  Y13, Y11, Y7
	ADDQ         $8, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          loop8

	VMOVUPD Y0, (R12)
	VMOVUPD Y1, 32(R12)
	VMOVUPD Y2, (R12)(R13*1)
	VMOVUPD Y3, 32(R12)(R13*1)
	VMOVUPD Y4, (R12)(R13*2)
	VMOVUPD Y5, 32(R12)(R13*2)
	VMOVUPD Y6, (R12)(R14*1)
	VMOVUPD Y7, 32(R12)(R14*1)
	ADDQ    $64, R12
	ADDQ    $64, DI
	DECQ    BX
	JNZ     block8
	VZEROUPPER
	RET

// func kern4x4FMA(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)
//
// One block of 4 rows × 4 columns, as kern4x8FMA.
TEXT ·kern4x4FMA(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ lda+16(FP), R9
	SHLQ $3, R9
	LEAQ (R9)(R9*2), R10
	MOVQ b+24(FP), SI
	MOVQ ldb+32(FP), DX
	SHLQ $3, DX
	MOVQ c+40(FP), R12
	MOVQ ldc+48(FP), R13
	SHLQ $3, R13
	LEAQ (R13)(R13*2), R14
	VMOVUPD (R12), Y0
	VMOVUPD (R12)(R13*1), Y2
	VMOVUPD (R12)(R13*2), Y4
	VMOVUPD (R12)(R14*1), Y6

loop4:
	VMOVUPD      (SI), Y12
	VBROADCASTSD (R8), Y8
	VFMADD231PD  Y12, Y8, Y0
	VBROADCASTSD (R8)(R9*1), Y9
	VFMADD231PD  Y12, Y9, Y2
	VBROADCASTSD (R8)(R9*2), Y10
	VFMADD231PD  Y12, Y10, Y4
	VBROADCASTSD (R8)(R10*1), Y11
	VFMADD231PD  Y12, Y11, Y6
	ADDQ         $8, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          loop4

	VMOVUPD Y0, (R12)
	VMOVUPD Y2, (R12)(R13*1)
	VMOVUPD Y4, (R12)(R13*2)
	VMOVUPD Y6, (R12)(R14*1)
	VZEROUPPER
	RET

// func kern1x8FMA(k, nb int, a *float64, b *float64, ldb int, c *float64)
//
// One row of C: nb blocks of 8 columns, as kern4x8FMA.
TEXT ·kern1x8FMA(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), AX
	MOVQ nb+8(FP), BX
	MOVQ a+16(FP), R11
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), DX
	SHLQ $3, DX
	MOVQ c+40(FP), R12

block1:
	MOVQ    DI, SI
	MOVQ    R11, R8
	MOVQ    AX, CX
	VMOVUPD (R12), Y0
	VMOVUPD 32(R12), Y1

loop1:
	VBROADCASTSD (R8), Y8
	VFMADD231PD  (SI), Y8, Y0
	VFMADD231PD  32(SI), Y8, Y1
	ADDQ         $8, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          loop1

	VMOVUPD Y0, (R12)
	VMOVUPD Y1, 32(R12)
	ADDQ    $64, R12
	ADDQ    $64, DI
	DECQ    BX
	JNZ     block1
	VZEROUPPER
	RET

// func kern4x8FMAOff(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int)
//
// As kern4x8FMA, but row p of B starts boff[p] elements after b instead of
// p·ldb: c[r·ldc + j] += Σ_{p<k} a[r·lda + p] · b[boff[p] + j], in
// increasing p. k ≥ 1, nb ≥ 1.
TEXT ·kern4x8FMAOff(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), AX
	MOVQ nb+8(FP), BX
	MOVQ a+16(FP), R11
	MOVQ lda+24(FP), R9
	SHLQ $3, R9
	LEAQ (R9)(R9*2), R10
	MOVQ b+32(FP), DI
	MOVQ boff+40(FP), DX
	MOVQ c+48(FP), R12
	MOVQ ldc+56(FP), R13
	SHLQ $3, R13
	LEAQ (R13)(R13*2), R14

block8off:
	MOVQ    DX, R15
	MOVQ    R11, R8
	MOVQ    AX, CX
	VMOVUPD (R12), Y0
	VMOVUPD 32(R12), Y1
	VMOVUPD (R12)(R13*1), Y2
	VMOVUPD 32(R12)(R13*1), Y3
	VMOVUPD (R12)(R13*2), Y4
	VMOVUPD 32(R12)(R13*2), Y5
	VMOVUPD (R12)(R14*1), Y6
	VMOVUPD 32(R12)(R14*1), Y7

loop8off:
	MOVQ         (R15), SI
	VMOVUPD      (DI)(SI*8), Y12
	VMOVUPD      32(DI)(SI*8), Y13
	VBROADCASTSD (R8), Y8
	VFMADD231PD  Y12, Y8, Y0
	VFMADD231PD  Y13, Y8, Y1
	VBROADCASTSD (R8)(R9*1), Y9
	VFMADD231PD  Y12, Y9, Y2
	VFMADD231PD  Y13, Y9, Y3
	VBROADCASTSD (R8)(R9*2), Y10
	VFMADD231PD  Y12, Y10, Y4
	VFMADD231PD  Y13, Y10, Y5
	VBROADCASTSD (R8)(R10*1), Y11
	VFMADD231PD  Y12, Y11, Y6
	VFMADD231PD  Y13, Y11, Y7
	ADDQ         $8, R8
	ADDQ         $8, R15
	DECQ         CX
	JNZ          loop8off

	VMOVUPD Y0, (R12)
	VMOVUPD Y1, 32(R12)
	VMOVUPD Y2, (R12)(R13*1)
	VMOVUPD Y3, 32(R12)(R13*1)
	VMOVUPD Y4, (R12)(R13*2)
	VMOVUPD Y5, 32(R12)(R13*2)
	VMOVUPD Y6, (R12)(R14*1)
	VMOVUPD Y7, 32(R12)(R14*1)
	ADDQ    $64, R12
	ADDQ    $64, DI
	DECQ    BX
	JNZ     block8off
	VZEROUPPER
	RET
