package engine

import (
	"math/rand"
	"testing"
)

// TestTransposeSums holds transposeSums to transpose and sum4, bit for bit,
// with every set of kernels, on rows in blocks of 8 and not, columns in
// blocks of 8 and not (a remainder of 1 … 7, under 8 at all), and without
// db.
func TestTransposeSums(t *testing.T) {
	kernelSets(t, testTransposeSums)
}

func testTransposeSums(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	for _, tc := range []struct{ rows, cols int }{
		{8, 784}, {16, 196}, {8, 8}, {8, 9}, {16, 13}, {24, 22}, {8, 7}, {8, 1},
		{3, 20}, {9, 16}, {1, 1}, {5, 3}, {32, 47},
	} {
		src := randFloats(rng, tc.rows*tc.cols)
		want := make([]float64, tc.rows*tc.cols)
		transpose(src, tc.rows, tc.cols, want)
		db := randFloats(rng, tc.rows)
		wantDB := append([]float64(nil), db...)
		for r := range tc.rows {
			wantDB[r] += sum4(src[r*tc.cols : (r+1)*tc.cols])
		}
		dst := make([]float64, tc.rows*tc.cols)
		sums := randFloats(rng, 4*tc.rows)
		transposeSums(src, tc.rows, tc.cols, dst, db, sums)
		if i := firstBitDiff(dst, want); i >= 0 {
			t.Fatalf("(%d, %d): dst[%d] = %v, want %v", tc.rows, tc.cols, i, dst[i], want[i])
		}
		if i := firstBitDiff(db, wantDB); i >= 0 {
			t.Fatalf("(%d, %d): db[%d] = %v, want %v", tc.rows, tc.cols, i, db[i], wantDB[i])
		}
		clear(dst)
		transposeSums(src, tc.rows, tc.cols, dst, nil, sums)
		if i := firstBitDiff(dst, want); i >= 0 {
			t.Fatalf("(%d, %d) without db: dst[%d] = %v, want %v", tc.rows, tc.cols, i, dst[i], want[i])
		}
	}
}

// TestGemmRowsRunsOf5 holds gemmRows to gemmNN on A written out, bit for
// bit, with every set of kernels, on rows of A in runs of 5 adjacent
// columns (a 5×5 kernel's channels, which kern25x8ZRows5 reads): the first
// layer's dL/dWᵀ, and blocks of 25 rows followed by none, by 9 (kern9x8ZRows),
// by 8 + 2 or by fewer than 8, with 8 columns, 16 (where the 25-row kernel
// does not apply), and a remainder of 1 … 7; and runs broken in the
// middle, which the 25-row kernel must leave to the others.
func TestGemmRowsRunsOf5(t *testing.T) {
	kernelSets(t, testGemmRowsRunsOf5)
}

func testGemmRowsRunsOf5(t *testing.T) {
	rng := rand.New(rand.NewSource(47))
	tests := []struct {
		m, n, segs, w, lds, ldb, ldc, alen int
		broken                             bool
	}{
		{25, 8, 28, 28, 32, 8, 8, 32 * 32, false}, // conv 1 dL/dW
		{25, 8, 1, 7, 7, 8, 9, 40, false},
		{50, 13, 3, 4, 6, 13, 13, 60, false},
		{34, 12, 2, 5, 9, 12, 12, 50, false},
		{35, 8, 2, 3, 3, 8, 8, 30, false},
		{29, 15, 4, 2, 5, 15, 16, 40, false},
		{25, 16, 2, 3, 4, 16, 16, 30, false},
		{25, 8, 2, 3, 4, 8, 8, 30, true},
	}
	for _, tc := range tests {
		k := tc.segs * tc.w
		a := randFloats(rng, tc.alen)
		span := (tc.segs-1)*tc.lds + tc.w
		aoff := make([]int, tc.m)
		for g := 0; g < tc.m; g += 5 {
			base := rng.Intn(tc.alen - span - 4 + 1)
			for i := g; i < min(g+5, tc.m); i++ {
				aoff[i] = base + i - g
			}
		}
		if tc.broken {
			aoff[12] = aoff[10]
		}
		if got := runsOf5(aoff[:25]); got == tc.broken {
			t.Fatalf("%+v: runsOf5 = %v", tc, got)
		}
		b := randFloats(rng, (k-1)*tc.ldb+tc.n)
		c := randFloats(rng, tc.m*tc.ldc)
		full := make([]float64, tc.m*k)
		for i := range tc.m {
			for p := range k {
				full[i*k+p] = a[aoff[i]+p/tc.w*tc.lds+p%tc.w]
			}
		}
		want := append([]float64(nil), c...)
		gemmGo(tc.m, tc.n, k, full, k, b, tc.ldb, want, tc.ldc)
		gemmRows(tc.m, tc.n, tc.segs, tc.w, tc.lds, a, aoff, b, tc.ldb, c, tc.ldc)
		if i := firstBitDiff(c, want); i >= 0 {
			t.Fatalf("%+v: C[%d] = %v, want %v", tc, i, c[i], want[i])
		}
	}
}
