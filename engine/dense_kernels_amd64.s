#include "textflag.h"

// The kernels of denseMul (dense_kernels.go) on amd64, AVX only. Every
// element of C gets its terms in increasing p, each product rounded on its
// own (VMULPD) and then added to the running sum (VADDPD), never fused, like
// s += float64(a*b) in Go. A[r,p] is a[r·ars + p·aps], B[p,j] is
// b[p·ldb + j], C[r,j] is c[r·ldc + j]; with zero ≠ 0 the sums start from
// +0 instead of C. k ≥ 1.

// func denseKern4x8(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)
//
// Rows 0 … 3 and nb ≥ 1 blocks of 8 columns. The 4×8 block of C stays in
// Y0 … Y7 while p runs; Y8, Y9 hold row p of B, Y10, Y11 the broadcast
// A[r,p] and Y12 … Y15 the products.
TEXT ·denseKern4x8(SB), NOSPLIT, $0-80
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

denseKern4x8block:
	MOVQ DI, SI
	MOVQ a+16(FP), R8
	MOVQ k+0(FP), CX
	CMPQ zero+72(FP), $0
	JNE  denseKern4x8clear
	VMOVUPD (R13), Y0
	VMOVUPD 32(R13), Y1
	VMOVUPD (R13)(R14*1), Y2
	VMOVUPD 32(R13)(R14*1), Y3
	VMOVUPD (R13)(R14*2), Y4
	VMOVUPD 32(R13)(R14*2), Y5
	VMOVUPD (R13)(R11*1), Y6
	VMOVUPD 32(R13)(R11*1), Y7
	JMP  denseKern4x8loop

denseKern4x8clear:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

denseKern4x8loop:
	VMOVUPD      (SI), Y8
	VMOVUPD      32(SI), Y9
	VBROADCASTSD (R8), Y10
	VMULPD       Y8, Y10, Y12
	VMULPD       Y9, Y10, Y13
	VADDPD       Y12, Y0, Y0
	VADDPD       Y13, Y1, Y1
	VBROADCASTSD (R8)(R9*1), Y11
	VMULPD       Y8, Y11, Y14
	VMULPD       Y9, Y11, Y15
	VADDPD       Y14, Y2, Y2
	VADDPD       Y15, Y3, Y3
	VBROADCASTSD (R8)(R9*2), Y10
	VMULPD       Y8, Y10, Y12
	VMULPD       Y9, Y10, Y13
	VADDPD       Y12, Y4, Y4
	VADDPD       Y13, Y5, Y5
	VBROADCASTSD (R8)(R10*1), Y11
	VMULPD       Y8, Y11, Y14
	VMULPD       Y9, Y11, Y15
	VADDPD       Y14, Y6, Y6
	VADDPD       Y15, Y7, Y7
	ADDQ         R12, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          denseKern4x8loop

	VMOVUPD Y0, (R13)
	VMOVUPD Y1, 32(R13)
	VMOVUPD Y2, (R13)(R14*1)
	VMOVUPD Y3, 32(R13)(R14*1)
	VMOVUPD Y4, (R13)(R14*2)
	VMOVUPD Y5, 32(R13)(R14*2)
	VMOVUPD Y6, (R13)(R11*1)
	VMOVUPD Y7, 32(R13)(R11*1)
	ADDQ    $64, R13
	ADDQ    $64, DI
	DECQ    BX
	JNZ     denseKern4x8block
	VZEROUPPER
	RET

// func denseKern4x4(k int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)
//
// Rows 0 … 3 and columns 0 … 3, as denseKern4x8.
TEXT ·denseKern4x4(SB), NOSPLIT, $0-72
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
	JNE  denseKern4x4clear
	VMOVUPD (R13), Y0
	VMOVUPD (R13)(R14*1), Y2
	VMOVUPD (R13)(R14*2), Y4
	VMOVUPD (R13)(R11*1), Y6
	JMP  denseKern4x4loop

denseKern4x4clear:
	VXORPD Y0, Y0, Y0
	VXORPD Y2, Y2, Y2
	VXORPD Y4, Y4, Y4
	VXORPD Y6, Y6, Y6

denseKern4x4loop:
	VMOVUPD      (SI), Y8
	VBROADCASTSD (R8), Y10
	VMULPD       Y8, Y10, Y12
	VADDPD       Y12, Y0, Y0
	VBROADCASTSD (R8)(R9*1), Y11
	VMULPD       Y8, Y11, Y14
	VADDPD       Y14, Y2, Y2
	VBROADCASTSD (R8)(R9*2), Y10
	VMULPD       Y8, Y10, Y12
	VADDPD       Y12, Y4, Y4
	VBROADCASTSD (R8)(R10*1), Y11
	VMULPD       Y8, Y11, Y14
	VADDPD       Y14, Y6, Y6
	ADDQ         R12, R8
	ADDQ         DX, SI
	DECQ         CX
	JNZ          denseKern4x4loop

	VMOVUPD Y0, (R13)
	VMOVUPD Y2, (R13)(R14*1)
	VMOVUPD Y4, (R13)(R14*2)
	VMOVUPD Y6, (R13)(R11*1)
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
