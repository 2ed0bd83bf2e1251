package engine

import "golang.org/x/sys/cpu"

// useFMAKernels selects the assembly kernels of conv2d_gemm_amd64.s; without
// AVX2 and FMA, gemmGo runs. Both fuse every multiply-add (one rounding per
// term, in increasing p), so the results are identical bit for bit.
var useFMAKernels = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512Kernels selects, in addition, the AVX-512 kernels of
// conv2d_gemm_avx512_amd64.s for blocks of 8 rows: the same fused sums in
// the same order, 16 accumulators of 8 float64 instead of 8 of 4. (A
// variable so that a test can run the AVX2 kernels on a CPU with both.)
var useAVX512Kernels = useFMAKernels && cpu.X86.HasAVX512F

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

// kern8x16Z does rows 0 … 7 and nb blocks of 16 columns (AVX-512).
//
//go:noescape
func kern8x16Z(k, nb int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)

// kern8x8Z does rows 0 … 7 and nb blocks of 8 columns (AVX-512).
//
//go:noescape
func kern8x8Z(k, nb int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int)

// kern8x16ZOff is kern8x16Z with row p of B at b + boff[p].
//
//go:noescape
func kern8x16ZOff(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int)

// kern8x8ZOff is kern8x8Z with row p of B at b + boff[p].
//
//go:noescape
func kern8x8ZOff(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int)

// kern8x16ZRows does rows 0 … 7 of gemmRows and columns 0 … 15 (AVX-512).
//
//go:noescape
func kern8x16ZRows(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)

// kern8x8ZRows does rows 0 … 7 of gemmRows and columns 0 … 7 (AVX-512).
//
//go:noescape
func kern8x8ZRows(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)

// transpose8Z transposes rows 0 … 7 of src, nb blocks of 8 columns, into
// dst and adds their running sums into sums (see transposeSums).
//
//go:noescape
func transpose8Z(nb int, src *float64, lds int, dst *float64, ldd int, sums *float64)

// transposeSumsFast runs transposeSums's blocks of 8 rows × 8 columns with
// the AVX-512 kernel and returns the columns it did (of every row), or 0
// without AVX-512 or with rows not a multiple of 8.
func transposeSumsFast(src []float64, rows, cols int, dst, sums []float64) int {
	if !useAVX512Kernels || rows%8 != 0 || cols < 8 {
		return 0
	}
	nb := cols / 8
	for r := 0; r < rows; r += 8 {
		transpose8Z(nb, &src[r*cols], cols, &dst[r], rows, &sums[4*r])
	}
	return 8 * nb
}

// kern9x8ZRows does rows 0 … 8 of gemmRows and columns 0 … 7 (AVX-512).
//
//go:noescape
func kern9x8ZRows(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)

// kern25x8ZRows5 does rows 0 … 24 of gemmRows, in runs of 5 adjacent
// columns of a (see runsOf5), and columns 0 … 7 (AVX-512,
// conv2d_gemm_rows25_amd64.s).
//
//go:noescape
func kern25x8ZRows5(segs, w, lds int, a *float64, aoff *int, b *float64, ldb int, c *float64, ldc int)

// gemmRowsFastRows returns how many of the first of m rows of a gemmRows
// product n columns wide its assembly kernels do: blocks of 8 rows with
// AVX-512, the last of them 9 if that leaves none over; none without.
func gemmRowsFastRows(m, n int) int {
	if !useAVX512Kernels || n < 8 {
		return 0
	}
	if m%8 == 1 && m > 8 {
		return m
	}
	return m / 8 * 8
}

// gemmRowsFast runs gemmRows's blocks of 8 rows × 16 or 8 columns (and a
// last block of 9 rows × 8 columns) with the AVX-512 kernels, first, below
// 16 columns, blocks of 25 rows in runs of 5 × 8 columns, and returns the
// rows and columns it did, or 0, 0 without AVX-512. gemmRows has checked
// the arguments.
func gemmRowsFast(m, n, segs, w, lds int, a []float64, aoff []int, b []float64, ldb int, c []float64, ldc int) (rows, cols int) {
	if gemmRowsFastRows(m, n) == 0 {
		return 0, 0
	}
	cols = n / 8 * 8
	if n < 16 { // no 16 columns for kern8x16ZRows
		for ; rows+25 <= m && runsOf5(aoff[rows:rows+25]); rows += 25 {
			for j := 0; j < cols; j += 8 {
				kern25x8ZRows5(segs, w, lds, &a[0], &aoff[rows], &b[j], ldb, &c[rows*ldc+j], ldc)
			}
		}
	}
	i := rows
	rows += gemmRowsFastRows(m-rows, n)
	for ; i < rows; i += 8 {
		if rows-i == 9 {
			for j := 0; j < cols; j += 8 {
				kern9x8ZRows(segs, w, lds, &a[0], &aoff[i], &b[j], ldb, &c[i*ldc+j], ldc)
			}
			break
		}
		j := 0
		for ; j+16 <= n; j += 16 {
			kern8x16ZRows(segs, w, lds, &a[0], &aoff[i], &b[j], ldb, &c[i*ldc+j], ldc)
		}
		if j < cols {
			kern8x8ZRows(segs, w, lds, &a[0], &aoff[i], &b[j], ldb, &c[i*ldc+j], ldc)
		}
	}
	return rows, cols
}

