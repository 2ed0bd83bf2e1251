package server

import (
	"fmt"

	"github.com/backpropviz/backpropviz/engine"
)

// tlProbeNet runs a snapshot's probe image forward through the network at
// the snapshot's weights: the engine's own layers, built from the spec as
// the trainer builds its probe's (engine.BuildLayers, no initialisation),
// so the feature maps, probabilities and loss are those the trainer
// computed at that step, bit for bit.
type tlProbeNet struct {
	layers []engine.Layer
	params [][]*engine.Param
	x      *engine.Tensor // (1, C, H, W)
	loss   engine.SoftmaxCrossEntropy
	outs   []*engine.Tensor
	of     *tlSnap // the snapshot whose pass outs hold
}

func newTLProbeNet(t *engine.Trainer) (*tlProbeNet, error) {
	specs, err := engine.ParseSpec(t.Config().Spec)
	if err != nil {
		return nil, err
	}
	infos := t.Layers()
	layers, err := engine.BuildLayers(specs, t.InputShape(), infos[len(infos)-1].OutShape.Size(), nil)
	if err != nil {
		return nil, err
	}
	n := &tlProbeNet{layers: layers, outs: make([]*engine.Tensor, len(layers)),
		x: engine.NewTensor(append([]int{1}, t.InputShape()...)...)}
	for _, l := range layers {
		n.params = append(n.params, l.Params())
	}
	return n, nil
}

// forward runs sn's probe image at sn's weights (unless it last did).
func (n *tlProbeNet) forward(l *tlLayout, sn *tlSnap) {
	if n.of == sn {
		return
	}
	for i, ps := range n.params {
		for _, p := range ps {
			sp := l.layers[i].w
			if p.IsBias {
				sp = l.layers[i].b
			}
			copy(p.Value.Data, sn.data[sp.off:sp.off+sp.size()])
		}
	}
	copy(n.x.Data, sn.probe.x)
	in := n.x
	for i, layer := range n.layers {
		n.outs[i] = layer.Forward(in)
		in = n.outs[i]
	}
	n.loss.Forward(in, []int{sn.probe.label})
	n.of = sn
}

// trace is a snapshot as a trace of its probe image: its weights and
// gradients (views of the snapshot's array) and the probe's feature maps
// and probabilities (views of the probe network's buffers), valid until
// the next trace; the frame encoder reads it at once.
func (h *timeline) trace(sn *tlSnap) (*engine.Trace, error) {
	if h.net == nil {
		net, err := newTLProbeNet(h.trainer)
		if err != nil {
			return nil, fmt.Errorf("timeline probe network: %w", err)
		}
		h.net = net
	}
	l, n := h.layout, h.net
	n.forward(l, sn)
	view := func(sp tlSpan) *engine.Tensor {
		return &engine.Tensor{Shape: sp.shape, Data: sn.data[sp.off : sp.off+sp.size() : sp.off+sp.size()]}
	}
	probs := n.loss.Probs.Data
	tr := &engine.Trace{Step: sn.step, Probe: true, Sample: -1, Index: -1, Label: sn.probe.label,
		Loss: n.loss.PerSample[0], BatchLoss: sn.loss, Prediction: argmaxOf(probs), Probs: probs,
		Input: &engine.Tensor{Shape: l.in, Data: sn.probe.x}}
	tr.Layers = make([]engine.LayerTrace, len(l.layers))
	for i := range l.layers {
		ls, lt := &l.layers[i], &tr.Layers[i]
		lt.Index = i
		lt.Output = &engine.Tensor{Shape: ls.out, Data: n.outs[i].Data}
		if ls.hasW {
			lt.Weights = view(ls.w)
			if sn.grads {
				lt.GradWeights = view(ls.dw)
			}
		}
		if ls.hasBias {
			lt.Bias = view(ls.b)
			if sn.grads {
				lt.GradBias = view(ls.db)
			}
		}
	}
	return tr, nil
}

// argmaxOf is the index of the largest value (the first of equals), as
// the engine's prediction.
func argmaxOf(xs []float64) int {
	best := 0
	for i, v := range xs {
		if v > xs[best] {
			best = i
		}
	}
	return best
}
