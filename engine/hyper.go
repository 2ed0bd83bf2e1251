package engine

import (
	"fmt"
	"math"
)

// Hyper holds the hyperparameters of training. They may change between
// optimizer steps; a change takes effect at the next batch.
type Hyper struct {
	Optimizer    string  // a name of OptimizerNames: OptSGD, OptAdam, OptRMSprop
	LearningRate float64 // lr > 0
	Momentum     float64 // SGD and RMSprop momentum μ in [0, 1); 0 is none
	Nesterov     bool    // SGD: use the Nesterov form (needs Momentum > 0)
	WeightDecay  float64 // L2 coefficient λ ≥ 0, added to the gradient of weights (not biases)
	Beta1        float64 // Adam β1 in [0, 1)
	Beta2        float64 // Adam β2 in [0, 1)
	Alpha        float64 // RMSprop smoothing constant α in [0, 1) of the mean of g²
	Centered     bool    // RMSprop: divide by the centered form √(mean g² − (mean g)²)
	Epsilon      float64 // Adam and RMSprop ε > 0, added to the square root in the denominator
	BatchSize    int     // samples per optimizer step, 1 … MaxBatchSize
	// DecayEpochs is the learning-rate schedule: the rate an optimizer
	// step uses falls linearly from LearningRate to
	// LearningRate·DecayFloor over the first DecayEpochs epochs of
	// training since reset (counted in samples), and stays there; 0 keeps
	// it at LearningRate. See Rate.
	DecayEpochs float64
}

// DecayFloor is the fraction of Hyper.LearningRate that a schedule
// (Hyper.DecayEpochs) ends at and keeps: training goes on, slowly.
const DecayFloor = 0.05

// Rate returns the learning rate of the step after samples training
// samples (since reset) of a training set of n:
//
//	lr · (1 − (1 − DecayFloor) · min(1, samples / (DecayEpochs · n)))
//
// or lr itself when DecayEpochs is 0.
func (h Hyper) Rate(samples, n int) float64 {
	if h.DecayEpochs == 0 || n <= 0 {
		return h.LearningRate
	}
	f := min(1, float64(samples)/(h.DecayEpochs*float64(n)))
	return h.LearningRate * (1 - float64((1-DecayFloor)*f))
}

// MaxBatchSize bounds Hyper.BatchSize.
const MaxBatchSize = 512

// DefaultHyper returns the defaults: Adam, batch 8, a learning rate of 0.002
// falling linearly to 0.0001 over the first epoch (DecayEpochs 1). With the
// default network they visibly learn MNIST within the first few hundred
// steps (plain SGD with momentum at batch 1 does not; see the trainer
// tests), and reach 98.5–98.7% test accuracy after one epoch
// (bench/README.md). The page shows the rate in effect (Trainer.Rate).
func DefaultHyper() Hyper {
	return Hyper{
		Optimizer:    OptAdam,
		LearningRate: 0.002,
		DecayEpochs:  1,
		Momentum:     0.9,
		Beta1:        0.9,
		Beta2:        0.999,
		Alpha:        0.99,
		Epsilon:      1e-8,
		BatchSize:    8,
	}
}

// Validate reports the first invalid field, naming it and its allowed range,
// or a combination the optimizer cannot run (see Optimizer.Check).
func (h Hyper) Validate() error {
	opt, err := optimizerFor(h.Optimizer)
	if err != nil {
		return err
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !finite(h.LearningRate) || h.LearningRate <= 0 || h.LearningRate > 10:
		return fmt.Errorf("learning rate %v: want 0 < lr ≤ 10", h.LearningRate)
	case !finite(h.Momentum) || h.Momentum < 0 || h.Momentum >= 1:
		return fmt.Errorf("momentum %v: want 0 ≤ μ < 1", h.Momentum)
	case !finite(h.WeightDecay) || h.WeightDecay < 0 || h.WeightDecay > 1:
		return fmt.Errorf("weight decay %v: want 0 ≤ λ ≤ 1", h.WeightDecay)
	case !finite(h.Beta1) || h.Beta1 < 0 || h.Beta1 >= 1:
		return fmt.Errorf("beta1 %v: want 0 ≤ β1 < 1", h.Beta1)
	case !finite(h.Beta2) || h.Beta2 < 0 || h.Beta2 >= 1:
		return fmt.Errorf("beta2 %v: want 0 ≤ β2 < 1", h.Beta2)
	case !finite(h.Alpha) || h.Alpha < 0 || h.Alpha >= 1:
		return fmt.Errorf("alpha %v: want 0 ≤ α < 1", h.Alpha)
	case !finite(h.Epsilon) || h.Epsilon <= 0 || h.Epsilon > 1:
		return fmt.Errorf("epsilon %v: want 0 < ε ≤ 1", h.Epsilon)
	case !finite(h.DecayEpochs) || h.DecayEpochs < 0 || h.DecayEpochs > 1000:
		return fmt.Errorf("decay epochs %v: want 0 (no schedule) … 1000", h.DecayEpochs)
	case h.BatchSize < 1 || h.BatchSize > MaxBatchSize:
		return fmt.Errorf("batch size %d: want 1 … %d", h.BatchSize, MaxBatchSize)
	}
	return opt.Check(h)
}
