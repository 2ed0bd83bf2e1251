package engine

import "fmt"

// One sample's share of a batch gradient. The loss is the batch mean, so
// dL/dY of sample n carries a factor 1/N, and what sample n adds to dL/dW
// is its share, dL_n/dW / N: the batch's dL/dW (the one Update uses) is
// the sum of the shares over the batch. The share is what an explanation's
// terms of dW add up to (see BatchSum) and what WalkConv's dW result is.

// SampleShare returns one sample's share of the batch gradient of each
// parameter of the layer (W, then b), e.g. (F, C, KH, KW) and (F) for a
// conv layer: computed from the sample's layer input and dL/dY, the sum of
// the terms an explanation of dW lists for it. Summed over the batch's
// samples it is the batch's gradient (to float64 rounding: the backward
// pass adds in another order). With opt.Probe it is the probe image's
// gradient from its own pass at the current weights (a batch of one, so
// share and gradient are equal). It returns an error for a layer without
// parameters or outside the network, a sample outside the batch, or before
// the layer's backward phase has run in this step.
func (t *Trainer) SampleShare(layer int, opt TraceOptions) ([]*Tensor, error) {
	if layer < 0 || layer >= len(t.layers) {
		return nil, fmt.Errorf("layer %d: the network has layers 0 … %d", layer, len(t.layers)-1)
	}
	name := t.layerName(layer)
	if len(t.params[layer]) == 0 {
		return nil, fmt.Errorf("%s has no parameters", name)
	}
	if t.progress == 0 || !t.backwardDone(layer) {
		return nil, t.notYet("the gradient of "+name, Phase{PhaseBackward, layer})
	}
	v, err := t.viewOf(opt.Sample, opt.Probe)
	if err != nil {
		return nil, err
	}
	x, dy := v.of(v.input(layer)), v.of(v.src.gradOuts[layer])
	switch l := t.layers[layer].(type) {
	case *Conv2D:
		return l.sampleGrad(x, dy), nil
	case *Dense:
		return l.sampleGrad(x, dy), nil
	}
	return nil, fmt.Errorf("%s: no per-sample gradient for layers of kind %s", name, t.layers[layer].Kind())
}

// addShares sets the SampleGradWeights and SampleGradBias of the layers of
// tr whose backward phase has run (see TraceOptions.Shares).
func (t *Trainer) addShares(tr *Trace, opt TraceOptions) {
	if !tr.Started && !opt.Probe {
		return
	}
	opt.Sample = max(tr.Sample, 0)
	for i := range tr.Layers {
		if len(t.params[i]) == 0 || t.progress == 0 || !t.backwardDone(i) {
			continue
		}
		gs, err := t.SampleShare(i, opt)
		if err != nil {
			continue // a layer kind without per-sample gradients
		}
		tr.Layers[i].SampleGradWeights, tr.Layers[i].SampleGradBias = gs[0], gs[1]
	}
}
