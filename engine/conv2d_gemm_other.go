//go:build !amd64

package engine

// kern4x8 adds Σ_p a_r[p]·B[p, 0:8] to c_r[0:8] for r = 0 … 3.
func kern4x8(k int, a0, a1, a2, a3, b []float64, ldb int, c0, c1, c2, c3 []float64) {
	kern4x8Go(k, a0, a1, a2, a3, b, ldb, c0, c1, c2, c3)
}
