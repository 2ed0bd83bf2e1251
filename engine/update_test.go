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

// TestTraceOptState: after Update the trace holds the optimizer buffers the
// hyperparameters use, named after the saved file's fields, and they are
// the trainer's state.
func TestTraceOptState(t *testing.T) {
	noMomentum := sgdHyper(2)
	noMomentum.Momentum = 0
	plain := rmspropHyper(2)
	plain.Momentum, plain.Centered = 0, false
	cases := []struct {
		name string
		h    Hyper
		want []string // keys for the first layer's W
	}{
		{"sgd", sgdHyper(2), []string{"momentum_W"}},
		{"sgd without momentum", noMomentum, nil},
		{"adam", DefaultHyper(), []string{"adam_m_W", "adam_v_W"}},
		{"rmsprop", plain, []string{"square_avg_W"}},
		{"rmsprop centered momentum", rmspropHyper(2), []string{"grad_avg_W", "momentum_W", "square_avg_W"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := toyTrainer(t, c.h)
			if err := tr.StepBatch(); err != nil {
				t.Fatal(err)
			}
			st := tr.Trace(TraceOptions{}).Layers[0].OptState
			var got []string
			for k := range st {
				if strings.HasSuffix(k, "_W") {
					got = append(got, k)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Fatalf("OptState keys %v, want %v", got, c.want)
			}
			for _, b := range tr.opt.state[0][0].Buffers(c.h) {
				if tw := st[b.Name+"_W"]; tw != nil && !sameBits([][]float64{tw.Data}, [][]float64{b.Data}) {
					t.Errorf("OptState[%s_W] differs from the trainer's %s", b.Name, b.Name)
				}
			}
		})
	}
}
