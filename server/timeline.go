package server

import (
	"math/bits"
	"slices"

	"github.com/backpropviz/backpropviz/engine"
)

// A session's timeline is its history of training: after every optimizer
// step (and at the step the history starts from) a snapshot of every
// layer's filters W, b and their dL/dW, dL/db, the step's loss and running
// accuracy, and the probe image of that step. Snapshots keep the engine's
// float64 numbers exactly. The probe's feature maps and class
// probabilities of a step are a function of its weights and probe image:
// they are computed again, by the engine's layers, when a page looks at the
// step (timeline_probe.go), and come out bit for bit as the trainer
// computed them then (TestTimelineDeterministic). That spares each step
// the probe's pass (a fifth of a step of the default network) and keeps
// three times as many steps in the budget.
//
// The history is thinned geometrically, so that a whole run fits a fixed
// budget: with density K, step s stays while the run is at step now if
//
//	(s − base) is a multiple of 2^ℓ,  ℓ = bits.Len((now − s) / K)
//
// so the last K steps are all kept, and each older band of ages
// [K·2^(ℓ−1), K·2^ℓ) keeps every 2^ℓ-th step: K/2 snapshots a band, about
// K + K/2·log2(N/K) for a run of N steps. ℓ only grows with age, so a step
// once dropped is never wanted again. The first step (base) and the newest
// are always kept. When the snapshots would pass the byte budget, K halves
// (a subset of what was kept stays); at K = 1 the oldest after the first go.
// Everything depends on the steps and the network alone: the same run keeps
// the same steps.
//
// A run to the end of the epoch (step_epoch) copies only the steps the
// thinning keeps at its end, known in advance: about 300 of the 7,500 steps
// of an MNIST epoch at batch 8, and the same steps, bit for bit, as copying
// each one. Stopped in the middle, it keeps what its end would have kept up
// to there (and the step it stopped at, if it stopped at a step's end);
// the steps after it are kept as usual.
type timeline struct {
	budget  int64 // bytes at most (Config.TimelineBytes); 0: no history
	density int   // K, a power of two
	base    int   // the step the history starts at
	trainer *engine.Trainer
	layout  *tlLayout
	net     *tlProbeNet // computes a snapshot's probe maps (timeline_probe.go)
	snaps   []*tlSnap   // oldest first, by step
	// seen is the last step observed, recorded or passed over; until, when
	// above it, is the step a run to the end of the epoch will stop at
	// (step_epoch): a step the thinning would drop by then is passed over,
	// not copied, so an epoch run copies the few hundred steps it keeps
	// instead of every one of its thousands.
	seen, until int
	spare       *tlSnap // a dropped snapshot whose array the next one reuses
	// spareProbe is the array the probe image is read into to compare it
	// with the last one's
	spareProbe []float64
	// tooLarge is set when one snapshot of this network is larger than the
	// budget: the session keeps no history.
	tooLarge bool
}

// tlMaxDensity is the density a history starts with.
const tlMaxDensity = 64

// tlSnap is one snapshot: every tensor in one float64 array, at the
// offsets of the timeline's layout.
type tlSnap struct {
	step      int
	loss, acc float64 // the step's batch loss and the running training accuracy (NaN at a start)
	grads     bool    // dL/dW is present (not at a start, before any step)
	probe     *tlProbe
	data      []float64
}

// tlProbe is a probe image and its label, shared by the snapshots of the
// steps it was the probe of.
type tlProbe struct {
	x     []float64 // (C, H, W)
	label int
}

// tlSpan is where one tensor lies in a snapshot's data.
type tlSpan struct {
	off   int
	shape []int
}

func (sp tlSpan) size() int {
	n := 1
	for _, d := range sp.shape {
		n *= d
	}
	return n
}

// tlLayout places the tensors of one network's snapshot: for each layer
// with parameters W, b, dL/dW and dL/db. in and out are the shapes of the
// input image and of each layer's output.
type tlLayout struct {
	size   int
	in     []int
	layers []tlLayerSpans
}

type tlLayerSpans struct {
	out           []int // the layer's output shape (C, H, W) or (N)
	w, b, dw, db  tlSpan
	hasW, hasBias bool
}

func newTLLayout(t *engine.Trainer) *tlLayout {
	l := &tlLayout{}
	place := func(shape []int) tlSpan {
		sp := tlSpan{off: l.size, shape: slices.Clone(shape)}
		l.size += sp.size()
		return sp
	}
	l.in = slices.Clone(t.InputShape())
	infos := t.Layers()
	l.layers = make([]tlLayerSpans, len(infos))
	for i, info := range infos {
		ls := &l.layers[i]
		ls.out = slices.Clone(info.OutShape)
		if len(info.ParamShapes) > 0 {
			ls.hasW = true
			ls.w, ls.dw = place(info.ParamShapes[0]), place(info.ParamShapes[0])
		}
		if len(info.ParamShapes) > 1 {
			ls.hasBias = true
			ls.b, ls.db = place(info.ParamShapes[1]), place(info.ParamShapes[1])
		}
	}
	return l
}

// tlSnapOverhead is what a snapshot holds beyond its array (a new probe
// image is counted apart, see probeBytes).
const tlSnapOverhead = 96

// snapBytes is the memory of one snapshot of the layout.
func (l *tlLayout) snapBytes() int64 { return int64(8*l.size) + tlSnapOverhead }

// keeps reports whether step s stays in a history from base at step now
// with density k (see timeline).
func keeps(s, base, now, k int) bool {
	if s > now || s < base {
		return false
	}
	level := bits.Len(uint((now - s) / k))
	return uint(s-base)&(1<<level-1) == 0
}

