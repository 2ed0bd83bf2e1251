package engine

// SplitAll makes every pass split into as many parts as it can (one per
// core, one per sample or block of rows) until the returned function is
// called.
func SplitAll() (restore func()) {
	old := minPartWork
	minPartWork = 1
	return func() { minPartWork = old }
}

// ThreadCPUTime is threadCPUTime, for the benchmarks of package engine_test.
var ThreadCPUTime = threadCPUTime
