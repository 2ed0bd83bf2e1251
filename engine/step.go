package engine

import (
	"context"
	"math"
)

// The phase machine: which phase runs next and running it.

// numPhases is 2L + 2: L forward, the loss, L backward, the update.
func (t *Trainer) numPhases() int { return 2*len(t.layers) + 2 }

// phaseAt maps a 0-based phase number within a step to its Phase.
func (t *Trainer) phaseAt(i int) Phase {
	L := len(t.layers)
	switch {
	case i < L:
		return Phase{PhaseForward, i}
	case i == L:
		return Phase{PhaseLoss, -1}
	case i < 2*L+1:
		return Phase{PhaseBackward, 2*L - i}
	default:
		return Phase{PhaseUpdate, -1}
	}
}

// Next is the phase that StepPhase will run.
func (t *Trainer) Next() Phase {
	if t.progress == 0 || t.updated {
		return Phase{PhaseForward, 0}
	}
	return t.phaseAt(t.progress)
}

// Done is the last phase completed in the current step; ok is false when the
// step has not started.
func (t *Trainer) Done() (p Phase, ok bool) {
	if t.progress == 0 {
		return Phase{}, false
	}
	return t.phaseAt(t.progress - 1), true
}

// PhaseLabel names a phase as the page shows it: "forward · conv 1",
// "loss", "backward · maxpool 1", "update".
func (t *Trainer) PhaseLabel(p Phase) string {
	switch p.Kind {
	case PhaseForward, PhaseBackward:
		dir := "forward"
		if p.Kind == PhaseBackward {
			dir = "backward"
		}
		if p.Layer >= 0 && p.Layer < len(t.layers) {
			return dir + " · " + t.infos[p.Layer].Name
		}
		return dir
	case PhaseLoss:
		return "loss"
	default:
		return "update"
	}
}

// StepPhase runs the next phase and returns it. A non-finite value in what
// the phase computed (or, at the first phase, in the batch) returns a
// *DivergedError naming it, and the trainer stays stopped, before Update,
// until SetHyper or Reset.
func (t *Trainer) StepPhase() (Phase, error) {
	if t.diverged != nil {
		return t.Next(), t.diverged
	}
	if t.progress == 0 || t.updated {
		t.startStep()
	}
	p := t.phaseAt(t.progress)
	switch p.Kind {
	case PhaseForward:
		in := t.x
		if p.Layer > 0 {
			in = t.outs[p.Layer-1]
		}
		t.outs[p.Layer] = t.layers[p.Layer].Forward(in)
		if p.Layer == 0 {
			t.checkTensor(in, tensorInput, 0)
		}
		if !keepsFinite(t.layers[p.Layer]) {
			t.checkTensor(t.outs[p.Layer], tensorOutput, p.Layer)
		}
	case PhaseLoss:
		t.batchLoss = t.loss.Forward(t.outs[len(t.layers)-1], t.labels)
		t.checkLoss()
	case PhaseBackward:
		var dy *Tensor
		if p.Layer == len(t.layers)-1 {
			dy = t.loss.Backward()
		} else {
			dy = t.gradIns[p.Layer+1]
		}
		if p.Layer == len(t.layers)-1 {
			t.checkTensor(dy, tensorGradOut, p.Layer)
		}
		t.gradOuts[p.Layer] = dy
		t.gradIns[p.Layer] = t.layers[p.Layer].Backward(dy)
		if !keepsFinite(t.layers[p.Layer]) {
			t.checkTensor(t.gradIns[p.Layer], tensorGradIn, p.Layer)
		}
		t.checkParamGrads(p.Layer)
	case PhaseUpdate:
		if err := t.update(); err != nil {
			// The update was undone: the trainer stays before Update.
			t.diverged = err
			t.planGoingBack()
			return p, err
		}
	}
	t.progress++
	if t.diverged != nil {
		t.planGoingBack()
		return p, t.diverged
	}
	return p, nil
}

// startStep applies pending hyperparameters, loads the next batch (see
// batch.go) and zeroes the gradients.
func (t *Trainer) startStep() {
	if t.pending != nil {
		t.cfg.Hyper = *t.pending
		t.pending = nil
	}
	if t.cfg.Hyper.Optimizer != t.opt.kind {
		t.resetOptimizer()
	}
	t.progress, t.updated = 0, false
	t.loadBatch()
	for _, ps := range t.params {
		for _, p := range ps {
			p.Grad.Zero()
		}
	}
	clear(t.outs)
	clear(t.gradOuts)
	clear(t.gradIns)
	t.batchLoss = math.NaN()
}

// StepBatch finishes the current step through Update (or runs a whole step
// if none is in progress): one optimizer step on one batch.
func (t *Trainer) StepBatch() error {
	if t.progress == 0 || t.updated {
		if _, err := t.StepPhase(); err != nil {
			return err
		}
	}
	for !t.updated {
		if _, err := t.StepPhase(); err != nil {
			return err
		}
	}
	return nil
}

// StepEpoch runs batches until the current epoch ends, or ctx is done
// (returning ctx.Err()).
func (t *Trainer) StepEpoch(ctx context.Context) error {
	e := t.epoch
	for t.epoch == e {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := t.StepBatch(); err != nil {
			return err
		}
	}
	return nil
}

// abandonStep drops the current step: its batch is skipped and the weights
// stay as they were.
func (t *Trainer) abandonStep() {
	t.diverged = nil
	t.advanceCursor()
	t.progress = 0
	t.updated = false
}
