package engine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// toyWith is a trainer of spec (SGD, batch 4) on toyData with the
// training image idx changed by poke.
func toyWith(t *testing.T, spec string, idx int, poke func(img []float64)) *Trainer {
	t.Helper()
	data := toyData()
	poke(data.Train.(*toySet).imgs[idx])
	tr, err := NewTrainer(Config{Spec: spec, Seed: 7, Hyper: sgdHyper(4)}, data)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// runUntilStopped steps phase by phase until an error, at most max steps.
func runUntilStopped(t *testing.T, tr *Trainer, max int) (Phase, *DivergedError) {
	t.Helper()
	for range max * tr.numPhases() {
		p, err := tr.StepPhase()
		if err != nil {
			de, ok := err.(*DivergedError)
			if !ok {
				t.Fatalf("after %v: error %v, want a *DivergedError", p, err)
			}
			return p, de
		}
	}
	t.Fatalf("no error in %d steps (loss %v)", max, tr.Metrics().LastLoss)
	return Phase{}, nil
}

// TestNonFiniteInputStops: a NaN or an Inf in a training image stops
// training at the first forward phase, naming the sample and the input,
// before a layer drops it: max-pool's comparisons and ReLU's mask are
// false for NaN, so a network that starts with one of them trained on
// with a finite loss.
func TestNonFiniteInputStops(t *testing.T) {
	for _, c := range []struct {
		spec string
		bad  float64
	}{
		{toySpec, math.NaN()},
		{"maxpool(2,s2,p0) conv(3,3,s1,p1) relu dense(4)", math.NaN()},
		{"relu conv(3,3,s1,p1) dense(4)", math.NaN()},
		{"relu conv(3,3,s1,p1) dense(4)", math.Inf(-1)},
		{toySpec, math.Inf(1)},
	} {
		bad := c.bad
		tr := toyWith(t, c.spec, 17, func(img []float64) { img[7] = bad })
		p, de := runUntilStopped(t, tr, 50)
		if p != (Phase{PhaseForward, 0}) {
			t.Errorf("%s, %v in the data: stopped after %v, want forward 0", c.spec, bad, p)
		}
		sample := -1
		for i, idx := range tr.batchIdx {
			if idx == 17 {
				sample = i
			}
		}
		if de.Sample != sample || de.Index != 17 || !de.InData || de.Where != "the input image" {
			t.Errorf("%v in the data: Sample %d, Index %d, InData %v, Where %q; want %d, 17, true, the input image", bad, de.Sample, de.Index, de.InData, de.Where, sample)
		}
		msg := de.Error()
		for _, s := range []string{fmt.Sprintf("sample %d of the batch", sample), "training image #17", fmt.Sprintf("the input image holds %v", bad), "skip this batch"} {
			if !strings.Contains(msg, s) {
				t.Errorf("message %q does not say %q", msg, s)
			}
		}
		if _, err := tr.StepPhase(); err != de {
			t.Errorf("StepPhase after the stop: %v, want the same error", err)
		}
		// Changing a hyperparameter skips the batch.
		step, cursor := tr.Step(), tr.cursor
		if err := tr.SetHyper(sgdHyper(4)); err != nil {
			t.Fatal(err)
		}
		if err := tr.StepBatch(); err != nil {
			t.Errorf("after skipping the batch: %v", err)
		}
		if tr.Step() != step+1 || tr.cursor == cursor {
			t.Errorf("after skipping: step %d, cursor %d; want step %d and the cursor moved from %d", tr.Step(), tr.cursor, step+1, cursor)
		}
	}
}

// TestNonFiniteLayerValuesStop: a non-finite value that a layer computes,
// forward or backward, stops training after that phase, naming the sample,
// the layer and the tensor, with the weights unchanged.
func TestNonFiniteLayerValuesStop(t *testing.T) {
	cases := []struct {
		name  string
		spec  string            // toySpec if empty
		poke  func(tr *Trainer) // before the step, or at the phase below
		at    Phase             // where poke runs: before this phase
		stop  Phase
		where string
		value string
	}{
		{"NaN filter", "", func(tr *Trainer) { tr.params[0][0].Value.Data[4] = math.NaN() }, Phase{PhaseForward, 0},
			Phase{PhaseForward, 0}, "feature map Y of conv 1", "NaN"},
		{"conv overflows", "", func(tr *Trainer) {
			for k := range 9 { // the first filter; the images are ≥ 0
				tr.params[0][0].Value.Data[k] = 1e308
			}
		}, Phase{PhaseForward, 0}, Phase{PhaseForward, 0}, "feature map Y of conv 1", "+Inf"},
		{"dense overflows", "conv(3,3,s1,p1) relu dense(4)", func(tr *Trainer) {
			// b[0] and row 0 of W at MaxFloat64, its inputs ≥ 0
			tr.params[2][1].Value.Data[0] = math.MaxFloat64
			w := tr.params[2][0].Value
			for k := range w.Shape[1] {
				w.Data[k] = math.MaxFloat64
			}
		}, Phase{PhaseForward, 0}, Phase{PhaseForward, 2}, "output Y of dense 1", "+Inf"},
		{"loss overflows", "", func(tr *Trainer) {
			b := tr.params[5][1].Value.Data
			for k := range b {
				b[k] = 1e308
				if k%2 == 1 {
					b[k] = -1e308
				}
			}
		}, Phase{PhaseForward, 0}, Phase{PhaseLoss, -1}, "the loss", "+Inf"},
		{"softmax", "", func(tr *Trainer) { tr.loss.Probs.Data[5] = math.NaN() }, Phase{PhaseBackward, 5},
			Phase{PhaseBackward, 5}, "dL/dY of dense 1", "NaN"},
		{"dense backward overflows", "", func(tr *Trainer) {
			// dL/dX[0] = Σ_o dL/dY[o]·W[o,0] with dL/dY = p − onehot: at
			// batch 1 the terms add up to 2(1 − p_label)·MaxFloat64.
			w := tr.params[5][0].Value
			for o := range 4 {
				w.Data[o*w.Shape[1]] = math.MaxFloat64
				if o == tr.labels[0] {
					w.Data[o*w.Shape[1]] = -math.MaxFloat64
				}
			}
		}, Phase{PhaseBackward, 5}, Phase{PhaseBackward, 5}, "dL/dX of dense 1", "+Inf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			if spec == "" {
				spec = toySpec
			}
			batch := 3
			if strings.HasPrefix(c.name, "dense backward") {
				batch = 1
			}
			tr, err := NewTrainer(Config{Spec: spec, Seed: 7, Hyper: sgdHyper(batch)}, toyData())
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.StepBatch(); err != nil {
				t.Fatal(err)
			}
			var before [][]float64
			var p Phase
			for range tr.numPhases() {
				if tr.Next() == c.at {
					c.poke(tr)
					before = weights(tr)
				}
				if p, err = tr.StepPhase(); err != nil {
					break
				}
			}
			de, ok := err.(*DivergedError)
			if !ok {
				t.Fatalf("error %v after %v, want a *DivergedError", err, p)
			}
			if p != c.stop || de.Where != c.where || de.InData || de.Sample < 0 || de.Index != tr.batchIdx[de.Sample] {
				t.Errorf("stopped after %v with Where %q, InData %v, Sample %d, Index %d; want %v, %q, not in data, a sample of the batch", p, de.Where, de.InData, de.Sample, de.Index, c.stop, c.where)
			}
			if msg := de.Error(); !strings.Contains(msg, c.where+" holds "+c.value) && !strings.Contains(msg, c.where+" is "+c.value) {
				t.Errorf("message %q does not say %s holds %s", msg, c.where, c.value)
			}
			if !strings.Contains(de.Error(), fmt.Sprintf("sample %d of the batch", de.Sample)) {
				t.Errorf("message %q does not name the sample", de.Error())
			}
			if !sameBits(weights(tr), before) {
				t.Errorf("the weights changed")
			}
		})
	}
}

