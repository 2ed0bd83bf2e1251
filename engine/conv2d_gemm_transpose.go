package engine

// The transpose of dL/dY that dL/dW takes (dY_nᵀ (P, F), see
// weightGradRows), with dL/db summed on the way: both read every value of
// dY_n (F, P) once, and the assembly kernel (transpose8Z, AVX-512, blocks
// of 8 rows × 8 columns) does both in one pass, in registers.

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
