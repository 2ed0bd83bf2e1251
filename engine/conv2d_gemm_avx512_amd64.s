#include "textflag.h"

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

// LOADC16 loads the 8×16 block of C at R12 (rows 4 … 7 through CX).
#define LOADC16 \
	LEAQ    (R12)(R13*4), CX;     \
	VMOVUPD (R12), Z0;            \
	VMOVUPD 64(R12), Z1;          \
	VMOVUPD (R12)(R13*1), Z2;     \
	VMOVUPD 64(R12)(R13*1), Z3;   \
	VMOVUPD (R12)(R13*2), Z4;     \
	VMOVUPD 64(R12)(R13*2), Z5;   \
	VMOVUPD (R12)(R14*1), Z6;     \
	VMOVUPD 64(R12)(R14*1), Z7;   \
	VMOVUPD (CX), Z8;             \
	VMOVUPD 64(CX), Z9;           \
	VMOVUPD (CX)(R13*1), Z10;     \
	VMOVUPD 64(CX)(R13*1), Z11;   \
	VMOVUPD (CX)(R13*2), Z12;     \
	VMOVUPD 64(CX)(R13*2), Z13;   \
	VMOVUPD (CX)(R14*1), Z14;     \
	VMOVUPD 64(CX)(R14*1), Z15

// STOREC16 stores Z0 … Z15 back into the 8×16 block of C at R12.
#define STOREC16 \
	LEAQ    (R12)(R13*4), CX;     \
	VMOVUPD Z0, (R12);            \
	VMOVUPD Z1, 64(R12);          \
	VMOVUPD Z2, (R12)(R13*1);     \
	VMOVUPD Z3, 64(R12)(R13*1);   \
	VMOVUPD Z4, (R12)(R13*2);     \
	VMOVUPD Z5, 64(R12)(R13*2);   \
	VMOVUPD Z6, (R12)(R14*1);     \
	VMOVUPD Z7, 64(R12)(R14*1);   \
	VMOVUPD Z8, (CX);             \
	VMOVUPD Z9, 64(CX);           \
	VMOVUPD Z10, (CX)(R13*1);     \
	VMOVUPD Z11, 64(CX)(R13*1);   \
	VMOVUPD Z12, (CX)(R13*2);     \
	VMOVUPD Z13, 64(CX)(R13*2);   \
	VMOVUPD Z14, (CX)(R14*1);     \
	VMOVUPD Z15, 64(CX)(R14*1)

// LOADC8 and STOREC8: the same for an 8×8 block, in Z0 … Z7.
#define LOADC8 \
	LEAQ    (R12)(R13*4), CX;     \
	VMOVUPD (R12), Z0;            \
	VMOVUPD (R12)(R13*1), Z1;     \
	VMOVUPD (R12)(R13*2), Z2;     \
	VMOVUPD (R12)(R14*1), Z3;     \
	VMOVUPD (CX), Z4;             \
	VMOVUPD (CX)(R13*1), Z5;      \
	VMOVUPD (CX)(R13*2), Z6;      \
	VMOVUPD (CX)(R14*1), Z7

#define STOREC8 \
	LEAQ    (R12)(R13*4), CX;     \
	VMOVUPD Z0, (R12);            \
	VMOVUPD Z1, (R12)(R13*1);     \
	VMOVUPD Z2, (R12)(R13*2);     \
	VMOVUPD Z3, (R12)(R14*1);     \
	VMOVUPD Z4, (CX);             \
	VMOVUPD Z5, (CX)(R13*1);      \
	VMOVUPD Z6, (CX)(R13*2);      \
	VMOVUPD Z7, (CX)(R14*1)

