//go:build !amd64

package engine

// useDenseKernels is false: Forward and Backward run dense_ref.go's loops
// (a variable, as on amd64, so that the tests can set it).
var useDenseKernels = false

// denseMulFast returns 0: denseMulGo does all of denseMul.
func denseMulFast(m, n, k int, a []float64, ars, aps int, b []float64, ldb int, c []float64, ldc int, zero bool) (cols int) {
	return 0
}
