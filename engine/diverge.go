package engine

import (
	"fmt"
	"math"
)

// Stopping on non-finite values: the first NaN or ±Inf in a step stops
// training before the update, naming the sample, the layer and the tensor.
// No layer may drop one silently: ReLU's mask and max-pool's comparisons
// are false for NaN, tanh and sigmoid turn ±Inf into ±1, so without the
// checks a NaN in an image could vanish two layers later and training go
// on with a finite loss.
//
// The trainer checks the batch, the output Y and dL/dX of every layer that
// can make a finite input non-finite (conv, dense and average pooling: their
// sums can overflow), dL/dY from the loss, the loss, dL/dW and dL/db, and
// the weights and optimizer state after the update. The other layers (see
// keepsFinite) compute finite values from finite ones, so every layer's
// input, output and gradients are finite whenever a step passes its checks,
// and a non-finite value is reported at the layer that made it.

// Going back after a divergence: the steps before an update is refused
// have usually blown the weights up already (by 10³⁰, say, still within
// float32's range), so a lower learning rate from there diverges again at
// once. The trainer keeps the weights and optimizer state at the start of
// the last step whose loss was sound, at most soundLossFactor times ln K
// (K classes; ln K is the loss of a uniform guess, what an untrained network
// scores), and SetHyper goes back to them. Keeping them costs no copy: the
// state Update saves before it changes anything (to undo a refused update)
// alternates between two checkpoints, one of which is kept while it is the
// sound one.

// soundLossFactor bounds a sound loss: at most soundLossFactor·ln K.
const soundLossFactor = 10

// soundLoss says whether a step's loss l is sound: finite and at most
// soundLossFactor·ln K.
func (t *Trainer) soundLoss(l float64) bool {
	return l <= soundLossFactor*portableLog(float64(t.classes))
}

// DivergedError reports a non-finite value in a step, or an update beyond
// float32's range. The trainer stops after the phase that found it, before
// Update, with the weights unchanged (and finite); it stays stopped until
// SetHyper (which skips the step's batch, going back to BackTo first) or
// Reset.
type DivergedError struct {
	Step int // the optimizer step (0-based) that diverged
	// Sample is the sample of the batch (0-based, as the trace numbers
	// them) whose value it is; −1 for a value of the whole batch (dL/dW, an
	// update).
	Sample int
	// Index is that sample's index in the training set; −1 when Sample is −1
	// or the batch was given by SetBatch.
	Index int
	// Where names the tensor: "the input image", "feature map Y of conv 2",
	// "output Y of dense 1", "the loss", "dL/dX of conv 2", "dL/dW of conv 2",
	// "W of dense 1" (an update beyond float32's range), "adam_v of W of
	// dense 1" (optimizer state the update would leave non-finite).
	Where string
	Value float64 // the first offending value
	// InData says the value is in the batch's input: the data is broken, and
	// no learning rate helps. SetHyper skips the batch.
	InData bool
	// BackTo is the step whose starting weights and optimizer state SetHyper
	// goes back to, the last whose loss was sound; −1 when it keeps the
	// current ones (the data is at fault, the step's own loss was sound, or
	// no step since Reset, Load or a change of optimizer had a sound loss).
	BackTo int

	what      string  // what happened, e.g. "feature map Y of conv 2 holds NaN"
	backLoss  float64 // the loss of step BackTo
	soundNow  bool    // the step's own loss was sound
	soundOver float64 // the bound of a sound loss
}

func (e *DivergedError) Error() string {
	var b []byte
	if e.InData {
		b = fmt.Appendf(b, "training stopped at step %d: ", e.Step)
	} else {
		b = fmt.Appendf(b, "training diverged at step %d: ", e.Step)
	}
	switch {
	case e.Sample >= 0 && e.Index >= 0:
		b = fmt.Appendf(b, "sample %d of the batch (training image #%d): ", e.Sample, e.Index)
	case e.Sample >= 0:
		b = fmt.Appendf(b, "sample %d of the batch: ", e.Sample)
	}
	b = fmt.Appendf(b, "%s; the weights were not updated. ", e.what)
	switch {
	case e.InData:
		b = append(b, "The training data holds a non-finite value: change a hyperparameter to skip this batch, or reset"...)
	case e.BackTo >= 0:
		b = fmt.Appendf(b, "Lower the learning rate and continue from the weights of step %d (loss %.3g, the last below %.3g), or reset", e.BackTo, e.backLoss, e.soundOver)
	case e.soundNow:
		b = append(b, "Lower the learning rate and continue, or reset"...)
	default:
		b = append(b, "Reset, or lower the learning rate and continue"...)
	}
	return string(b)
}

// planGoingBack fills in where the new t.diverged leaves SetHyper to go
// back to.
func (t *Trainer) planGoingBack() {
	e, ok := t.diverged.(*DivergedError)
	if !ok {
		return
	}
	e.BackTo = -1
	e.soundOver = soundLossFactor * portableLog(float64(t.classes))
	// The loss phase has run and found the step's starting weights sound.
	e.soundNow = t.progress > len(t.layers) && t.soundLoss(t.batchLoss)
	if e.InData || e.soundNow || t.sound < 0 {
		return
	}
	c := &t.ckpt[t.sound]
	e.BackTo, e.backLoss = c.step, c.loss
}