// TERM16 adds term p of all 8 rows: row p of B's 16 columns in Z16, Z17,
// A[r, p] broadcast for r = 0 … 7, then moves R8 and R15 to column p+1.
#define TERM16 \
	VBROADCASTSD (R8), Z18;              \
	VFMADD231PD  Z16, Z18, Z0;           \
	VFMADD231PD  Z17, Z18, Z1;           \
	VBROADCASTSD (R8)(R9*1), Z19;        \
	VFMADD231PD  Z16, Z19, Z2;           \
	VFMADD231PD  Z17, Z19, Z3;           \
	VBROADCASTSD (R8)(R9*2), Z20;        \
	VFMADD231PD  Z16, Z20, Z4;           \
	VFMADD231PD  Z17, Z20, Z5;           \
	VBROADCASTSD (R8)(R10*1), Z21;       \
	VFMADD231PD  Z16, Z21, Z6;           \
	VFMADD231PD  Z17, Z21, Z7;           \
	VBROADCASTSD (R15), Z22;             \
	VFMADD231PD  Z16, Z22, Z8;           \
	VFMADD231PD  Z17, Z22, Z9;           \
	VBROADCASTSD (R15)(R9*1), Z23;       \
	VFMADD231PD  Z16, Z23, Z10;          \
	VFMADD231PD  Z17, Z23, Z11;          \
	VBROADCASTSD (R15)(R9*2), Z24;       \
	VFMADD231PD  Z16, Z24, Z12;          \
	VFMADD231PD  Z17, Z24, Z13;          \
	VBROADCASTSD (R15)(R10*1), Z25;      \
	VFMADD231PD  Z16, Z25, Z14;          \
	VFMADD231PD  Z17, Z25, Z15;          \
	ADDQ         $8, R8;                 \
	ADDQ         $8, R15

// TERM8 is TERM16 for 8 columns, row p of B in Z16.
#define TERM8 \
	VBROADCASTSD (R8), Z18;              \
	VFMADD231PD  Z16, Z18, Z0;           \
	VBROADCASTSD (R8)(R9*1), Z19;        \
	VFMADD231PD  Z16, Z19, Z1;           \
	VBROADCASTSD (R8)(R9*2), Z20;        \
	VFMADD231PD  Z16, Z20, Z2;           \
	VBROADCASTSD (R8)(R10*1), Z21;       \
	VFMADD231PD  Z16, Z21, Z3;           \
	VBROADCASTSD (R15), Z22;             \
	VFMADD231PD  Z16, Z22, Z4;           \
	VBROADCASTSD (R15)(R9*1), Z23;       \
	VFMADD231PD  Z16, Z23, Z5;           \
	VBROADCASTSD (R15)(R9*2), Z24;       \
	VFMADD231PD  Z16, Z24, Z6;           \
	VBROADCASTSD (R15)(R10*1), Z25;      \
	VFMADD231PD  Z16, Z25, Z7;           \
	ADDQ         $8, R8;                 \
	ADDQ         $8, R15

// ROWS sets R8 … R15 to the rows of A, DI + 8·aoff[r] for aoff at SI.
#define ROWS \
	MOVQ 0(SI), R8;          \
	LEAQ (DI)(R8*8), R8;     \
	MOVQ 8(SI), R9;          \
	LEAQ (DI)(R9*8), R9;     \
	MOVQ 16(SI), R10;        \
	LEAQ (DI)(R10*8), R10;   \
	MOVQ 24(SI), R11;        \
	LEAQ (DI)(R11*8), R11;   \
	MOVQ 32(SI), R12;        \
	LEAQ (DI)(R12*8), R12;   \
	MOVQ 40(SI), R13;        \
	LEAQ (DI)(R13*8), R13;   \
	MOVQ 48(SI), R14;        \
	LEAQ (DI)(R14*8), R14;   \
	MOVQ 56(SI), R15;        \
	LEAQ (DI)(R15*8), R15

// NEXTSEG moves R8 … R15 to the next segment of their rows, DI bytes on.
#define NEXTSEG \
	ADDQ DI, R8;             \
	ADDQ DI, R9;             \
	ADDQ DI, R10;            \
	ADDQ DI, R11;            \
	ADDQ DI, R12;            \
	ADDQ DI, R13;            \
	ADDQ DI, R14;            \
	ADDQ DI, R15

