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
		WD: h.WeightDecay, Beta1: h.Beta1, Beta2: h.Beta2, Eps: h.Epsilon, Batch: h.BatchSize, Decay: h.DecayEpochs}
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

// toWireExplanation converts an explanation, sending at most limit terms:
// all in the engine's order if there are no more, else the limit largest
// by |product| with the others folded into one sum.
func toWireExplanation(e *engine.Explanation, limit int) protocol.Explanation {
	out := protocol.Explanation{Type: protocol.TypeExplanation, V: protocol.Version,
		Layer: e.Layer, Name: e.Name, Tensor: e.Tensor, Index: nonNilInts(e.Index), Sample: e.Sample, Probe: e.Probe,
		Value: protocol.F64(e.Value), Sum: protocol.F64(e.Sum), Formula: e.Formula, Note: e.Note,
		TermsTotal: len(e.Terms), Lines: make([]protocol.Quantity, len(e.Lines))}
	terms := e.Terms
	if len(terms) > limit {
		f := e.Largest(limit)
		terms, out.Folded, out.FoldedSum = f.Top, f.Folded, protocol.F64(f.FoldedSum)
	}
	out.Terms = make([]protocol.Term, len(terms))
	for i, t := range terms {
		w := protocol.Term{A: toWireOperand(t.A), Product: protocol.F64(t.Product), Padding: t.Padding, Winner: t.Winner,
			Switch: t.Switch, Rotated: t.Rotated, Dilated: t.Dilated}
		if t.B.Name != "" {
			b := toWireOperand(t.B)
			w.B = &b
		}
		out.Terms[i] = w
	}
	for i, q := range e.Lines {
		args := make([]protocol.Arg, len(q.Args))
		for j, a := range q.Args {
			args[j] = protocol.Arg{Name: a.Name, Value: protocol.F64(a.Value)}
		}
		out.Lines[i] = protocol.Quantity{Name: q.Name, Formula: q.Formula, Args: args, Value: protocol.F64(q.Value)}
	}
	if w := e.Window; w != nil {
		out.Window = &protocol.Window{KH: w.KH, KW: w.KW, Stride: w.Stride, Pad: w.Pad, InH: w.InH, InW: w.InW,
			OutH: w.OutH, OutW: w.OutW, Origin: w.Origin, PlaneH: w.PlaneH, PlaneW: w.PlaneW}
	}
	if b := e.Batch; b != nil {
		out.Batch = &protocol.BatchSum{N: b.N, Shares: protocol.F64s(nonNilFloats(b.Shares)), Total: protocol.F64(b.Total)}
	}
	if u := e.Update; u != nil {
		out.Update = toWireUpdate(u)
	}
	return out
}

func toWireOperand(o engine.Operand) protocol.Operand {
	return protocol.Operand{Name: o.Name, Index: o.Index, Value: protocol.F64(o.Value)}
}

func toWireUpdate(u *engine.UpdateDetail) *protocol.Update {
	f := func(v float64) protocol.F64 { return protocol.F64(v) }
	out := &protocol.Update{Optimizer: u.Optimizer, Before: f(u.Before), After: f(u.After), Delta: f(u.Delta),
		Grad: f(u.Grad), WeightDecay: f(u.WeightDecay), G: f(u.G), LearningRate: f(u.LearningRate), Flushed: u.Flushed,
		Momentum: f(u.Momentum), Nesterov: u.Nesterov, First: u.First, BufBefore: f(u.BufBefore), BufAfter: f(u.BufAfter),
		Direction: f(u.Direction), Beta1: f(u.Beta1), Beta2: f(u.Beta2), Epsilon: f(u.Epsilon), Step: u.Step,
		MBefore: f(u.MBefore), MAfter: f(u.MAfter), VBefore: f(u.VBefore), VAfter: f(u.VAfter),
		BiasCorrection1: f(u.BiasCorrection1), BiasCorrection2: f(u.BiasCorrection2), Denom: f(u.Denom),
		State: make([]protocol.StateChange, len(u.State))}
	for i, s := range u.State {
		out.State[i] = protocol.StateChange{Name: s.Name, Before: f(s.Before), After: f(s.After)}
	}
	return out
}

// toWireWalk converts a walk-through of a conv layer's backward convolution.
func toWireWalk(w *engine.ConvWalk) protocol.Walkthrough {
	out := protocol.Walkthrough{Type: protocol.TypeWalkthrough, V: protocol.Version,
		Layer: w.Layer, Name: w.Name, Grad: w.Grad, Filter: w.Filter, Channel: w.Channel, Sample: w.Sample, Probe: w.Probe,
		Stride: w.Stride, Pad: w.Pad, KH: w.KH, KW: w.KW, InH: w.InH, InW: w.InW, OutH: w.OutH, OutW: w.OutW,
		X: w.X, Delta: w.Delta, W: w.W, Result: w.Result, Steps: make([]protocol.WalkStep, len(w.Steps))}
	if w.Grad == engine.TensorDX {
		out.DilatedH, out.DilatedW, out.Dilated = w.DilatedH, w.DilatedW, w.Dilated
	}
	// one backing array for the steps' small index pairs
	pairs := make([]int, 0, 4*len(w.Steps))
	pair := func(p [2]int) []int {
		pairs = append(pairs, p[0], p[1])
		return pairs[len(pairs)-2 : len(pairs) : len(pairs)]
	}
	for i := range w.Steps {
		s := &w.Steps[i]
		st := protocol.WalkStep{At: pair(s.At)}
		if w.Grad == engine.TensorDW {
			st.Products, st.Sums = s.Products, s.Sums
		} else {
			partial, value := protocol.F64(s.Partial), protocol.F64(s.Value)
			st.Origin, st.Taps, st.Partial, st.Value = pair(s.Origin), s.Taps, &partial, &value
		}
		out.Steps[i] = st
	}
	return out
}

// toWireGradCheck converts a gradient check.
func toWireGradCheck(r *engine.GradCheckResult) protocol.GradCheck {
	out := protocol.GradCheck{Type: protocol.TypeGradCheck, V: protocol.Version,
		Layer: r.Layer, Name: r.Name, Param: r.Param, Index: nonNilInts(r.Index), H: protocol.F64(r.H),
		Weight: protocol.F64(r.Weight), Loss: protocol.F64(r.Loss), LossPlus: protocol.F64(r.LossPlus),
		LossMinus: protocol.F64(r.LossMinus), Numeric: protocol.F64(r.Numeric), Backprop: protocol.F64(r.Backprop),
		RelError: protocol.F64(r.RelError), Kinks: make([]protocol.Kink, len(r.Kinks))}
	for i, k := range r.Kinks {
		out.Kinks[i] = protocol.Kink{Layer: k.Layer, Name: k.Name, What: k.What, Minus: k.Minus, Plus: k.Plus}
	}
	return out
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

func nonNilFloats(s []float64) []float64 {
	if s == nil {
		return []float64{}
	}
	return s
}
