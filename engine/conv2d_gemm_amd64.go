package engine

import "golang.org/x/sys/cpu"

// hasAVX2 selects the assembly kernel; without AVX2 the Go twin runs. Both
// round every product and sum the same way, so the results are identical.
var hasAVX2 = cpu.X86.HasAVX2

// kern4x8AVX2 is kern4x8Go in AVX2 assembly (conv2d_gemm_amd64.s): a 4×8
// block of C in eight ymm registers while p runs over k. Multiplies and adds
// are separate instructions (no FMA), as in Go.
//
//go:noescape
func kern4x8AVX2(k int, a0, a1, a2, a3, b *float64, ldb int, c0, c1, c2, c3 *float64)

// kern4x8 adds Σ_p a_r[p]·B[p, 0:8] to c_r[0:8] for r = 0 … 3.
func kern4x8(k int, a0, a1, a2, a3, b []float64, ldb int, c0, c1, c2, c3 []float64) {
	if !hasAVX2 {
		kern4x8Go(k, a0, a1, a2, a3, b, ldb, c0, c1, c2, c3)
		return
	}
	// The bounds the assembly relies on.
	_, _, _, _ = a0[k-1], a1[k-1], a2[k-1], a3[k-1]
	_, _, _, _, _ = b[(k-1)*ldb+7], c0[7], c1[7], c2[7], c3[7]
	kern4x8AVX2(k, &a0[0], &a1[0], &a2[0], &a3[0], &b[0], ldb, &c0[0], &c1[0], &c2[0], &c3[0])
}
