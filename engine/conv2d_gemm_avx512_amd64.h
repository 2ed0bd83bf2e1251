// Macros of the AVX-512 kernels (conv2d_gemm_avx512_amd64.s,
// conv2d_gemm_bias_amd64.s); the registers they use are described there.

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
