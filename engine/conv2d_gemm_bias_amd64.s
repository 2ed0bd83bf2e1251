#include "textflag.h"
#include "conv2d_gemm_avx512_amd64.h"

// The AVX-512 kernels of gemmOffBias (conv2d_gemm_shifted.go): those of
// gemmOff (conv2d_gemm_avx512_amd64.s, with its registers) with C written
// instead of added into, its blocks started at the biases of their rows in
// registers. The same fused sums in the same order: the bits of gemmOff on
// C filled with the biases.

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
