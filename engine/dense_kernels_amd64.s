#include "textflag.h"

// The AVX kernels of denseMul and transposeDense (dense_kernels.go). Every
// element of C gets its terms in increasing p, each product rounded on its
// own (VMULPD) and then added to the running sum (VADDPD), never fused, like
// s += float64(a*b) in Go. A[r,p] is a[r·ars + p·aps], B[p,j] is
// b[p·ldb + j], C[r,j] is c[r·ldc + j]; with zero ≠ 0 the sums start from
// +0 instead of C. k ≥ 1. The transposes only move values.

// func denseKern5x8(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)
//
// Rows 0 … 4 and nb ≥ 1 blocks of 8 columns. The 5×8 block of C stays in
// Y0 … Y9 while p runs; Y10, Y11 hold row p of B, Y12, Y13 the broadcast
// A[r,p] and Y14, Y15 the products.
TEXT ·denseKern5x8(SB), NOSPLIT, $0-80
	MOVQ nb+8(FP), BX
	MOVQ ars+24(FP), R9
	SHLQ $3, R9
	LEAQ (R9)(R9*2), R10
	MOVQ aps+32(FP), R12
	SHLQ $3, R12
	MOVQ b+40(FP), DI
	MOVQ ldb+48(FP), DX
	SHLQ $3, DX
	MOVQ c+56(FP), R13
	MOVQ ldc+64(FP), R14
	SHLQ $3, R14
	LEAQ (R14)(R14*2), R11

denseKern5x8block:
	MOVQ DI, SI
	MOVQ a+16(FP), R8
	MOVQ k+0(FP), CX
	CMPQ zero+72(FP), $0
	JNE  denseKern5x8clear
	VMOVUPD (R13), Y0
	VMOVUPD 32(R13), Y1
	VMOVUPD (R13)(R14*1), Y2
	VMOVUPD 32(R13)(R14*1), Y3
	VMOVUPD (R13)(R14*2), Y4
	VMOVUPD 32(R13)(R14*2), Y5
	VMOVUPD (R13)(R11*1), Y6
	VMOVUPD 32(R13)(R11*1), Y7
	VMOVUPD (R13)(R14*4), Y8
	VMOVUPD 32(R13)(R14*4), Y9
	JMP  denseKern5x8loop

denseKern5x8clear:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9

denseKern5x8loop:
	VMOVUPD      (SI), Y10
	VMOVUPD      32(SI), Y11
	VBROADCASTSD (R8), Y12
	VMULPD       Y10, Y12, Y14
	VMULPD       Y11, Y12, Y15
	VADDPD       Y14, Y0, Y0
	VADDPD       Y15, Y1, Y1
	VBROADCASTSD (R8)(R9*1), Y13
	VMULPD       Y10, Y13, Y14
	VMULPD       Y11, Y13, Y15
	VADDPD       Y14, Y2, Y2
	VADDPD       Y15, Y3, Y3
	VBROADCASTSD (R8)(R9*2), Y12
	VMULPD       Y10, Y12, Y14
	VMULPD       Y11, Y12, Y15
	VADDPD       Y14, Y4, Y4
	VADDPD       Y15, Y5, Y5
	VBROADCASTSD (R8)(R10*1), Y13
	VMULPD       Y10, Y13, Y14
	VMULPD       Y11, Y13, Y15
	VADDPD       Y14, Y6, Y6
	VADDPD       Y15, Y7, Y7
	VBROADCASTSD (R8)(R9*4), Y12
	VMULPD       Y10, Y12, Y14
	VMULPD       Y11, Y12, Y15
	VADDPD       Y14, Y8, Y8
	VADDPD       Y15, Y9, Y9
	ADDQ         R12, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          denseKern5x8loop

	VMOVUPD Y0, (R13)
	VMOVUPD Y1, 32(R13)
	VMOVUPD Y2, (R13)(R14*1)
	VMOVUPD Y3, 32(R13)(R14*1)
	VMOVUPD Y4, (R13)(R14*2)
	VMOVUPD Y5, 32(R13)(R14*2)
	VMOVUPD Y6, (R13)(R11*1)
	VMOVUPD Y7, 32(R13)(R11*1)
	VMOVUPD Y8, (R13)(R14*4)
	VMOVUPD Y9, 32(R13)(R14*4)
	ADDQ    $64, R13
	ADDQ    $64, DI
	DECQ    BX
	JNZ     denseKern5x8block
	VZEROUPPER
	RET

