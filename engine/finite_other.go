//go:build !amd64

package engine

// allFinite reports whether every x is finite (allFiniteGo: there is no
// assembly kernel for this architecture).
func allFinite(xs []float64) bool { return allFiniteGo(xs) }
