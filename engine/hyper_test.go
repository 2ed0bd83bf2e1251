package engine_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// TestRate: the learning rate falls linearly from LearningRate to
// LearningRate·DecayFloor over DecayEpochs epochs and stays there.
func TestRate(t *testing.T) {
	h := engine.Hyper{LearningRate: 0.002, DecayEpochs: 2}
	tests := []struct {
		samples int
		want    float64
	}{
		{0, 0.002},
		{1000, 0.002 * (1 - 0.95*0.5)},
		{2000, 0.002 * 0.05},
		{5000, 0.002 * 0.05},
	}
	for _, tc := range tests {
		if got := h.Rate(tc.samples, 1000); !near(got, tc.want) {
			t.Errorf("Rate(%d, 1000) with 2 epochs = %v, want %v", tc.samples, got, tc.want)
		}
	}
	h.DecayEpochs = 0
	if got := h.Rate(5000, 1000); got != 0.002 {
		t.Errorf("Rate without a schedule = %v, want 0.002", got)
	}
	h = engine.DefaultHyper()
	h.DecayEpochs = -1
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "decay epochs") {
		t.Errorf("DecayEpochs −1: %v", err)
	}
}

func near(a, b float64) bool { return a-b < 1e-15 && b-a < 1e-15 }

// TestRateInTrace: a trace after Update gives the rate that update used,
// and a saved file without decay_epochs (from before the schedule) loads
// with a constant rate.
func TestRateInTrace(t *testing.T) {
	data := benchData(t)
	h := engine.DefaultHyper()
	h.LearningRate, h.DecayEpochs = 0.002, 1 // the one-epoch schedule of bench/README.md
	tr, err := engine.NewTrainer(engine.Config{Spec: engine.DefaultSpec, Seed: 1, Hyper: h}, data)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
	}
	n := data.Train.Len()
	if got, want := tr.Trace(engine.TraceOptions{}).Rate, h.Rate(16, n); got != want {
		t.Errorf("trace after step 3: rate %v, want %v (after 16 samples)", got, want)
	}
	if got, want := tr.Rate(), h.Rate(24, n); got != want {
		t.Errorf("Rate before step 4: %v, want %v", got, want)
	}
	var buf bytes.Buffer
	if err := tr.Save(&buf); err != nil {
		t.Fatal(err)
	}
	old := strings.Replace(buf.String(), `,"decay_epochs":1`, "", 1)
	if old == buf.String() {
		t.Fatal("saved file has no decay_epochs")
	}
	l, err := engine.Load(strings.NewReader(old), data)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Config().Hyper.DecayEpochs; got != 0 {
		t.Errorf("file without decay_epochs loads with DecayEpochs %v, want 0", got)
	}
}
