package engine

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// TestGemmKernelsMatchGo holds gemmNN (the assembly kernels where the CPU
// has them) equal bit for bit to gemmGo, on the shapes of the default
// network and on shapes that exercise every edge: rows not a multiple of 4,
// columns not a multiple of 8 or 4, strides wider than the matrices.
func TestGemmKernelsMatchGo(t *testing.T) {
	if !useFMAKernels {
		t.Log("no AVX2+FMA kernels on this CPU: gemmNN is gemmGo")
	}
	rng := rand.New(rand.NewSource(11))
	tests := []struct{ m, n, k, pad int }{
		{8, 784, 25, 0},   // conv 1 forward
		{16, 196, 200, 0}, // conv 2 forward
		{25, 8, 784, 0},   // conv 1 dL/dW
		{200, 16, 196, 0}, // conv 2 dL/dW
		{200, 196, 16, 0}, // conv 2 dL/dcols
		{1, 1, 1, 0}, {3, 7, 5, 2}, {4, 4, 1, 1}, {5, 12, 3, 3}, {7, 13, 9, 1},
		{4, 20, 2, 0}, {9, 31, 4, 5}, {2, 8, 6, 0}, {6, 3, 2, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dx%dx%d+%d", tc.m, tc.n, tc.k, tc.pad), func(t *testing.T) {
			lda, ldb, ldc := tc.k+tc.pad, tc.n+tc.pad, tc.n+2*tc.pad
			a := randFloats(rng, tc.m*lda)
			b := randFloats(rng, tc.k*ldb)
			c := randFloats(rng, tc.m*ldc)
			orig := append([]float64(nil), c...)
			want := append([]float64(nil), c...)
			gemmGo(tc.m, tc.n, tc.k, a, lda, b, ldb, want, ldc)
			gemmNN(tc.m, tc.n, tc.k, a, lda, b, ldb, c, ldc)
			for i := range c {
				if math.Float64bits(c[i]) != math.Float64bits(want[i]) {
					t.Fatalf("gemmNN C[%d] = %v, gemmGo gives %v", i, c[i], want[i])
				}
			}
			// Each element is its fused sum in increasing p, and elements
			// between the rows (ldc > n) are left alone.
			for i := range tc.m {
				for j := range ldc {
					if i == tc.m-1 && j >= tc.n {
						break
					}
					s := orig[i*ldc+j]
					if j < tc.n {
						for p := range tc.k {
							s = math.FMA(a[i*lda+p], b[p*ldb+j], s)
						}
					}
					if math.Float64bits(c[i*ldc+j]) != math.Float64bits(s) {
						t.Fatalf("gemmNN C[%d,%d] = %v, want %v", i, j, c[i*ldc+j], s)
					}
				}
			}
		})
	}
}

func randFloats(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

// TestValidRange holds validRange to its definition, counted out: the
// output columns ox < OW whose input column ox·S + kx − P lies in 0 … W−1
// are exactly [lo, hi) (lo = hi when there are none).
func TestValidRange(t *testing.T) {
	for S := 1; S <= 3; S++ {
		for W := 1; W <= 6; W++ {
			for P := 0; P <= 4; P++ {
				for kx := 0; kx <= 6; kx++ {
					for OW := 1; OW <= 8; OW++ {
						lo, hi := validRange(kx, P, S, W, OW)
						if lo > hi || lo < 0 || hi > OW {
							t.Fatalf("validRange(kx=%d, P=%d, S=%d, W=%d, OW=%d) = [%d, %d)", kx, P, S, W, OW, lo, hi)
						}
						for ox := range OW {
							ix := ox*S + kx - P
							if in, got := ix >= 0 && ix < W, ox >= lo && ox < hi; in != got {
								t.Fatalf("validRange(kx=%d, P=%d, S=%d, W=%d, OW=%d) = [%d, %d), column %d reads %d", kx, P, S, W, OW, lo, hi, ox, ix)
							}
						}
					}
				}
			}
		}
	}
}

// TestSum4 holds sum4 to the plain sum on whole numbers (exact in any
// order), so every element counts once, for lengths around multiples of 4.
func TestSum4(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for n := range 14 {
		x := make([]float64, n)
		want := 0.0
		for i := range x {
			x[i] = float64(rng.Intn(2001) - 1000)
			want += x[i]
		}
		if got := sum4(x); got != want {
			t.Errorf("sum4 of %v = %v, want %v", x, got, want)
		}
	}
}
