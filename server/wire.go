package server

import (
	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Engine types carry no JSON tags; they are converted to the protocol's
// wire types here, in one place. (Traces are written as frames by
// protocol.FrameEncoder.)

func toWireHyper(h engine.Hyper) protocol.Hyper {
	return protocol.Hyper{Opt: h.Optimizer, LR: h.LearningRate, Momentum: h.Momentum, Nesterov: h.Nesterov,
		WD: h.WeightDecay, Beta1: h.Beta1, Beta2: h.Beta2, Eps: h.Epsilon, Batch: h.BatchSize}
}

var phaseKinds = map[engine.PhaseKind]string{
	engine.PhaseForward:  protocol.PhaseForward,
	engine.PhaseLoss:     protocol.PhaseLoss,
	engine.PhaseBackward: protocol.PhaseBackward,
	engine.PhaseUpdate:   protocol.PhaseUpdate,
}

func toWirePhase(t *engine.Trainer, p engine.Phase) *protocol.Phase {
	return &protocol.Phase{Kind: phaseKinds[p.Kind], Layer: p.Layer, Label: t.PhaseLabel(p)}
}

func toWireLayers(infos []engine.LayerInfo) []protocol.Layer {
	out := make([]protocol.Layer, len(infos))
	for i, l := range infos {
		out[i] = protocol.Layer{Index: l.Index, Kind: l.Kind, Spec: l.Spec, Name: l.Name,
			InShape: l.InShape, OutShape: l.OutShape, Params: l.ParamShapes}
		if out[i].Params == nil {
			out[i].Params = [][]int{}
		}
	}
	return out
}
