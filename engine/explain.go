package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Explaining a number: the page asks how one number of the trace was
// computed, and Explain answers from what the layers kept (their input, the
// max-pool switches, dL/dY) as a list of terms whose sum is that number. The
// answers of each layer kind sit in <layer>_explain.go; the update's in
// update_explain.go. A question never changes the trainer.
//
// Questions read the trainer's step as it stands: the progress and whether
// Update ran (t.progress, t.updated), the weights before the update (t.old),
// the batch and its labels (t.x, t.labels), the per-layer activations and
// gradients (t.outs, t.gradOuts, t.gradIns), the loss (t.loss, t.batchLoss)
// and the probe's network (t.probePass). The optimizer's state is read in
// one function only, Trainer.lastUpdate.

// LossLayer is ExplainQuery.Layer for the softmax cross-entropy after the
// last layer (as Phase.Layer is −1 for the loss).
const LossLayer = -1

// Tensor names of an ExplainQuery.
const (
	TensorY       = "Y"       // a layer's output, per sample (OutShape)
	TensorDY      = "dY"      // dL/dY (OutShape): answered by the stage that computed it
	TensorDX      = "dX"      // dL/dX (InShape)
	TensorDW      = "dW"      // dL/dW of the batch (the weights' shape)
	TensorDB      = "db"      // dL/db of the batch
	TensorUpdateW = "updateW" // a weight after this step's Update
	TensorUpdateB = "updateb" // a bias after this step's Update

	// At LossLayer:
	TensorLoss      = "loss"      // the sample's cross-entropy (index [])
	TensorBatchLoss = "batchloss" // the batch's mean cross-entropy (index [])
	TensorProb      = "p"         // softmax probability p[k]
	TensorDLogit    = "dz"        // dL/dz[k] for the logits z, = dY of the last layer
)

// ExplainQuery asks how one number was computed.
type ExplainQuery struct {
	Layer  int    // 0 … L−1, or LossLayer
	Tensor string // one of the Tensor… names
	// Index into the tensor: per sample for Y, dY, dX (e.g. (c, y, x) or
	// (k)); into the parameter for dW, db, updateW, updateb (e.g.
	// (f, c, ky, kx)); (k) for p and dz; empty for loss and batchloss.
	Index  []int
	Sample int  // the sample's index within the batch
	Probe  bool // ask about the probe image's own pass (see TraceOptions)
}

// Explanation is how one number was computed: Value is the engine's number
// (the one the trace holds), and the Terms add up to it.
type Explanation struct {
	Layer  int    // the layer that computed the number, or LossLayer
	Name   string // e.g. "conv 1", "loss"
	Tensor string
	Index  []int
	Sample int  // the sample within the batch; −1 for the probe
	Probe  bool // the number is the probe's (for dW, db and the update: see Batch)
	Value  float64
	// Formula is the formula with this number's indices, e.g.
	// "Y[2,5,7] = b[2] + Σ_c,ky,kx W[2,c,ky,kx] · X[c, 5+ky−2, 7+kx−2]".
	Formula string
	// Terms add up to Value (for dW and db, to the shown sample's share:
	// see Batch). A term that takes no part has Product 0: a padding cell,
	// a max-pool cell that is not its window's maximum.
	Terms []Term
	// Sum is Σ Terms' Product, added in order; it equals Value to float64
	// rounding (the engine may add in another order, or fuse multiply-adds).
	Sum float64
	// Note says what the formula alone does not: why a cell is 0, ties,
	// which weights were used.
	Note string
	// Lines are intermediate quantities worked out with numbers, in order:
	// an activation's derivative, the softmax, the optimizer's steps.
	Lines []Quantity
	// Window is the geometry of a conv or pool layer's window.
	Window *Window
	// Batch, for dW and db, adds each sample's share up to Value.
	Batch *BatchSum
	// Update, for updateW and updateb, is the optimizer's step.
	Update *UpdateDetail
}

// Term is one addend: A·B, or A alone when B.Name is "".
type Term struct {
	A, B Operand
	// Product is what the term adds to the sum: A·B (as the engine
	// computes it), A alone, or 0 for a cell that takes no part.
	Product float64
	// Padding: A is a cell of the zero padding outside the input (its
	// Index lies outside the input; its value is 0).
	Padding bool
	// Winner, for max pooling: A is its window's maximum (Y), or the
	// window A is dL/dY of was won by the asked cell (dX).
	Winner bool
	// Switch, for max-pool dX: the input cell (c, iy, ix) that won A's
	// window.
	Switch []int
	// Rotated, for conv dX: B's tap (u, v) = (KH−1−ky, KW−1−kx) in the
	// filter rotated by 180°.
	Rotated []int
	// Dilated, for conv dX: A's cell (row, col) in dL/dY dilated by the
	// stride and zero-padded by KH−1−P rows and KW−1−P columns, the plane
	// the rotated filter slides over (see Window).
	Dilated []int
}

