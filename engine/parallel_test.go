package engine_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// TestParallelSameBits trains the same networks at GOMAXPROCS 1, 2 and 8,
// and at 8 with every pass split as finely as it can be, and wants the same
// saved state (weights, optimizer state, step) bit for bit: the parts a step
// is split into never share a sum.
func TestParallelSameBits(t *testing.T) {
	data := benchData(t)
	every := engine.DefaultConfig()
	every.Spec = "conv(6,3,s1,p1) tanh avgpool(2,s2,p0) conv(8,3,s2,p1) leakyrelu(0.1) maxpool(3,s1,p1) conv(5,1,s1,p0) sigmoid dense(10)"
	wide := engine.DefaultConfig()
	wide.Spec = "conv(6,5,s1,p2) relu maxpool(2,s2,p0) conv(13,3,s1,p1) relu dense(10)"
	tests := []struct {
		name  string
		cfg   engine.Config
		batch int
	}{
		{"default-b1", engine.DefaultConfig(), 1},
		{"default-b7", engine.DefaultConfig(), 7},
		{"default-b20", engine.DefaultConfig(), 20},
		{"every-layer-b9", every, 9},
		{"wide-b5", wide, 5},
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range tests {
		var want string
		for _, procs := range []int{1, 2, 8, -8} {
			// −8: GOMAXPROCS 8, every pass split as finely as it can be.
			runtime.GOMAXPROCS(max(procs, -procs))
			restore := func() {}
			if procs < 0 {
				restore = engine.SplitAll()
			}
			cfg := tc.cfg
			cfg.Hyper.BatchSize = tc.batch
			tr, err := engine.NewTrainer(cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			for range 4 {
				if err := tr.StepBatch(); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if err := tr.Save(&buf); err != nil {
				t.Fatal(err)
			}
			tr.Trace(engine.TraceOptions{}) // the first layer's dL/dX, on its own
			restore()
			got := fmt.Sprintf("%x", sha256.Sum256(buf.Bytes()))
			if procs == 1 {
				want = got
			} else if got != want {
				t.Errorf("%s at GOMAXPROCS %d: state %s, want %s (GOMAXPROCS 1)", tc.name, procs, got[:16], want[:16])
			}
		}
	}
}

// TestTraceSkip takes a trace after Update without each part in turn and
// wants that part nil and every other field as in the full trace.
func TestTraceSkip(t *testing.T) {
	h := engine.DefaultHyper()
	h.BatchSize = 3
	tr, err := engine.NewTrainer(engine.Config{Spec: engine.DefaultSpec, Seed: 1, Hyper: h}, benchData(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	full := tr.Trace(engine.TraceOptions{Sample: 1})
	parts := []struct {
		part engine.TraceParts
		nil  func(*engine.LayerTrace) []*engine.Tensor
	}{
		{engine.TraceMaps, func(l *engine.LayerTrace) []*engine.Tensor { return []*engine.Tensor{l.Input, l.Output} }},
		{engine.TraceGradOutput, func(l *engine.LayerTrace) []*engine.Tensor { return []*engine.Tensor{l.GradOutput} }},
		{engine.TraceGradInput, func(l *engine.LayerTrace) []*engine.Tensor { return []*engine.Tensor{l.GradInput} }},
		{engine.TraceWeights, func(l *engine.LayerTrace) []*engine.Tensor { return []*engine.Tensor{l.Weights, l.Bias} }},
		{engine.TraceGradWeights, func(l *engine.LayerTrace) []*engine.Tensor { return []*engine.Tensor{l.GradWeights, l.GradBias} }},
		{engine.TraceDeltas, func(l *engine.LayerTrace) []*engine.Tensor { return []*engine.Tensor{l.DeltaWeights, l.DeltaBias} }},
	}
	for _, p := range parts {
		got := tr.Trace(engine.TraceOptions{Sample: 1, Skip: p.part})
		for i := range got.Layers {
			for _, x := range p.nil(&got.Layers[i]) {
				if x != nil {
					t.Errorf("Skip %b: layer %d keeps the part", p.part, i)
				}
			}
			for _, q := range parts {
				if q.part == p.part {
					continue
				}
				g, w := q.nil(&got.Layers[i]), q.nil(&full.Layers[i])
				for k := range g {
					if (g[k] == nil) != (w[k] == nil) || g[k] != nil && fmt.Sprint(g[k].Data) != fmt.Sprint(w[k].Data) {
						t.Errorf("Skip %b: layer %d part %b differs from the full trace", p.part, i, q.part)
					}
				}
			}
		}
	}
	if got := tr.Trace(engine.TraceOptions{Skip: engine.TraceOptState}); got.Layers[0].OptState != nil {
		t.Errorf("Skip TraceOptState: layer 0 keeps the optimizer state")
	}
}

// TestTraceBorrow wants a Borrow trace equal, field by field, to the copied
// trace at every phase of a step, for a batch sample and for the probe, with
// and without skipped parts.
func TestTraceBorrow(t *testing.T) {
	h := engine.DefaultHyper()
	h.BatchSize = 3
	tr, err := engine.NewTrainer(engine.Config{Spec: engine.DefaultSpec, Seed: 1, Hyper: h}, benchData(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	opts := []engine.TraceOptions{{Sample: 1}, {Probe: true}, {Sample: 2, Skip: engine.TraceGradInput | engine.TraceOptState}, {Sample: 0, Skip: engine.TraceMaps | engine.TraceDeltas}}
	for phase := 0; phase < 2*len(tr.Layers())+2; phase++ {
		for _, opt := range opts {
			want := fmt.Sprintf("%+v", traceValues(tr.Trace(opt)))
			b := opt
			b.Borrow = true
			if got := fmt.Sprintf("%+v", traceValues(tr.Trace(b))); got != want {
				t.Errorf("phase %v, %+v: the Borrow trace differs from the copied one", tr.Next(), opt)
			}
		}
		if _, err := tr.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
}

// traceValues is every value of a trace, tensors as their data.
func traceValues(tr *engine.Trace) []any {
	v := []any{tr.Step, tr.Done, tr.Started, tr.Sample, tr.Index, tr.Label, tr.Probs, tr.Loss, tr.Prediction, data(tr.Input)}
	for _, l := range tr.Layers {
		v = append(v, data(l.Input), data(l.Output), data(l.GradOutput), data(l.GradInput), l.Switches,
			data(l.Weights), data(l.Bias), data(l.GradWeights), data(l.GradBias), data(l.DeltaWeights), data(l.DeltaBias))
		for _, k := range slices.Sorted(maps.Keys(l.OptState)) {
			v = append(v, k, data(l.OptState[k]))
		}
	}
	return v
}

func data(x *engine.Tensor) any {
	if x == nil {
		return nil
	}
	return [2]any{x.Shape, x.Data}
}
