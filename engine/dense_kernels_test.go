package engine

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// denseValue draws a test value: mostly normal numbers of wildly different
// magnitudes (so that a sum in another order, or a fused multiply-add,
// would round differently), and now and then ±0 or a subnormal. Never inf
// or NaN.
func denseValue(rng *rand.Rand) float64 {
	switch rng.Intn(12) {
	case 0:
		return math.Copysign(0, -1)
	case 1:
		return 0
	case 2:
		return float64(rng.Intn(1000)-500) * math.SmallestNonzeroFloat64
	case 3:
		return rng.NormFloat64() * 0x1p-1000 // products underflow to subnormals or 0
	}
	return rng.NormFloat64() * math.Exp2(float64(rng.Intn(61)-30))
}

// denseCase is a dense layer with filled weights, biases and gradients, an
// input X (N, in...) and an output gradient dY (N, Out).
type denseCase struct {
	l     *Dense
	x, dy *Tensor
}

func newDenseCase(t *testing.T, in Shape, out, n int, seed int64) denseCase {
	t.Helper()
	l, err := NewDense(in, out)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(seed))
	for _, p := range l.Params() {
		for _, d := range [][]float64{p.Value.Data, p.Grad.Data} {
			for i := range d {
				d[i] = denseValue(rng)
			}
		}
	}
	x := NewTensor(append(Shape{n}, in...)...)
	for i := range x.Data {
		x.Data[i] = denseValue(rng)
	}
	dy := NewTensor(n, out)
	for i := range dy.Data {
		dy.Data[i] = denseValue(rng)
	}
	return denseCase{l, x, dy}
}

// denseSameBits reports the first index where got and want differ in their bits.
func denseSameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

// denseKernelSets runs f with each set of kernels the CPU has (AVX-512 and
// AVX, AVX alone) and with none (denseMulGo and Go transposes alone), as
// subtests. The layer's Forward and Backward run forwardRef and
// backwardRef without kernels; the tests call the fast path directly then.
func denseKernelSets(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	kernels, avx512 := useDenseKernels, useDenseAVX512
	defer func() { useDenseKernels, useDenseAVX512 = kernels, avx512 }()
	if avx512 {
		t.Run("avx512", f)
	}
	useDenseAVX512 = false
	if kernels {
		t.Run("avx", f)
	} else {
		t.Log("no AVX: denseMul runs in Go alone")
	}
	useDenseKernels = false
	t.Run("go", f)
}

// TestDenseFastSameBits checks that forwardFast and backwardFast give the
// bits of forwardRef and backwardRef (Y, dL/dW, dL/db, dL/dX), on the
// default network's shapes and on shapes that leave every remainder of the
// kernels' blocks (4 rows; 8 and 4 columns).
func TestDenseFastSameBits(t *testing.T) {
	type shape struct {
		in     Shape
		out, n int
	}
	shapes := []shape{
		{Shape{16, 4, 4}, 10, 20}, {Shape{16, 4, 4}, 10, 1}, {Shape{16, 4, 4}, 10, 23},
		{Shape{1}, 1, 1}, {Shape{1}, 1, 9}, {Shape{3}, 5, 7}, {Shape{4}, 4, 4},
		{Shape{8}, 8, 8}, {Shape{13}, 9, 3}, {Shape{17}, 7, 9}, {Shape{37}, 11, 5},
		{Shape{2, 3, 5}, 13, 6}, {Shape{255}, 3, 2}, {Shape{260}, 16, 17}, {Shape{29}, 2, 13}, {Shape{130}, 6, 11}, {Shape{66}, 10, 8},
	}
	denseKernelSets(t, func(t *testing.T) {
		for k, s := range shapes {
			t.Run(fmt.Sprintf("%v-%d-n%d", s.in, s.out, s.n), func(t *testing.T) {
				ref := newDenseCase(t, s.in, s.out, s.n, int64(k))
				fast := newDenseCase(t, s.in, s.out, s.n, int64(k))
				ref.l.X, ref.l.Y = ref.x, batchTensor(nil, s.n, ref.l.out)
				ref.l.forwardRef()
				fast.l.X, fast.l.Y = fast.x, batchTensor(nil, s.n, fast.l.out)
				for range 2 { // the second time with the buffers of the first
					fast.l.forwardFast()
					denseSameBits(t, "Y", fast.l.Y.Data, ref.l.Y.Data)
				}
				ref.l.DX = resize(nil, ref.x.Shape...)
				ref.l.backwardRef(ref.dy)
				fast.l.DX = resize(nil, fast.x.Shape...)
				for i := range fast.l.DX.Data {
					fast.l.DX.Data[i] = math.NaN() // dL/dX must not depend on what was there
				}
				fast.l.backwardFast(fast.dy)
				denseSameBits(t, "dL/dX", fast.l.DX.Data, ref.l.DX.Data)
				denseSameBits(t, "dL/dW", fast.l.W.Grad.Data, ref.l.W.Grad.Data)
				denseSameBits(t, "dL/db", fast.l.B.Grad.Data, ref.l.B.Grad.Data)
				ref.l.backwardRef(ref.dy) // accumulating into the Grads again
				fast.l.backwardFast(fast.dy)
				denseSameBits(t, "dL/dW twice", fast.l.W.Grad.Data, ref.l.W.Grad.Data)
				denseSameBits(t, "dL/dX twice", fast.l.DX.Data, ref.l.DX.Data)
			})
		}
	})
}

