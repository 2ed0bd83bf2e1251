package engine

import "golang.org/x/sys/unix"

// threadCPUTime returns the CPU time the calling thread has run, in
// seconds, or 0 if it cannot tell. A benchmark that locks its goroutine to
// its thread times its work with it on a machine shared with other work,
// where the wall clock counts the time the thread waited for a core.
func threadCPUTime() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