// func denseKern5x4(k int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)
//
// Rows 0 … 4 and columns 0 … 3, as denseKern5x8.
TEXT ·denseKern5x4(SB), NOSPLIT, $0-72
	MOVQ ars+16(FP), R9
	SHLQ $3, R9
	LEAQ (R9)(R9*2), R10
	MOVQ aps+24(FP), R12
	SHLQ $3, R12
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), DX
	SHLQ $3, DX
	MOVQ c+48(FP), R13
	MOVQ ldc+56(FP), R14
	SHLQ $3, R14
	LEAQ (R14)(R14*2), R11

	MOVQ DI, SI
	MOVQ a+8(FP), R8
	MOVQ k+0(FP), CX
	CMPQ zero+64(FP), $0
	JNE  denseKern5x4clear
	VMOVUPD (R13), Y0
	VMOVUPD (R13)(R14*1), Y1
	VMOVUPD (R13)(R14*2), Y2
	VMOVUPD (R13)(R11*1), Y3
	VMOVUPD (R13)(R14*4), Y4
	JMP  denseKern5x4loop

denseKern5x4clear:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4

denseKern5x4loop:
	VMOVUPD      (SI), Y10
	VBROADCASTSD (R8), Y12
	VMULPD       Y10, Y12, Y14
	VADDPD       Y14, Y0, Y0
	VBROADCASTSD (R8)(R9*1), Y13
	VMULPD       Y10, Y13, Y14
	VADDPD       Y14, Y1, Y1
	VBROADCASTSD (R8)(R9*2), Y12
	VMULPD       Y10, Y12, Y14
	VADDPD       Y14, Y2, Y2
	VBROADCASTSD (R8)(R10*1), Y13
	VMULPD       Y10, Y13, Y14
	VADDPD       Y14, Y3, Y3
	VBROADCASTSD (R8)(R9*4), Y12
	VMULPD       Y10, Y12, Y14
	VADDPD       Y14, Y4, Y4
	ADDQ         R12, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          denseKern5x4loop

	VMOVUPD Y0, (R13)
	VMOVUPD Y1, (R13)(R14*1)
	VMOVUPD Y2, (R13)(R14*2)
	VMOVUPD Y3, (R13)(R11*1)
	VMOVUPD Y4, (R13)(R14*4)
	VZEROUPPER
	RET

// func denseKern1x8(k, nb int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)
//
// Row 0 and nb ≥ 1 blocks of 8 columns.
TEXT ·denseKern1x8(SB), NOSPLIT, $0-64
	MOVQ nb+8(FP), BX
	MOVQ aps+24(FP), R12
	SHLQ $3, R12
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), DX
	SHLQ $3, DX
	MOVQ c+48(FP), R13

denseKern1x8block:
	MOVQ DI, SI
	MOVQ a+16(FP), R8
	MOVQ k+0(FP), CX
	CMPQ zero+56(FP), $0
	JNE  denseKern1x8clear
	VMOVUPD (R13), Y0
	VMOVUPD 32(R13), Y1
	JMP  denseKern1x8loop

denseKern1x8clear:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

denseKern1x8loop:
	VBROADCASTSD (R8), Y8
	VMULPD       (SI), Y8, Y12
	VMULPD       32(SI), Y8, Y13
	VADDPD       Y12, Y0, Y0
	VADDPD       Y13, Y1, Y1
	ADDQ         R12, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          denseKern1x8loop

	VMOVUPD Y0, (R13)
	VMOVUPD Y1, 32(R13)
	ADDQ    $64, R13
	ADDQ    $64, DI
	DECQ    BX
	JNZ     denseKern1x8block
	VZEROUPPER
	RET

