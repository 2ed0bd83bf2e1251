package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool that lets one step use every core.
//
// A layer splits its work into parts whose results do not depend on how
// many parts there are or which goroutine runs them: the samples of a batch
// (each sample's output is its own), or the rows of a matrix product (each
// element keeps its terms in the same order). No sum ever crosses parts, so
// a step gives the same bits at any GOMAXPROCS (TestParallelSameBits).
//
// The pool is the package's one piece of shared state, started lazily: at
// most GOMAXPROCS−1 helper goroutines for the whole process (grown when
// GOMAXPROCS grows, never more), shared by every trainer. A caller runs its
// own parts too, and claims them from the same counter as the helpers, so a
// call never waits for a helper that is busy elsewhere while its parts are
// left undone (and makes several parts per core so as not to wait for a
// helper that wakes up late): with 30 trainers in a process, 30 callers and GOMAXPROCS−1
// helpers share the cores.

// partRunner is work split into parts 0 … n−1 (see parallelFor). A part
// runs on one of the call's slots 0 … slots−1, which no other part uses at
// the same time: the index of the buffers it may use.
type partRunner interface {
	runPart(part, parts, slot int)
}

// parallelJob is one parallelFor call's state, kept by its caller (a layer)
// and reused from one call to the next so that a step allocates nothing.
type parallelJob struct {
	// state packs the call's generation (high 32 bits), its number of parts
	// (next 16 bits) and the next part to claim (low 16 bits): a helper
	// holding a token of an earlier call sees another generation and
	// claims nothing.
	state atomic.Uint64
	gen   uint32
	r     partRunner
	wg    sync.WaitGroup
	left  atomic.Int32 // parts not yet done (after their wg.Done)
}

// poolToken asks a helper to claim parts of job j's call number gen, on
// slot slot.
type poolToken struct {
	j    *parallelJob
	gen  uint32
	slot int
}

var workPool struct {
	mu      sync.Mutex
	helpers atomic.Int32 // helper goroutines started
	tokens  chan poolToken
}

// maxParts bounds the parts of one call (16 bits of parallelJob.state).
const maxParts = 1<<16 - 1

// minPartWork is the least work worth splitting, in multiply-adds (or
// values compared): about 30 µs of work per part. A helper takes 100–200 µs
// to wake up on a virtual machine, so a batch-1 step, whose largest pass
// is about 40 µs, stays on one core. (A variable so that a test can split
// everything.)
var minPartWork = 1 << 19

// elementWork is what a value of an elementwise pass (a ReLU, max pooling)
// costs, in multiply-adds of a conv layer's product, for parallelSplit's
// work: measured on the default network at batch 20, a ReLU takes 0.6 ns
// a value, a product 0.03 ns a multiply-add.
const elementWork = 20

// partsPerSlot is how many parts a call makes per core: a helper wakes up
// late (100–200 µs on a virtual machine), and the caller goes on claiming
// the small parts meanwhile instead of waiting for a helper's half.
const partsPerSlot = 4

// parallelSplit returns how many parts to split n units of work, work
// multiply-adds in all, into (at most n, none smaller than minPartWork,
// perSlot per core: partsPerSlot, or 1 where each part repeats some work),
// and on how many slots to run them (one per core,
// GOMAXPROCS). With one core there is one part.
func parallelSplit(n, work, perSlot int) (parts, slots int) {
	procs := runtime.GOMAXPROCS(0)
	if procs == 1 {
		return 1, 1
	}
	parts = max(1, min(n, perSlot*procs, work/max(minPartWork, 1), maxParts))
	return parts, min(parts, procs)
}

// parallelFor runs r.runPart(i, parts, slot) for i = 0 … parts−1, on the
// calling goroutine (slot 0) and up to slots−1 of the pool's helpers, and
// returns when all are done. A part must not call parallelFor.
func (j *parallelJob) parallelFor(parts, slots int, r partRunner) {
	if parts <= 1 || slots <= 1 {
		for i := range parts {
			r.runPart(i, parts, 0)
		}
		return
	}
	startHelpers(slots - 1)
	j.gen++
	j.r = r
	j.wg.Add(parts)
	j.left.Store(int32(parts))
	j.state.Store(uint64(j.gen)<<32 | uint64(parts)<<16)
	for s := 1; s < slots; s++ {
		select {
		case workPool.tokens <- poolToken{j, j.gen, s}:
		default: // the queue is full: the caller does the parts itself
		}
	}
	j.claim(j.gen, 0)
	// Wait for the helpers' parts watching j.left for up to callerSpin
	// before parking in wg.Wait: a parked caller is made runnable by the
	// helper that finishes last, on that helper's core, and goes on there,
	// its caches on the other.
	start := time.Now()
	for j.left.Load() > 0 && time.Since(start) < callerSpin {
	}
	j.wg.Wait()
	j.r = nil
}

// callerSpin is how long parallelFor's caller waits for the helpers' last
// parts without parking.
const callerSpin = 200 * time.Microsecond

// claim runs parts of call gen of j on slot until none is left.
func (j *parallelJob) claim(gen uint32, slot int) {
	for {
		s := j.state.Load()
		parts, next := int(s>>16&0xffff), int(s&0xffff)
		if uint32(s>>32) != gen || next >= parts {
			return
		}
		if !j.state.CompareAndSwap(s, s+1) {
			continue
		}
		j.r.runPart(next, parts, slot)
		j.wg.Done()
		j.left.Add(-1)
	}
}

// startHelpers starts helper goroutines until there are n, or
// GOMAXPROCS−1 if fewer.
func startHelpers(n int) {
	n = min(n, runtime.GOMAXPROCS(0)-1)
	if int(workPool.helpers.Load()) >= n {
		return
	}
	workPool.mu.Lock()
	defer workPool.mu.Unlock()
	if workPool.tokens == nil {
		workPool.tokens = make(chan poolToken, 1024)
	}
	for int(workPool.helpers.Load()) < n {
		workPool.helpers.Add(1)
		go func() {
			for {
				t := nextToken()
				t.j.claim(t.gen, t.slot)
			}
		}()
	}
}

// helperSpin is how long a helper that has run out of parts keeps looking
// for the next call's token, yielding its core to any other goroutine in
// between, before it parks: a parked helper takes 100–200 µs to wake up
// on a virtual machine, more than the gap between two passes of a step
// (a ReLU or a max pooling), so a step at batch 20 would otherwise pay
// the wake-up at every split pass.
const helperSpin = 300 * time.Microsecond

// nextToken returns the pool's next token, looking for one for up to
// helperSpin before it blocks.
func nextToken() poolToken {
	start := time.Now()
	for time.Since(start) < helperSpin {
		select {
		case t := <-workPool.tokens:
			return t
		default:
			runtime.Gosched()
		}
	}
	return <-workPool.tokens
}

// span returns part i of n units split into parts near-equal runs: [lo, hi).
func span(n, i, parts int) (lo, hi int) {
	return n * i / parts, n * (i + 1) / parts
}
