package engine

import (
	"maps"
	"math"
	"slices"
)

// Trace returns an immutable snapshot of what the current step has computed
// for one sample (see Trace). Phases not yet run leave their fields nil.
// Weights are always present.
func (t *Trainer) Trace(opt TraceOptions) *Trace {
	done, started := t.Done()
	tr := &Trace{
		Spec: t.cfg.Spec, Seed: t.cfg.Seed, Step: t.step, Epoch: t.epoch,
		Done: done, Started: started, Next: t.Next(), Hyper: t.cfg.Hyper, Rate: t.Rate(),
		Sample: -1, Index: -1, Label: -1, Prediction: -1,
		Loss: math.NaN(), BatchLoss: t.batchLoss,
	}
	if !started {
		tr.BatchLoss = math.NaN()
	}
	if t.updated {
		tr.Rate = t.lastRate
	}
	src := t
	sample := 0
	// progress is how far the traced pass has come: the step's, or with
	// a preview before the step has started the probe's forward pass.
	progress := t.progress
	if opt.Preview && !started && !t.updated {
		opt.Probe, opt.Shares = true, false
		progress = len(t.layers) + 1
	}
	if opt.Probe {
		src = t.probePass()
		tr.Probe = true
		tr.Label = src.labels[0]
	} else if started {
		sample = min(max(opt.Sample, 0), len(t.batchIdx)-1)
		tr.Sample, tr.Index, tr.Label = sample, t.batchIdx[sample], t.labels[sample]
	}
	skip := func(p TraceParts) bool { return opt.Skip&p != 0 }
	// of is one sample of a batch tensor, whole is a parameter tensor:
	// copies, or views with opt.Borrow.
	of, whole := (*Tensor).Sample, (*Tensor).Clone
	if opt.Borrow {
		of, whole = (*Tensor).sampleView, func(x *Tensor) *Tensor { return x }
	}
	if (opt.Probe || started) && !skip(TraceMaps) {
		tr.Input = of(src.x, sample)
	}
	lossDone := progress > len(t.layers)
	if lossDone {
		k := src.loss.Probs.Shape[1]
		tr.Probs = src.loss.Probs.Data[sample*k : (sample+1)*k : (sample+1)*k]
		if !opt.Borrow {
			tr.Probs = slices.Clone(tr.Probs)
		}
		tr.Loss = src.loss.PerSample[sample]
		tr.Prediction = argmax(tr.Probs)
	}
	infos := t.infos
	tr.Layers = make([]LayerTrace, len(t.layers))
	for i, info := range infos {
		lt := LayerTrace{Index: i, Kind: info.Kind, Spec: info.Spec, Name: info.Name,
			InShape: info.InShape, OutShape: info.OutShape}
		fwd := progress > i
		bwd := progress > 2*len(t.layers)-i
		if fwd && src.outs[i] != nil && !skip(TraceMaps) {
			lt.Output = of(src.outs[i], sample)
			// A layer's input is the previous layer's output: the trace
			// shares the one immutable copy.
			if i == 0 {
				lt.Input = tr.Input
			} else {
				lt.Input = tr.Layers[i-1].Output
			}
			if mp, ok := src.layers[i].(*MaxPool2D); ok {
				per := info.OutShape.Size()
				lt.Switches = mp.Switches()[sample*per : (sample+1)*per : (sample+1)*per]
				if !opt.Borrow {
					lt.Switches = slices.Clone(lt.Switches)
				}
			}
		}
		if bwd && src.gradOuts[i] != nil && !skip(TraceGradInput) {
			// GradOutput is set below, from the next layer's GradInput.
			if g := src.gradIns[i]; g != nil {
				lt.GradInput = of(g, sample)
			} else if c, ok := src.layers[i].(*Conv2D); ok && c.SkipInputGrad {
				lt.GradInput = c.InputGrad(sample)
			}
		}
		for j, p := range t.params[i] {
			w, g := &lt.Weights, &lt.GradWeights
			d := &lt.DeltaWeights
			if p.IsBias {
				w, g, d = &lt.Bias, &lt.GradBias, &lt.DeltaBias
			}
			if !skip(TraceWeights) {
				*w = whole(p.Value)
			}
			if bwd && !skip(TraceGradWeights) {
				*g = whole(p.Grad)
			}
			if t.updated && !skip(TraceDeltas) {
				*d = t.delta(i, j, p, opt.Borrow)
			}
			if t.updated && !skip(TraceOptState) {
				if lt.OptState == nil {
					lt.OptState = map[string]*Tensor{}
				}
				maps.Copy(lt.OptState, t.optState(i, j, p, opt.Borrow))
			}
		}
		tr.Layers[i] = lt
	}
	// dL/dY of layer i is dL/dX of layer i+1: it exists as soon as layer
	// i+1's backward phase computed it, and the trace shares that copy. The
	// last layer's dL/dY (the loss's dL/dz) comes with its own backward.
	n := len(t.layers)
	for i := n - 1; i >= 0 && !skip(TraceGradOutput); i-- {
		done := progress > 2*n-i // layer i's own backward ran
		if i+1 < n {
			done = progress > 2*n-(i+1) // layer i+1's backward ran
		}
		if !done {
			continue
		}
		switch {
		case i+1 < len(t.layers) && tr.Layers[i+1].GradInput != nil:
			tr.Layers[i].GradOutput = tr.Layers[i+1].GradInput
		case i+1 < len(t.layers) && src.gradIns[i+1] != nil:
			tr.Layers[i].GradOutput = of(src.gradIns[i+1], sample)
		case i+1 == len(t.layers) && src.gradOuts[i] != nil:
			tr.Layers[i].GradOutput = of(src.gradOuts[i], sample)
		}
	}
	if opt.Shares {
		t.addShares(tr, opt)
	}
	return tr
}

