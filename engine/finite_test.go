package engine

import (
	"math"
	"math/rand"
	"testing"
)

// TestAllFiniteKernel checks allFinite (with its AVX2 kernel where the CPU
// has one) against the plain definition, on lengths that leave every
// remainder of the kernel's blocks of 32, with a ±Inf or a NaN at every
// position in turn, among values that would overflow a plain sum, negative
// zeros and subnormals.
func TestAllFiniteKernel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	plain := func(xs []float64) bool {
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	bad := []float64{math.Inf(1), math.Inf(-1), math.NaN()}
	for n := 0; n <= 130; n++ {
		xs := make([]float64, n)
		for i := range xs {
			switch i % 4 {
			case 0:
				xs[i] = math.MaxFloat64 * (2*rng.Float64() - 1)
			case 1:
				xs[i] = math.Copysign(0, -1)
			case 2:
				xs[i] = 5e-324 * float64(rng.Intn(9)-4)
			default:
				xs[i] = rng.NormFloat64()
			}
		}
		if !allFinite(xs) {
			t.Fatalf("n %d: finite values called not finite", n)
		}
		for i := range xs {
			for _, b := range bad {
				old := xs[i]
				xs[i] = b
				if got, want := allFinite(xs), plain(xs); got != want {
					t.Fatalf("n %d: %v at %d: allFinite %v, want %v", n, b, i, got, want)
				}
				if allFiniteGo(xs) {
					t.Fatalf("n %d: %v at %d: allFiniteGo calls it finite", n, b, i)
				}
				xs[i] = old
			}
		}
	}
}
