//go:build linux

package engine_test

import "golang.org/x/sys/unix"

// threadCPU returns the CPU time of the calling thread in nanoseconds, and
// false if the clock cannot be read.
func threadCPU() (int64, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0, false
	}
	return ts.Nano(), true
}
