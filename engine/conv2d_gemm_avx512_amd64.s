#include "textflag.h"
#include "conv2d_gemm_avx512_amd64.h"

// The AVX-512 kernels of gemmNN and gemmOff on amd64: blocks of 8 rows of
// C, 16 or 8 columns wide, held in Z0 … Z15 (16 or 8 accumulators, each of
// 8 float64) while p runs. Every element of C gets its terms in increasing
// p, each one fused into the running sum (c = a·b + c, rounded once,
// VFMADD231PD), exactly like math.FMA in gemmGo and the AVX2 kernels of
// conv2d_gemm_amd64.s: the same bits, with twice the accumulators in flight.
//
// Registers common to the kernels: R11 A, R9 lda and R10 3·lda in bytes,
// R8 and R15 the current column of A's rows 0 and 4, R12 C, R13 ldc and
// R14 3·ldc in bytes, CX the running count (and C's row 4 outside the
// loop), BX the column blocks left, DI B's current column block.

// func kern8x16Z(k, nb int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)
//
// For r = 0 … 7 and each of nb blocks of 16 columns j:
// c[r·ldc + j] = Σ_{p<k} a[r·lda + p] · b[p·ldb + j] added to c, in
// increasing p. k ≥ 1, nb ≥ 1.
TEXT ·kern8x16Z(SB), NOSPLIT, $0-64
	ARGS
	MOVQ ldb+40(FP), DX
	SHLQ $3, DX

z16block:
	MOVQ DI, SI
	MOVQ R11, R8
	LEAQ (R11)(R9*4), R15
	LOADC16
	MOVQ AX, CX

z16loop:
	VMOVUPD (SI), Z16
	VMOVUPD 64(SI), Z17
	TERM16
	ADDQ    DX, SI
	DECQ    CX
	JNZ     z16loop

	STOREC16
	ADDQ $128, R12
	ADDQ $128, DI
	DECQ BX
	JNZ  z16block
	VZEROUPPER
	RET

// func kern8x8Z(k, nb int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)
//
// kern8x16Z with blocks of 8 columns.
TEXT ·kern8x8Z(SB), NOSPLIT, $0-64
	ARGS
	MOVQ ldb+40(FP), DX
	SHLQ $3, DX

z8block:
	MOVQ DI, SI
	MOVQ R11, R8
	LEAQ (R11)(R9*4), R15
	LOADC8
	MOVQ AX, CX

z8loop:
	VMOVUPD (SI), Z16
	TERM8
	ADDQ    DX, SI
	DECQ    CX
	JNZ     z8loop

	STOREC8
	ADDQ $64, R12
	ADDQ $64, DI
	DECQ BX
	JNZ  z8block
	VZEROUPPER
	RET

// func kern8x16ZOff(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int)
//
// kern8x16Z with row p of B at b + boff[p] (elements) instead of
// b + p·ldb. k ≥ 1, nb ≥ 1.
TEXT ·kern8x16ZOff(SB), NOSPLIT, $0-64
	ARGS
	MOVQ boff+40(FP), DX

z16oblock:
	MOVQ R11, R8
	LEAQ (R11)(R9*4), R15
	LOADC16
	XORQ CX, CX

z16oloop:
	MOVQ    (DX)(CX*8), SI
	VMOVUPD (DI)(SI*8), Z16
	VMOVUPD 64(DI)(SI*8), Z17
	TERM16
	INCQ    CX
	CMPQ    CX, AX
	JNE     z16oloop

	STOREC16
	ADDQ $128, R12
	ADDQ $128, DI
	DECQ BX
	JNZ  z16oblock
	VZEROUPPER
	RET

// func kern8x8ZOff(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int)
//
// kern8x16ZOff with blocks of 8 columns.
TEXT ·kern8x8ZOff(SB), NOSPLIT, $0-64
	ARGS
	MOVQ boff+40(FP), DX

z8oblock:
	MOVQ R11, R8
	LEAQ (R11)(R9*4), R15
	LOADC8
	XORQ CX, CX

