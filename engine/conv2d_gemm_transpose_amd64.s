#include "textflag.h"

// transpose8Z: the AVX-512 transpose of dL/dY for dL/dW (see
// transposeSums), with the sums of dL/db on the way. It moves values and
// adds them as sum4 does (the same additions in the same order): the same
// bits as transpose and sum4 in Go.

// func transpose8Z(nb int, src *float64, lds int, dst *float64, ldd int, sums *float64)
//
// For rows r = 0 … 7 of src (lds elements apart) and columns c < 8·nb:
// dst[c·ldd + r] = src[r·lds + c], and sums[4r + i] += src[r·lds + c] for
// c ≡ i (mod 4), in increasing c. nb ≥ 1.
//
// A block of 8 columns: rows in Z0 … Z7, their halves added into the
// sums Y16 … Y23; VUNPCKLPD/VUNPCKHPD pair the rows' even and odd
// columns (Z8 … Z15), VSHUFF64X2 gathers the pairs of 128 bits into
// quarters of 4 rows (Z0 … Z7), then into whole columns (Z8 … Z15).
TEXT ·transpose8Z(SB), NOSPLIT, $0-48
	MOVQ nb+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), AX
	SHLQ $3, AX
	LEAQ (AX)(AX*2), BX
	LEAQ (SI)(AX*4), R10
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), DX
	SHLQ $3, DX
	LEAQ (DX)(DX*2), R8
	LEAQ (DI)(DX*4), R11
	LEAQ (DX)(DX*1), R12
	SHLQ $2, R12              // 8·ldd in bytes
	MOVQ sums+40(FP), R9
	VMOVUPD 0(R9), Y16
	VMOVUPD 32(R9), Y17
	VMOVUPD 64(R9), Y18
	VMOVUPD 96(R9), Y19
	VMOVUPD 128(R9), Y20
	VMOVUPD 160(R9), Y21
	VMOVUPD 192(R9), Y22
	VMOVUPD 224(R9), Y23

tblock:
	VMOVUPD (SI), Z0
	VMOVUPD (SI)(AX*1), Z1
	VMOVUPD (SI)(AX*2), Z2
	VMOVUPD (SI)(BX*1), Z3
	VMOVUPD (R10), Z4
	VMOVUPD (R10)(AX*1), Z5
	VMOVUPD (R10)(AX*2), Z6
	VMOVUPD (R10)(BX*1), Z7

	// Columns c … c+3, then c+4 … c+7, of each row into its sums.
	VADDPD        Y0, Y16, Y16
	VEXTRACTF64X4 $1, Z0, Y24
	VADDPD        Y24, Y16, Y16
	VADDPD        Y1, Y17, Y17
	VEXTRACTF64X4 $1, Z1, Y25
	VADDPD        Y25, Y17, Y17
	VADDPD        Y2, Y18, Y18
	VEXTRACTF64X4 $1, Z2, Y26
	VADDPD        Y26, Y18, Y18
	VADDPD        Y3, Y19, Y19
	VEXTRACTF64X4 $1, Z3, Y27
	VADDPD        Y27, Y19, Y19
	VADDPD        Y4, Y20, Y20
	VEXTRACTF64X4 $1, Z4, Y28
	VADDPD        Y28, Y20, Y20
	VADDPD        Y5, Y21, Y21
	VEXTRACTF64X4 $1, Z5, Y29
	VADDPD        Y29, Y21, Y21
	VADDPD        Y6, Y22, Y22
	VEXTRACTF64X4 $1, Z6, Y30
	VADDPD        Y30, Y22, Y22
	VADDPD        Y7, Y23, Y23
	VEXTRACTF64X4 $1, Z7, Y31
	VADDPD        Y31, Y23, Y23

	// Rows a … h: Z8 = a0 b0 a2 b2 a4 b4 a6 b6, Z9 = a1 b1 a3 b3 …
	VUNPCKLPD Z1, Z0, Z8
	VUNPCKHPD Z1, Z0, Z9
	VUNPCKLPD Z3, Z2, Z10
	VUNPCKHPD Z3, Z2, Z11
	VUNPCKLPD Z5, Z4, Z12
	VUNPCKHPD Z5, Z4, Z13
	VUNPCKLPD Z7, Z6, Z14
	VUNPCKHPD Z7, Z6, Z15

	// Z0 = a0 b0 a4 b4 c0 d0 c4 d4, Z1 = a2 b2 a6 b6 c2 d2 c6 d6,
	// Z2 = a1 b1 a5 b5 c1 d1 c5 d5, Z3 = a3 b3 a7 b7 c3 d3 c7 d7; Z4 … Z7
	// the same of rows e … h.
	VSHUFF64X2 $0x88, Z10, Z8, Z0
	VSHUFF64X2 $0xDD, Z10, Z8, Z1
	VSHUFF64X2 $0x88, Z11, Z9, Z2
	VSHUFF64X2 $0xDD, Z11, Z9, Z3
	VSHUFF64X2 $0x88, Z14, Z12, Z4
	VSHUFF64X2 $0xDD, Z14, Z12, Z5
	VSHUFF64X2 $0x88, Z15, Z13, Z6
	VSHUFF64X2 $0xDD, Z15, Z13, Z7

	// Columns 0, 4, 2, 6, 1, 5, 3, 7.
	VSHUFF64X2 $0x88, Z4, Z0, Z8
	VSHUFF64X2 $0xDD, Z4, Z0, Z9
	VSHUFF64X2 $0x88, Z5, Z1, Z10
	VSHUFF64X2 $0xDD, Z5, Z1, Z11
	VSHUFF64X2 $0x88, Z6, Z2, Z12
	VSHUFF64X2 $0xDD, Z6, Z2, Z13
	VSHUFF64X2 $0x88, Z7, Z3, Z14
	VSHUFF64X2 $0xDD, Z7, Z3, Z15

	VMOVUPD Z8, (DI)
	VMOVUPD Z12, (DI)(DX*1)
	VMOVUPD Z10, (DI)(DX*2)
	VMOVUPD Z14, (DI)(R8*1)
	VMOVUPD Z9, (R11)
	VMOVUPD Z13, (R11)(DX*1)
	VMOVUPD Z11, (R11)(DX*2)
	VMOVUPD Z15, (R11)(R8*1)

	ADDQ $64, SI
	ADDQ $64, R10
	ADDQ R12, DI
	ADDQ R12, R11
	DECQ CX
	JNZ  tblock

	VMOVUPD Y16, 0(R9)
	VMOVUPD Y17, 32(R9)
	VMOVUPD Y18, 64(R9)
	VMOVUPD Y19, 96(R9)
	VMOVUPD Y20, 128(R9)
	VMOVUPD Y21, 160(R9)
	VMOVUPD Y22, 192(R9)
	VMOVUPD Y23, 224(R9)
	VZEROUPPER
	RET
