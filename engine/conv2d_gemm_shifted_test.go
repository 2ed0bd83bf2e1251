package engine

import (
	"math"
	"math/rand"
	"testing"
)

// TestShiftPlanes holds shiftPlanes, which must write every cell of its
// buffer (it starts as NaN), to its definition, with paddings wider and
// narrower than the kernel and kernels wider than the image.
func TestShiftPlanes(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	for _, tc := range []struct{ C, H, W, KH, KW, P int }{
		{1, 28, 28, 5, 5, 2}, {2, 6, 8, 3, 3, 0}, {3, 5, 4, 2, 3, 1},
		{1, 1, 1, 3, 3, 1}, {2, 3, 2, 5, 5, 3}, {1, 4, 7, 1, 4, 2}, {1, 2, 2, 6, 6, 2},
	} {
		x := randFloats(rng, tc.C*tc.H*tc.W)
		Hp := tc.H + 2*tc.P
		OW := tc.W + 2*tc.P - tc.KW + 1
		xs := make([]float64, tc.C*tc.KW*Hp*OW)
		for i := range xs {
			xs[i] = math.NaN()
		}
		shiftPlanes(x, tc.C, tc.H, tc.W, tc.KW, tc.P, tc.P, OW, xs)
		for c := range tc.C {
			for kx := range tc.KW {
				for r := range Hp {
					for ox := range OW {
						want := 0.0
						iy, ix := r-tc.P, ox+kx-tc.P
						if iy >= 0 && iy < tc.H && ix >= 0 && ix < tc.W {
							want = x[(c*tc.H+iy)*tc.W+ix]
						}
						if got := xs[((c*tc.KW+kx)*Hp+r)*OW+ox]; math.Float64bits(got) != math.Float64bits(want) {
							t.Fatalf("%+v: xs[c=%d kx=%d r=%d ox=%d] = %v, want %v", tc, c, kx, r, ox, got, want)
						}
					}
				}
			}
		}
	}
}

// TestFill holds fill to its definition at lengths around the powers of 2.
func TestFill(t *testing.T) {
	for n := range 70 {
		s := make([]float64, n+1)
		s[n] = 7
		fill(s[:n], -0.5)
		for i, v := range s[:n] {
			if v != -0.5 {
				t.Fatalf("fill(%d): s[%d] = %v", n, i, v)
			}
		}
		if s[n] != 7 {
			t.Fatalf("fill(%d) wrote past the slice", n)
		}
	}
}

// TestConv2DForwardShiftedMatchesIm2col: at stride 1 with few channels
// Forward reads the shifted planes in place of the im2col matrix
// (forwardShifted); it gives the bits of the im2col product, with every
// set of kernels, on filters in blocks of 8 and 4, output widths that
// leave every column remainder (16, 8, 1 … 7), and padding wider than the
// kernel.
func TestConv2DForwardShiftedMatchesIm2col(t *testing.T) {
	kernelSets(t, testConv2DForwardShiftedMatchesIm2col)
}

func testConv2DForwardShiftedMatchesIm2col(t *testing.T) {
	tests := []struct {
		in                 Shape
		filters, kh, kw, p int
		shifted            bool
	}{
		{Shape{1, 28, 28}, 8, 5, 5, 2, true}, // the default network's
		{Shape{1, 28, 28}, 6, 5, 5, 2, false},
		{Shape{8, 14, 14}, 16, 5, 5, 2, false}, // forwardShift's
		{Shape{1, 9, 7}, 12, 3, 3, 1, true},
		{Shape{2, 5, 13}, 4, 2, 3, 0, true},
		{Shape{3, 4, 6}, 16, 3, 2, 3, true},
		{Shape{1, 3, 3}, 8, 5, 5, 2, true},
		{Shape{6, 3, 3}, 20, 3, 3, 1, true}, // W' = 3 < 2(KW−1)
		{Shape{1, 6, 21}, 8, 1, 4, 0, true},
	}
	rng := rand.New(rand.NewSource(37))
	for _, tc := range tests {
		l, err := NewConv2D(tc.in, tc.filters, tc.kh, tc.kw, 1, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.forwardByShifted(); got != tc.shifted {
			t.Errorf("%v %s: forwardShifted %v, want %v", tc.in, l, got, tc.shifted)
		}
		l.Init(rng, He)
		for j := range l.B.Value.Data {
			l.B.Value.Data[j] = rng.NormFloat64()
		}
		x := randTensor(rng, append([]int{3}, tc.in...)...)
		l.Forward(x)
		want := l.Y.Clone()
		l.forwardIm2col(0, 3, &convPart{})
		l.Y, want = want, l.Y
		for i := range l.Y.Data {
			l.Y.Data[i] = math.NaN()
		}
		l.setShiftedOffsets()
		l.forwardShifted(0, 3, &convPart{})
		if i := firstBitDiff(l.Y.Data, want.Data); i >= 0 {
			t.Errorf("%v %s: Y[%d] = %v, the im2col product gives %v", tc.in, l, i, l.Y.Data[i], want.Data[i])
		}
	}
}

// TestGemmOffBiasMatchesDefinition holds gemmOffBias, with every set of
// kernels, to its definition bit for bit (C filled with the biases, then
// gemmOffGo): on the first layer's forward product and on rows in blocks
// of 8 and not (4 … 7 and 1 … 3 left), columns in blocks of 16 and 8 and
// not, and C rows wider than n, whose cells between the rows are left
// alone.
func TestGemmOffBiasMatchesDefinition(t *testing.T) {
	kernelSets(t, testGemmOffBiasMatchesDefinition)
}

func testGemmOffBiasMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(43))
	for _, tc := range []struct{ m, n, k, ldc, blen int }{
		{8, 784, 25, 784, 5 * 32 * 28}, // conv 1 forward
		{8, 16, 1, 16, 20}, {8, 8, 3, 9, 30}, {8, 24, 5, 24, 60}, {16, 29, 4, 31, 50},
		{12, 40, 6, 40, 70}, {13, 33, 9, 35, 50}, {15, 7, 2, 7, 10}, {4, 17, 3, 17, 40},
		{3, 9, 2, 11, 20}, {1, 1, 1, 1, 1}, {9, 47, 7, 47, 80},
	} {
		a := randFloats(rng, tc.m*tc.k)
		b := randFloats(rng, tc.blen)
		boff := make([]int, tc.k)
		for p := range boff {
			boff[p] = rng.Intn(tc.blen - tc.n + 1)
		}
		bias := randFloats(rng, tc.m)
		c := randFloats(rng, tc.m*tc.ldc)
		want := append([]float64(nil), c...)
		for i := range tc.m {
			fill(want[i*tc.ldc:i*tc.ldc+tc.n], bias[i])
		}
		gemmOffGo(tc.m, tc.n, tc.k, a, tc.k, b, boff, want, tc.ldc)
		gemmOffBias(tc.m, tc.n, tc.k, a, tc.k, b, boff, bias, c, tc.ldc)
		if i := firstBitDiff(c, want); i >= 0 {
			t.Fatalf("%+v: C[%d] = %v, want %v", tc, i, c[i], want[i])
		}
	}
}