// Operand is one factor of a term.
type Operand struct {
	// Name is the tensor ("X", "W", "b", "dY", "p", "loss") or the factor
	// ("1/area", "f'(X)", "1/N", "−lr") it comes from; "" for no operand.
	Name string
	// Index into that tensor: per sample for X and dY, into the parameter
	// for W and b, the sample for a per-sample value; nil for a scalar.
	Index []int
	Value float64
}

// Quantity is one intermediate value: Name = Formula = Value, with the
// numbers of the names the formula uses in Args, e.g. "m̂" = "m / (1 − β1ᵗ)".
type Quantity struct {
	Name    string
	Formula string
	Args    []Arg
	Value   float64
}

// Arg is a named number a Quantity's formula uses.
type Arg struct {
	Name  string
	Value float64
}

// Window is the geometry of a conv or pool layer for the asked cell.
type Window struct {
	KH, KW, Stride, Pad int
	InH, InW            int // the input's height and width
	OutH, OutW          int // H', W'
	// Origin is where the window starts: for Y and dW, the input cell
	// (row, col) under its top-left tap, negative in the padding; for conv
	// dX, the cell (row, col) of the dilated plane.
	Origin []int
	// PlaneH, PlaneW, for conv dX: the size of the plane the rotated
	// filter slides over, H+KH−1 by W+KW−1: dL/dY dilated by the stride
	// ((H'−1)·S + 1 rows), zero-padded by KH−1−P rows above (KW−1−P
	// columns to the left) and as many below (to the right) as make the
	// plane that size, so that every input cell's window lies within it:
	// KH−1−P plus the rows past the last window, (H+2P−KH) mod S. A
	// negative padding crops.
	PlaneH, PlaneW int
}

// BatchSum is how a batch gradient adds up from the samples. The loss is the
// batch mean, so dL/dY carries a factor 1/N: sample n's share, the sum of its
// terms, is its own gradient dL_n/dθ divided by N, and the batch gradient
// (the one Update uses) is the sum of the shares, the mean of the samples'
// own gradients.
type BatchSum struct {
	N      int
	Shares []float64 // (N) each sample's share
	Total  float64   // Σ Shares, equal to the Value to float64 rounding
}

// Folded is an explanation's terms, largest first, with the small ones
// folded: what a page shows of a long sum.
type Folded struct {
	Top       []Term  // the terms of largest |Product|, largest first (ties in term order)
	Folded    int     // how many terms are not in Top
	FoldedSum float64 // their sum
	Total     float64 // the sum of all terms, Explanation.Sum
}

// Largest returns the k terms of largest |Product| and folds the others.
// k ≤ 0 folds every term.
func (e *Explanation) Largest(k int) Folded {
	order := make([]int, len(e.Terms))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		pa, pb := math.Abs(e.Terms[a].Product), math.Abs(e.Terms[b].Product)
		switch {
		case pa > pb:
			return -1
		case pa < pb:
			return 1
		}
		return 0
	})
	k = min(max(k, 0), len(order))
	f := Folded{Folded: len(order) - k, Total: e.Sum}
	for _, i := range order[:k] {
		f.Top = append(f.Top, e.Terms[i])
	}
	for _, i := range order[k:] {
		f.FoldedSum += e.Terms[i].Product
	}
	return f
}

// sumTerms adds the terms' products in order.
func sumTerms(terms []Term) float64 {
	s := 0.0
	for _, t := range terms {
		s += t.Product
	}
	return s
}

// view is what a question reads: the trainer's batch, or the probe's pass.
type view struct {
	t     *Trainer // the trainer asked: parameters, gradients, optimizer, progress
	src   *Trainer // t, or t's probe network: layers, activations, dL/dY, loss
	n     int      // the sample within src's batch
	probe bool
}

// input is layer i's input batch (N, InShape...).
func (v *view) input(i int) *Tensor {
	if i == 0 {
		return v.src.x
	}
	return v.src.outs[i-1]
}

// of returns sample n's slice of batch tensor x.
func (v *view) of(x *Tensor) []float64 { return sampleSlice(x, v.n) }

func sampleSlice(x *Tensor, n int) []float64 {
	per := len(x.Data) / x.Shape[0]
	return x.Data[n*per : (n+1)*per]
}

// weights returns the values of parameter j of layer i that the forward and
// backward passes used: after Update, the trainer's weights before it; the
// probe's pass runs at the weights current when it ran.
func (v *view) weights(i, j int) []float64 {
	if !v.probe && v.t.updated {
		return v.t.old[i][j]
	}
	return v.src.params[i][j].Value.Data
}

