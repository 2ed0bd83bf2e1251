package engine

// dL/dW of the fast form (see conv2d_gemm.go): the rows of dL/dWᵀ =
// Σ_n cols_n·dY_nᵀ (K, F), cols_n read in place where it can be, and the
// transpose of dL/dY that the product takes (dY_nᵀ (P, F)), with dL/db
// summed on the way: both read every value of dY_n (F, P) once, and the
// assembly kernel (transpose8Z, AVX-512, blocks of 8 rows × 8 columns) does
// both in one pass, in registers.

// weightGradRows adds rows [k0, k1) of dL/dWᵀ, Σ_n cols_n·dY_nᵀ, into
// l.gemm.gwT, sample after sample: every element gets its terms in the
// order of the whole product. At stride 1, where the assembly kernels of
// gemmRows have them, blocks of 8 rows (the last one 9) of cols_n are read
// in place from X_n zero-padded (xPad (C, Hp, Wp), row (c, ky, kx) from
// l.gemm.fwdOff on, one segment of W' a row of Y, Wp apart: the same
// values in the same order); the other rows are written out by im2col.
// dY_n is transposed by transposeSums, which sums dL/db too in the part of
// the first rows.
func (l *Conv2D) weightGradRows(k0, k1 int, s *convPart) {
	if k0 >= k1 {
		return
	}
	N := l.X.Shape[0]
	C, H, W := l.in[0], l.in[1], l.in[2]
	F, OH, OW, P := l.out[0], l.out[1], l.out[2], l.pad
	PP := OH * OW
	in := l.in.Size()
	kr := k0 // rows [k0, kr) read in place
	if l.stride == 1 {
		kr += gemmRowsFastRows(k1-k0, F)
	}
	Hp, Wp := H+2*P, W+2*P
	if kr > k0 {
		s.xPad = growFloats(s.xPad, C*Hp*Wp)
	}
	s.dyT = growFloats(s.dyT, PP*F)
	s.sums = growFloats(s.sums, 4*F)
	s.cols = growFloats(s.cols, (k1-kr)*PP)
	var gb []float64 // dL/db, summed by the part of the first rows
	if k0 == 0 {
		gb = l.gemm.gb
	}
	for n := range N {
		transposeSums(l.gemm.dy[n*F*PP:(n+1)*F*PP], F, PP, s.dyT, gb, s.sums)
		xn := l.X.Data[n*in : (n+1)*in]
		if kr > k0 {
			padPlanes(xn, C, H, W, P, P, s.xPad)
			gemmRows(kr-k0, F, OH, OW, Wp, s.xPad, l.gemm.fwdOff[k0:kr], s.dyT, F, l.gemm.gwT[k0*F:], F)
		}
		if kr < k1 {
			l.im2col(xn, kr, k1, s.cols)
			gemmNN(k1-kr, F, PP, s.cols, PP, s.dyT, F, l.gemm.gwT[kr*F:], F)
		}
	}
}

// transposeSums writes src (rows, cols) into dst (cols, rows) transposed
// and, if db is not nil, adds to db[r] the sum of row r of src as sum4
// gives it (four running sums, elements c mod 4 = 0 … 3, in increasing c).
// sums is scratch of rows·4 values. The kernel does blocks of 8 rows and
// the columns up to a multiple of 8 where it can; transpose and sum4's
// running sums do the rest, giving the same bits.
func transposeSums(src []float64, rows, cols int, dst, db, sums []float64) {
	src, dst, sums = src[:rows*cols], dst[:rows*cols], sums[:4*rows]
	clear(sums)
	done := transposeSumsFast(src, rows, cols, dst, sums)
	if done == 0 {
		transpose(src, rows, cols, dst)
	} else {
		for c := done; c < cols; c++ {
			for r := range rows {
				dst[c*rows+r] = src[r*cols+c]
			}
		}
	}
	if db == nil {
		return
	}
	for r := range rows {
		s := sums[4*r : 4*r+4]
		db[r] += sum4From(s[0], s[1], s[2], s[3], src[r*cols+done:(r+1)*cols])
	}
}
