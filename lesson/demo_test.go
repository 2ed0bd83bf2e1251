package lesson

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
)

// The embedded lessons demonstrate what they say, on the engine, from
// their own seeds and settings.

var update = flag.Bool("update", false, "rewrite the embedded lessons' model files")

func mnist(t *testing.T) engine.Data {
	t.Helper()
	train, test, err := dataset.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	return engine.Data{Name: "mnist", Train: train, Test: test, ClassNames: train.ClassNames()}
}

// trainerOf builds the lesson's trainer as a room does: from its model,
// or its spec and seed, with its hyperparameters.
func trainerOf(t *testing.T, l *Lesson, data engine.Data) *engine.Trainer {
	t.Helper()
	var tr *engine.Trainer
	var err error
	if l.Model != nil {
		tr, err = engine.Load(bytes.NewReader(l.Model), data)
	} else {
		cfg := engine.Config{Spec: l.Spec, Seed: 1, Hyper: engine.DefaultHyper()}
		if l.Seed != nil {
			cfg.Seed = *l.Seed
		}
		tr, err = engine.NewTrainer(cfg, data)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SetHyper(l.Hyper.Over(tr.Config().Hyper)); err != nil {
		t.Fatal(err)
	}
	if err := l.CheckPrompts(tr.Layers()); err != nil {
		t.Fatal(err)
	}
	return tr
}

func steps(t *testing.T, tr *engine.Trainer, n int) {
	t.Helper()
	for range n {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
	}
}

// deadChannels counts the channels of the network's ReLU layers that are
// zero for every sample of the last batch, and all ReLU channels.
func deadChannels(tr *engine.Trainer) (dead, total int) {
	for li, l := range tr.Layers() {
		if l.Kind != "relu" {
			continue
		}
		c := l.OutShape[0]
		alive := make([]bool, c)
		for s := range tr.Config().Hyper.BatchSize {
			out := tr.Trace(engine.TraceOptions{Sample: s}).Layers[li].Output
			n := len(out.Data) / c
			for ch := range c {
				for _, v := range out.Data[ch*n : (ch+1)*n] {
					if v > 0 {
						alive[ch] = true
						break
					}
				}
			}
		}
		for _, a := range alive {
			total++
			if !a {
				dead++
			}
		}
	}
	return dead, total
}

// TestDyingReLULesson: within 30 steps at the lesson's learning rate most
// ReLU channels are dead for a whole batch and the loss is at chance; the
// same network from the same seed at 0.01 keeps every channel alive.
func TestDyingReLULesson(t *testing.T) {
	l, err := LoadEmbedded("dying-relu", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	data := mnist(t)
	hot := trainerOf(t, l, data)
	steps(t, hot, 30)
	dead, total := deadChannels(hot)
	t.Logf("lr %v, 30 steps: %d of %d ReLU channels dead for the whole batch, loss %.4f", hot.Config().Hyper.LearningRate, dead, total, hot.Metrics().LastLoss)
	if dead*4 < total*3 {
		t.Errorf("lr %v after 30 steps: %d of %d ReLU channels dead, want at least 3/4", hot.Config().Hyper.LearningRate, dead, total)
	}
	if loss := hot.Metrics().LastLoss; loss < 2.2 {
		t.Errorf("lr %v after 30 steps: loss %v, want ≥ 2.2 (stalled near ln 10)", hot.Config().Hyper.LearningRate, loss)
	}
	cool := trainerOf(t, l, data)
	h := cool.Config().Hyper
	h.LearningRate = 0.01
	if err := cool.SetHyper(h); err != nil {
		t.Fatal(err)
	}
	steps(t, cool, 30)
	dead, total = deadChannels(cool)
	t.Logf("lr 0.01, 30 steps: %d of %d ReLU channels dead, loss %.4f", dead, total, cool.Metrics().LastLoss)
	if dead != 0 {
		t.Errorf("lr 0.01 after 30 steps: %d of %d ReLU channels dead, want none", dead, total)
	}
}

// TestSGDvsAdamLesson: from the lesson's seed, Adam at 0.001 ends 100
// steps with a lower loss (mean of the last 20) and a higher test accuracy
// than the lesson's SGD at 0.01.
func TestSGDvsAdamLesson(t *testing.T) {
	l, err := LoadEmbedded("sgd-vs-adam", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	data := mnist(t)
	run := func(adam bool) (loss, acc float64) {
		tr := trainerOf(t, l, data)
		if adam {
			h := tr.Config().Hyper
			h.Optimizer, h.LearningRate = engine.OptAdam, 0.001
			if err := tr.SetHyper(h); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 100 {
			steps(t, tr, 1)
			if i >= 80 {
				loss += tr.Metrics().LastLoss / 20
			}
		}
		return loss, tr.EvalTest(1000)
	}
	sgdLoss, sgdAcc := run(false)
	adamLoss, adamAcc := run(true)
	t.Logf("100 steps, seed %d: SGD 0.01 loss %.4f test acc %.3f; Adam 0.001 loss %.4f test acc %.3f", *l.Seed, sgdLoss, sgdAcc, adamLoss, adamAcc)
	if adamLoss >= sgdLoss || adamAcc <= sgdAcc {
		t.Errorf("after 100 steps: SGD loss %.4f acc %.3f, Adam loss %.4f acc %.3f: want Adam lower loss and higher accuracy", sgdLoss, sgdAcc, adamLoss, adamAcc)
	}
}

// convPoolModel trains the conv-pool lesson's network for 60 steps: the
// lesson's starting model.
func convPoolModel(t *testing.T, data engine.Data) []byte {
	t.Helper()
	h := engine.DefaultHyper()
	h.Optimizer, h.LearningRate, h.Momentum, h.BatchSize, h.DecayEpochs = engine.OptSGD, 0.05, 0.9, 16, 0
	tr, err := engine.NewTrainer(engine.Config{Spec: "conv(6,3,s2,p0) relu maxpool(2,s2,p0) dense(10)", Seed: 3, Hyper: h}, data)
	if err != nil {
		t.Fatal(err)
	}
	steps(t, tr, 60)
	var buf bytes.Buffer
	if err := tr.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestConvPoolLessonModel: the embedded model file is, bit for bit, what
// 60 steps of the lesson's network make (go test -update rewrites it);
// the lesson starts from it and its prompts' cells exist in the network;
// the stride-2 conv read through a 2×2 max-pool leaves input cells without
// gradient (what its conv_reach prompt asks).
func TestConvPoolLessonModel(t *testing.T) {
	data := mnist(t)
	want := convPoolModel(t, data)
	const path = "lessons/conv-pool-backward.model.json"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := embedded.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from what 60 steps make (%d bytes, want %d): go test ./lesson -run TestConvPoolLessonModel -update", path, len(got), len(want))
	}
	l, err := LoadEmbedded("conv-pool-backward", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.Model, want) {
		t.Fatal("the lesson's model is not its model file")
	}
	tr := trainerOf(t, l, data)
	if tr.Step() != 60 {
		t.Errorf("lesson starts at step %d, want the model's 60", tr.Step())
	}
	steps(t, tr, 1)
	dx := tr.Trace(engine.TraceOptions{}).Layers[0].GradInput.Data // (1, 28, 28)
	if len(dx) != 28*28 || dx[27] != 0 || dx[27*28] != 0 || dx[26*28+26] != 0 {
		t.Errorf("dL/dX of conv 1: want zero in column 27, row 27 and at (26, 26), cells no pooled output reads")
	}
}