// func denseKern1x4(k int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)
//
// Row 0 and columns 0 … 3.
TEXT ·denseKern1x4(SB), NOSPLIT, $0-56
	MOVQ aps+16(FP), R12
	SHLQ $3, R12
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), DX
	SHLQ $3, DX
	MOVQ c+40(FP), R13

	MOVQ DI, SI
	MOVQ a+8(FP), R8
	MOVQ k+0(FP), CX
	CMPQ zero+48(FP), $0
	JNE  denseKern1x4clear
	VMOVUPD (R13), Y0
	JMP  denseKern1x4loop

denseKern1x4clear:
	VXORPD Y0, Y0, Y0

denseKern1x4loop:
	VBROADCASTSD (R8), Y8
	VMULPD       (SI), Y8, Y12
	VADDPD       Y12, Y0, Y0
	ADDQ         R12, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          denseKern1x4loop

	VMOVUPD Y0, (R13)
	VZEROUPPER
	RET

// func denseTranspose4(nb int, src *float64, lds int, dst *float64, ldd int)
//
// Transposes 4 rows × 4·nb columns of src (rows lds elements apart) into
// dst (rows ldd elements apart): dst[j·ldd + r] = src[r·lds + j] for r < 4,
// j < 4·nb, nb ≥ 1. Per block of 4 columns, Y0 = [s0j, s0j+1, s2j, s2j+1],
// Y1 the same of rows 1 and 3, and their low and high interleavings are
// columns j and j+1.
TEXT ·denseTranspose4(SB), NOSPLIT, $0-40
	MOVQ nb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R9
	SHLQ $3, R9
	LEAQ (R9)(R9*2), R10
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), R11
	SHLQ $3, R11
	LEAQ (R11)(R11*2), R12
	MOVQ R11, R13
	SHLQ $2, R13

transpose4:
	VMOVUPD     (SI), X0
	VINSERTF128 $1, (SI)(R9*2), Y0, Y0
	VMOVUPD     (SI)(R9*1), X1
	VINSERTF128 $1, (SI)(R10*1), Y1, Y1
	VUNPCKLPD   Y1, Y0, Y2
	VUNPCKHPD   Y1, Y0, Y3
	VMOVUPD     16(SI), X4
	VINSERTF128 $1, 16(SI)(R9*2), Y4, Y4
	VMOVUPD     16(SI)(R9*1), X5
	VINSERTF128 $1, 16(SI)(R10*1), Y5, Y5
	VUNPCKLPD   Y5, Y4, Y6
	VUNPCKHPD   Y5, Y4, Y7
	VMOVUPD     Y2, (DI)
	VMOVUPD     Y3, (DI)(R11*1)
	VMOVUPD     Y6, (DI)(R11*2)
	VMOVUPD     Y7, (DI)(R12*1)
	ADDQ        $32, SI
	ADDQ        R13, DI
	DECQ        CX
	JNZ         transpose4
	VZEROUPPER
	RET

// func denseTranspose2(nb int, src *float64, lds int, dst *float64, ldd int)
//
// Transposes 2 rows × 4·nb columns of src into dst, as denseTranspose4:
// dst[j·ldd + r] = src[r·lds + j] for r < 2, j < 4·nb, nb ≥ 1. Per block
// of 4 columns, the interleavings of the two rows hold columns j, j+2 and
// j+1, j+3 in their halves, stored 2 values at a time.
TEXT ·denseTranspose2(SB), NOSPLIT, $0-40
	MOVQ nb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R9
	SHLQ $3, R9
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), R11
	SHLQ $3, R11
	LEAQ (R11)(R11*2), R12
	MOVQ R11, R13
	SHLQ $2, R13

transpose2:
	VMOVUPD      (SI), Y0
	VMOVUPD      (SI)(R9*1), Y1
	VUNPCKLPD    Y1, Y0, Y2
	VUNPCKHPD    Y1, Y0, Y3
	VMOVUPD      X2, (DI)
	VMOVUPD      X3, (DI)(R11*1)
	VEXTRACTF128 $1, Y2, (DI)(R11*2)
	VEXTRACTF128 $1, Y3, (DI)(R12*1)
	ADDQ         $32, SI
	ADDQ         R13, DI
	DECQ         CX
	JNZ          transpose2
	VZEROUPPER
	RET
