package engine

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// kernelSets runs f once for each set of assembly kernels the CPU has
// (AVX-512 and AVX2, or AVX2 alone; with neither, once for gemmGo), as
// subtests named after the set.
func kernelSets(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	if !useFMAKernels {
		t.Log("no AVX2+FMA kernels on this CPU: gemmNN and gemmOff run in Go")
	}
	detected := useAVX512Kernels
	defer func() { useAVX512Kernels = detected }()
	if detected {
		t.Run("avx512", f)
	}
	useAVX512Kernels = false
	t.Run("avx2", f)
}

// TestGemmKernelsMatchGo holds gemmNN (the assembly kernels where the CPU
// has them, each set of them) equal bit for bit to gemmGo, on the shapes of
// the default network and on shapes that exercise every edge: rows not a
// multiple of 8 or 4, columns not a multiple of 16, 8 or 4, strides wider
// than the matrices.
func TestGemmKernelsMatchGo(t *testing.T) {
	kernelSets(t, testGemmKernelsMatchGo)
}

func testGemmKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	tests := []struct{ m, n, k, pad int }{
		{8, 784, 25, 0},   // conv 1 forward
		{16, 196, 200, 0}, // conv 2 forward
		{25, 8, 784, 0},   // conv 1 dL/dW
		{200, 16, 196, 0}, // conv 2 dL/dW
		{200, 196, 16, 0}, // conv 2 dL/dcols
		{1, 1, 1, 0}, {3, 7, 5, 2}, {4, 4, 1, 1}, {5, 12, 3, 3}, {7, 13, 9, 1},
		{4, 20, 2, 0}, {9, 31, 4, 5}, {2, 8, 6, 0}, {6, 3, 2, 1},
		// Blocks of 8 rows: columns 16·nb, + 8, + 4, + 1 … 3 left; rows
		// 8·mb + 4 … 7 left.
		{8, 16, 1, 0}, {8, 8, 3, 1}, {8, 24, 5, 2}, {8, 29, 4, 0}, {16, 47, 7, 3},
		{12, 40, 6, 1}, {13, 33, 9, 0}, {15, 7, 2, 2}, {23, 19, 11, 1}, {31, 64, 8, 0},
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

// TestIm2colMatchesDefinition holds im2col, every cell of which it must
// write (the buffer starts as NaN), to its definition
// cols[(c·KH+ky)·KW+kx, oy·OW+ox] = x[c, oy·S+ky−PH, ox·S+kx−PW] (0 outside
// the image), on shapes that take the one-copy path of stride 1 and
// OW = W (with kernel rows or columns that see only padding) and on
// shapes that do not.
func TestIm2colMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	tests := []struct{ C, H, W, KH, KW, S, PH, PW int }{
		{1, 28, 28, 5, 5, 1, 2, 2},  // conv 1
		{8, 14, 14, 5, 5, 1, 2, 2},  // conv 2
		{16, 14, 14, 5, 5, 1, 2, 2}, // conv 2 dL/dY for dL/dX
		{2, 5, 6, 3, 5, 1, 4, 2},
		{3, 1, 1, 5, 5, 1, 2, 2},
		{2, 2, 3, 5, 3, 1, 3, 1},
		{1, 4, 4, 1, 1, 1, 0, 0},
		{2, 7, 5, 3, 3, 2, 1, 1},
		{2, 6, 6, 4, 2, 1, 0, 3},
	}
	for _, tc := range tests {
		OH := (tc.H+2*tc.PH-tc.KH)/tc.S + 1
		OW := (tc.W+2*tc.PW-tc.KW)/tc.S + 1
		x := randFloats(rng, tc.C*tc.H*tc.W)
		cols := make([]float64, tc.C*tc.KH*tc.KW*OH*OW)
		for i := range cols {
			cols[i] = math.NaN()
		}
		im2col(x, tc.C, tc.H, tc.W, tc.KH, tc.KW, tc.S, tc.PH, tc.PW, OH, OW, cols)
		for c := range tc.C {
			for ky := range tc.KH {
				for kx := range tc.KW {
					for oy := range OH {
						for ox := range OW {
							want := 0.0
							iy, ix := oy*tc.S+ky-tc.PH, ox*tc.S+kx-tc.PW
							if iy >= 0 && iy < tc.H && ix >= 0 && ix < tc.W {
								want = x[(c*tc.H+iy)*tc.W+ix]
							}
							got := cols[((c*tc.KH+ky)*tc.KW+kx)*OH*OW+oy*OW+ox]
							if math.Float64bits(got) != math.Float64bits(want) {
								t.Fatalf("%+v: cols[c=%d ky=%d kx=%d, oy=%d ox=%d] = %v, want %v", tc, c, ky, kx, oy, ox, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestGemmOffMatchesDefinition holds gemmOff (the assembly kernels where the
// CPU has them, each set of them) to its definition, every C[i,j] its fused
// sum of A[i,p]·b[boff[p]+j] in increasing p, bit for bit: on the shapes of
// the default network's conv 2 forward pass and dL/dX, and on rows and
// columns that leave remainders, B rows that overlap, and C rows wider
// than n.
func TestGemmOffMatchesDefinition(t *testing.T) {
	kernelSets(t, testGemmOffMatchesDefinition)
}

func testGemmOffMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	tests := []struct{ m, n, k, ldc, blen int }{
		{8, 248, 400, 248, 16 * 18 * 18}, // conv 2 dL/dX
		{16, 248, 200, 248, 8 * 18 * 18}, // conv 2 forward
		{4, 8, 1, 8, 8},
		{5, 13, 7, 15, 40},
		{3, 9, 4, 9, 30},
		{9, 21, 6, 24, 50},
		{1, 3, 2, 3, 5},
		// Blocks of 8 rows: columns 16·nb, + 8, + 1 … 7 left; rows
		// 8·mb + 4 … 7 left.
		{8, 16, 1, 16, 20},
		{8, 8, 3, 9, 12},
		{8, 24, 5, 24, 60},
		{12, 37, 4, 40, 90},
		{15, 50, 9, 50, 120},
		{23, 7, 6, 7, 20},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dx%dx%d", tc.m, tc.n, tc.k), func(t *testing.T) {
			lda := tc.k + 1
			a := randFloats(rng, tc.m*lda)
			b := randFloats(rng, tc.blen)
			boff := make([]int, tc.k)
			for p := range boff {
				boff[p] = rng.Intn(tc.blen - tc.n + 1)
			}
			c := randFloats(rng, tc.m*tc.ldc)
			want := append([]float64(nil), c...)
			for i := range tc.m {
				for j := range tc.n {
					s := want[i*tc.ldc+j]
					for p := range tc.k {
						s = math.FMA(a[i*lda+p], b[boff[p]+j], s)
					}
					want[i*tc.ldc+j] = s
				}
			}
			gemmOff(tc.m, tc.n, tc.k, a, lda, b, boff, c, tc.ldc)
			for i := range c {
				if math.Float64bits(c[i]) != math.Float64bits(want[i]) {
					t.Fatalf("gemmOff C[%d] = %v, want %v", i, c[i], want[i])
				}
			}
		})
	}
}

// TestGemmRowsMatchesDefinition holds gemmRows (the AVX-512 kernels where
// the CPU has them) to gemmNN on A written out, bit for bit: on the shapes
// of the default network's dL/dW (A the im2col matrix of a zero-padded
// input), and on rows not a multiple of 8, columns not a multiple of 16
// or 8, rows of A that overlap, and C rows wider than n.
func TestGemmRowsMatchesDefinition(t *testing.T) {
	kernelSets(t, testGemmRowsMatchesDefinition)
}

func testGemmRowsMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	tests := []struct{ m, n, segs, w, lds, ldb, ldc, alen int }{
		{200, 16, 14, 14, 18, 16, 16, 8 * 18 * 18}, // conv 2 dL/dW
		{25, 8, 28, 28, 32, 8, 8, 32 * 32},         // conv 1 dL/dW
		{8, 16, 1, 1, 1, 16, 16, 4},
		{8, 8, 3, 2, 5, 9, 8, 30},
		{8, 24, 2, 3, 3, 24, 26, 20},
		{16, 31, 4, 5, 7, 33, 31, 60},
		{13, 16, 2, 6, 6, 16, 17, 40},
		{7, 16, 3, 3, 4, 16, 16, 30},
		{9, 5, 2, 2, 3, 5, 5, 12},
		// A last block of 9 rows: 8 columns, 16, a remainder of 5.
		{9, 8, 1, 7, 7, 8, 8, 20},
		{17, 16, 3, 4, 6, 16, 18, 50},
		{33, 13, 2, 5, 5, 13, 13, 40},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dx%dx%dx%d", tc.m, tc.n, tc.segs, tc.w), func(t *testing.T) {
			k := tc.segs * tc.w
			a := randFloats(rng, tc.alen)
			aoff := make([]int, tc.m)
			span := (tc.segs-1)*tc.lds + tc.w
			for i := range aoff {
				aoff[i] = rng.Intn(tc.alen - span + 1)
			}
			b := randFloats(rng, (k-1)*tc.ldb+tc.n)
			c := randFloats(rng, tc.m*tc.ldc)
			// A written out, and gemmGo's product.
			full := make([]float64, tc.m*k)
			for i := range tc.m {
				for p := range k {
					full[i*k+p] = a[aoff[i]+p/tc.w*tc.lds+p%tc.w]
				}
			}
			want := append([]float64(nil), c...)
			gemmGo(tc.m, tc.n, k, full, k, b, tc.ldb, want, tc.ldc)
			gemmRows(tc.m, tc.n, tc.segs, tc.w, tc.lds, a, aoff, b, tc.ldb, c, tc.ldc)
			for i := range c {
				if math.Float64bits(c[i]) != math.Float64bits(want[i]) {
					t.Fatalf("gemmRows C[%d] = %v, want %v", i, c[i], want[i])
				}
			}
		})
	}
}

// TestPadPlanes holds padPlanes, which must write every cell of its buffer
// (it starts as NaN), to x zero-padded, with and without padding on
// either axis.
func TestPadPlanes(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	for _, tc := range []struct{ C, H, W, PH, PW int }{
		{1, 28, 28, 2, 2}, {8, 14, 14, 2, 2}, {16, 14, 14, 2, 2},
		{2, 6, 8, 0, 2}, {3, 5, 4, 1, 0}, {2, 1, 1, 3, 1}, {1, 3, 3, 0, 0},
	} {
		x := randFloats(rng, tc.C*tc.H*tc.W)
		Hp, Wp := tc.H+2*tc.PH, tc.W+2*tc.PW
		dst := make([]float64, tc.C*Hp*Wp)
		for i := range dst {
			dst[i] = math.NaN()
		}
		padPlanes(x, tc.C, tc.H, tc.W, tc.PH, tc.PW, dst)
		for c := range tc.C {
			for y := range Hp {
				for xx := range Wp {
					want := 0.0
					iy, ix := y-tc.PH, xx-tc.PW
					if iy >= 0 && iy < tc.H && ix >= 0 && ix < tc.W {
						want = x[(c*tc.H+iy)*tc.W+ix]
					}
					if got := dst[(c*Hp+y)*Wp+xx]; math.Float64bits(got) != math.Float64bits(want) {
						t.Fatalf("%+v: padPlanes[c=%d y=%d x=%d] = %v, want %v", tc, c, y, xx, got, want)
					}
				}
			}
		}
	}
}

// TestTranspose holds transpose to its definition, with rows a multiple of
// 4 and not.
func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewSource(29))
	for _, tc := range []struct{ rows, cols int }{{16, 196}, {8, 784}, {1, 1}, {3, 5}, {5, 3}, {7, 2}, {12, 1}} {
		src := randFloats(rng, tc.rows*tc.cols)
		dst := make([]float64, tc.rows*tc.cols)
		transpose(src, tc.rows, tc.cols, dst)
		for r := range tc.rows {
			for c := range tc.cols {
				if got, want := dst[c*tc.rows+r], src[r*tc.cols+c]; got != want {
					t.Fatalf("transpose (%d, %d): dst[%d, %d] = %v, want %v", tc.rows, tc.cols, c, r, got, want)
				}
			}
		}
	}
}
