package engine

import (
	"fmt"
	"math"
)

// DefaultGradCheckH is the step GradCheck's callers use by default.
const DefaultGradCheckH = 1e-5

// MaxGradCheckH is the largest step a gradient check takes: beyond it the
// central difference says nothing about the gradient at w.
const MaxGradCheckH = 1.0

// GradCheckResult compares one backprop gradient with a central finite
// difference of the batch's mean loss.
type GradCheckResult struct {
	Layer int
	Name  string // the layer, e.g. "conv 1"
	Param string // "W" or "b"
	Index []int  // into the parameter
	H     float64
	// Weight is the parameter's value the gradient was computed at (after
	// Update, the value before it).
	Weight float64
	// Loss, LossPlus and LossMinus are the batch's mean loss at Weight,
	// Weight + H and Weight − H, on the same batch.
	Loss, LossPlus, LossMinus float64
	// Numeric is (LossPlus − LossMinus) / ((w+h) − (w−h)): the central
	// difference, divided by the step as rounded in float64.
	Numeric float64
	// Backprop is dL/dθ from the backward pass.
	Backprop float64
	// RelError is |Numeric − Backprop| / max(|Numeric|, |Backprop|), 0 when
	// both are 0.
	RelError float64
	// Kinks lists the layers whose non-differentiable choices (a ReLU's
	// mask, a leaky ReLU's sign, a max-pool's switches) differ at w − h or
	// w + h from those at w: the finite difference then straddles a kink
	// and need not match. Empty when none.
	Kinks []Kink
}

// Kink is a layer whose choices changed between w − h, w and w + h.
type Kink struct {
	Layer int
	Name  string // e.g. "relu 2"
	What  string // "ReLU mask", "leaky ReLU sign" or "max-pool switches"
	Minus int    // cells that differ at w − h from w
	Plus  int    // cells that differ at w + h from w
}

// GradCheck checks dL/dθ of value index of parameter param (0 for W, 1 for b)
// of layer: it evaluates the batch's mean loss at θ ± h on the same batch
// and compares the central difference with the backward pass's gradient.
// It changes nothing in the trainer: the two evaluations run on layers of
// their own, from the given layer on (the layers before it are unchanged, so
// their kept outputs are its input), at the weights the gradient was
// computed at. It costs two forward passes from the layer on, plus building
// and zeroing their buffers. It returns an error for a layer, parameter or index that does
// not exist, for h that is not a finite number > 0, or before the layer's
// backward phase has run in this step.
func (t *Trainer) GradCheck(layer, param int, index []int, h float64) (GradCheckResult, error) {
	if layer < 0 || layer >= len(t.layers) {
		return GradCheckResult{}, fmt.Errorf("layer %d: the network has layers 0 … %d", layer, len(t.layers)-1)
	}
	name := t.layerName(layer)
	ps := t.params[layer]
	if len(ps) == 0 {
		return GradCheckResult{}, fmt.Errorf("%s has no parameters", name)
	}
	if param < 0 || param >= len(ps) {
		return GradCheckResult{}, fmt.Errorf("parameter %d of %s: want 0 (W) or 1 (b)", param, name)
	}
	p := ps[param]
	what := fmt.Sprintf("%s of %s", p.Name, name)
	if err := checkIndex(what, index, p.Value.Shape); err != nil {
		return GradCheckResult{}, err
	}
	if !(h > 0) || !(h <= MaxGradCheckH) {
		return GradCheckResult{}, fmt.Errorf("step h = %v: want 0 < h ≤ %v (default %v)", h, MaxGradCheckH, DefaultGradCheckH)
	}
	if t.progress == 0 || !t.backwardDone(layer) {
		return GradCheckResult{}, t.notYet("dL/d"+what, Phase{PhaseBackward, layer})
	}
	net, err := BuildLayers(t.specs[layer:], t.layers[layer].InShape(), t.classes, nil)
	if err != nil {
		panic("engine: Trainer.GradCheck: " + err.Error()) // the trainer's own layers were built from these specs
	}
	for j, l := range net {
		for q, sp := range l.Params() {
			src := t.params[layer+j][q].Value.Data
			if t.updated {
				src = t.old[layer+j][q]
			}
			copy(sp.Value.Data, src)
		}
	}
	k := flat(index, p.Value.Shape)
	w := net[0].Params()[param].Value.Data
	r := GradCheckResult{Layer: layer, Name: name, Param: p.Name, Index: append([]int{}, index...), H: h,
		Weight: w[k], Loss: t.batchLoss, Backprop: p.Grad.Data[k]}
	minus, plus := make([]int, len(net)), make([]int, len(net))
	x := t.layerInput(layer)
	var loss SoftmaxCrossEntropy
	eval := func(wk float64, changed []int) float64 {
		w[k] = wk
		y := x
		for j, l := range net {
			y = l.Forward(y)
			changed[j] = t.kinksChanged(layer+j, l)
		}
		return loss.Forward(y, t.labels)
	}
	wp, wm := r.Weight+h, r.Weight-h
	if wp == wm {
		return GradCheckResult{}, fmt.Errorf("step h = %v is below the resolution of %s = %v: w + h and w − h round to the same number; pick a larger h (default %v)",
			h, what, r.Weight, DefaultGradCheckH)
	}
	r.LossPlus = eval(wp, plus)
	r.LossMinus = eval(wm, minus)
	r.Numeric = (r.LossPlus - r.LossMinus) / (wp - wm)
	if math.IsNaN(r.Numeric) || math.IsInf(r.Numeric, 0) {
		return GradCheckResult{}, fmt.Errorf("step h = %v: the loss at w ± h is not finite (%v, %v); pick a smaller h", h, r.LossMinus, r.LossPlus)
	}
	if d := max(math.Abs(r.Numeric), math.Abs(r.Backprop)); d > 0 {
		r.RelError = math.Abs(r.Numeric-r.Backprop) / d
	}
	for j, l := range net {
		if minus[j] > 0 || plus[j] > 0 {
			r.Kinks = append(r.Kinks, Kink{Layer: layer + j, Name: t.layerName(layer + j), What: kinkName(l), Minus: minus[j], Plus: plus[j]})
		}
	}
	return r, nil
}

// kinksChanged counts the cells whose non-differentiable choice in l (a
// copy of layer i that has just run Forward) differs from layer i's in the
// trainer's own forward pass.
func (t *Trainer) kinksChanged(i int, l Layer) int {
	n := 0
	switch l := l.(type) {
	case *ReLU:
		for k, v := range t.layers[i].(*ReLU).X.Data {
			if (v > 0) != (l.X.Data[k] > 0) {
				n++
			}
		}
	case *LeakyReLU:
		for k, v := range t.layers[i].(*LeakyReLU).X.Data {
			if (v > 0) != (l.X.Data[k] > 0) {
				n++
			}
		}
	case *MaxPool2D:
		for k, s := range t.layers[i].(*MaxPool2D).Switches() {
			if s != l.switches[k] {
				n++
			}
		}
	}
	return n
}

// kinkName names the choice a layer makes.
func kinkName(l Layer) string {
	switch l.(type) {
	case *ReLU:
		return "ReLU mask"
	case *LeakyReLU:
		return "leaky ReLU sign"
	case *MaxPool2D:
		return "max-pool switches"
	}
	return ""
}
