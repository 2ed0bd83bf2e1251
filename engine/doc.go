// Package engine is backpropviz's convolutional neural network: layers with
// their forward and backward passes side by side, optimizers, a network spec
// parser, and a trainer that runs one training step as a sequence of phases
// and can hand out an immutable trace after any of them.
//
// # Shapes
//
// Tensors are dense, row-major, float64, in NCHW order:
//
//	N  batch size (samples)
//	C  channels (feature maps); F is the number of filters of a conv layer
//	H  height, W width
//	KH, KW kernel height and width; S stride; P zero padding (all four sides)
//
// A conv or pool layer maps (N, C, H, W) to (N, F, H', W') with
//
//	H' = ⌊(H + 2P − KH)/S⌋ + 1,  W' = ⌊(W + 2P − KW)/S⌋ + 1.
//
// Filters have shape (F, C, KH, KW); a dense layer's weights (Out, In).
// A per-sample shape (C, H, W) is written as a [Shape].
//
// # Gradients
//
// Every parameter has a Grad tensor holding dL/dθ. Backward adds into it
// (gradients are accumulated); the trainer zeroes it once per step. Layers
// never store negated "deltas".
//
// # Optimizers
//
// An [Optimizer] follows the torch.optim class of its name: SGD (sgd.go),
// Adam (adam.go), RMSprop (rmsprop.go). Each file holds the optimizer, the
// state type it keeps per parameter and the name Hyper.Optimizer takes;
// the registry in optimizer.go maps names to optimizers. The trainer,
// Save, Load, Clone and the trace reach the state only through
// [OptState.Buffers], so a new optimizer is one new file and one registry
// line (and a Hyper field for a hyperparameter no optimizer had before).
//
// # Data order
//
// A step trains on the next Hyper.BatchSize samples of the current epoch's
// order. Epoch e (0, 1, …) visits the n training samples in the order of a
// permutation drawn as rand.Perm(n) draws it from
// rand.New(rand.NewSource(seed·1000003 + e + 1)) (math/rand): for i = 0 …
// n−1, j = Intn(i+1), order[i] = order[j], order[j] = i. The last batch of
// an epoch is shorter when the batch size does not divide n; the next epoch
// starts with its own permutation. A change of batch size takes the next
// batch from where the order is. A step abandoned after a divergence skips
// its batch. [Trainer.EpochOrder] returns an epoch's order, and the trace
// gives each sample's index in the training set.
//
// To replay a reference run, give each step its batch with
// [Trainer.SetBatch]: the next step (phase by phase or whole) trains on it
// and the data order does not move.
//
// # Determinism
//
// The same Config and the same calls give the same numbers bit for bit, on
// every machine and build: no compiler-fused multiply-add changes a result
// (each product is rounded by an explicit conversion before it is added;
// math.FMA where a fused form is meant, identical in the amd64 assembly and
// in Go), and exp, log, tanh and the normal draws of initialisation are the
// engine's own (mathfn.go, normal.go), not the math package's, whose last
// bit differs between machines. TestNoFusedMultiplyAdd and the CI's hash
// chain (engine/internal/hashchain, amd64 at GOAMD64=v1 and v3, arm64)
// hold this.
//
// # Non-finite values and divergence
//
// A NaN or ±Inf anywhere in a step stops training after the phase that
// computed it, before Update, with a [DivergedError] naming the sample, the
// layer and the tensor; so does an update that would take a weight beyond
// float32's range or leave a non-finite optimizer state. The weights stay
// as they were. SetHyper then skips the
// batch and, after a blow-up, goes back to the weights and optimizer state
// of the last step whose loss was sound (see diverge.go), so that a lower
// learning rate trains on.
//
// # Errors and panics
//
// Input a user types (a network spec, a saved file, hyperparameters) is
// validated and gives an error that says what is wrong. A shape mismatch
// inside the engine is a programmer error and panics with a message that
// starts with "engine: ".
//
// The engine imports nothing of the rest of the project; randomness is always
// passed in as a *rand.Rand seeded by the caller.
package engine