// delta returns ΔW = W_new − W_old of parameter (i, j) applied by the last
// Update: new memory, or with borrow the trainer's scratch buffer for it.
func (t *Trainer) delta(i, j int, p *Param, borrow bool) *Tensor {
	var buf []float64
	if borrow {
		if t.traceDeltas == nil {
			t.traceDeltas = make([][][]float64, len(t.params))
		}
		if t.traceDeltas[i] == nil {
			t.traceDeltas[i] = make([][]float64, len(t.params[i]))
		}
		if len(t.traceDeltas[i][j]) != len(p.Value.Data) {
			t.traceDeltas[i][j] = make([]float64, len(p.Value.Data))
		}
		buf = t.traceDeltas[i][j]
	} else {
		buf = make([]float64, len(p.Value.Data))
	}
	old := t.old[i][j][:len(buf)]
	for k, v := range p.Value.Data[:len(buf)] {
		buf[k] = v - old[k]
	}
	shape := p.Value.Shape
	if !borrow {
		shape = slices.Clone(shape)
	}
	return &Tensor{Shape: shape, Data: buf}
}

// optState returns the optimizer state of parameter (i, j) that the
// current hyperparameters read, keyed by buffer and parameter name
// ("adam_m_W"): copies, or with borrow views of the buffers.
func (t *Trainer) optState(i, j int, p *Param, borrow bool) map[string]*Tensor {
	st := map[string]*Tensor{}
	for _, b := range t.opt.state[i][j].Buffers(t.cfg.Hyper) {
		if b.Shown {
			x := &Tensor{Shape: p.Value.Shape, Data: b.Data}
			if !borrow {
				x = x.Clone()
			}
			st[b.Name+"_"+p.Name] = x
		}
	}
	return st
}

