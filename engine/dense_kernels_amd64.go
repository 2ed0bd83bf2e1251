package engine

import "golang.org/x/sys/cpu"

// useDenseKernels selects the dense layer's fast path (dense_kernels.go)
// with the AVX kernels of dense_kernels_amd64.s; without AVX, Forward and
// Backward run dense_ref.go's loops. Both round every product before adding
// it, in the same order, so the results are identical bit for bit. (A
// variable so that a test can run either on any CPU.)
var useDenseKernels = cpu.X86.HasAVX

// Assembly kernels (dense_kernels_amd64.s). Each sets its block of C (rows
// ldc elements apart) to C + Σ_p A[r,p]·B[p,j] (from +0 instead of C if
// zero ≠ 0), p increasing, each product rounded (VMULPD) and then added
// (VADDPD), with A[r,p] = a[r·ars + p·aps] and B[p,j] = b[p·ldb + j]; k ≥ 1.

// denseKern4x8 does rows 0 … 3 and nb ≥ 1 blocks of 8 columns.
//
//go:noescape
func denseKern4x8(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)

// denseKern4x4 does rows 0 … 3 and columns 0 … 3.
//
//go:noescape
func denseKern4x4(k int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)

// denseKern1x8 does row 0 and nb ≥ 1 blocks of 8 columns.
//
//go:noescape
func denseKern1x8(k, nb int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)

// denseKern1x4 does row 0 and columns 0 … 3.
//
//go:noescape
func denseKern1x4(k int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)

// denseMulFast runs denseMul's first n/4·4 columns with the kernels (blocks
// of 4 rows, then single rows) and returns how many columns it did, or 0
// without AVX. denseMul has checked the arguments.
func denseMulFast(m, n, k int, a []float64, ars, aps int, b []float64, ldb int, c []float64, ldc int, zero bool) (cols int) {
	if !useDenseKernels || n < 4 {
		return 0
	}
	cols = n &^ 3
	nb := n / 8
	z := 0
	if zero {
		z = 1
	}
	r := 0
	for ; r+4 <= m; r += 4 {
		if nb > 0 {
			denseKern4x8(k, nb, &a[r*ars], ars, aps, &b[0], ldb, &c[r*ldc], ldc, z)
		}
		if j := 8 * nb; j < cols {
			denseKern4x4(k, &a[r*ars], ars, aps, &b[j], ldb, &c[r*ldc+j], ldc, z)
		}
	}
	for ; r < m; r++ {
		if nb > 0 {
			denseKern1x8(k, nb, &a[r*ars], aps, &b[0], ldb, &c[r*ldc], z)
		}
		if j := 8 * nb; j < cols {
			denseKern1x4(k, &a[r*ars], aps, &b[j], ldb, &c[r*ldc+j], z)
		}
	}
	return cols
}
