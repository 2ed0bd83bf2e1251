//go:build !linux

package engine

// threadCPUTime returns 0: the thread's CPU time is read on Linux only.
func threadCPUTime() float64 { return 0 }
