#include "textflag.h"

// func kern4x8AVX2(k int, a0, a1, a2, a3, b *float64, ldb int, c0, c1, c2, c3 *float64)
//
// For r = 0 … 3: c_r[0:8] += Σ_{p<k} a_r[p] · b[p·ldb : p·ldb+8], each
// product rounded (VMULPD) and then added (VADDPD) in increasing p.
TEXT ·kern4x8AVX2(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), CX
	MOVQ a0+8(FP), R8
	MOVQ a1+16(FP), R9
	MOVQ a2+24(FP), R10
	MOVQ a3+32(FP), R11
	MOVQ b+40(FP), SI
	MOVQ ldb+48(FP), DX
	SHLQ $3, DX
	MOVQ c0+56(FP), R12
	MOVQ c1+64(FP), R13
	MOVQ c2+72(FP), R14
	MOVQ c3+80(FP), BX

	VMOVUPD (R12), Y0
	VMOVUPD 32(R12), Y1
	VMOVUPD (R13), Y2
	VMOVUPD 32(R13), Y3
	VMOVUPD (R14), Y4
	VMOVUPD 32(R14), Y5
	VMOVUPD (BX), Y6
	VMOVUPD 32(BX), Y7

	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPD (SI), Y12
	VMOVUPD 32(SI), Y13

	VBROADCASTSD (R8)(AX*8), Y8
	VMULPD       Y12, Y8, Y14
	VADDPD       Y14, Y0, Y0
	VMULPD       Y13, Y8, Y15
	VADDPD       Y15, Y1, Y1

	VBROADCASTSD (R9)(AX*8), Y9
	VMULPD       Y12, Y9, Y14
	VADDPD       Y14, Y2, Y2
	VMULPD       Y13, Y9, Y15
	VADDPD       Y15, Y3, Y3

	VBROADCASTSD (R10)(AX*8), Y10
	VMULPD       Y12, Y10, Y14
	VADDPD       Y14, Y4, Y4
	VMULPD       Y13, Y10, Y15
	VADDPD       Y15, Y5, Y5

	VBROADCASTSD (R11)(AX*8), Y11
	VMULPD       Y12, Y11, Y14
	VADDPD       Y14, Y6, Y6
	VMULPD       Y13, Y11, Y15
	VADDPD       Y15, Y7, Y7

	ADDQ DX, SI
	INCQ AX
	JMP  loop

done:
	VMOVUPD Y0, (R12)
	VMOVUPD Y1, 32(R12)
	VMOVUPD Y2, (R13)
	VMOVUPD Y3, 32(R13)
	VMOVUPD Y4, (R14)
	VMOVUPD Y5, 32(R14)
	VMOVUPD Y6, (BX)
	VMOVUPD Y7, 32(BX)
	VZEROUPPER
	RET
