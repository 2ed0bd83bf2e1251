#include "textflag.h"

// kern25x8ZRows5: gemmRows for 25 rows of A that run in 5 groups of 5
// adjacent columns (row 5g+j of A at a + aoff[5g] + j, the rows of a 5×5
// kernel's channel in the im2col matrix of a zero-padded input) and 8
// columns, all 25 rows at once: 25 accumulators (Z0 … Z24, row r's 8
// columns in Zr), each term's value of A broadcast from memory into its
// fused multiply-add. A layer of 8 filters (the first one's dL/dWᵀ,
// (25, 8)) has no 16 columns for kern8x16ZRows; blocks of 8 or 9 rows keep
// 8 or 9 sums in flight, each waiting on its own last term, where 25 keep
// the multiply-add units busy. Every element of C gets its terms in
// increasing p, each fused into the running sum (VFMADD231PD): the bits of
// the other kernels and of gemmRowsGo.

// func kern25x8ZRows5(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)
//
// For r = 0 … 24 and j = 0 … 7:
// c[r·ldc + j] += Σ_{p<segs·w} A[r, p] · b[p·ldb + j], in increasing p,
// A[5g+i, p] = a[aoff[5g] + i + (p/w)·lds + p%w]. segs, w ≥ 1.
// R8 … R12 are the rows 0, 5, 10, 15 and 20 of A, CX the column within
// a segment, AX w, BX the segments left, DI lds in bytes, SI B's row, DX
// ldb in bytes, R14 C's row and R13 ldc in bytes.
TEXT ·kern25x8ZRows5(SB), NOSPLIT, $0-72
	MOVQ    c+56(FP), R14
	MOVQ    ldc+64(FP), R13
	SHLQ    $3, R13
	VMOVUPD (R14), Z0
	ADDQ    R13, R14
	VMOVUPD (R14), Z1
	ADDQ    R13, R14
	VMOVUPD (R14), Z2
	ADDQ    R13, R14
	VMOVUPD (R14), Z3
	ADDQ    R13, R14
	VMOVUPD (R14), Z4
	ADDQ    R13, R14
	VMOVUPD (R14), Z5
	ADDQ    R13, R14
	VMOVUPD (R14), Z6
	ADDQ    R13, R14
	VMOVUPD (R14), Z7
	ADDQ    R13, R14
	VMOVUPD (R14), Z8
	ADDQ    R13, R14
	VMOVUPD (R14), Z9
	ADDQ    R13, R14
	VMOVUPD (R14), Z10
	ADDQ    R13, R14
	VMOVUPD (R14), Z11
	ADDQ    R13, R14
	VMOVUPD (R14), Z12
	ADDQ    R13, R14
	VMOVUPD (R14), Z13
	ADDQ    R13, R14
	VMOVUPD (R14), Z14
	ADDQ    R13, R14
	VMOVUPD (R14), Z15
	ADDQ    R13, R14
	VMOVUPD (R14), Z16
	ADDQ    R13, R14
	VMOVUPD (R14), Z17
	ADDQ    R13, R14
	VMOVUPD (R14), Z18
	ADDQ    R13, R14
	VMOVUPD (R14), Z19
	ADDQ    R13, R14
	VMOVUPD (R14), Z20
	ADDQ    R13, R14
	VMOVUPD (R14), Z21
	ADDQ    R13, R14
	VMOVUPD (R14), Z22
	ADDQ    R13, R14
	VMOVUPD (R14), Z23
	ADDQ    R13, R14
	VMOVUPD (R14), Z24
	MOVQ    a+24(FP), DI
	MOVQ    aoff+32(FP), SI
	MOVQ    0(SI), R8
	LEAQ    (DI)(R8*8), R8
	MOVQ    40(SI), R9
	LEAQ    (DI)(R9*8), R9
	MOVQ    80(SI), R10
	LEAQ    (DI)(R10*8), R10
	MOVQ    120(SI), R11
	LEAQ    (DI)(R11*8), R11
	MOVQ    160(SI), R12
	LEAQ    (DI)(R12*8), R12
	MOVQ    b+40(FP), SI
	MOVQ    ldb+48(FP), DX
	SHLQ    $3, DX
	MOVQ    segs+0(FP), BX
	MOVQ    w+8(FP), AX
	MOVQ    lds+16(FP), DI
	SHLQ    $3, DI

z25seg:
	XORQ CX, CX

