package engine_test

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
)

func mnistData(t testing.TB) engine.Data {
	t.Helper()
	train, test, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	return engine.Data{Name: "mnist", Train: train, Test: test, ClassNames: train.ClassNames()}
}

// TestDefaultNetworkLearnsMNIST trains the default network with the default
// hyperparameters (Adam, lr 0.001, batch 8) for 700 steps (5,600 images,
// a tenth of an epoch) and wants at least 90% accuracy on the first 2,000
// test images.
func TestDefaultNetworkLearnsMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for several seconds")
	}
	tr, err := engine.NewTrainer(engine.DefaultConfig(), mnistData(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 700 {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
	}
	if acc := tr.EvalTest(2000); acc < 0.90 {
		t.Errorf("test accuracy after 700 steps of batch 8: %.3f, want ≥ 0.90", acc)
	} else {
		t.Logf("test accuracy after 700 steps of batch 8: %.3f", acc)
	}
}

// TestDefaultsLearnAtBatchOne: at batch 1 (one sample a step, what a teacher
// steps through) the default hyperparameters visibly learn within 100 steps
// (test accuracy 43% for seed 1, chance is 10%) and reach at least 50% within
// 400 steps, unlike SGD at lr 0.01 with momentum 0.9, which stays at ln 10.
func TestDefaultsLearnAtBatchOne(t *testing.T) {
	h := engine.DefaultHyper()
	h.BatchSize = 1
	tr, err := engine.NewTrainer(engine.Config{Seed: 1, Hyper: h}, mnistData(t))
	if err != nil {
		t.Fatal(err)
	}
	for step := range 400 {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		if step == 99 {
			if acc := tr.EvalTest(1000); acc < 0.3 {
				t.Errorf("batch 1, 100 steps: test accuracy %.3f, want ≥ 0.3 (chance is 0.1)", acc)
			}
		}
	}
	if acc := tr.EvalTest(1000); acc < 0.5 {
		t.Errorf("batch 1, 400 steps: test accuracy %.3f, want ≥ 0.5 (chance is 0.1)", acc)
	}
}

// TestDefaultNetworkGradientCheck compares the whole default network's
// dL/dW, dL/db and dL/dX of the input with central finite differences of
// the loss, on a batch of two MNIST images, in float64.
func TestDefaultNetworkGradientCheck(t *testing.T) {
	data := mnistData(t)
	specs, err := engine.ParseSpec(engine.DefaultSpec)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	layers, err := engine.BuildLayers(specs, engine.Shape{1, 28, 28}, 10, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := engine.NewTensor(2, 1, 28, 28)
	labels := []int{data.Train.Image(0, x.Data[:784]), data.Train.Image(1, x.Data[784:])}
	// Finite differences need a differentiable point: with zero biases on a
	// blank background, ReLU inputs sit at exactly 0 and max-pool windows tie.
	// Small random biases and pixel noise move every input off those kinks.
	for _, l := range layers {
		for _, p := range l.Params() {
			if p.IsBias {
				for i := range p.Value.Data {
					p.Value.Data[i] = 0.2 * (rng.Float64() - 0.5)
				}
			}
		}
	}
	for i := range x.Data {
		x.Data[i] += 0.02 * rng.Float64()
	}
	var loss engine.SoftmaxCrossEntropy
	lossAt := func() float64 {
		y := x
		for _, l := range layers {
			y = l.Forward(y)
		}
		return loss.Forward(y, labels)
	}
	lossAt()
	dy := loss.Backward()
	var dx *engine.Tensor
	for i := len(layers) - 1; i >= 0; i-- {
		dy = layers[i].Backward(dy)
	}
	dx = dy.Clone()
	type probe struct {
		name string
		v    []float64
		g    []float64
	}
	var probes []probe
	for i, l := range layers {
		for _, p := range l.Params() {
			probes = append(probes, probe{fmt.Sprintf("layer %d %s %s", i, l.String(), p.Name), p.Value.Data, append([]float64(nil), p.Grad.Data...)})
		}
	}
	probes = append(probes, probe{"input", x.Data, dx.Data})
	const h = 1e-5
	for _, pr := range probes {
		for range 12 {
			k := rng.Intn(len(pr.v))
			if pr.name == "input" {
				// Pick pixels inside the digit's neighbourhood as well as anywhere.
				k = 200 + rng.Intn(400)
			}
			old := pr.v[k]
			pr.v[k] = old + h
			lp := lossAt()
			pr.v[k] = old - h
			lm := lossAt()
			pr.v[k] = old
			num := (lp - lm) / (2 * h)
			if math.Abs(num-pr.g[k]) > 1e-7+1e-5*math.Abs(num) {
				t.Errorf("%s[%d]: analytic %.10g, finite difference %.10g", pr.name, k, pr.g[k], num)
			}
		}
	}
}
