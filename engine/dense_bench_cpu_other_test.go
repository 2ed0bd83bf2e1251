//go:build !linux

package engine_test

// threadCPU returns false: the benchmarks report wall-clock rates alone.
func threadCPU() (int64, bool) {
	return 0, false
}
