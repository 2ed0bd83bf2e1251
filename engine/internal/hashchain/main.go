// Command hashchain trains networks on the embedded MNIST for a fixed
// number of steps and prints a hash chain of their weights: the initial
// weights, then after every optimizer step the step's loss and the
// weights, are added as little-endian float64 bits to a running SHA-256
// whose digest is printed, one line a step. Two builds that print the same
// lines computed the same numbers bit for bit; the first line that differs
// names the first step that did not.
//
//	go run ./engine/internal/hashchain
//	GOAMD64=v3 go run ./engine/internal/hashchain
//	GOARCH=arm64 go build -o hc ./engine/internal/hashchain && qemu-aarch64-static ./hc
//
// .ci/run compares the output of amd64 builds at GOAMD64=v1 and v3 and of
// an arm64 build.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"hash"
	"math"
	"os"
	"runtime"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
)

func main() {
	steps := flag.Int("steps", 50, "optimizer steps per network")
	flag.Parse()
	if err := run(*steps); err != nil {
		fmt.Fprintln(os.Stderr, "hashchain:", err)
		os.Exit(1)
	}
}

// chains are the networks hashed: the default one (engine.DefaultConfig:
// its spec, seed 1, Adam, at the constant learning rate 0.001 the
// defaults had before the schedule, so that the chain stays comparable
// across versions), and a network of every other layer kind trained
// by SGD with Nesterov momentum and by centered RMSprop with momentum, both
// with weight decay; and a small network on the procedural shapes set,
// whose images are computed too.
func chains(mnist engine.Data) []chain {
	def := engine.DefaultConfig()
	def.Hyper.LearningRate, def.Hyper.DecayEpochs = 0.001, 0
	every := def
	every.Spec = "conv(6,3,s1,p1) tanh avgpool(2,s2,p0) conv(8,3,s2,p1) leakyrelu(0.1) maxpool(3,s1,p1) conv(4,1,s1,p0) sigmoid dense(10)"
	every.Hyper.Optimizer = engine.OptSGD
	every.Hyper.LearningRate = 0.05
	every.Hyper.Nesterov = true
	every.Hyper.WeightDecay = 1e-3
	rms := every
	rms.Hyper = def.Hyper
	rms.Hyper.Optimizer = engine.OptRMSprop
	rms.Hyper.Centered = true
	rms.Hyper.WeightDecay = 1e-3
	shapes := engine.Config{Spec: "conv(4,3,s1,p0) relu maxpool(2,s2,p0) dense(5)", Seed: 1, Hyper: def.Hyper}
	shapes.Hyper.Optimizer = engine.OptSGD
	shapes.Hyper.LearningRate = 0.05
	shapesTrain, shapesTest := dataset.Shapes(1, 400, 40)
	return []chain{
		{"default", def, mnist},
		{"every-layer-sgd", every, mnist},
		{"every-layer-rmsprop", rms, mnist},
		{"shapes", shapes, engine.Data{Name: "shapes", Train: shapesTrain, Test: shapesTest}},
	}
}

// chain is one network to train and hash.
type chain struct {
	name string
	cfg  engine.Config
	data engine.Data
}

func run(steps int) error {
	train, test, err := dataset.MNIST()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "hashchain: %s/%s\n", runtime.GOOS, runtime.GOARCH)
	for _, c := range chains(engine.Data{Name: "mnist", Train: train, Test: test}) {
		tr, err := engine.NewTrainer(c.cfg, c.data)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		h := sha256.New()
		add(h, tr)
		fmt.Printf("%s %2d %x\n", c.name, 0, h.Sum(nil))
		for i := range steps {
			if err := tr.StepBatch(); err != nil {
				return fmt.Errorf("%s: step %d: %w", c.name, i, err)
			}
			add(h, tr)
			fmt.Printf("%s %2d %x\n", c.name, i+1, h.Sum(nil))
		}
	}
	return nil
}

// add writes the last step's loss and every weight into h.
func add(h hash.Hash, tr *engine.Trainer) {
	var b [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	put(tr.Metrics().LastLoss)
	for _, l := range tr.Trace(engine.TraceOptions{}).Layers {
		for _, t := range []*engine.Tensor{l.Weights, l.Bias} {
			if t != nil {
				for _, v := range t.Data {
					put(v)
				}
			}
		}
	}
}