// Explain answers q from the current step: the value the trace holds and the
// terms that add up to it. It changes nothing in the trainer (a question
// about the probe runs the probe's pass if the weights changed since it last
// ran, as Trace does). Errors say what is wrong with the query: a layer or
// tensor that does not exist, an index outside the tensor, a sample outside
// the batch, or a number the step has not computed yet.
func (t *Trainer) Explain(q ExplainQuery) (Explanation, error) {
	L := len(t.layers)
	if q.Layer != LossLayer && (q.Layer < 0 || q.Layer >= L) {
		return Explanation{}, fmt.Errorf("layer %d: the network has layers 0 … %d (and %d for the loss)", q.Layer, L-1, LossLayer)
	}
	if t.progress == 0 {
		return Explanation{}, fmt.Errorf("no step has started: nothing is computed yet (the next phase is %s)", t.PhaseLabel(t.Next()))
	}
	v, err := t.viewOf(q.Sample, q.Probe)
	if err != nil {
		return Explanation{}, err
	}
	var e Explanation
	if q.Layer == LossLayer {
		e, err = v.explainLoss(q.Tensor, q.Index)
	} else {
		e, err = v.explainLayer(q.Layer, q.Tensor, q.Index)
	}
	if err != nil {
		return Explanation{}, err
	}
	e.Sample, e.Probe = v.n, v.probe
	if v.probe {
		e.Sample = -1
	}
	e.Sum = sumTerms(e.Terms)
	return e, nil
}

// viewOf selects the sample: one of the batch, or the probe.
func (t *Trainer) viewOf(sample int, probe bool) (*view, error) {
	if probe {
		return &view{t: t, src: t.probePass(), probe: true}, nil
	}
	if n := len(t.batchIdx); sample < 0 || sample >= n {
		return nil, fmt.Errorf("sample %d: the batch has samples 0 … %d", sample, n-1)
	}
	return &view{t: t, src: t, n: sample}, nil
}

// Where each phase stands in the current step.
func (t *Trainer) forwardDone(i int) bool  { return t.progress > i }
func (t *Trainer) lossDone() bool          { return t.progress > len(t.layers) }
func (t *Trainer) backwardDone(i int) bool { return t.progress > 2*len(t.layers)-i }

// notYet is the error for a number whose phase has not run in this step.
func (t *Trainer) notYet(what string, p Phase) error {
	return fmt.Errorf("%s is not computed yet: %s has not run in this step", what, t.PhaseLabel(p))
}

// checkIndex validates idx against shape; what names the tensor.
func checkIndex(what string, idx []int, shape []int) error {
	if len(idx) != len(shape) {
		return fmt.Errorf("index %v of %s: want %d indices for its shape %v", idx, what, len(shape), Shape(shape))
	}
	for d, i := range idx {
		if i < 0 || i >= shape[d] {
			return fmt.Errorf("index %v outside %s of shape %v", idx, what, Shape(shape))
		}
	}
	return nil
}

// flat is the row-major offset of idx in shape.
func flat(idx []int, shape []int) int {
	o := 0
	for d, i := range idx {
		o = o*shape[d] + i
	}
	return o
}

// unflat is the index of row-major offset o in shape.
func unflat(o int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = o % shape[d]
		o /= shape[d]
	}
	return idx
}

// ix formats an index as "2,5,7".
func ix(idx ...int) string {
	s := make([]string, len(idx))
	for i, v := range idx {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ",")
}

// plus formats "v+k", "v−k" or "v": a window coordinate v offset by k.
func plus(k int, v string) string {
	switch {
	case k > 0:
		return fmt.Sprintf("%d+%s", k, v)
	case k < 0:
		return fmt.Sprintf("%s−%d", v, -k)
	}
	return v
}

var layerTensors = []string{TensorY, TensorDY, TensorDX, TensorDW, TensorDB, TensorUpdateW, TensorUpdateB}