// bytes is the memory the history holds.
func (h *timeline) bytes() int64 {
	if h.layout == nil {
		return 0
	}
	n := len(h.snaps)
	if h.spare != nil {
		n++
	}
	return int64(n)*h.layout.snapBytes() + h.probeBytes()
}

// probeBytes is the memory of the distinct probe images kept.
func (h *timeline) probeBytes() int64 {
	var b int64
	var last *tlProbe
	for _, sn := range h.snaps {
		if sn.probe != last && sn.probe != nil {
			b += int64(8*len(sn.probe.x)) + 32
			last = sn.probe
		}
	}
	return b
}

// clear forgets the history (a new network, a reset, a load, an undo).
func (h *timeline) clear() {
	h.snaps, h.spare, h.layout, h.net, h.trainer, h.tooLarge = nil, nil, nil, nil, nil, false
	h.seen = 0
	h.density = tlMaxDensity
}

// steps lists the steps kept, oldest first.
func (h *timeline) steps() []int {
	out := make([]int, len(h.snaps))
	for i, sn := range h.snaps {
		out[i] = sn.step
	}
	return out
}

// at is the snapshot of the latest step kept at or before step (the
// first one if step is before it), or nil if the history is empty.
func (h *timeline) at(step int) *tlSnap {
	if len(h.snaps) == 0 {
		return nil
	}
	i, found := slices.BinarySearchFunc(h.snaps, step, func(sn *tlSnap, s int) int { return sn.step - s })
	if !found {
		i = max(i-1, 0)
	}
	return h.snaps[i]
}

// last is the newest snapshot, or nil.
func (h *timeline) last() *tlSnap {
	if len(h.snaps) == 0 {
		return nil
	}
	return h.snaps[len(h.snaps)-1]
}

// observe records the trainer's state if it is at the end of a step (or
// before its first one) and the history lacks it; a trainer that is not
// the one of the history, or a step that does not follow the last one
// kept, starts a new history. It reports whether it recorded.
func (h *timeline) observe(t *engine.Trainer) bool {
	if h.budget <= 0 {
		return false
	}
	if done, started := t.Done(); started && done.Kind != engine.PhaseUpdate {
		return false // within a step: its end is recorded by the step
	}
	if h.tooLarge && t == h.trainer {
		return false
	}
	step := t.Step()
	if last := h.last(); t == h.trainer && last != nil {
		if last.step == step {
			return false
		}
		// the next step, or the one passed over last, wanted now (the
		// epoch run stopped before its end)
		if step != h.seen+1 && step != h.seen {
			h.clear()
		}
	} else if t != h.trainer || h.tooLarge {
		h.clear()
	}
	if h.trainer == nil {
		h.trainer, h.base, h.layout = t, step, newTLLayout(t)
		if 2*h.layout.snapBytes()+int64(8*len(h.layout.in)) > h.budget {
			h.tooLarge = true
			return false
		}
	}
	h.seen = step
	if h.until > step && !keeps(step, h.base, h.until, h.density) {
		return false // gone by the end of the epoch run
	}
	h.record(t, step)
	return true
}

// record appends a snapshot of the trainer at step, then thins.
func (h *timeline) record(t *engine.Trainer, step int) {
	sn := h.spare
	h.spare = nil
	if sn == nil {
		sn = &tlSnap{data: make([]float64, h.layout.size)}
	}
	// the weights and the batch's gradients, copied on every core
	m := t.Metrics()
	*sn = tlSnap{step: step, loss: m.LastLoss, acc: m.TrainAcc, probe: h.probeOf(t), data: sn.data}
	l := h.layout
	span := func(sp tlSpan) []float64 { return sn.data[sp.off : sp.off+sp.size()] }
	sn.grads = t.CopyParams(func(i int, bias bool) (value, grad []float64) {
		switch ls := &l.layers[i]; {
		case bias && ls.hasBias:
			return span(ls.b), span(ls.db)
		case !bias && ls.hasW:
			return span(ls.w), span(ls.dw)
		}
		return nil, nil
	})
	h.snaps = append(h.snaps, sn)
	h.thin(step)
}

// probeOf is the trainer's probe image, shared with the last snapshot
// when it is the same.
func (h *timeline) probeOf(t *engine.Trainer) *tlProbe {
	var prev *tlProbe
	if last := h.last(); last != nil {
		prev = last.probe
	}
	var buf []float64
	if prev != nil && h.spareProbe != nil {
		buf = h.spareProbe
	}
	x, label := t.ProbeImage(buf)
	if prev != nil && prev.label == label && slices.Equal(prev.x, x) {
		h.spareProbe = x
		return prev
	}
	h.spareProbe = nil
	return &tlProbe{x: x, label: label}
}

// thin drops what the history no longer keeps at step now, halving the
// density while it is over its budget.
func (h *timeline) thin(now int) {
	h.prune(now)
	for h.bytes() > h.budget && h.spare != nil {
		h.spare = nil
	}
	for h.bytes() > h.budget && h.density > 1 {
		h.density /= 2
		h.prune(now)
		h.spare = nil
	}
	for h.bytes() > h.budget && len(h.snaps) > 2 {
		h.snaps = slices.Delete(h.snaps, 1, 2) // the oldest but the first
	}
}

// prune removes the snapshots that keeps rejects; the first removed
// becomes the spare.
func (h *timeline) prune(now int) {
	kept := h.snaps[:0]
	for _, sn := range h.snaps {
		if keeps(sn.step, h.base, now, h.density) {
			kept = append(kept, sn)
		} else if h.spare == nil {
			h.spare = sn
		}
	}
	clear(h.snaps[len(kept):])
	h.snaps = kept
}