// ARGS loads the arguments the kernels share; the fifth (ldb or boff)
// goes to DX.
#define ARGS \
	MOVQ k+0(FP), AX;        \
	MOVQ nb+8(FP), BX;       \
	MOVQ a+16(FP), R11;      \
	MOVQ lda+24(FP), R9;     \
	SHLQ $3, R9;             \
	LEAQ (R9)(R9*2), R10;    \
	MOVQ b+32(FP), DI;       \
	MOVQ c+48(FP), R12;      \
	MOVQ ldc+56(FP), R13;    \
	SHLQ $3, R13;            \
	LEAQ (R13)(R13*2), R14

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

// LOADB16 starts the 8×16 block of C at the biases of its rows, bias[r]
// at SI: Z0 … Z15 as LOADC16 would load them from a C filled with them.
#define LOADB16 \
	VBROADCASTSD 0(SI), Z0;   \
	VMOVAPD      Z0, Z1;      \
	VBROADCASTSD 8(SI), Z2;   \
	VMOVAPD      Z2, Z3;      \
	VBROADCASTSD 16(SI), Z4;  \
	VMOVAPD      Z4, Z5;      \
	VBROADCASTSD 24(SI), Z6;  \
	VMOVAPD      Z6, Z7;      \
	VBROADCASTSD 32(SI), Z8;  \
	VMOVAPD      Z8, Z9;      \
	VBROADCASTSD 40(SI), Z10; \
	VMOVAPD      Z10, Z11;    \
	VBROADCASTSD 48(SI), Z12; \
	VMOVAPD      Z12, Z13;    \
	VBROADCASTSD 56(SI), Z14; \
	VMOVAPD      Z14, Z15

// LOADB8 is LOADB16 for an 8×8 block, in Z0 … Z7.
#define LOADB8 \
	VBROADCASTSD 0(SI), Z0;   \
	VBROADCASTSD 8(SI), Z1;   \
	VBROADCASTSD 16(SI), Z2;  \
	VBROADCASTSD 24(SI), Z3;  \
	VBROADCASTSD 32(SI), Z4;  \
	VBROADCASTSD 40(SI), Z5;  \
	VBROADCASTSD 48(SI), Z6;  \
	VBROADCASTSD 56(SI), Z7

// func kern8x16ZOffB(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int, bias *float64)
//
// kern8x16ZOff writing C instead of adding into it, every element started
// at its row's bias: c[r·ldc + j] = bias[r] + Σ_{p<k} a[r·lda + p] ·
// b[boff[p] + j], in increasing p (the bits of kern8x16ZOff on C filled
// with the biases, without the pass that fills it). k ≥ 1, nb ≥ 1.
TEXT ·kern8x16ZOffB(SB), NOSPLIT, $0-72
	ARGS
	MOVQ boff+40(FP), DX

z16bblock:
	MOVQ R11, R8
	LEAQ (R11)(R9*4), R15
	MOVQ bias+64(FP), SI
	LOADB16
	XORQ CX, CX

z16bloop:
	MOVQ    (DX)(CX*8), SI
	VMOVUPD (DI)(SI*8), Z16
	VMOVUPD 64(DI)(SI*8), Z17
	TERM16
	INCQ    CX
	CMPQ    CX, AX
	JNE     z16bloop

	STOREC16
	ADDQ $128, R12
	ADDQ $128, DI
	DECQ BX
	JNZ  z16bblock
	VZEROUPPER
	RET

// func kern8x8ZOffB(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int, bias *float64)
//
// kern8x16ZOffB with blocks of 8 columns.
TEXT ·kern8x8ZOffB(SB), NOSPLIT, $0-72
	ARGS
	MOVQ boff+40(FP), DX

z8bblock:
	MOVQ R11, R8
	LEAQ (R11)(R9*4), R15
	MOVQ bias+64(FP), SI
	LOADB8
	XORQ CX, CX

z8bloop:
	MOVQ    (DX)(CX*8), SI
	VMOVUPD (DI)(SI*8), Z16
	TERM8
	INCQ    CX
	CMPQ    CX, AX
	JNE     z8bloop

	STOREC8
	ADDQ $64, R12
	ADDQ $64, DI
	DECQ BX
	JNZ  z8bblock
	VZEROUPPER
	RET
