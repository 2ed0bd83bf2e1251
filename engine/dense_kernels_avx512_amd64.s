#include "textflag.h"

// The AVX-512 kernels of denseMul and transposeDense (dense_kernels.go).
// The sums are those of dense_kernels_amd64.s, 8 columns to a register:
// every element of C gets its terms in increasing p, each product rounded
// on its own (VMULPD, with A[r,p] broadcast from memory) and then added to
// the running sum (VADDPD), never fused.

// func denseKern5x16Z(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)
//
// Rows 0 … 4 and nb ≥ 1 blocks of 16 columns: C[r,j] = C[r,j] (or +0 if
// zero ≠ 0) + Σ_{p<k} A[r,p]·B[p,j], A[r,p] = a[r·ars + p·aps],
// B[p,j] = b[p·ldb + j], C[r,j] = c[r·ldc + j]; k ≥ 1. The 5×16 block of
// C stays in Z0 … Z9 while p runs; Z15, Z16 hold row p of B and Z18 … Z27
// the products.
TEXT ·denseKern5x16Z(SB), NOSPLIT, $0-80
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

z16block:
	MOVQ DI, SI
	MOVQ a+16(FP), R8
	MOVQ k+0(FP), CX
	CMPQ zero+72(FP), $0
	JNE  z16clear
	VMOVUPD (R13), Z0
	VMOVUPD 64(R13), Z1
	VMOVUPD (R13)(R14*1), Z2
	VMOVUPD 64(R13)(R14*1), Z3
	VMOVUPD (R13)(R14*2), Z4
	VMOVUPD 64(R13)(R14*2), Z5
	VMOVUPD (R13)(R11*1), Z6
	VMOVUPD 64(R13)(R11*1), Z7
	VMOVUPD (R13)(R14*4), Z8
	VMOVUPD 64(R13)(R14*4), Z9
	JMP  z16loop

z16clear:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9

z16loop:
	VMOVUPD     (SI), Z15
	VMOVUPD     64(SI), Z16
	VMULPD.BCST (R8), Z15, Z18
	VMULPD.BCST (R8), Z16, Z19
	VMULPD.BCST (R8)(R9*1), Z15, Z20
	VMULPD.BCST (R8)(R9*1), Z16, Z21
	VMULPD.BCST (R8)(R9*2), Z15, Z22
	VMULPD.BCST (R8)(R9*2), Z16, Z23
	VADDPD      Z18, Z0, Z0
	VADDPD      Z19, Z1, Z1
	VMULPD.BCST (R8)(R10*1), Z15, Z24
	VMULPD.BCST (R8)(R10*1), Z16, Z25
	VADDPD      Z20, Z2, Z2
	VADDPD      Z21, Z3, Z3
	VMULPD.BCST (R8)(R9*4), Z15, Z26
	VMULPD.BCST (R8)(R9*4), Z16, Z27
	VADDPD      Z22, Z4, Z4
	VADDPD      Z23, Z5, Z5
	VADDPD      Z24, Z6, Z6
	VADDPD      Z25, Z7, Z7
	VADDPD      Z26, Z8, Z8
	VADDPD      Z27, Z9, Z9
	ADDQ        R12, R8
	ADDQ        DX, SI
	DECQ        CX
	JNZ         z16loop

	VMOVUPD Z0, (R13)
	VMOVUPD Z1, 64(R13)
	VMOVUPD Z2, (R13)(R14*1)
	VMOVUPD Z3, 64(R13)(R14*1)
	VMOVUPD Z4, (R13)(R14*2)
	VMOVUPD Z5, 64(R13)(R14*2)
	VMOVUPD Z6, (R13)(R11*1)
	VMOVUPD Z7, 64(R13)(R11*1)
	VMOVUPD Z8, (R13)(R14*4)
	VMOVUPD Z9, 64(R13)(R14*4)
	ADDQ    $128, R13
	ADDQ    $128, DI
	DECQ    BX
	JNZ     z16block
	VZEROUPPER
	RET

// func denseKern5x24Z(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)
//
// Rows 0 … 4 and nb ≥ 1 blocks of 24 columns, as denseKern5x16Z. The 5×24
// block of C stays in Z0 … Z14; Z15 … Z17 hold row p of B and Z18 … Z29
// the products.
TEXT ·denseKern5x24Z(SB), NOSPLIT, $0-80
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

