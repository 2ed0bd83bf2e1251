package engine

import "math"

// The matrix products of conv2d_gemm.go (and Dense's axpy1), with the
// buffers they fill.

// growFloats returns s resized to n, reusing its backing array if it can.
func growFloats(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// transpose writes src (rows, cols) into dst (cols, rows) transposed,
// four rows of src at a time (four streams read, four adjacent values
// written).
func transpose(src []float64, rows, cols int, dst []float64) {
	src, dst = src[:rows*cols], dst[:rows*cols]
	r := 0
	for ; r+4 <= rows; r += 4 {
		r0 := src[r*cols : (r+1)*cols]
		r1 := src[(r+1)*cols : (r+2)*cols][:len(r0)]
		r2 := src[(r+2)*cols : (r+3)*cols][:len(r0)]
		r3 := src[(r+3)*cols : (r+4)*cols][:len(r0)]
		for c, v := range r0 {
			d := dst[c*rows+r : c*rows+r+4 : c*rows+r+4]
			d[0], d[1], d[2], d[3] = v, r1[c], r2[c], r3[c]
		}
	}
	for ; r < rows; r++ {
		for c, v := range src[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
}

// gemmNN adds A·B to C, all row-major: A (m, k) with row stride lda,
// B (k, n) with stride ldb, C (m, n) with stride ldc. Each C[i,j] gets its
// terms A[i,p]·B[p,j] one at a time in increasing p, each fused into the
// running sum (math.FMA: one rounding per term), so the assembly kernels
// (gemmFast, on amd64 with AVX2 and FMA) and gemmGo give the same bits.
// It panics if a slice is too short.
func gemmNN(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	if len(a) < (m-1)*lda+k || len(b) < (k-1)*ldb+n || len(c) < (m-1)*ldc+n {
		panic("engine: gemmNN: matrix slices too short")
	}
	if !gemmFast(m, n, k, a, lda, b, ldb, c, ldc) {
		gemmGo(m, n, k, a, lda, b, ldb, c, ldc)
	}
}

// gemmOff adds A·B to C as gemmNN does, but with row p of B starting at
// b[boff[p]] rather than p·ldb: C[i,j] += Σ_p A[i,p]·b[boff[p]+j], every
// term fused into the running sum in increasing p, with the assembly
// kernel where it can and gemmOffGo elsewhere (the same bits). It panics
// if a slice is too short or an offset is out of range.
func gemmOff(m, n, k int, a []float64, lda int, b []float64, boff []int, c []float64, ldc int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	if len(a) < (m-1)*lda+k || len(boff) < k || len(c) < (m-1)*ldc+n {
		panic("engine: gemmOff: matrix slices too short")
	}
	for _, o := range boff[:k] {
		if o < 0 || o+n > len(b) {
			panic("engine: gemmOff: row offset out of range")
		}
	}
	rows, cols := gemmOffFast(m, n, k, a, lda, b, boff, c, ldc)
	if cols < n && rows > 0 {
		gemmOffGo(rows, n-cols, k, a, lda, b[cols:], boff, c[cols:], ldc)
	}
	if rows < m {
		gemmOffGo(m-rows, n, k, a[rows*lda:], lda, b, boff, c[rows*ldc:], ldc)
	}
}

// gemmOffGo is gemmOff in Go.
func gemmOffGo(m, n, k int, a []float64, lda int, b []float64, boff []int, c []float64, ldc int) {
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for p, aip := range a[i*lda : i*lda+k] {
			for j, v := range b[boff[p] : boff[p]+n] {
				ci[j] = math.FMA(aip, v, ci[j])
			}
		}
	}
}

// gemmRows adds A·B to C as gemmNN does, with A (m, k) read in place: row
// i of A runs in segs segments of w elements, lds apart, from a[aoff[i]],
// so that A[i,p] = a[aoff[i] + (p/w)·lds + p%w] and k = segs·w. (At stride
// 1 a row of the im2col matrix is the zero-padded input read so: see
// weightGradRows.) B (k, n) has row stride ldb, C (m, n) ldc. Every C[i,j]
// gets its terms in increasing p, each fused into the running sum: the
// bits of gemmNN on A written out. The assembly kernels do blocks of 8
// rows (gemmRowsFast); gemmRowsGo does the rest. It panics if a slice is
// too short or an offset is out of range.
func gemmRows(m, n, segs, w, lds int, a []float64, aoff []int, b []float64, ldb int, c []float64, ldc int) {
	if m <= 0 || n <= 0 || segs <= 0 || w <= 0 {
		return
	}
	k := segs * w
	if len(aoff) < m || len(b) < (k-1)*ldb+n || len(c) < (m-1)*ldc+n {
		panic("engine: gemmRows: matrix slices too short")
	}
	for _, o := range aoff[:m] {
		if o < 0 || o+(segs-1)*lds+w > len(a) {
			panic("engine: gemmRows: row offset out of range")
		}
	}
	rows, cols := gemmRowsFast(m, n, segs, w, lds, a, aoff, b, ldb, c, ldc)
	if cols < n && rows > 0 {
		gemmRowsGo(rows, n-cols, segs, w, lds, a, aoff, b[cols:], ldb, c[cols:], ldc)
	}
	if rows < m {
		gemmRowsGo(m-rows, n, segs, w, lds, a, aoff[rows:], b, ldb, c[rows*ldc:], ldc)
	}
}

// runsOf5 says whether the 25 rows at aoff run in 5 groups of 5 adjacent
// columns, aoff[5g+i] = aoff[5g] + i: the rows of one channel of a 5×5
// kernel in the im2col matrix (see weightGradRows), which kern25x8ZRows5
// reads from 5 pointers.
func runsOf5(aoff []int) bool {
	for g := 0; g < 25; g += 5 {
		for i := 1; i < 5; i++ {
			if aoff[g+i] != aoff[g]+i {
				return false
			}
		}
	}
	return true
}

// gemmRowsGo is gemmRows in Go.
func gemmRowsGo(m, n, segs, w, lds int, a []float64, aoff []int, b []float64, ldb int, c []float64, ldc int) {
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		p := 0
		for s := range segs {
			for _, aip := range a[aoff[i]+s*lds : aoff[i]+s*lds+w] {
				for j, v := range b[p*ldb : p*ldb+n] {
					ci[j] = math.FMA(aip, v, ci[j])
				}
				p++
			}
		}
	}
}

// gemmGo is gemmNN in Go: row i of C gets A[i,p]·B[p,:] for p = 0, 1, …
func gemmGo(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for p, aip := range a[i*lda : i*lda+k] {
			bp := b[p*ldb : p*ldb+n]
			for j, v := range bp {
				ci[j] = math.FMA(aip, v, ci[j])
			}
		}
	}
}

// sum4 returns the sum of x in four running sums (elements i mod 4 = 0, 1,
// 2, 3, added as (s0 + s1) + (s2 + s3)), which do not wait on each other
// as a single running sum waits on every addition.
func sum4(x []float64) float64 {
	return sum4From(0, 0, 0, 0, x)
}

// sum4From is sum4 with the four running sums started at s0 … s3: the sum
// of a row whose first columns (a multiple of 4) gave s0 … s3 is sum4From
// of the rest.
func sum4From(s0, s1, s2, s3 float64, x []float64) float64 {
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
	}
	for j, v := range x[i:] {
		switch j {
		case 0:
			s0 += v
		case 1:
			s1 += v
		default:
			s2 += v
		}
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy1 adds a·x to y, each product rounded before it is added (the
// explicit conversion: no architecture fuses the multiply-add).
func axpy1(a float64, x, y []float64) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] += float64(a * v)
	}
}
