package engine

import (
	"fmt"
	"math"
)

// optRun is the optimizer a trainer runs and the state it has built since it
// started: one OptState per parameter and the step count t.
type optRun struct {
	kind  string       // the Hyper.Optimizer name the state belongs to
	opt   Optimizer    // optimizers[kind]
	t     int          // steps taken with this state
	state [][]OptState // per layer and parameter
	bufs  [][]float64  // every buffer of state, parameter by parameter
	saved [][]float64  // a copy of bufs made before each Update, to undo it
}

// newOptRun returns fresh state of the optimizer kind (a name Hyper.Validate
// accepted) for params, per layer.
func newOptRun(kind string, params [][]*Param) optRun {
	opt, err := optimizerFor(kind)
	if err != nil {
		panic("engine: newOptRun: " + err.Error()) // validated with the Hyper
	}
	r := optRun{kind: kind, opt: opt, state: make([][]OptState, len(params))}
	for i, ps := range params {
		for _, p := range ps {
			st := opt.NewState(len(p.Value.Data))
			r.state[i] = append(r.state[i], st)
			for _, b := range st.Buffers(Hyper{}) {
				r.bufs = append(r.bufs, b.Data)
				r.saved = append(r.saved, make([]float64, len(b.Data)))
			}
		}
	}
	return r
}

// copyFrom copies src's state and step count into r, which must be of the
// same kind for the same parameters.
func (r *optRun) copyFrom(src *optRun) {
	for k, b := range src.bufs {
		copy(r.bufs[k], b)
	}
	r.t = src.t
}

// resetOptimizer starts the optimizer of the current hyperparameters with
// fresh state.
func (t *Trainer) resetOptimizer() {
	t.opt = newOptRun(t.cfg.Hyper.Optimizer, t.params)
}

// update runs the optimizer on every parameter and records ΔW.
//
// An update that would take a weight beyond float32's range (the page shows
// float32 values) or to a non-finite value, or leave a non-finite value in
// the optimizer state, is undone, weights and optimizer state alike, and
// returned as a *DivergedError.
func (t *Trainer) update() error {
	h := t.cfg.Hyper
	r := &t.opt
	r.t++
	for k, b := range r.bufs {
		copy(r.saved[k], b)
	}
	for i, ps := range t.params {
		for j, p := range ps {
			copy(t.old[i][j], p.Value.Data)
			r.opt.Step(p, r.state[i][j], r.t, h)
		}
	}
	for i, ps := range t.params {
		for _, p := range ps {
			for _, w := range p.Value.Data {
				if !(math.Abs(w) <= math.MaxFloat32) { // also catches NaN
					t.undoUpdate()
					where := fmt.Sprintf("%s of %s", p.Name, t.layerName(i))
					what := fmt.Sprintf("the update would take %s to %v", where, w)
					if !math.IsNaN(w) {
						what += ", beyond float32's range"
					}
					return &DivergedError{Step: t.step, Sample: -1, Index: -1, Where: where, Value: w, what: what}
				}
			}
		}
	}
	for k, b := range r.bufs {
		if !allFinite(b) {
			where := r.bufferName(k, t)
			_, v := firstNonFinite(b)
			t.undoUpdate()
			return &DivergedError{Step: t.step, Sample: -1, Index: -1, Where: where, Value: v,
				what: fmt.Sprintf("the update would leave %v in the optimizer's %s", v, where)}
		}
	}
	t.weightsVer++
	t.metrics.recordBatch(t.batchLoss, t.loss.Probs, t.labels)
	t.samples += len(t.labels)
	t.step++
	t.advanceCursor()
	t.updated = true
	return nil
}

// bufferName names r.bufs[k] for a message: "adam_v of W of conv 1".
func (r *optRun) bufferName(k int, t *Trainer) string {
	for i, ps := range t.params {
		for j, p := range ps {
			for _, b := range r.state[i][j].Buffers(Hyper{}) {
				if k == 0 {
					return fmt.Sprintf("%s of %s of %s", b.Name, p.Name, t.layerName(i))
				}
				k--
			}
		}
	}
	return "state"
}

// undoUpdate restores the weights and the optimizer state saved by update.
func (t *Trainer) undoUpdate() {
	for i, ps := range t.params {
		for j, p := range ps {
			copy(p.Value.Data, t.old[i][j])
		}
	}
	r := &t.opt
	for k, b := range r.bufs {
		copy(b, r.saved[k])
	}
	r.t--
}