z24block:
	MOVQ DI, SI
	MOVQ a+16(FP), R8
	MOVQ k+0(FP), CX
	CMPQ zero+72(FP), $0
	JNE  z24clear
	VMOVUPD (R13), Z0
	VMOVUPD 64(R13), Z1
	VMOVUPD 128(R13), Z2
	VMOVUPD (R13)(R14*1), Z3
	VMOVUPD 64(R13)(R14*1), Z4
	VMOVUPD 128(R13)(R14*1), Z5
	VMOVUPD (R13)(R14*2), Z6
	VMOVUPD 64(R13)(R14*2), Z7
	VMOVUPD 128(R13)(R14*2), Z8
	VMOVUPD (R13)(R11*1), Z9
	VMOVUPD 64(R13)(R11*1), Z10
	VMOVUPD 128(R13)(R11*1), Z11
	VMOVUPD (R13)(R14*4), Z12
	VMOVUPD 64(R13)(R14*4), Z13
	VMOVUPD 128(R13)(R14*4), Z14
	JMP  z24loop

z24clear:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14

z24loop:
	VMOVUPD     (SI), Z15
	VMOVUPD     64(SI), Z16
	VMOVUPD     128(SI), Z17
	VMULPD.BCST (R8), Z15, Z18
	VMULPD.BCST (R8), Z16, Z19
	VMULPD.BCST (R8), Z17, Z20
	VMULPD.BCST (R8)(R9*1), Z15, Z21
	VMULPD.BCST (R8)(R9*1), Z16, Z22
	VMULPD.BCST (R8)(R9*1), Z17, Z23
	VMULPD.BCST (R8)(R9*2), Z15, Z24
	VMULPD.BCST (R8)(R9*2), Z16, Z25
	VMULPD.BCST (R8)(R9*2), Z17, Z26
	VADDPD      Z18, Z0, Z0
	VADDPD      Z19, Z1, Z1
	VADDPD      Z20, Z2, Z2
	VMULPD.BCST (R8)(R10*1), Z15, Z27
	VMULPD.BCST (R8)(R10*1), Z16, Z28
	VMULPD.BCST (R8)(R10*1), Z17, Z29
	VADDPD      Z21, Z3, Z3
	VADDPD      Z22, Z4, Z4
	VADDPD      Z23, Z5, Z5
	VMULPD.BCST (R8)(R9*4), Z15, Z18
	VMULPD.BCST (R8)(R9*4), Z16, Z19
	VMULPD.BCST (R8)(R9*4), Z17, Z20
	VADDPD      Z24, Z6, Z6
	VADDPD      Z25, Z7, Z7
	VADDPD      Z26, Z8, Z8
	VADDPD      Z27, Z9, Z9
	VADDPD      Z28, Z10, Z10
	VADDPD      Z29, Z11, Z11
	VADDPD      Z18, Z12, Z12
	VADDPD      Z19, Z13, Z13
	VADDPD      Z20, Z14, Z14
	ADDQ        R12, R8
	ADDQ        DX, SI
	DECQ        CX
	JNZ         z24loop

	VMOVUPD Z0, (R13)
	VMOVUPD Z1, 64(R13)
	VMOVUPD Z2, 128(R13)
	VMOVUPD Z3, (R13)(R14*1)
	VMOVUPD Z4, 64(R13)(R14*1)
	VMOVUPD Z5, 128(R13)(R14*1)
	VMOVUPD Z6, (R13)(R14*2)
	VMOVUPD Z7, 64(R13)(R14*2)
	VMOVUPD Z8, 128(R13)(R14*2)
	VMOVUPD Z9, (R13)(R11*1)
	VMOVUPD Z10, 64(R13)(R11*1)
	VMOVUPD Z11, 128(R13)(R11*1)
	VMOVUPD Z12, (R13)(R14*4)
	VMOVUPD Z13, 64(R13)(R14*4)
	VMOVUPD Z14, 128(R13)(R14*4)
	ADDQ    $192, R13
	ADDQ    $192, DI
	DECQ    BX
	JNZ     z24block
	VZEROUPPER
	RET

// func denseTranspose8Z(nb int, src *float64, lds int, dst *float64, ldd int)
//
// Transposes 8 rows × 8·nb columns of src (rows lds elements apart) into
// dst (rows ldd elements apart): dst[j·ldd + r] = src[r·lds + j] for r < 8,
// j < 8·nb, nb ≥ 1. Per block of 8 columns, Z0 = [s0 | s2] (columns 0 … 3
// of rows 0 and 2), Z1 = [s1 | s3], Z2 = [s4 | s6], Z3 = [s5 | s7] and Z4 …
// Z7 the same of columns 4 … 7; their interleavings (VUNPCKLPD, VUNPCKHPD)
// hold pairs of rows, and VSHUFF64X2 gathers four pairs into a column.
TEXT ·denseTranspose8Z(SB), NOSPLIT, $0-40
	MOVQ nb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R9
	SHLQ $3, R9
	LEAQ (R9)(R9*2), R10
	LEAQ (SI)(R9*4), R12
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), R11
	SHLQ $3, R11
	LEAQ (R11)(R11*2), R13
	LEAQ (DI)(R11*4), R14
	MOVQ R11, R8
	SHLQ $3, R8

