package engine

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// toySet is a small in-memory dataset: n random (1, 6, 6) images whose label
// is the quadrant holding the brightest pixel, so a tiny net can learn it.
type toySet struct {
	imgs   [][]float64
	labels []int
}

func newToySet(seed int64, n int) *toySet {
	rng := rand.New(rand.NewSource(seed))
	s := &toySet{}
	for range n {
		img := make([]float64, 36)
		for i := range img {
			img[i] = rng.Float64() * 0.5
		}
		q := rng.Intn(4)
		y, x := (q/2)*3+rng.Intn(3), (q%2)*3+rng.Intn(3)
		img[y*6+x] = 1
		s.imgs = append(s.imgs, img)
		s.labels = append(s.labels, q)
	}
	return s
}

func (s *toySet) Len() int        { return len(s.imgs) }
func (s *toySet) Shape() []int    { return []int{1, 6, 6} }
func (s *toySet) NumClasses() int { return 4 }
func (s *toySet) Image(i int, dst []float64) int {
	copy(dst, s.imgs[i])
	return s.labels[i]
}

const toySpec = "conv(3,3,s1,p1) relu maxpool(2) conv(4,3x2,s1,p0) tanh dense(4)"

func toyData() Data {
	return Data{Name: "toy", Train: newToySet(1, 100), Test: newToySet(2, 40)}
}

func toyTrainer(t *testing.T, h Hyper) *Trainer {
	t.Helper()
	tr, err := NewTrainer(Config{Spec: toySpec, Seed: 7, Hyper: h}, toyData())
	if err != nil {
		t.Fatalf("NewTrainer: %v", err)
	}
	return tr
}

func sgdHyper(batch int) Hyper {
	h := DefaultHyper()
	h.Optimizer, h.LearningRate, h.Momentum, h.BatchSize = OptSGD, 0.05, 0.9, batch
	h.DecayEpochs = 0
	return h
}

// weights returns a copy of every parameter value.
func weights(tr *Trainer) [][]float64 {
	var w [][]float64
	for _, ps := range tr.params {
		for _, p := range ps {
			w = append(w, slices.Clone(p.Value.Data))
		}
	}
	return w
}

func sameBits(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

func TestPhaseSequenceAndTraceAbsence(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(3))
	L := len(tr.Layers())
	var got []string
	for range 2*L + 2 {
		p, err := tr.StepPhase()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.String())
		trace := tr.Trace(TraceOptions{Sample: 1})
		// Everything up to p is present; everything after it is absent.
		for i, lt := range trace.Layers {
			fwd := p.Kind != PhaseForward || i <= p.Layer
			if (lt.Output != nil) != fwd {
				t.Errorf("after %v: layer %d Output present = %v, want %v", p, i, lt.Output != nil, fwd)
			}
			bwd := p.Kind == PhaseUpdate || (p.Kind == PhaseBackward && i >= p.Layer)
			if (lt.GradInput != nil) != bwd {
				t.Errorf("after %v: layer %d dL/dX present = %v, want %v", p, i, lt.GradInput != nil, bwd)
			}
			// dL/dY of layer i is dL/dX of layer i+1: present once that is
			dy := bwd || (p.Kind == PhaseBackward && i == p.Layer-1)
			if (lt.GradOutput != nil) != dy {
				t.Errorf("after %v: layer %d dL/dY present = %v, want %v", p, i, lt.GradOutput != nil, dy)
			}
			if lt.Weights == nil && len(tr.params[i]) > 0 {
				t.Errorf("after %v: layer %d has no weights", p, i)
			}
			if (lt.DeltaWeights != nil) != (p.Kind == PhaseUpdate && len(tr.params[i]) > 0) {
				t.Errorf("after %v: layer %d DeltaWeights present = %v", p, i, lt.DeltaWeights != nil)
			}
		}
		lossDone := p.Kind != PhaseForward
		if (trace.Probs != nil) != lossDone || math.IsNaN(trace.Loss) == lossDone {
			t.Errorf("after %v: probs present %v loss %v", p, trace.Probs != nil, trace.Loss)
		}
	}
	want := "forward 0,forward 1,forward 2,forward 3,forward 4,forward 5,loss,backward 5,backward 4,backward 3,backward 2,backward 1,backward 0,update"
	if s := strings.Join(got, ","); s != want {
		t.Errorf("phases = %s\nwant %s", s, want)
	}
	if tr.Step() != 1 {
		t.Errorf("Step() = %d, want 1", tr.Step())
	}
	// The next phase starts a new step: the old step's activations vanish.
	tr.StepPhase()
	trace := tr.Trace(TraceOptions{})
	if trace.Layers[1].Output != nil || trace.Layers[0].GradOutput != nil || trace.Layers[0].DeltaWeights != nil {
		t.Errorf("after forward 0 of step 2, stale fields of step 1 are in the trace")
	}
	if trace.Layers[0].Output == nil {
		t.Errorf("after forward 0 of step 2, layer 0 output missing")
	}
	if got := tr.PhaseLabel(Phase{PhaseBackward, 2}); got != "backward · maxpool 1" {
		t.Errorf("PhaseLabel = %q", got)
	}
}

