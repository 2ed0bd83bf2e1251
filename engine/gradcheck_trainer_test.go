package engine

import (
	"math"
	"strings"
	"testing"
)

// smoothSpec has no kinks: tanh, sigmoid, average pooling.
const smoothSpec = "conv(3,3x2,s2,p1) tanh avgpool(2,s1,p1) conv(2,2,s1,p0) sigmoid dense(3)"

// TestGradCheckSmooth checks every parameter of a network without kinks,
// before and after Update (which moves the weights but not the gradient's
// point): the central difference agrees with backprop to 1e-6 wherever the
// gradient is not tiny.
func TestGradCheckSmooth(t *testing.T) {
	tr := newExplainTrainer(t, smoothSpec, explainHypers()[2])
	tr.StepBatch()
	L := len(tr.layers)
	for range 2*L + 1 {
		tr.StepPhase()
	}
	for _, updated := range []bool{false, true} {
		if updated {
			tr.StepPhase()
			if !tr.updated {
				t.Fatal("no update")
			}
		}
		checked := 0
		for i, ps := range tr.params {
			for j, p := range ps {
				for k, g := range p.Grad.Data {
					idx := unflat(k, p.Value.Shape)
					r, err := tr.GradCheck(i, j, idx, DefaultGradCheckH)
					if err != nil {
						t.Fatal(err)
					}
					w := p.Value.Data[k]
					if updated {
						w = tr.old[i][j][k]
					}
					if r.Weight != w || r.Backprop != g || math.Float64bits(r.Loss) != math.Float64bits(tr.batchLoss) {
						t.Fatalf("GradCheck(%d,%d,%v): weight %v, backprop %v, loss %v; want %v, %v, %v", i, j, idx, r.Weight, r.Backprop, r.Loss, w, g, tr.batchLoss)
					}
					if len(r.Kinks) != 0 {
						t.Fatalf("GradCheck(%d,%d,%v): kinks %+v in a smooth network", i, j, idx, r.Kinks)
					}
					if math.Abs(g) < 1e-3 {
						continue
					}
					checked++
					if r.RelError > 1e-6 {
						t.Errorf("GradCheck(%d,%d,%v) updated=%v: numeric %.12g, backprop %.12g, relative error %.3g", i, j, idx, updated, r.Numeric, r.Backprop, r.RelError)
					}
				}
			}
		}
		if checked < 20 {
			t.Errorf("only %d gradients checked", checked)
		}
	}
}

// TestGradCheckKinks checks that a step across a ReLU's kink or a max-pool's
// switch is reported, naming the layer.
func TestGradCheckKinks(t *testing.T) {
	tr := newExplainTrainer(t, explainSpecs[0], sgdHyper(3))
	tr.StepBatch()
	tr.StepBatch()
	r, err := tr.GradCheck(0, 1, []int{0}, 1)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, k := range r.Kinks {
		names[k.Name] = k.What
		if k.Minus+k.Plus == 0 {
			t.Errorf("kink %+v changed no cell", k)
		}
	}
	if names["relu 1"] != "ReLU mask" || names["maxpool 1"] != "max-pool switches" {
		t.Errorf("a bias moved by 1: kinks %+v, want relu 1's mask and maxpool 1's switches", r.Kinks)
	}
	// A step of 1e-5 on the dense layer's bias crosses nothing (nothing follows it).
	if r, _ := tr.GradCheck(7, 1, []int{0}, DefaultGradCheckH); len(r.Kinks) != 0 || r.RelError > 1e-6 {
		t.Errorf("dense bias: kinks %+v, relative error %v", r.Kinks, r.RelError)
	}
}

// TestGradCheckReproducesLoss checks that the evaluations give the
// trainer's loss bit for bit at the trainer's weights: with w = 1 and
// h = 1e-16, w + h rounds to w.
func TestGradCheckReproducesLoss(t *testing.T) {
	for _, spec := range explainSpecs {
		for i := range len(strings.Fields(spec)) {
			tr := newExplainTrainer(t, spec, sgdHyper(3))
			ps := tr.params[i]
			if len(ps) == 0 {
				continue
			}
			ps[0].Value.Data[0] = 1
			for range 2*len(tr.layers) + 1 {
				tr.StepPhase()
			}
			r, err := tr.GradCheck(i, 0, make([]int, len(ps[0].Value.Shape)), 1e-16)
			if err != nil {
				t.Fatal(err)
			}
			if math.Float64bits(r.LossPlus) != math.Float64bits(tr.batchLoss) {
				t.Errorf("%s layer %d: loss at w + h = w is %v, the trainer's %v", spec, i, r.LossPlus, tr.batchLoss)
			}
		}
	}
}

func TestGradCheckErrors(t *testing.T) {
	tr := newExplainTrainer(t, explainSpecs[0], sgdHyper(3))
	tests := []struct {
		layer, param int
		index        []int
		h            float64
		want         string
	}{
		{0, 0, []int{0, 0, 0, 0}, 1e-5, "dL/dW of conv 1 is not computed yet: backward · conv 1 has not run"},
		{8, 0, []int{0}, 1e-5, "layer 8: the network has layers 0 … 7"},
		{1, 0, []int{0}, 1e-5, "relu 1 has no parameters"},
		{0, 2, []int{0}, 1e-5, "parameter 2 of conv 1: want 0 (W) or 1 (b)"},
		{0, 1, []int{3}, 1e-5, "index [3] outside b of conv 1 of shape (3)"},
		{0, 0, []int{0, 0}, 1e-5, "want 4 indices"},
		{0, 0, []int{0, 0, 0, 0}, 0, "step h = 0: want 0 < h ≤ 1"},
		{0, 0, []int{0, 0, 0, 0}, 1e300, "step h = 1e+300: want 0 < h ≤ 1"},
		{0, 0, []int{0, 0, 0, 0}, 1e-300, "step h = 1e-300 is below the resolution of W of conv 1"},
		{0, 0, []int{0, 0, 0, 0}, -1e-5, "step h = -1e-05"},
		{0, 0, []int{0, 0, 0, 0}, math.NaN(), "step h = NaN"},
		{0, 0, []int{0, 0, 0, 0}, math.Inf(1), "step h = +Inf"},
	}
	for k, tc := range tests {
		if k == 1 {
			for tr.Next() != (Phase{PhaseBackward, 1}) {
				tr.StepPhase()
			}
			// Backward of conv 2 has run, that of conv 1 not yet.
			if _, err := tr.GradCheck(3, 0, []int{0, 0, 0, 0}, 1e-5); err != nil {
				t.Errorf("GradCheck of conv 2 after its backward: %v", err)
			}
			if _, err := tr.GradCheck(0, 0, []int{0, 0, 0, 0}, 1e-5); err == nil {
				t.Errorf("GradCheck of conv 1 before its backward: no error")
			}
			tr.StepPhase()
			tr.StepPhase()
		}
		_, err := tr.GradCheck(tc.layer, tc.param, tc.index, tc.h)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("GradCheck(%d, %d, %v, %v) = %v, want an error containing %q", tc.layer, tc.param, tc.index, tc.h, err, tc.want)
		}
	}
}
