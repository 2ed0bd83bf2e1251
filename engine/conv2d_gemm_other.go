//go:build !amd64

package engine

// useFMAKernels is false: gemmGo runs everywhere but on amd64.
const useFMAKernels = false

// useAVX512Kernels is false too (a variable, as on amd64, for the tests).
var useAVX512Kernels = false

// gemmFast returns false: there are no assembly kernels for this
// architecture.
func gemmFast(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) bool {
	return false
}

// gemmOffFast returns 0, 0: gemmOffGo does all of gemmOff.
func gemmOffFast(m, n, k int, a []float64, lda int, b []float64, boff []int, c []float64, ldc int) (rows, cols int) {
	return 0, 0
}

// gemmRowsFastRows returns 0: gemmRowsGo does all of gemmRows.
func gemmRowsFastRows(m, n int) int {
	return 0
}

// gemmRowsFast returns 0, 0: gemmRowsGo does all of gemmRows.
func gemmRowsFast(m, n, segs, w, lds int, a []float64, aoff []int, b []float64, ldb int, c []float64, ldc int) (rows, cols int) {
	return 0, 0
}

// transposeSumsFast returns 0: transpose and sum4 do all of transposeSums.
func transposeSumsFast(src []float64, rows, cols int, dst, sums []float64) int {
	return 0
}

// gemmOffBiasFast returns 0, 0: fill and gemmOff do all of gemmOffBias.
func gemmOffBiasFast(m, n, k int, a []float64, lda int, b []float64, boff []int, bias, c []float64, ldc int) (rows, cols int) {
	return 0, 0
}
