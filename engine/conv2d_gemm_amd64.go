package engine

import "golang.org/x/sys/cpu"

// useFMAKernels selects the assembly kernels of conv2d_gemm_amd64.s; without
// AVX2 and FMA, gemmGo runs. Both fuse every multiply-add (one rounding per
// term, in increasing p), so the results are identical bit for bit.
var useFMAKernels = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Assembly kernels (conv2d_gemm_amd64.s). Each adds Σ_p A[r,p]·B[p,j] into
// its block of C, rows lda and ldc elements apart, B rows ldb apart; k ≥ 1.

// kern4x8FMA does rows 0 … 3 and nb blocks of 8 columns.
//
//go:noescape
func kern4x8FMA(k, nb int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)

// kern4x4FMA does rows 0 … 3 and columns 0 … 3.
//
//go:noescape
func kern4x4FMA(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)

// kern1x8FMA does row 0 and nb blocks of 8 columns.
//
//go:noescape
func kern1x8FMA(k, nb int, a *float64, b *float64, ldb int, c *float64)

// kern4x8FMAOff is kern4x8FMA with row p of B at b + boff[p].
//
//go:noescape
func kern4x8FMAOff(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int)

// gemmOffFast runs gemmOff's full blocks of 4 rows × 8 columns with the
// assembly kernel and returns the rows and columns it did (multiples of 4
// and 8), or 0, 0 if the CPU lacks AVX2 or FMA. gemmOff has checked the
// arguments.
func gemmOffFast(m, n, k int, a []float64, lda int, b []float64, boff []int, c []float64, ldc int) (rows, cols int) {
	if !useFMAKernels || m < 4 || n < 8 {
		return 0, 0
	}
	nb := n / 8
	for i := 0; i+4 <= m; i += 4 {
		kern4x8FMAOff(k, nb, &a[i*lda], lda, &b[0], &boff[0], &c[i*ldc], ldc)
	}
	return m / 4 * 4, 8 * nb
}

// gemmFast runs gemmNN with the assembly kernels and returns true, or
// returns false if the CPU lacks AVX2 or FMA. gemmNN has checked the
// arguments: m, n, k ≥ 1 and every slice long enough.
func gemmFast(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) bool {
	if !useFMAKernels {
		return false
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		j := 0
		if nb := n / 8; nb > 0 {
			kern4x8FMA(k, nb, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc)
			j = 8 * nb
		}
		if j+4 <= n {
			kern4x4FMA(k, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc)
			j += 4
		}
		if j < n {
			gemmGo(4, n-j, k, a[i*lda:], lda, b[j:], ldb, c[i*ldc+j:], ldc)
		}
	}
	for ; i < m; i++ {
		j := 0
		if nb := n / 8; nb > 0 {
			kern1x8FMA(k, nb, &a[i*lda], &b[0], ldb, &c[i*ldc])
			j = 8 * nb
		}
		if j < n {
			gemmGo(1, n-j, k, a[i*lda:], lda, b[j:], ldb, c[i*ldc+j:], ldc)
		}
	}
	return true
}