// TestAllFinite: the one-pass check finds any NaN or Inf at any position,
// and finite values of any size pass (a sum of them may overflow, x − x
// does not).
func TestAllFinite(t *testing.T) {
	for n := range 11 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.MaxFloat64
		}
		if !allFinite(xs) {
			t.Errorf("%d × MaxFloat64: not finite", n)
		}
		for i := range n {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				xs[i] = bad
				if allFinite(xs) {
					t.Errorf("%v at %d of %d: all finite", bad, i, n)
				}
			}
			xs[i] = -math.MaxFloat64
		}
	}
}

// TestUpdateLeavingNonFiniteStateIsUndone: a gradient of 1e200 squares to
// +Inf in Adam's second moment while the weight itself stays finite (m/∞ is
// 0). The update is refused and undone: otherwise the state would hold
// +Inf from then on, and Save could not write it.
func TestUpdateLeavingNonFiniteStateIsUndone(t *testing.T) {
	tr := toyTrainer(t, DefaultHyper())
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	for tr.Next().Kind != PhaseUpdate {
		if _, err := tr.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
	before := weights(tr)
	var bufs [][]float64
	for _, b := range tr.opt.bufs {
		bufs = append(bufs, slices.Clone(b))
	}
	tr.params[5][0].Grad.Data[3] = 1e200
	_, err := tr.StepPhase()
	de, ok := err.(*DivergedError)
	if !ok || de.Where != "adam_v of W of dense 1" || !math.IsInf(de.Value, 1) {
		t.Fatalf("update with a gradient of 1e200: error %v, want a *DivergedError about adam_v of W of dense 1", err)
	}
	if !sameBits(weights(tr), before) || !sameBits(tr.opt.bufs, bufs) {
		t.Errorf("the refused update changed the weights or the optimizer state")
	}
	var buf bytes.Buffer
	if err := tr.Save(&buf); err != nil {
		t.Errorf("Save after the refused update: %v", err)
	}
}

// mnistShaped is 100 random 28×28 images with 10 labels: the default
// network's shapes without the data set (package engine's tests import
// nothing of the project).
type mnistShaped struct{ imgs [][]float64 }

func newMNISTShaped() mnistShaped {
	rng := rand.New(rand.NewSource(1))
	var s mnistShaped
	for range 100 {
		img := make([]float64, 28*28)
		for i := range img {
			img[i] = rng.Float64()
		}
		s.imgs = append(s.imgs, img)
	}
	return s
}

func (s mnistShaped) Len() int        { return len(s.imgs) }
func (s mnistShaped) Shape() []int    { return []int{1, 28, 28} }
func (s mnistShaped) NumClasses() int { return 10 }
func (s mnistShaped) Image(i int, dst []float64) int {
	copy(dst, s.imgs[i])
	return i % 10
}

// BenchmarkNonFiniteChecks times the checks for non-finite values of one
// step of the default network (SGD with momentum), alone: the batch, the
// output and dL/dX of the layers that are not keepsFinite, dL/dY from the
// loss, dL/dW and dL/db, and the optimizer state after the update. Compare
// ns/op with BenchmarkTrainStep's (bench_test.go) at the same batch size.
func BenchmarkNonFiniteChecks(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			h := DefaultHyper()
			h.Optimizer, h.LearningRate, h.BatchSize = OptSGD, 0.01, n
			data := Data{Name: "mnist-shaped", Train: newMNISTShaped()}
			tr, err := NewTrainer(Config{Spec: DefaultSpec, Seed: 1, Hyper: h}, data)
			if err != nil {
				b.Fatal(err)
			}
			if err := tr.StepBatch(); err != nil {
				b.Fatal(err)
			}
			values := 0
			for b.Loop() {
				values = 0
				tr.checkTensor(tr.x, tensorInput, 0)
				values += len(tr.x.Data)
				for i, l := range tr.layers {
					if !keepsFinite(l) {
						tr.checkTensor(tr.outs[i], tensorOutput, i)
						tr.checkTensor(tr.gradIns[i], tensorGradIn, i)
						values += len(tr.outs[i].Data)
						if tr.gradIns[i] != nil {
							values += len(tr.gradIns[i].Data)
						}
					}
					tr.checkParamGrads(i)
					for _, p := range tr.params[i] {
						values += len(p.Grad.Data)
					}
				}
				tr.checkTensor(tr.gradOuts[len(tr.layers)-1], tensorGradOut, len(tr.layers)-1)
				values += len(tr.gradOuts[len(tr.layers)-1].Data)
				for _, buf := range tr.opt.bufs {
					if !allFinite(buf) {
						b.Fatal("not finite")
					}
					values += len(buf)
				}
			}
			if tr.diverged != nil {
				b.Fatal(tr.diverged)
			}
			b.ReportMetric(float64(values), "values/op")
		})
	}
}