// goBack restores the sound checkpoint when the divergence asks for it
// (DivergedError.BackTo ≥ 0).
func (t *Trainer) goBack() {
	e, ok := t.diverged.(*DivergedError)
	if !ok || e.BackTo < 0 || t.sound < 0 {
		return
	}
	t.restore(&t.ckpt[t.sound])
	t.weightsVer++
}

// stop records a DivergedError about the value at flat index k of x
// (N, per-sample shape) named where.
func (t *Trainer) stop(x *Tensor, k int, where string, inData bool) {
	per := len(x.Data) / x.Shape[0]
	n := k / per
	v := x.Data[k]
	t.diverged = &DivergedError{Step: t.step, Sample: n, Index: t.batchIdx[n], Where: where, Value: v, InData: inData,
		what: fmt.Sprintf("%s holds %v", where, v)}
}

// The batch tensors checkTensor checks.
const (
	tensorInput   = iota // the batch of images
	tensorOutput         // a layer's Y
	tensorGradOut        // dL/dY of the last layer, from the loss
	tensorGradIn         // a layer's dL/dX
)

// checkTensor sets t.diverged, unless it is set already, when the batch
// tensor x (of kind tensorInput, ..., of layer i) holds a non-finite value.
func (t *Trainer) checkTensor(x *Tensor, kind, i int) {
	if t.diverged != nil || x == nil || allFinite(x.Data) {
		return
	}
	var where string
	switch kind {
	case tensorInput:
		where = "the input image"
	case tensorOutput:
		where = "output Y of " + t.layerName(i)
		if len(t.layers[i].OutShape()) == 3 {
			where = "feature map Y of " + t.layerName(i)
		}
	case tensorGradOut:
		where = "dL/dY of " + t.layerName(i)
	default:
		where = "dL/dX of " + t.layerName(i)
	}
	for k, v := range x.Data {
		if !isFinite(v) {
			t.stop(x, k, where, kind == tensorInput)
			return
		}
	}
}

// checkLoss sets t.diverged when a sample's loss or the batch's is not
// finite.
func (t *Trainer) checkLoss() {
	if t.diverged != nil || isFinite(t.batchLoss) {
		return
	}
	e := &DivergedError{Step: t.step, Sample: -1, Index: -1, Where: "the loss", Value: t.batchLoss}
	for n, l := range t.loss.PerSample {
		if !isFinite(l) {
			e.Sample, e.Index, e.Value = n, t.batchIdx[n], l
			break
		}
	}
	e.what = fmt.Sprintf("the loss is %v", e.Value)
	t.diverged = e
}

// checkParamGrads sets t.diverged when a gradient of layer i's parameters
// (summed over the batch) holds a non-finite value.
func (t *Trainer) checkParamGrads(i int) {
	for _, p := range t.params[i] {
		if t.diverged != nil || allFinite(p.Grad.Data) {
			continue
		}
		_, v := firstNonFinite(p.Grad.Data)
		where := fmt.Sprintf("dL/d%s of %s", p.Name, t.layerName(i))
		t.diverged = &DivergedError{Step: t.step, Sample: -1, Index: -1, Where: where, Value: v,
			what: fmt.Sprintf("%s (summed over the batch) holds %v", where, v)}
	}
}

// keepsFinite says that layer l's Forward and Backward give finite values
// for finite inputs, so the trainer need not check them: ReLU and leaky
// ReLU pass or scale a value by α < 1; tanh and sigmoid and their
// derivatives are bounded (|dL/dY·(1−Y²)| ≤ |dL/dY|, |dL/dY·Y(1−Y)| ≤
// |dL/dY|); flatten copies; max pooling picks one input and, when its
// windows do not overlap (stride ≥ kernel), sends each dL/dY to one input
// cell (overlapping windows add them up, which can overflow).
func keepsFinite(l Layer) bool {
	switch l := l.(type) {
	case *ReLU, *LeakyReLU, *Tanh, *Sigmoid, *Flatten:
		return true
	case *MaxPool2D:
		return l.s >= l.k
	}
	return false
}

// layerName is layer i's name, e.g. "conv 2".
func (t *Trainer) layerName(i int) string { return t.infos[i].Name }

// allFiniteGo reports whether every x is finite, in one pass: x − x is 0
// for a finite x and NaN for ±Inf and NaN, and a NaN stays NaN through any
// sum (a plain sum of finite values could overflow). Four running sums keep
// the additions from waiting on each other. allFinite (finite_amd64.go)
// runs an AVX2 kernel of the same idea where it can.
func allFiniteGo(xs []float64) bool {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		v := xs[i : i+4 : i+4]
		s0 += v[0] - v[0]
		s1 += v[1] - v[1]
		s2 += v[2] - v[2]
		s3 += v[3] - v[3]
	}
	for _, x := range xs[i:] {
		s0 += x - x
	}
	return (s0+s1)+(s2+s3) == 0
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func firstNonFinite(xs []float64) (bool, float64) {
	for _, x := range xs {
		if !isFinite(x) {
			return true, x
		}
	}
	return false, 0
}