transpose8:
	VMOVUPD      (SI), Y0
	VINSERTF64X4 $1, (SI)(R9*2), Z0, Z0
	VMOVUPD      (SI)(R9*1), Y1
	VINSERTF64X4 $1, (SI)(R10*1), Z1, Z1
	VMOVUPD      (R12), Y2
	VINSERTF64X4 $1, (R12)(R9*2), Z2, Z2
	VMOVUPD      (R12)(R9*1), Y3
	VINSERTF64X4 $1, (R12)(R10*1), Z3, Z3
	VMOVUPD      32(SI), Y4
	VINSERTF64X4 $1, 32(SI)(R9*2), Z4, Z4
	VMOVUPD      32(SI)(R9*1), Y5
	VINSERTF64X4 $1, 32(SI)(R10*1), Z5, Z5
	VMOVUPD      32(R12), Y6
	VINSERTF64X4 $1, 32(R12)(R9*2), Z6, Z6
	VMOVUPD      32(R12)(R9*1), Y7
	VINSERTF64X4 $1, 32(R12)(R10*1), Z7, Z7
	VUNPCKLPD    Z1, Z0, Z8
	VUNPCKHPD    Z1, Z0, Z9
	VUNPCKLPD    Z3, Z2, Z10
	VUNPCKHPD    Z3, Z2, Z11
	VUNPCKLPD    Z5, Z4, Z16
	VUNPCKHPD    Z5, Z4, Z17
	VUNPCKLPD    Z7, Z6, Z18
	VUNPCKHPD    Z7, Z6, Z19
	VSHUFF64X2   $0x88, Z10, Z8, Z12
	VSHUFF64X2   $0x88, Z11, Z9, Z13
	VSHUFF64X2   $0xDD, Z10, Z8, Z14
	VSHUFF64X2   $0xDD, Z11, Z9, Z15
	VSHUFF64X2   $0x88, Z18, Z16, Z20
	VSHUFF64X2   $0x88, Z19, Z17, Z21
	VSHUFF64X2   $0xDD, Z18, Z16, Z22
	VSHUFF64X2   $0xDD, Z19, Z17, Z23
	VMOVUPD      Z12, (DI)
	VMOVUPD      Z13, (DI)(R11*1)
	VMOVUPD      Z14, (DI)(R11*2)
	VMOVUPD      Z15, (DI)(R13*1)
	VMOVUPD      Z20, (R14)
	VMOVUPD      Z21, (R14)(R11*1)
	VMOVUPD      Z22, (R14)(R11*2)
	VMOVUPD      Z23, (R14)(R13*1)
	ADDQ         $64, SI
	ADDQ         $64, R12
	ADDQ         R8, DI
	ADDQ         R8, R14
	DECQ         CX
	JNZ          transpose8
	VZEROUPPER
	RET

// func denseKern1x16Z(k, nb int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)
//
// Row 0 and nb ≥ 1 blocks of 16 columns, as denseKern5x16Z: the two sums
// of 8 columns run side by side (a single row's sums are chains of
// dependent additions, so a block of 16 takes about as long as one of 8).
TEXT ·denseKern1x16Z(SB), NOSPLIT, $0-64
	MOVQ nb+8(FP), BX
	MOVQ aps+24(FP), R12
	SHLQ $3, R12
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), DX
	SHLQ $3, DX
	MOVQ c+48(FP), R13

z1block:
	MOVQ    DI, SI
	MOVQ    a+16(FP), R8
	MOVQ    k+0(FP), CX
	CMPQ    zero+56(FP), $0
	JNE     z1clear
	VMOVUPD (R13), Z0
	VMOVUPD 64(R13), Z1
	JMP     z1loop

z1clear:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1

z1loop:
	VMOVUPD     (SI), Z10
	VMOVUPD     64(SI), Z11
	VMULPD.BCST (R8), Z10, Z12
	VMULPD.BCST (R8), Z11, Z13
	VADDPD      Z12, Z0, Z0
	VADDPD      Z13, Z1, Z1
	ADDQ        R12, R8
	ADDQ        DX, SI
	DECQ        CX
	JNZ         z1loop

	VMOVUPD Z0, (R13)
	VMOVUPD Z1, 64(R13)
	ADDQ    $128, R13
	ADDQ    $128, DI
	DECQ    BX
	JNZ     z1block
	VZEROUPPER
	RET
