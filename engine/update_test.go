package engine

import (
	"slices"
	"strings"
	"testing"
)

// TestUpdateBeyondFloat32IsUndone: an update that would take a weight beyond
// float32's range (what the page shows) is undone, weights and optimizer
// state alike, and reported as a divergence.
func TestUpdateBeyondFloat32IsUndone(t *testing.T) {
	h := sgdHyper(2)
	h.LearningRate = 10
	tr := toyTrainer(t, h)
	tr.StepBatch() // the momentum buffers hold something
	for range 2*len(tr.layers) + 1 {
		if _, err := tr.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
	if tr.Next().Kind != PhaseUpdate {
		t.Fatalf("next phase %v, want update", tr.Next())
	}
	before := weights(tr)
	var bufs [][]float64
	for _, st := range tr.opt.bufs {
		bufs = append(bufs, slices.Clone(st))
	}
	tr.params[5][0].Grad.Data[3] = -1e38 // the dense layer's W
	_, err := tr.StepPhase()
	de, ok := err.(*DivergedError)
	if !ok || !strings.Contains(de.Where, "dense 1") {
		t.Fatalf("update to 1e39: error %v, want a *DivergedError naming dense 1", err)
	}
	if !sameBits(weights(tr), before) || !sameBits(tr.opt.bufs, bufs) {
		t.Errorf("the refused update changed the weights or the momentum")
	}
	if tr.Step() != 1 || tr.Next().Kind != PhaseUpdate {
		t.Errorf("after the refused update: step %d, next %v; want step 1, before update", tr.Step(), tr.Next())
	}
	h.LearningRate = 0.01
	if err := tr.SetHyper(h); err != nil {
		t.Fatal(err)
	}
	if err := tr.StepBatch(); err != nil || tr.Step() != 2 {
		t.Errorf("after a lower learning rate: err %v, step %d, want step 2", err, tr.Step())
	}
}