z25loop:
	VMOVUPD (SI), Z25
	VFMADD231PD.BCST 0(R8)(CX*8), Z25, Z0
	VFMADD231PD.BCST 8(R8)(CX*8), Z25, Z1
	VFMADD231PD.BCST 16(R8)(CX*8), Z25, Z2
	VFMADD231PD.BCST 24(R8)(CX*8), Z25, Z3
	VFMADD231PD.BCST 32(R8)(CX*8), Z25, Z4
	VFMADD231PD.BCST 0(R9)(CX*8), Z25, Z5
	VFMADD231PD.BCST 8(R9)(CX*8), Z25, Z6
	VFMADD231PD.BCST 16(R9)(CX*8), Z25, Z7
	VFMADD231PD.BCST 24(R9)(CX*8), Z25, Z8
	VFMADD231PD.BCST 32(R9)(CX*8), Z25, Z9
	VFMADD231PD.BCST 0(R10)(CX*8), Z25, Z10
	VFMADD231PD.BCST 8(R10)(CX*8), Z25, Z11
	VFMADD231PD.BCST 16(R10)(CX*8), Z25, Z12
	VFMADD231PD.BCST 24(R10)(CX*8), Z25, Z13
	VFMADD231PD.BCST 32(R10)(CX*8), Z25, Z14
	VFMADD231PD.BCST 0(R11)(CX*8), Z25, Z15
	VFMADD231PD.BCST 8(R11)(CX*8), Z25, Z16
	VFMADD231PD.BCST 16(R11)(CX*8), Z25, Z17
	VFMADD231PD.BCST 24(R11)(CX*8), Z25, Z18
	VFMADD231PD.BCST 32(R11)(CX*8), Z25, Z19
	VFMADD231PD.BCST 0(R12)(CX*8), Z25, Z20
	VFMADD231PD.BCST 8(R12)(CX*8), Z25, Z21
	VFMADD231PD.BCST 16(R12)(CX*8), Z25, Z22
	VFMADD231PD.BCST 24(R12)(CX*8), Z25, Z23
	VFMADD231PD.BCST 32(R12)(CX*8), Z25, Z24
	ADDQ    DX, SI
	INCQ    CX
	CMPQ    CX, AX
	JNE     z25loop

	ADDQ DI, R8
	ADDQ DI, R9
	ADDQ DI, R10
	ADDQ DI, R11
	ADDQ DI, R12
	DECQ BX
	JNZ  z25seg

	MOVQ c+56(FP), R14
	VMOVUPD Z0, (R14)
	ADDQ    R13, R14
	VMOVUPD Z1, (R14)
	ADDQ    R13, R14
	VMOVUPD Z2, (R14)
	ADDQ    R13, R14
	VMOVUPD Z3, (R14)
	ADDQ    R13, R14
	VMOVUPD Z4, (R14)
	ADDQ    R13, R14
	VMOVUPD Z5, (R14)
	ADDQ    R13, R14
	VMOVUPD Z6, (R14)
	ADDQ    R13, R14
	VMOVUPD Z7, (R14)
	ADDQ    R13, R14
	VMOVUPD Z8, (R14)
	ADDQ    R13, R14
	VMOVUPD Z9, (R14)
	ADDQ    R13, R14
	VMOVUPD Z10, (R14)
	ADDQ    R13, R14
	VMOVUPD Z11, (R14)
	ADDQ    R13, R14
	VMOVUPD Z12, (R14)
	ADDQ    R13, R14
	VMOVUPD Z13, (R14)
	ADDQ    R13, R14
	VMOVUPD Z14, (R14)
	ADDQ    R13, R14
	VMOVUPD Z15, (R14)
	ADDQ    R13, R14
	VMOVUPD Z16, (R14)
	ADDQ    R13, R14
	VMOVUPD Z17, (R14)
	ADDQ    R13, R14
	VMOVUPD Z18, (R14)
	ADDQ    R13, R14
	VMOVUPD Z19, (R14)
	ADDQ    R13, R14
	VMOVUPD Z20, (R14)
	ADDQ    R13, R14
	VMOVUPD Z21, (R14)
	ADDQ    R13, R14
	VMOVUPD Z22, (R14)
	ADDQ    R13, R14
	VMOVUPD Z23, (R14)
	ADDQ    R13, R14
	VMOVUPD Z24, (R14)
	VZEROUPPER
	RET