// TestLowerLearningRateRecovers follows the advice of a divergence: a
// network driven to blow up with learning rate 2 has its update refused;
// the message says to lower the learning rate, and with it lowered
// training goes on from the weights of the last step whose loss was sound,
// with finite, sound losses. (Before, the weights of the steps in between,
// about 10³⁰, made every following step diverge again at once.) A clone
// taken on the way goes back to the same state.
func TestLowerLearningRateRecovers(t *testing.T) {
	h := sgdHyper(4)
	h.LearningRate = 2
	tr, err := NewTrainer(Config{Spec: "conv(4,3,s1,p1) leakyrelu(0.1) avgpool(2,s2,p0) conv(4,3,s1,p1) leakyrelu(0.1) dense(4)", Seed: 7, Hyper: h}, toyData())
	if err != nil {
		t.Fatal(err)
	}
	start := map[int][][]float64{} // the weights at the start of each step
	var clone *Trainer
	var derr error
	for range 100 {
		start[tr.Step()] = weights(tr)
		if tr.Step() == 2 {
			clone = tr.Clone()
		}
		if derr = tr.StepBatch(); derr != nil {
			break
		}
	}
	de, ok := derr.(*DivergedError)
	if !ok {
		t.Fatalf("learning rate 2: error %v, want a *DivergedError", derr)
	}
	if !strings.Contains(de.Error(), "Lower the learning rate") || de.BackTo < 0 || de.BackTo >= de.Step {
		t.Fatalf("divergence at step %d: BackTo %d, message %q; want an earlier step and the advice to lower the learning rate", de.Step, de.BackTo, de.Error())
	}
	if !strings.Contains(de.Error(), fmt.Sprintf("continue from the weights of step %d", de.BackTo)) {
		t.Errorf("message %q does not name step %d", de.Error(), de.BackTo)
	}
	h.LearningRate = 0.02
	if err := tr.SetHyper(h); err != nil {
		t.Fatal(err)
	}
	if !sameBits(weights(tr), start[de.BackTo]) {
		t.Errorf("after lowering the learning rate the weights are not those of step %d", de.BackTo)
	}
	bound := soundLossFactor * math.Log(4)
	for i := range 60 {
		if err := tr.StepBatch(); err != nil {
			t.Fatalf("step %d after lowering the learning rate: %v", i, err)
		}
	}
	if l := tr.Metrics().LastLoss; !(l <= bound) {
		t.Errorf("loss %v after 60 steps at the lower learning rate, want at most %.3g", l, bound)
	}

	// The clone diverges at the same step and goes back to the same state.
	for range 100 {
		if derr = clone.StepBatch(); derr != nil {
			break
		}
	}
	if cde, ok := derr.(*DivergedError); !ok || cde.Step != de.Step || cde.BackTo != de.BackTo {
		t.Fatalf("clone: error %v, want the divergence at step %d going back to %d", derr, de.Step, de.BackTo)
	}
	if err := clone.SetHyper(h); err != nil {
		t.Fatal(err)
	}
	if !sameBits(weights(clone), start[de.BackTo]) {
		t.Errorf("the clone went back to other weights")
	}
}