// gemmOffFast runs gemmOff's full blocks with the assembly kernels (8 rows
// × 16 or 8 columns with AVX-512, then 4 rows × 8 columns) and returns the
// rows and columns it did (multiples of 4 and 8), or 0, 0 if the CPU lacks
// AVX2 or FMA. gemmOff has checked the arguments.
func gemmOffFast(m, n, k int, a []float64, lda int, b []float64, boff []int, c []float64, ldc int) (rows, cols int) {
	if !useFMAKernels || m < 4 || n < 8 {
		return 0, 0
	}
	cols = n / 8 * 8
	if useAVX512Kernels {
		for ; rows+8 <= m; rows += 8 {
			j := 0
			if nb := n / 16; nb > 0 {
				kern8x16ZOff(k, nb, &a[rows*lda], lda, &b[0], &boff[0], &c[rows*ldc], ldc)
				j = 16 * nb
			}
			if j < cols {
				kern8x8ZOff(k, 1, &a[rows*lda], lda, &b[j], &boff[0], &c[rows*ldc+j], ldc)
			}
		}
	}
	for ; rows+4 <= m; rows += 4 {
		kern4x8FMAOff(k, cols/8, &a[rows*lda], lda, &b[0], &boff[0], &c[rows*ldc], ldc)
	}
	return rows, cols
}

// kern8x16ZOffB is kern8x16ZOff writing bias[r] + the sum into C.
//
//go:noescape
func kern8x16ZOffB(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int, bias *float64)

// kern8x8ZOffB is kern8x8ZOff writing bias[r] + the sum into C.
//
//go:noescape
func kern8x8ZOffB(k, nb int, a *float64, lda int, b *float64, boff *int, c *float64, ldc int, bias *float64)

// gemmOffBiasFast runs gemmOffBias's full blocks of 8 rows × 16 or 8
// columns with the AVX-512 kernels and returns the rows and columns it did
// (multiples of 8), or 0, 0 without AVX-512. gemmOffBias has checked the
// arguments.
func gemmOffBiasFast(m, n, k int, a []float64, lda int, b []float64, boff []int, bias, c []float64, ldc int) (rows, cols int) {
	if !useAVX512Kernels || m < 8 || n < 8 {
		return 0, 0
	}
	cols = n / 8 * 8
	for ; rows+8 <= m; rows += 8 {
		j := 0
		if nb := n / 16; nb > 0 {
			kern8x16ZOffB(k, nb, &a[rows*lda], lda, &b[0], &boff[0], &c[rows*ldc], ldc, &bias[rows])
			j = 16 * nb
		}
		if j < cols {
			kern8x8ZOffB(k, 1, &a[rows*lda], lda, &b[j], &boff[0], &c[rows*ldc+j], ldc, &bias[rows])
		}
	}
	return rows, cols
}

// gemmFast runs gemmNN with the assembly kernels and returns true, or
// returns false if the CPU lacks AVX2 or FMA. gemmNN has checked the
// arguments: m, n, k ≥ 1 and every slice long enough.
func gemmFast(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) bool {
	if !useFMAKernels {
		return false
	}
	i := 0
	if useAVX512Kernels {
		for ; i+8 <= m; i += 8 {
			j := 0
			if nb := n / 16; nb > 0 {
				kern8x16Z(k, nb, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc)
				j = 16 * nb
			}
			if j+8 <= n {
				kern8x8Z(k, 1, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc)
				j += 8
			}
			if j < n {
				gemmAVX2(8, n-j, k, a[i*lda:], lda, b[j:], ldb, c[i*ldc+j:], ldc)
			}
		}
	}
	if i < m {
		gemmAVX2(m-i, n, k, a[i*lda:], lda, b, ldb, c[i*ldc:], ldc)
	}
	return true
}

// gemmAVX2 is gemmNN with the AVX2 kernels (blocks of 4 rows × 8 or 4
// columns, single rows × 8 columns) and gemmGo for what is left.
func gemmAVX2(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
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
}
