package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Answering a question (see explain.go for the answer's types): which
// numbers a question reads (a view of the batch or of the probe's pass),
// Explain's checks of the query, and the answers every parameterised layer
// shares (its batch gradient as a sum of the samples' shares).

// view is what a question reads: the trainer's batch, or the probe's pass.
type view struct {
	t     *Trainer // the trainer asked: parameters, gradients, optimizer, progress
	src   *Trainer // t, or t's probe network: layers, activations, dL/dY, loss
	n     int      // the sample within src's batch
	probe bool
	// progress is how far the pass read has come (phases done): the
	// step's, or in the preview before a step has started the probe's
	// forward pass and loss, as the trace shows them
	progress int
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
	v, err := t.viewOf(q.Sample, q.Probe)
	if t.progress == 0 {
		// before the first phase of a step the page shows a preview, the
		// probe image's forward pass and loss at the current weights
		// (Trace with Preview): the answer reads it; no batch is drawn yet
		if q.Layer == LossLayer && q.Tensor == TensorBatchLoss {
			return Explanation{}, t.notYet("the batch's mean loss", Phase{PhaseLoss, -1})
		}
		v, err = &view{t: t, src: t.probePass(), probe: true, progress: len(t.layers) + 1}, nil
	}
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
	if t.progress == 0 {
		e.Note = strings.TrimSpace(previewNote + " " + e.Note)
	}
	e.Sum = sumTerms(e.Terms)
	return e, nil
}

// viewOf selects the sample: one of the batch, or the probe.
func (t *Trainer) viewOf(sample int, probe bool) (*view, error) {
	if probe {
		return &view{t: t, src: t.probePass(), probe: true, progress: t.progress}, nil
	}
	if n := len(t.batchIdx); sample < 0 || sample >= n {
		return nil, fmt.Errorf("sample %d: the batch has samples 0 … %d", sample, n-1)
	}
	return &view{t: t, src: t, n: sample, progress: t.progress}, nil
}

// previewNote says what an answer before the first phase of a step reads.
const previewNote = "No step has started: this is the preview, the probe image's forward pass and loss at the current weights (no batch is drawn yet; the first phase draws one)."

// Where each phase stands in the pass a question reads.
func (v *view) forwardDone(i int) bool  { return v.progress > i }
func (v *view) lossDone() bool          { return v.progress > len(v.t.layers) }
func (v *view) backwardDone(i int) bool { return v.progress > 2*len(v.t.layers)-i }

// gradOutputDone says whether dL/dY of layer i is computed: by layer i+1's
// backward phase (its dL/dX), or for the last layer by its own backward
// (the loss's dL/dz is computed there).
func (v *view) gradOutputDone(i int) bool {
	if i+1 < len(v.t.layers) {
		return v.backwardDone(i + 1)
	}
	return v.backwardDone(i)
}

// Where the backward pass stands in the current step.
func (t *Trainer) backwardDone(i int) bool { return t.progress > 2*len(t.layers)-i }

// gradOutputPhase is the phase that computes dL/dY of layer i.
func (t *Trainer) gradOutputPhase(i int) Phase {
	if i+1 < len(t.layers) {
		return Phase{PhaseBackward, i + 1}
	}
	return Phase{PhaseBackward, i}
}

// notYet is the error for a number whose phase has not run in this step;
// before the first phase it says what the page shows instead.
func (t *Trainer) notYet(what string, p Phase) error {
	if t.progress == 0 {
		return fmt.Errorf("%s is not computed yet: %s has not run in this step, and no step has started (the page shows the probe image's forward pass and loss until → runs the first phase)", what, t.PhaseLabel(p))
	}
	return fmt.Errorf("%s is not computed yet: %s has not run in this step", what, t.PhaseLabel(p))
}

// tensorWords are the page's words for a layer's tensors (δ for dL/dY, as
// its maps and drill-down write it).
var tensorWords = map[string]string{
	TensorY: "Y", TensorDY: "δ", TensorDX: "dL/dX", TensorDW: "dL/dW", TensorDB: "dL/db",
	TensorUpdateW: "W", TensorUpdateB: "b",
}

// cellWords writes a cell of a layer's tensor as the page does: "δ[0,12,12]".
func cellWords(tensor string, idx []int) string {
	w := tensorWords[tensor]
	if w == "" {
		w = tensor
	}
	if len(idx) > 0 {
		s := make([]string, len(idx))
		for i, v := range idx {
			s[i] = strconv.Itoa(v)
		}
		w += "[" + strings.Join(s, ",") + "]"
	}
	if tensor == TensorUpdateW || tensor == TensorUpdateB {
		w += " after the update"
	}
	return w
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
	// a number not computed yet is named as the page names the cell clicked
	cell := cellWords(tensor, idx) + " of " + name
	var shape []int
	switch tensor {
	case TensorY:
		shape = l.OutShape()
		if !v.forwardDone(i) {
			return Explanation{}, t.notYet(cell, Phase{PhaseForward, i})
		}
	case TensorDY:
		shape = l.OutShape()
		if !v.gradOutputDone(i) {
			return Explanation{}, t.notYet(cell, t.gradOutputPhase(i))
		}
	case TensorDX:
		shape = l.InShape()
		if !v.backwardDone(i) {
			return Explanation{}, t.notYet(cell, Phase{PhaseBackward, i})
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
			if !v.backwardDone(i) {
				return Explanation{}, t.notYet(cell, Phase{PhaseBackward, i})
			}
		} else if !t.updated {
			return Explanation{}, t.notYet(cell, Phase{PhaseUpdate, -1})
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