// explainLayer validates the tensor, index and phase of a question about
// layer i and hands it to the layer kind's answer.
func (v *view) explainLayer(i int, tensor string, idx []int) (Explanation, error) {
	t := v.t
	l := t.layers[i]
	name := t.layerName(i)
	what := fmt.Sprintf("%s of %s", tensor, name)
	var shape []int
	switch tensor {
	case TensorY:
		shape = l.OutShape()
		if !t.forwardDone(i) {
			return Explanation{}, t.notYet(what, Phase{PhaseForward, i})
		}
	case TensorDY, TensorDX:
		shape = l.OutShape()
		if tensor == TensorDX {
			shape = l.InShape()
		}
		if !t.backwardDone(i) {
			return Explanation{}, t.notYet(what, Phase{PhaseBackward, i})
		}
	case TensorDW, TensorDB, TensorUpdateW, TensorUpdateB:
		ps := t.params[i]
		if len(ps) == 0 {
			return Explanation{}, fmt.Errorf("%s: %s has no parameters", what, name)
		}
		j := 0
		if tensor == TensorDB || tensor == TensorUpdateB {
			j = 1
		}
		shape = ps[j].Value.Shape
		if tensor == TensorDW || tensor == TensorDB {
			if !t.backwardDone(i) {
				return Explanation{}, t.notYet(what, Phase{PhaseBackward, i})
			}
		} else if !t.updated {
			return Explanation{}, t.notYet(what, Phase{PhaseUpdate, -1})
		}
	default:
		return Explanation{}, fmt.Errorf("tensor %q of %s: want one of %s", tensor, name, strings.Join(layerTensors, ", "))
	}
	if err := checkIndex(what, idx, shape); err != nil {
		return Explanation{}, err
	}
	if tensor == TensorDY {
		// dL/dY of layer i is dL/dX of layer i+1, or the loss's dL/dz.
		var e Explanation
		var err error
		if i+1 < len(t.layers) {
			e, err = v.explainLayer(i+1, TensorDX, idx)
			e.Note = strings.TrimSpace(fmt.Sprintf("dL/dY of %s is dL/dX of %s. %s", name, t.layerName(i+1), e.Note))
		} else {
			e, err = v.explainLoss(TensorDLogit, idx)
			e.Note = strings.TrimSpace(fmt.Sprintf("dL/dY of %s is dL/dz of the loss, z being its output (the logits). %s", name, e.Note))
		}
		return e, err
	}
	if tensor == TensorUpdateW || tensor == TensorUpdateB {
		return v.explainUpdate(i, tensor, idx)
	}
	e := Explanation{Layer: i, Name: name, Tensor: tensor, Index: slices.Clone(idx)}
	var err error
	switch l := l.(type) {
	case *Conv2D:
		err = v.explainConv(l, i, &e)
	case *MaxPool2D:
		err = v.explainMaxPool(l, i, &e)
	case *AvgPool2D:
		err = v.explainAvgPool(l, i, &e)
	case *ReLU, *LeakyReLU, *Tanh, *Sigmoid:
		err = v.explainActivation(l, i, &e)
	case *Dense:
		err = v.explainDense(l, i, &e)
	case *Flatten:
		err = v.explainFlatten(l, i, &e)
	default:
		err = fmt.Errorf("%s: no explanation for layers of kind %s", what, l.Kind())
	}
	return e, err
}

// batchGrad fills e.Value with the batch's gradient of parameter j of layer i
// at flat offset k, and e.Batch with every sample's share of it, given by
// share(x, dy), which reads one sample's layer input and dL/dY.
func (v *view) batchGrad(i, j, k int, e *Explanation, share func(x, dy []float64) float64) {
	t := v.t
	e.Value = t.params[i][j].Grad.Data[k]
	x, dy := t.layerInput(i), t.gradOuts[i]
	N := x.Shape[0]
	b := &BatchSum{N: N, Shares: make([]float64, N)}
	for n := range N {
		b.Shares[n] = share(sampleSlice(x, n), sampleSlice(dy, n))
		b.Total += b.Shares[n]
	}
	e.Batch = b
	if v.probe {
		e.Note = joinNote(e.Note, "The probe image is not in the batch: its terms are what its own pass (a batch of one, at the current weights) gives, not part of the value, which is the batch's gradient, the sum of the shares in Batch.")
	}
}

// layerInput is layer i's input batch in the trainer's own pass.
func (t *Trainer) layerInput(i int) *Tensor {
	if i == 0 {
		return t.x
	}
	return t.outs[i-1]
}

// SampleGrad returns one sample's own gradient of each parameter of the
// layer (W, then b): dL_n/dθ, where L_n is the sample's cross-entropy, computed
// from its layer input and dL/dY. The batch's gradient, the one Update uses,
// is the mean of the samples' gradients (the loss is the batch mean). With
// opt.Probe it is the probe image's gradient from its own pass at the
// current weights. It returns an error for a layer without parameters or
// outside the network, a sample outside the batch, or before the layer's
// backward phase has run in this step. It is SampleShare times N.
func (t *Trainer) SampleGrad(layer int, opt TraceOptions) ([]*Tensor, error) {
	gs, err := t.SampleShare(layer, opt)
	if err != nil {
		return nil, err
	}
	// dL/dY carries the 1/N of the batch mean: N times the share is the
	// sample's own gradient.
	N := 1.0
	if !opt.Probe {
		N = float64(t.x.Shape[0])
	}
	for _, g := range gs {
		for k := range g.Data {
			g.Data[k] *= N
		}
	}
	return gs, nil
}
