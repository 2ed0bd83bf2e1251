package engine

import "golang.org/x/sys/cpu"

// useDenseKernels selects the dense layer's fast path (dense_kernels.go)
// with the AVX kernels of dense_kernels_amd64.s; without AVX, Forward and
// Backward run dense_ref.go's loops. Both round every product before adding
// it, in the same order, so the results are identical bit for bit. (A
// variable so that a test can run either on any CPU.)
var useDenseKernels = cpu.X86.HasAVX

// useDenseAVX512 selects, in addition, the AVX-512 kernels of
// dense_kernels_avx512_amd64.s (names ending in Z): blocks of 24 and 16
// columns, the same sums in the same order, 8 columns to a register instead
// of 4, and transposes of 8 rows at a time. (A variable so that a test can
// run the AVX kernels alone on a CPU with both.)
var useDenseAVX512 = useDenseKernels && cpu.X86.HasAVX512F

// Assembly kernels (dense_kernels_amd64.s, dense_kernels_avx512_amd64.s for
// the names ending in Z). Each denseKern sets its block of C (rows ldc
// elements apart) to C + Σ_p A[r,p]·B[p,j] (from +0 instead of C if
// zero ≠ 0), p increasing, each product rounded (VMULPD) and then added
// (VADDPD), with A[r,p] = a[r·ars + p·aps] and B[p,j] = b[p·ldb + j]; k ≥ 1.

// denseKern5x8 does rows 0 … 4 and nb ≥ 1 blocks of 8 columns.
//
//go:noescape
func denseKern5x8(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)

// denseKern5x16Z does rows 0 … 4 and nb ≥ 1 blocks of 16 columns
// (AVX-512).
//
//go:noescape
func denseKern5x16Z(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)

// denseKern5x24Z does rows 0 … 4 and nb ≥ 1 blocks of 24 columns
// (AVX-512).
//
//go:noescape
func denseKern5x24Z(k, nb int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)

// denseKern1x16Z does row 0 and nb ≥ 1 blocks of 16 columns (AVX-512).
//
//go:noescape
func denseKern1x16Z(k, nb int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)

// denseKern5x4 does rows 0 … 4 and columns 0 … 3.
//
//go:noescape
func denseKern5x4(k int, a *float64, ars, aps int, b *float64, ldb int, c *float64, ldc int, zero int)

// denseKern1x8 does row 0 and nb ≥ 1 blocks of 8 columns.
//
//go:noescape
func denseKern1x8(k, nb int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)

// denseKern1x4 does row 0 and columns 0 … 3.
//
//go:noescape
func denseKern1x4(k int, a *float64, aps int, b *float64, ldb int, c *float64, zero int)

// denseTranspose4 sets dst[j·ldd + r] = src[r·lds + j] for r < 4 and
// j < 4·nb, nb ≥ 1.
//
//go:noescape
func denseTranspose4(nb int, src *float64, lds int, dst *float64, ldd int)

// denseTranspose2 sets dst[j·ldd + r] = src[r·lds + j] for r < 2 and
// j < 4·nb, nb ≥ 1.
//
//go:noescape
func denseTranspose2(nb int, src *float64, lds int, dst *float64, ldd int)

// denseTranspose8Z sets dst[j·ldd + r] = src[r·lds + j] for r < 8 and
// j < 8·nb, nb ≥ 1 (AVX-512).
//
//go:noescape
func denseTranspose8Z(nb int, src *float64, lds int, dst *float64, ldd int)

// transposeFast transposes the first cols/4·4 columns of transposeDense's
// matrix, all rows but the last if there is an odd number, with
// denseTranspose8Z (blocks of 8 rows, with AVX-512), denseTranspose4 and
// denseTranspose2, and returns how many rows and columns it did, or 0, 0
// without AVX. transposeDense has checked the arguments.
func transposeFast(rows, cols int, src []float64, lds int, dst []float64, ldd int) (rowsDone, colsDone int) {
	if !useDenseKernels || rows < 2 || cols < 4 {
		return 0, 0
	}
	rowsDone, colsDone = rows&^1, cols&^3
	r := 0
	if useDenseAVX512 && cols >= 8 {
		c8 := cols &^ 7
		for ; r+8 <= rows; r += 8 {
			denseTranspose8Z(cols/8, &src[r*lds], lds, &dst[r], ldd)
			if c8 < colsDone {
				denseTranspose4(1, &src[r*lds+c8], lds, &dst[c8*ldd+r], ldd)
				denseTranspose4(1, &src[(r+4)*lds+c8], lds, &dst[c8*ldd+r+4], ldd)
			}
		}
	}
	for ; r+4 <= rows; r += 4 {
		denseTranspose4(cols/4, &src[r*lds], lds, &dst[r], ldd)
	}
	if r < rowsDone {
		denseTranspose2(cols/4, &src[r*lds], lds, &dst[r], ldd)
	}
	return rowsDone, colsDone
}

// denseMulFast runs denseMul's first n/4·4 columns with the kernels (blocks
// of 5 rows, 24 or 16 columns at a time with AVX-512, then 8 and 4; then
// single rows, 16 columns at a time with AVX-512, then 8 and 4) and returns how many columns it did, or 0 without AVX. denseMul has
// checked the arguments.
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
	for ; r+5 <= m; r += 5 {
		j := 0
		if useDenseAVX512 {
			if nz := n / 24; nz > 0 {
				denseKern5x24Z(k, nz, &a[r*ars], ars, aps, &b[0], ldb, &c[r*ldc], ldc, z)
				j = 24 * nz
			}
			if j+16 <= n {
				denseKern5x16Z(k, 1, &a[r*ars], ars, aps, &b[j], ldb, &c[r*ldc+j], ldc, z)
				j += 16
			}
		}
		if j+8 <= n {
			denseKern5x8(k, (n-j)/8, &a[r*ars], ars, aps, &b[j], ldb, &c[r*ldc+j], ldc, z)
		}
		if j := 8 * nb; j < cols {
			denseKern5x4(k, &a[r*ars], ars, aps, &b[j], ldb, &c[r*ldc+j], ldc, z)
		}
	}
	for ; r < m; r++ {
		j := 0
		if nz := n / 16; useDenseAVX512 && nz > 0 {
			denseKern1x16Z(k, nz, &a[r*ars], aps, &b[0], ldb, &c[r*ldc], z)
			j = 16 * nz
		}
		if j+8 <= n {
			denseKern1x8(k, (n-j)/8, &a[r*ars], aps, &b[j], ldb, &c[r*ldc+j], z)
		}
		if j := 8 * nb; j < cols {
			denseKern1x4(k, &a[r*ars], aps, &b[j], ldb, &c[r*ldc+j], z)
		}
	}
	return cols
}

// denseColumnStep is the multiple of columns the kernels do at full speed
// (forwardFast pads Xᵀ and Yᵀ to it): 8 with AVX-512, 4 with AVX, 1
// without.
func denseColumnStep() int {
	switch {
	case useDenseAVX512:
		return 8
	case useDenseKernels:
		return 4
	}
	return 1
}