z8oloop:
	MOVQ    (DX)(CX*8), SI
	VMOVUPD (DI)(SI*8), Z16
	TERM8
	INCQ    CX
	CMPQ    CX, AX
	JNE     z8oloop

	STOREC8
	ADDQ $64, R12
	ADDQ $64, DI
	DECQ BX
	JNZ  z8oblock
	VZEROUPPER
	RET

// func kern8x16ZRows(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)
//
// For r = 0 … 7 and j = 0 … 15:
// c[r·ldc + j] += Σ_{p<segs·w} A[r, p] · b[p·ldb + j], in increasing p,
// where row r of A runs in segs segments of w elements lds apart from
// a + aoff[r]: A[r, p] = a[aoff[r] + (p/w)·lds + p%w]. segs, w ≥ 1.
// R8 … R15 are the rows of A, CX the column within a segment, AX w,
// BX the segments left, DI lds in bytes, SI B's row, DX ldb in bytes.
TEXT ·kern8x16ZRows(SB), NOSPLIT, $0-72
	MOVQ    c+56(FP), R12
	MOVQ    ldc+64(FP), R13
	SHLQ    $3, R13
	LEAQ    (R13)(R13*2), R14
	LOADC16
	MOVQ    a+24(FP), DI
	MOVQ    aoff+32(FP), SI
	ROWS
	MOVQ    b+40(FP), SI
	MOVQ    ldb+48(FP), DX
	SHLQ    $3, DX
	MOVQ    segs+0(FP), BX
	MOVQ    w+8(FP), AX
	MOVQ    lds+16(FP), DI
	SHLQ    $3, DI

z16rseg:
	XORQ CX, CX

z16rloop:
	VMOVUPD      (SI), Z16
	VMOVUPD      64(SI), Z17
	VBROADCASTSD (R8)(CX*8), Z18
	VFMADD231PD  Z16, Z18, Z0
	VFMADD231PD  Z17, Z18, Z1
	VBROADCASTSD (R9)(CX*8), Z19
	VFMADD231PD  Z16, Z19, Z2
	VFMADD231PD  Z17, Z19, Z3
	VBROADCASTSD (R10)(CX*8), Z20
	VFMADD231PD  Z16, Z20, Z4
	VFMADD231PD  Z17, Z20, Z5
	VBROADCASTSD (R11)(CX*8), Z21
	VFMADD231PD  Z16, Z21, Z6
	VFMADD231PD  Z17, Z21, Z7
	VBROADCASTSD (R12)(CX*8), Z22
	VFMADD231PD  Z16, Z22, Z8
	VFMADD231PD  Z17, Z22, Z9
	VBROADCASTSD (R13)(CX*8), Z23
	VFMADD231PD  Z16, Z23, Z10
	VFMADD231PD  Z17, Z23, Z11
	VBROADCASTSD (R14)(CX*8), Z24
	VFMADD231PD  Z16, Z24, Z12
	VFMADD231PD  Z17, Z24, Z13
	VBROADCASTSD (R15)(CX*8), Z25
	VFMADD231PD  Z16, Z25, Z14
	VFMADD231PD  Z17, Z25, Z15
	ADDQ         DX, SI
	INCQ         CX
	CMPQ         CX, AX
	JNE          z16rloop

	NEXTSEG
	DECQ BX
	JNZ  z16rseg

	MOVQ c+56(FP), R12
	MOVQ ldc+64(FP), R13
	SHLQ $3, R13
	LEAQ (R13)(R13*2), R14
	STOREC16
	VZEROUPPER
	RET

// func kern8x8ZRows(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)
//
// kern8x16ZRows for 8 columns.
TEXT ·kern8x8ZRows(SB), NOSPLIT, $0-72
	MOVQ    c+56(FP), R12
	MOVQ    ldc+64(FP), R13
	SHLQ    $3, R13
	LEAQ    (R13)(R13*2), R14
	LOADC8
	MOVQ    a+24(FP), DI
	MOVQ    aoff+32(FP), SI
	ROWS
	MOVQ    b+40(FP), SI
	MOVQ    ldb+48(FP), DX
	SHLQ    $3, DX
	MOVQ    segs+0(FP), BX
	MOVQ    w+8(FP), AX
	MOVQ    lds+16(FP), DI
	SHLQ    $3, DI

z8rseg:
	XORQ CX, CX