func TestTraceIsACopyAndExact(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(2))
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	trace := tr.Trace(TraceOptions{Sample: 1})
	before := slices.Clone(trace.Layers[0].Weights.Data)
	out := slices.Clone(trace.Layers[0].Output.Data)
	// The trace's sample-1 slice equals the layer's batch buffer.
	per := len(out)
	if !slices.Equal(out, tr.outs[0].Data[per:2*per]) {
		t.Errorf("trace output is not sample 1's slice of the batch")
	}
	// ΔW = W_new − W_old exactly as applied.
	for k, d := range trace.Layers[0].DeltaWeights.Data {
		if d != tr.params[0][0].Value.Data[k]-tr.old[0][0][k] {
			t.Fatalf("ΔW[%d] = %v, want %v", k, d, tr.params[0][0].Value.Data[k]-tr.old[0][0][k])
		}
	}
	if trace.Layers[0].OptState["momentum_W"] == nil {
		t.Errorf("SGD with momentum: no momentum_W in OptState")
	}
	tr.StepBatch()
	if !slices.Equal(before, trace.Layers[0].Weights.Data) {
		t.Errorf("trace changed after the trainer went on")
	}
}

func TestDivergencePausesBeforeUpdate(t *testing.T) {
	// One training image holds +Inf (a broken file, say): training stops at
	// its batch's first phase, naming the image.
	h := sgdHyper(4)
	data := toyData()
	data.Train.(*toySet).imgs[5][3] = math.Inf(1)
	tr, err := NewTrainer(Config{Spec: toySpec, Seed: 7, Hyper: h}, data)
	if err != nil {
		t.Fatal(err)
	}
	var derr error
	for range 200 {
		if derr = tr.StepBatch(); derr != nil {
			break
		}
	}
	de, ok := derr.(*DivergedError)
	if !ok {
		t.Fatalf("the +Inf pixel never stopped training (err %v)", derr)
	}
	if !strings.Contains(de.Error(), "the input image holds +Inf") || !strings.Contains(de.Error(), "skip this batch") {
		t.Errorf("message %q does not name the input and suggest skipping the batch", de.Error())
	}
	for _, w := range weights(tr) {
		if bad, v := firstNonFinite(w); bad {
			t.Fatalf("weights hold %v after divergence", v)
		}
	}
	step := tr.Step()
	if _, err := tr.StepPhase(); err == nil {
		t.Errorf("StepPhase after divergence: no error")
	}
	if tr.Step() != step {
		t.Errorf("a diverged trainer stepped")
	}
	// Changing a hyperparameter skips the diverged batch and goes on.
	h.LearningRate = 0.01
	if err := tr.SetHyper(h); err != nil {
		t.Fatal(err)
	}
	if err := tr.StepBatch(); err != nil {
		t.Errorf("after a lower learning rate: %v", err)
	}
	if tr.Step() != step+1 {
		t.Errorf("step %d after going on, want %d", tr.Step(), step+1)
	}
}

func TestSetHyperTakesEffectAtNextBatch(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(2))
	tr.StepPhase()
	h := sgdHyper(5)
	if err := tr.SetHyper(h); err != nil {
		t.Fatal(err)
	}
	if tr.Trace(TraceOptions{}).Hyper.BatchSize != 2 {
		t.Errorf("batch size changed mid-step")
	}
	tr.StepBatch()
	tr.StepPhase()
	if n := tr.x.Shape[0]; n != 5 {
		t.Errorf("next batch has %d samples, want 5", n)
	}
	bad := h
	bad.LearningRate = -1
	if err := tr.SetHyper(bad); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("SetHyper(lr -1) = %v", err)
	}
	if tr.Config().Hyper.LearningRate != h.LearningRate {
		t.Errorf("invalid SetHyper changed the learning rate")
	}
}

func TestProbeTrace(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(2))
	for range 2*len(tr.layers) + 2 {
		tr.StepPhase()
	}
	w := weights(tr)
	pt := tr.Trace(TraceOptions{Probe: true})
	if !pt.Probe || pt.Sample != -1 || pt.Input == nil || pt.Probs == nil || pt.Layers[0].GradInput == nil {
		t.Fatalf("probe trace incomplete: probe=%v sample=%d", pt.Probe, pt.Sample)
	}
	if !sameBits(w, weights(tr)) {
		t.Errorf("probe pass changed the weights")
	}
	// The probe's label is the first test image's.
	if want := toyData().Test.(*toySet).labels[0]; pt.Label != want {
		t.Errorf("probe label %d, want %d", pt.Label, want)
	}
	s := 0.0
	for _, p := range pt.Probs {
		s += p
	}
	if math.Abs(s-1) > 1e-12 {
		t.Errorf("probe probabilities sum to %v", s)
	}
}

