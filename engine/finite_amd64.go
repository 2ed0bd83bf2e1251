package engine

// finiteSum32FMA is Σ x[i]·0 over the n values at x, n a positive multiple
// of 32 (finite_amd64.s): 0 if all are finite, NaN if not. AVX2 and FMA.
//
//go:noescape
func finiteSum32FMA(x *float64, n int) float64

// allFinite reports whether every x is finite: the AVX2 kernel over the
// blocks of 32 values, allFiniteGo over the rest (and without AVX2 and FMA).
func allFinite(xs []float64) bool {
	n := len(xs) / 32 * 32
	if !useFMAKernels || n == 0 {
		return allFiniteGo(xs)
	}
	return finiteSum32FMA(&xs[0], n) == 0 && allFiniteGo(xs[n:])
}