z8rloop:
	VMOVUPD      (SI), Z16
	VBROADCASTSD (R8)(CX*8), Z18
	VFMADD231PD  Z16, Z18, Z0
	VBROADCASTSD (R9)(CX*8), Z19
	VFMADD231PD  Z16, Z19, Z1
	VBROADCASTSD (R10)(CX*8), Z20
	VFMADD231PD  Z16, Z20, Z2
	VBROADCASTSD (R11)(CX*8), Z21
	VFMADD231PD  Z16, Z21, Z3
	VBROADCASTSD (R12)(CX*8), Z22
	VFMADD231PD  Z16, Z22, Z4
	VBROADCASTSD (R13)(CX*8), Z23
	VFMADD231PD  Z16, Z23, Z5
	VBROADCASTSD (R14)(CX*8), Z24
	VFMADD231PD  Z16, Z24, Z6
	VBROADCASTSD (R15)(CX*8), Z25
	VFMADD231PD  Z16, Z25, Z7
	ADDQ         DX, SI
	INCQ         CX
	CMPQ         CX, AX
	JNE          z8rloop

	NEXTSEG
	DECQ BX
	JNZ  z8rseg

	MOVQ c+56(FP), R12
	MOVQ ldc+64(FP), R13
	SHLQ $3, R13
	LEAQ (R13)(R13*2), R14
	STOREC8
	VZEROUPPER
	RET

// func kern9x8ZRows(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)
//
// kern8x8ZRows for 9 rows: a block of rows that leaves one over (the
// first layer's 25 = 8 + 8 + 9) runs it among 8 other accumulators
// instead of alone (one chain of fused sums, waiting on each). Row 8 of A
// is AX, its column broadcast into Z26, its row of C in Z8; w is compared
// in memory.
TEXT ·kern9x8ZRows(SB), NOSPLIT, $0-72
	MOVQ    c+56(FP), R12
	MOVQ    ldc+64(FP), R13
	SHLQ    $3, R13
	LEAQ    (R13)(R13*2), R14
	LOADC8
	VMOVUPD (CX)(R13*4), Z8
	MOVQ    a+24(FP), DI
	MOVQ    aoff+32(FP), SI
	MOVQ    64(SI), AX
	LEAQ    (DI)(AX*8), AX
	ROWS
	MOVQ    b+40(FP), SI
	MOVQ    ldb+48(FP), DX
	SHLQ    $3, DX
	MOVQ    segs+0(FP), BX
	MOVQ    lds+16(FP), DI
	SHLQ    $3, DI

z9rseg:
	XORQ CX, CX

z9rloop:
	VMOVUPD      (SI), Z16
	VBROADCASTSD (R8)(CX*8), Z18
	VFMADD231PD  Z16, Z18, Z0
	VBROADCASTSD (R9)(CX*8), Z19
	VFMADD231PD  Z16, Z19, Z1
	VBROADCASTSD (R10)(CX*8), Z20
	VFMADD231PD  Z16, Z20, Z2
	VBROADCASTSD (R11)(CX*8), Z21
	VFMADD231PD  Z16, Z21, Z3
	VBROADCASTSD (R12)(CX*8), Z22
	VFMADD231PD  Z16, Z22, Z4
	VBROADCASTSD (R13)(CX*8), Z23
	VFMADD231PD  Z16, Z23, Z5
	VBROADCASTSD (R14)(CX*8), Z24
	VFMADD231PD  Z16, Z24, Z6
	VBROADCASTSD (R15)(CX*8), Z25
	VFMADD231PD  Z16, Z25, Z7
	VBROADCASTSD (AX)(CX*8), Z26
	VFMADD231PD  Z16, Z26, Z8
	ADDQ         DX, SI
	INCQ         CX
	CMPQ         CX, w+8(FP)
	JNE          z9rloop

	NEXTSEG
	ADDQ DI, AX
	DECQ BX
	JNZ  z9rseg

	MOVQ    c+56(FP), R12
	MOVQ    ldc+64(FP), R13
	SHLQ    $3, R13
	LEAQ    (R13)(R13*2), R14
	STOREC8
	VMOVUPD Z8, (CX)(R13*4)
	VZEROUPPER
	RET
