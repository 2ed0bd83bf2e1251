// Command epoch trains the default network on MNIST for whole epochs and
// prints the test accuracy on all 10,000 test images after each, with the
// training speed. It is a measurement, not a test:
//
//	go run ./bench/epoch -epochs 1 -seed 1
//
// Its flags default to the page's recipe (engine.DefaultHyper), its
// learning-rate schedule included (-decay-epochs; 0 for a constant rate).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
)

func main() {
	def := engine.DefaultHyper()
	epochs := flag.Int("epochs", 1, "epochs to train")
	batch := flag.Int("batch", def.BatchSize, "batch size")
	lr := flag.Float64("lr", def.LearningRate, "learning rate")
	opt := flag.String("opt", def.Optimizer, "optimizer: sgd or adam")
	momentum := flag.Float64("momentum", def.Momentum, "SGD momentum")
	seed := flag.Int64("seed", 1, "seed")
	decay := flag.Float64("decay-epochs", def.DecayEpochs, "epochs over which the learning rate falls to engine.DecayFloor of -lr (0: constant)")
	flag.Parse()

	train, test, err := dataset.MNIST()
	if err != nil {
		log.Fatal(err)
	}
	h := engine.DefaultHyper()
	h.BatchSize, h.LearningRate, h.Optimizer, h.Momentum, h.DecayEpochs = *batch, *lr, *opt, *momentum, *decay
	tr, err := engine.NewTrainer(engine.Config{Spec: engine.DefaultSpec, Seed: *seed, Hyper: h},
		engine.Data{Name: "mnist", Train: train, Test: test})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, %s lr %g (decay over %g epochs) batch %d seed %d\n", engine.DefaultSpec, h.Optimizer, h.LearningRate, *decay, h.BatchSize, *seed)
	for e := 1; e <= *epochs; e++ {
		start := time.Now()
		if err := tr.StepEpoch(context.Background()); err != nil {
			log.Fatal(err)
		}
		el := time.Since(start)
		acc := tr.EvalTest(0)
		m := tr.Metrics()
		fmt.Printf("epoch %d: %d steps, %.1f s (%.0f images/s), last batch loss %.4f, running train accuracy %.4f, test accuracy %.4f\n",
			e, m.Step, el.Seconds(), float64(train.Len())/el.Seconds(), m.LastLoss, m.TrainAcc, acc)
	}
}
