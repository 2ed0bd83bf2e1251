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

// checkpoint is the weights and optimizer state at the start of a step.
// Update writes one before it changes anything, to undo a refused update
// and to show ΔW; the last one whose step had a sound loss is where SetHyper
// goes back to after a divergence (see diverge.go).
type checkpoint struct {
	weights [][][]float64 // per layer and parameter
	bufs    [][]float64   // a copy of optRun.bufs
	optT    int           // optRun.t
	step    int           // the step it is the start of
	loss    float64       // that step's loss
}

// copyFrom copies src into c, both sized for the same parameters and
// optimizer.
func (c *checkpoint) copyFrom(src *checkpoint) {
	for i, ws := range src.weights {
		for j, w := range ws {
			copy(c.weights[i][j], w)
		}
	}
	for k, b := range src.bufs {
		copy(c.bufs[k], b)
	}
	c.optT, c.step, c.loss = src.optT, src.step, src.loss
}

// resetCheckpoints sizes both checkpoints for the trainer's parameters and
// optimizer and forgets the sound one.
func (t *Trainer) resetCheckpoints() {
	for k := range t.ckpt {
		c := &t.ckpt[k]
		c.weights = t.paramSlices()
		c.bufs = c.bufs[:0]
		for _, b := range t.opt.bufs {
			c.bufs = append(c.bufs, make([]float64, len(b)))
		}
	}
	t.old = t.ckpt[0].weights
	t.sound = -1
}

// resetOptimizer starts the optimizer of the current hyperparameters with
// fresh state. The sound checkpoint holds the old optimizer's state: it is
// forgotten.
func (t *Trainer) resetOptimizer() {
	t.opt = newOptRun(t.cfg.Hyper.Optimizer, t.params)
	t.resetCheckpoints()
}

// update runs the optimizer on every parameter and records ΔW.
//
// An update that would take a weight beyond float32's range (the page shows
// float32 values) or to a non-finite value, or leave a non-finite value in
// the optimizer state, is undone, weights and optimizer state alike, and
// returned as a *DivergedError.
func (t *Trainer) update() error {
	h := t.cfg.Hyper
	h.LearningRate = t.Rate()
	t.lastHyper, t.lastRate = t.cfg.Hyper, h.LearningRate
	r := &t.opt
	// The state before the update goes to the checkpoint that is not the
	// sound one.
	c := &t.ckpt[0]
	if t.sound == 0 {
		c = &t.ckpt[1]
	}
	for k, b := range r.bufs {
		copy(c.bufs[k], b)
	}
	c.optT, c.step, c.loss = r.t, t.step, t.batchLoss
	t.old = c.weights
	r.t++
	for i, ps := range t.params {
		for j, p := range ps {
			copy(c.weights[i][j], p.Value.Data)
			r.opt.Step(p, r.state[i][j], r.t, h)
		}
	}
	for i, ps := range t.params {
		for _, p := range ps {
			for _, w := range p.Value.Data {
				if !(math.Abs(w) <= math.MaxFloat32) { // also catches NaN
					t.restore(c)
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
			t.restore(c)
			return &DivergedError{Step: t.step, Sample: -1, Index: -1, Where: where, Value: v,
				what: fmt.Sprintf("the update would leave %v in the optimizer's %s", v, where)}
		}
	}
	if t.soundLoss(t.batchLoss) {
		t.sound = 0
		if c == &t.ckpt[1] {
			t.sound = 1
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

// restore sets the weights and the optimizer state to checkpoint c.
func (t *Trainer) restore(c *checkpoint) {
	for i, ps := range t.params {
		for j, p := range ps {
			copy(p.Value.Data, c.weights[i][j])
		}
	}
	r := &t.opt
	for k, b := range r.bufs {
		copy(b, c.bufs[k])
	}
	r.t = c.optT
}
