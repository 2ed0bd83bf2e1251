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
