#include "textflag.h"

// func finiteSum32FMA(x *float64, n int) float64
//
// Returns Σ x[i]·0 over i < n, n a positive multiple of 32: 0 if every
// x[i] is finite, NaN if one is ±Inf or NaN (∞·0 is NaN, and a NaN stays
// NaN through the sums). Each term is fused into one of eight running sums
// (VFMADD231PD acc += x·0), so 32 values go by per round with no product
// waiting on another; the sums of finite terms are exactly 0 and cannot
// overflow.
TEXT ·finiteSum32FMA(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPD Y15, Y15, Y15
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

loop:
	VFMADD231PD 0(SI), Y15, Y0
	VFMADD231PD 32(SI), Y15, Y1
	VFMADD231PD 64(SI), Y15, Y2
	VFMADD231PD 96(SI), Y15, Y3
	VFMADD231PD 128(SI), Y15, Y4
	VFMADD231PD 160(SI), Y15, Y5
	VFMADD231PD 192(SI), Y15, Y6
	VFMADD231PD 224(SI), Y15, Y7
	ADDQ $256, SI
	SUBQ $32, CX
	JNZ  loop

	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y5, Y4, Y4
	VADDPD Y7, Y6, Y6
	VADDPD Y2, Y0, Y0
	VADDPD Y6, Y4, Y4
	VADDPD Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VZEROUPPER
	MOVSD X0, ret+16(FP)
	RET
