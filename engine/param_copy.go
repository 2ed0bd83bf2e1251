package engine

import "runtime"

// CopyParams copies, for each parameter of each layer in order, its value
// and the current step's gradient of it into the slices dst returns for it
// (each as long as the parameter, or nil: not wanted). A gradient the
// step's backward pass has not reached yet is copied as zeros. It reports
// whether any gradient was present. It is what ParamViews gives, copied at
// once, split over the worker pool (parallel.go): a history that keeps
// every step's weights and dL/dW (about 96 KB a step for the default
// network, written to memory last touched many steps ago) copies on every
// core instead of one. It panics if a slice dst returns has another
// length than its parameter.
func (t *Trainer) CopyParams(dst func(layer int, bias bool) (value, grad []float64)) (grads bool) {
	if t.pcopy == nil {
		t.pcopy = &paramCopy{}
	}
	c := t.pcopy
	c.segs, c.total = c.segs[:0], 0
	add := func(to, from []float64) {
		if to == nil {
			return
		}
		c.segs = append(c.segs, copySeg{dst: to, src: from, at: c.total})
		c.total += len(to)
	}
	t.ParamViews(func(i int, bias bool, value, grad *Tensor) {
		v, g := dst(i, bias)
		if v != nil && len(v) != len(value.Data) {
			panic("engine: Trainer.CopyParams: a value's slice of the wrong length")
		}
		add(v, value.Data)
		if g == nil {
			return
		}
		if len(g) != len(value.Data) {
			panic("engine: Trainer.CopyParams: a gradient's slice of the wrong length")
		}
		if grad != nil {
			grads = true
			add(g, grad.Data)
		} else {
			add(g, nil)
		}
	})
	parts, slots := 1, 1
	if procs := runtime.GOMAXPROCS(0); procs > 1 && c.total >= minCopySplit {
		parts = min(partsPerSlot*procs, c.total/(minCopySplit/4))
		slots = min(parts, procs)
	}
	c.job.parallelFor(parts, slots, c)
	clear(c.segs) // keep no views of the caller's arrays
	return grads
}

// minCopySplit is the fewest values CopyParams splits over the pool, and
// four times the fewest a part copies: below it the copy takes less than
// a helper's hand-off.
const minCopySplit = 4096

// paramCopy is CopyParams's state, kept by the trainer so that a copy
// allocates nothing.
type paramCopy struct {
	job   parallelJob
	segs  []copySeg
	total int // values to copy in all
}

// copySeg is one slice to fill: from src, or with zeros if src is nil; at
// is where it starts in the run of all segments, laid end to end.
type copySeg struct {
	dst, src []float64
	at       int
}

// runPart copies values [lo, hi) of the segments laid end to end.
func (c *paramCopy) runPart(part, parts, _ int) {
	lo, hi := span(c.total, part, parts)
	for _, s := range c.segs {
		a, b := max(lo, s.at)-s.at, min(hi, s.at+len(s.dst))-s.at
		if a >= b {
			continue
		}
		if s.src == nil {
			clear(s.dst[a:b])
		} else {
			copy(s.dst[a:b], s.src[a:b])
		}
	}
}
