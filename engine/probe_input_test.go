package engine

import (
	"math"
	"strings"
	"testing"
)

// SetProbe's image is what the probe trace shows, with its label; it never
// changes training, survives Reset, and ResetProbe brings the data set's
// image back. A wrong size, label or value is refused and changes nothing.
func TestSetProbe(t *testing.T) {
	a, b := toyTrainer(t, DefaultHyper()), toyTrainer(t, DefaultHyper())
	a.StepBatch()
	b.StepBatch()
	before := a.Trace(TraceOptions{Probe: true})
	x := make([]float64, a.InputShape().Size())
	for i := range x {
		x[i] = float64(i%7) / 7
	}
	label := (before.Label + 1) % a.classes
	for _, bad := range []struct {
		x     []float64
		label int
		want  string
	}{
		{x[:len(x)-1], label, "values"},
		{x, a.classes, "probe label"},
		{append(append([]float64{}, x[:len(x)-1]...), math.NaN()), label, "NaN"},
	} {
		if err := a.SetProbe(bad.x, bad.label); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("SetProbe: error %v, want %q", err, bad.want)
		}
	}
	if !same1(a.Trace(TraceOptions{Probe: true}).Input.Data, before.Input.Data) || a.ProbeIsOwn() {
		t.Fatalf("a refused SetProbe changed the probe")
	}
	if err := a.SetProbe(x, label); err != nil {
		t.Fatal(err)
	}
	tr := a.Trace(TraceOptions{Probe: true})
	if !same1(tr.Input.Data, x) || tr.Label != label || !tr.Probe || len(tr.Probs) != a.classes || math.IsNaN(tr.Loss) {
		t.Errorf("probe trace: input same %v, label %d (want %d), probs %v, loss %v", same1(tr.Input.Data, x), tr.Label, label, tr.Probs, tr.Loss)
	}
	if tr.Layers[0].GradInput == nil && tr.Layers[0].GradOutput == nil {
		t.Errorf("probe trace has no backward pass")
	}
	for range 5 {
		a.StepBatch()
		b.StepBatch()
		a.Trace(TraceOptions{Probe: true})
	}
	if !sameBits(weights(a), weights(b)) {
		t.Errorf("a probe image changed training")
	}
	a.Reset()
	if tr := a.Trace(TraceOptions{Probe: true}); !same1(tr.Input.Data, x) {
		t.Errorf("the probe image did not survive Reset")
	}
	a.ResetProbe()
	b.Reset()
	if tr := a.Trace(TraceOptions{Probe: true}); !same1(tr.Input.Data, b.Trace(TraceOptions{Probe: true}).Input.Data) {
		t.Errorf("ResetProbe did not bring the data set's image back")
	}
}

// same1 says whether two vectors hold the same bits.
func same1(a, b []float64) bool { return sameBits([][]float64{a}, [][]float64{b}) }

// The drill-down works on the user's probe: a feature map's cell of the
// probe's own pass is explained from the probe's input, and its terms add
// up to the value the probe trace holds.
func TestExplainOwnProbe(t *testing.T) {
	a := toyTrainer(t, DefaultHyper())
	a.StepBatch()
	x := make([]float64, a.InputShape().Size())
	for i := range x {
		x[i] = float64((i*5)%11) / 11
	}
	if err := a.SetProbe(x, 1); err != nil {
		t.Fatal(err)
	}
	tr := a.Trace(TraceOptions{Probe: true})
	e, err := a.Explain(ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{0, 1, 1}, Probe: true})
	if err != nil {
		t.Fatalf("Explain on the probe: %v", err)
	}
	out := tr.Layers[0].Output
	if want := out.Data[out.Shape[2]*1+1]; !e.Probe || e.Value != want {
		t.Errorf("explained value %v (probe %v), want the probe trace's %v", e.Value, e.Probe, want)
	}
	var sum float64
	for _, term := range e.Terms {
		sum += term.Product
	}
	if math.Abs(sum-e.Value) > 1e-9*math.Max(1, math.Abs(e.Value)) {
		t.Errorf("terms add up to %v, value %v", sum, e.Value)
	}
	if l, err := a.Explain(ExplainQuery{Layer: LossLayer, Tensor: TensorLoss, Probe: true}); err != nil || l.Value != tr.Loss {
		t.Errorf("the probe's loss explained: %v, %v; want %v", l.Value, err, tr.Loss)
	}
}