// TestDenseLayerSameBits checks that Forward and Backward, whichever path
// they take, give the bits of forwardRef and backwardRef on the default
// network's shapes.
func TestDenseLayerSameBits(t *testing.T) {
	denseKernelSets(t, func(t *testing.T) {
		for _, n := range []int{1, 20} {
			ref := newDenseCase(t, Shape{16, 4, 4}, 10, n, 99)
			got := newDenseCase(t, Shape{16, 4, 4}, 10, n, 99)
			ref.l.X, ref.l.Y = ref.x, batchTensor(nil, n, ref.l.out)
			ref.l.forwardRef()
			ref.l.DX = resize(nil, ref.x.Shape...)
			ref.l.backwardRef(ref.dy)
			denseSameBits(t, "Y", got.l.Forward(got.x).Data, ref.l.Y.Data)
			denseSameBits(t, "dL/dX", got.l.Backward(got.dy).Data, ref.l.DX.Data)
			denseSameBits(t, "dL/dW", got.l.W.Grad.Data, ref.l.W.Grad.Data)
			denseSameBits(t, "dL/db", got.l.B.Grad.Data, ref.l.B.Grad.Data)
		}
	})
}

// TestTransposeDense checks transposeDense on every size below 13 × 13
// inside larger strides.
func TestTransposeDense(t *testing.T) {
	denseKernelSets(t, func(t *testing.T) {
		for rows := 1; rows < 13; rows++ {
			for cols := 1; cols < 13; cols++ {
				lds, ldd := cols+3, rows+1
				src := make([]float64, (rows-1)*lds+cols)
				for i := range src {
					src[i] = float64(i)
				}
				dst := make([]float64, (cols-1)*ldd+rows)
				transposeDense(rows, cols, src, lds, dst, ldd)
				for r := range rows {
					for j := range cols {
						if dst[j*ldd+r] != src[r*lds+j] {
							t.Fatalf("%d×%d: dst[%d,%d] = %v, want %v", rows, cols, j, r, dst[j*ldd+r], src[r*lds+j])
						}
					}
				}
			}
		}
	})
}

// TestDenseMulSameBits checks denseMul against denseMulGo on products that
// start inside larger slices, with row strides bigger than the rows, for
// every m < 17, n < 40 and a few k.
func TestDenseMulSameBits(t *testing.T) {
	denseKernelSets(t, testDenseMulSameBits)
}

func testDenseMulSameBits(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, k := range []int{1, 2, 5, 31} {
		for m := 1; m < 17; m++ {
			for n := 1; n < 40; n++ {
				ars, aps, ldb, ldc := k+3, 1, n+5, n+2
				if (m+n)%2 == 0 { // A read transposed
					ars, aps = 1, m+1
				}
				a := make([]float64, (m-1)*ars+(k-1)*aps+1)
				b := make([]float64, (k-1)*ldb+n)
				c := make([]float64, (m-1)*ldc+n)
				for _, d := range [][]float64{a, b, c} {
					for i := range d {
						d[i] = denseValue(rng)
					}
				}
				for _, zero := range []bool{false, true} {
					want := append([]float64(nil), c...)
					denseMulGo(m, n, k, a, ars, aps, b, ldb, want, ldc, zero)
					got := append([]float64(nil), c...)
					denseMul(m, n, k, a, ars, aps, b, ldb, got, ldc, zero)
					denseSameBits(t, fmt.Sprintf("m %d n %d k %d zero %v: C", m, n, k, zero), got, want)
				}
			}
		}
	}
}

// TestDenseFastBatchChanges checks forwardFast on one layer whose batch
// size changes from call to call (its buffers and their padding are
// reused), against forwardRef.
func TestDenseFastBatchChanges(t *testing.T) {
	denseKernelSets(t, func(t *testing.T) {
		l := newDenseCase(t, Shape{16, 4, 4}, 10, 1, 5).l
		for k, n := range []int{20, 17, 9, 20, 3, 24, 8, 1, 23} {
			c := newDenseCase(t, Shape{16, 4, 4}, 10, n, int64(100+k))
			c.l.W, c.l.B = l.W, l.B
			c.l.X, c.l.Y = c.x, batchTensor(nil, n, c.l.out)
			c.l.forwardRef()
			l.X, l.Y = c.x, batchTensor(l.Y, n, l.out)
			l.forwardFast()
			denseSameBits(t, fmt.Sprintf("batch %d: Y", n), l.Y.Data, c.l.Y.Data)
		}
	})
}
