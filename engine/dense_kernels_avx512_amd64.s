#include "textflag.h"

// The AVX-512 kernel of denseMul (dense_kernels.go): the sums of
// dense_kernels_amd64.s, 8 columns to a register. Every element of C gets
// its terms in increasing p, each product rounded on its own (VMULPD, with
// A[r,p] broadcast from memory) and then added to the running sum (VADDPD),
// never fused.

// func denseKern5x16Z(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)
//
// Rows 0 … 4 and nb ≥ 1 blocks of 16 columns: C[r,j] = C[r,j] (or +0 if
// zero ≠ 0) + Σ_{p<k} A[r,p]·B[p,j], A[r,p] = a[r·ars + p·aps],
// B[p,j] = b[p·ldb + j], C[r,j] = c[r·ldc + j]; k ≥ 1. The 5×16 block of
// C stays in Z0 … Z9 while p runs; Z10, Z11 hold row p of B and Z12 … Z21
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
	VMOVUPD     (SI), Z10
	VMOVUPD     64(SI), Z11
	VMULPD.BCST (R8), Z10, Z12
	VMULPD.BCST (R8), Z11, Z13
	VMULPD.BCST (R8)(R9*1), Z10, Z14
	VMULPD.BCST (R8)(R9*1), Z11, Z15
	VMULPD.BCST (R8)(R9*2), Z10, Z16
	VMULPD.BCST (R8)(R9*2), Z11, Z17
	VMULPD.BCST (R8)(R10*1), Z10, Z18
	VMULPD.BCST (R8)(R10*1), Z11, Z19
	VMULPD.BCST (R8)(R9*4), Z10, Z20
	VMULPD.BCST (R8)(R9*4), Z11, Z21
	VADDPD      Z12, Z0, Z0
	VADDPD      Z13, Z1, Z1
	VADDPD      Z14, Z2, Z2
	VADDPD      Z15, Z3, Z3
	VADDPD      Z16, Z4, Z4
	VADDPD      Z17, Z5, Z5
	VADDPD      Z18, Z6, Z6
	VADDPD      Z19, Z7, Z7
	VADDPD      Z20, Z8, Z8
	VADDPD      Z21, Z9, Z9
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