// probePass runs the probe image (the first test image, or the first
// training image if there is no test set) through a network of its own at
// the current weights: a full forward and backward pass, never mixed into the
// update. It is rerun only when the weights change.
func (t *Trainer) probePass() *Trainer {
	if t.probe == nil {
		p := &Trainer{cfg: t.cfg, data: t.data, specs: t.specs, in: t.in, classes: t.classes}
		layers, _ := BuildLayers(t.specs, t.in, t.classes, nil)
		p.setLayers(layers)
		p.x = NewTensor(append([]int{1}, t.in...)...)
		set := t.data.Test
		if set == nil || set.Len() == 0 {
			set = t.data.Train
		}
		p.labels = []int{set.Image(0, p.x.Data)}
		if t.probeInput != nil { // the user's own image (probe_input.go)
			copy(p.x.Data, t.probeInput)
			p.labels[0] = t.probeLabel
		}
		t.probe = p
		t.probeVersion = t.weightsVer - 1
	}
	p := t.probe
	if t.probeVersion == t.weightsVer {
		return p
	}
	t.probeVersion = t.weightsVer
	for i, ps := range t.params {
		for j, prm := range ps {
			copy(p.params[i][j].Value.Data, prm.Value.Data)
			p.params[i][j].Grad.Zero()
		}
	}
	in := p.x
	for i, l := range p.layers {
		p.outs[i] = l.Forward(in)
		in = p.outs[i]
	}
	p.loss.Forward(in, p.labels)
	dy := p.loss.Backward()
	for i := len(p.layers) - 1; i >= 0; i-- {
		p.gradOuts[i] = dy
		p.gradIns[i] = p.layers[i].Backward(dy)
		dy = p.gradIns[i]
	}
	return p
}

// evalBatch is the batch size of EvalTest.
const evalBatch = 20

// EvalTest measures the accuracy of the current weights on the first max
// test images (all of them if max ≤ 0), records it in Metrics and returns
// it. It runs on layers of its own and does not disturb the current step.
// It returns NaN if there is no test set.
func (t *Trainer) EvalTest(max int) float64 {
	set := t.data.Test
	if set == nil || set.Len() == 0 {
		return math.NaN()
	}
	n := set.Len()
	if max > 0 && max < n {
		n = max
	}
	if t.eval == nil {
		t.eval, _ = BuildLayers(t.specs, t.in, t.classes, nil)
	}
	for i, l := range t.eval {
		for j, p := range l.Params() {
			copy(p.Value.Data, t.params[i][j].Value.Data)
		}
	}
	per := t.in.Size()
	var x *Tensor
	hits := 0
	// Batches of at most the training batch: the evaluation holds no more
	// activations than a step (see EstimateMemory); each image's logits are
	// the same at any batch size.
	chunk := min(evalBatch, t.cfg.Hyper.BatchSize)
	for start := 0; start < n; start += chunk {
		b := min(chunk, n-start)
		x = resize(x, append([]int{b}, t.in...)...)
		labels := make([]int, b)
		for i := range b {
			labels[i] = set.Image(start+i, x.Data[i*per:(i+1)*per])
		}
		y := x
		for _, l := range t.eval {
			y = l.Forward(y)
		}
		k := y.Shape[1]
		for i := range b {
			if argmax(y.Data[i*k:(i+1)*k]) == labels[i] {
				hits++
			}
		}
	}
	acc := float64(hits) / float64(n)
	t.metrics.recordTest(acc, t.step)
	return acc
}

// ParamViews calls f for each parameter of each layer, in order: the
// layer's index, whether it is a bias, its value and the current step's
// gradient of it (nil until the step's backward pass has reached the
// layer), as a Borrow trace would carry them but without building one:
// views of the trainer's buffers, to be read before the next phase.
func (t *Trainer) ParamViews(f func(layer int, bias bool, value, grad *Tensor)) {
	for i, ps := range t.params {
		bwd := t.progress > 2*len(t.layers)-i
		for _, p := range ps {
			var g *Tensor
			if bwd {
				g = p.Grad
			}
			f(i, p.IsBias, p.Value, g)
		}
	}
}
