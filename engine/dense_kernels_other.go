//go:build !amd64

package engine

// useDenseKernels is false: Forward and Backward run dense_ref.go's loops
// (a variable, as on amd64, so that the tests can set it).
var useDenseKernels = false

// useDenseAVX512 is false too.
var useDenseAVX512 = false

// denseMulFast returns 0: denseMulGo does all of denseMul.
func denseMulFast(m, n, k int, a []float64, ars, aps int, b []float64, ldb int, c []float64, ldc int, zero bool) (cols int) {
	return 0
}

// transposeFast returns 0, 0: transposeDense does it all in Go.
func transposeFast(rows, cols int, src []float64, lds int, dst []float64, ldd int) (rowsDone, colsDone int) {
	return 0, 0
}

// denseColumnStep returns 1: no padding.
func denseColumnStep() int {
	return 1
}