func TestSpecErrors(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"conv(8,5) relu dense(4)", ""},
		{"conv(8,9) dense(4)", "layer 1 (conv(8,9))"},
		{"conv(8,3,s0) dense(4)", "stride"},
		{"conv(8,3) maxpool(8) dense(4)", "layer 2"},
		{"conv(8,3) bogus dense(4)", `unknown layer "bogus"`},
		{"conv(8,3) dense(5)", "dense(4)"},
		{"conv(8,3", "unclosed"},
		{"   ", "empty"},
		{"dense(x)", "whole number"},
	}
	for _, c := range cases {
		_, err := NewTrainer(Config{Spec: c.spec, Seed: 1, Hyper: DefaultHyper()}, toyData())
		switch {
		case c.want == "" && err != nil:
			t.Errorf("spec %q: %v", c.spec, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("spec %q: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
	specs, err := ParseSpec(DefaultSpec)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := BuildLayers(specs, Shape{1, 28, 28}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, l := range layers {
		tokens = append(tokens, l.String())
	}
	if got := strings.Join(tokens, " "); got != DefaultSpec {
		t.Errorf("layers print as %q, want %q", got, DefaultSpec)
	}
	if got := layers[5].OutShape(); !slices.Equal(got, Shape{16, 4, 4}) {
		t.Errorf("default net: maxpool 2 gives %v, want (16,4,4)", got)
	}
}

func TestTrainingLearnsToy(t *testing.T) {
	adam := DefaultHyper()
	adam.LearningRate, adam.DecayEpochs = 0.01, 0
	rmsprop := rmspropHyper(4)
	rmsprop.Momentum, rmsprop.Centered, rmsprop.WeightDecay = 0, false, 0
	for _, h := range []Hyper{sgdHyper(4), adam, rmsprop, rmspropHyper(4)} {
		tr := toyTrainer(t, h)
		before := tr.EvalTest(0)
		for range 300 {
			if err := tr.StepBatch(); err != nil {
				t.Fatal(err)
			}
		}
		after := tr.EvalTest(0)
		if after < 0.8 || after <= before {
			t.Errorf("%s: test accuracy %.2f → %.2f after 300 steps, want ≥ 0.8", h.Optimizer, before, after)
		}
	}
}

func TestSpecCostLimits(t *testing.T) {
	data := Data{Name: "big", Train: bigSet{}, Test: nil}
	cases := []struct{ spec, want string }{
		{"conv(1000,5,s1,p2) conv(1000,5,s1,p2) dense(4)", "parameters"},
		{"conv(200,5,s1,p2) conv(60,5,s1,p2) dense(4)", "too large"},
		{"conv(4096,28) conv(4096,1) dense(4)", "parameters"},
		{"dense(4000) dense(4000) dense(4)", "parameters"},
	}
	for _, c := range cases {
		_, err := NewTrainer(Config{Spec: c.spec, Seed: 1, Hyper: DefaultHyper()}, data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("spec %q: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
	tr, err := NewTrainer(Config{Spec: "conv(8,5,s1,p2) relu maxpool(2,s2,p0) conv(16,5,s1,p2) relu maxpool(3,s3,p0) dense(4)", Seed: 1, Hyper: DefaultHyper()}, data)
	if err != nil {
		t.Fatalf("default network on 28×28: %v", err)
	}
	h := DefaultHyper()
	h.BatchSize = MaxBatchSize
	if err := tr.SetHyper(h); err != nil {
		t.Errorf("default network at batch %d: %v", MaxBatchSize, err)
	}
	if err := tr.SetSpec("conv(16,3,s1,p1) relu conv(16,3,s1,p1) dense(4)"); err == nil || !strings.Contains(err.Error(), "batch size") {
		t.Errorf("a heavy network at batch %d: error %v, want one about the batch size", MaxBatchSize, err)
	}
	if !strings.HasPrefix(tr.Config().Spec, "conv(8,5") {
		t.Errorf("a refused spec changed the network")
	}
}

// bigSet is a 28×28 dataset of one blank image with 4 classes.
type bigSet struct{}

func (bigSet) Len() int                       { return 1 }
func (bigSet) Shape() []int                   { return []int{1, 28, 28} }
func (bigSet) NumClasses() int                { return 4 }
func (bigSet) Image(i int, dst []float64) int { clear(dst); return 0 }

func TestEpochPermIsRandPerm(t *testing.T) {
	tr := toyTrainer(t, DefaultHyper())
	for epoch := range 3 {
		got := tr.epochPerm(epoch, nil)
		want := rand.New(rand.NewSource(tr.cfg.Seed*1_000_003 + int64(epoch) + 1)).Perm(tr.data.Train.Len())
		for i := range want {
			if int(got[i]) != want[i] {
				t.Fatalf("epoch %d: order[%d] = %d, rand.Perm gives %d", epoch, i, got[i], want[i])
			}
		}
	}
}

// TestInitSchemes: He (normal, variance 2/fanIn) for a layer followed by
// ReLU, Glorot (uniform within ±√(6/(fanIn+fanOut))) otherwise, biases 0.
func TestInitSchemes(t *testing.T) {
	specs, err := ParseSpec("conv(64,5,s1,p2) relu conv(64,3,s1,p1) tanh dense(10)")
	if err != nil {
		t.Fatal(err)
	}
	layers, err := BuildLayers(specs, Shape{3, 16, 16}, 10, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	moments := func(w []float64) (mean, std, maxAbs float64) {
		for _, v := range w {
			mean += v
			maxAbs = math.Max(maxAbs, math.Abs(v))
		}
		mean /= float64(len(w))
		for _, v := range w {
			std += (v - mean) * (v - mean)
		}
		return mean, math.Sqrt(std / float64(len(w))), maxAbs
	}
	// conv 1 is followed by ReLU: He, std √(2/75).
	w := layers[0].Params()[0].Value.Data
	_, std, _ := moments(w)
	if want := math.Sqrt(2.0 / 75); math.Abs(std-want) > 0.05*want {
		t.Errorf("conv 1 (before ReLU): weight std %.4f, want He's %.4f", std, want)
	}
	// conv 2 is followed by tanh: Glorot, uniform within ±√(6/(576+576)), std a/√3.
	w = layers[2].Params()[0].Value.Data
	_, std, maxAbs := moments(w)
	a := math.Sqrt(6.0 / (64*9 + 64*9))
	if maxAbs > a || math.Abs(std-a/math.Sqrt(3)) > 0.05*a {
		t.Errorf("conv 2 (before tanh): max |w| %.4f std %.4f, want Glorot's bound %.4f and std %.4f", maxAbs, std, a, a/math.Sqrt(3))
	}
	for i, l := range layers {
		for _, p := range l.Params() {
			if p.IsBias {
				for _, b := range p.Value.Data {
					if b != 0 {
						t.Fatalf("layer %d: bias %v, want 0", i, b)
					}
				}
			}
		}
	}
}

// TestLayersIsACopy: the layers' description is made once and shared by
// every trace; what Layers returns is the caller's to change.
func TestLayersIsACopy(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(3))
	a := tr.Layers()
	want := fmt.Sprint(a)
	a[0].Name, a[0].InShape[0], a[0].ParamShapes[0][0] = "changed", -1, -1
	if got := fmt.Sprint(tr.Layers()); got != want {
		t.Errorf("Layers after changing a copy = %s, want %s", got, want)
	}
	tr.ResetSeed(4)
	if got := fmt.Sprint(tr.Layers()); got != want {
		t.Errorf("Layers after a reset = %s, want %s", got, want)
	}
	if got := tr.PhaseLabel(Phase{PhaseForward, 0}); !strings.Contains(got, tr.Layers()[0].Name) {
		t.Errorf("label of the first phase %q does not name the first layer %q", got, tr.Layers()[0].Name)
	}
}

// TestStepsLeftInEpoch runs epochs of a toy set at batch sizes that do and
// do not divide it, changing the size mid-epoch, and wants the epoch
// counter to change after exactly the step StepsLeftInEpoch foretold.
func TestStepsLeftInEpoch(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(7))
	n := tr.data.Train.Len()
	if got, want := tr.StepsLeftInEpoch(), (n+6)/7; got != want {
		t.Fatalf("a new trainer: %d steps left, want %d", got, want)
	}
	for _, batch := range []int{7, 5, 8, 3} {
		tr.StepBatch()
		if err := tr.SetHyper(sgdHyper(batch)); err != nil {
			t.Fatal(err)
		}
		e, end := tr.Epoch(), tr.Step()+tr.StepsLeftInEpoch()
		for tr.Epoch() == e {
			if tr.Step() >= end {
				t.Fatalf("batch %d: the epoch goes on past step %d", batch, end)
			}
			if err := tr.StepBatch(); err != nil {
				t.Fatal(err)
			}
		}
		if tr.Step() != end {
			t.Errorf("batch %d: the epoch ended after step %d, foretold %d", batch, tr.Step(), end)
		}
	}
}
