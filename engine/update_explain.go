package engine

import (
	"errors"
	"math"
)

// Explaining the update of one parameter (see explain.go): the optimizer's
// step worked out with this step's numbers, following sgdStep and adamStep
// operation for operation, so that it reproduces the new value bit for bit.

// UpdateDetail is the optimizer's step for one parameter value.
type UpdateDetail struct {
	Optimizer     string  // Hyper.Optimizer's name
	Before, After float64 // the value before and after the update
	Delta         float64 // After − Before, the trace's ΔW
	Grad          float64 // dL/dθ of the batch
	WeightDecay   float64 // λ applied: 0 for a bias
	G             float64 // Grad + λ·Before, the gradient the optimizer steps on
	LearningRate  float64
	// Flushed: a subnormal momentum buffer or moment was set to 0.
	Flushed bool

	// SGD (with momentum μ > 0; without, the step is −lr·G).
	Momentum            float64
	Nesterov            bool
	First               bool // the buffer was empty: buf = G
	BufBefore, BufAfter float64
	Direction           float64 // G + μ·buf (Nesterov), buf, or G without momentum

	// Adam.
	Beta1, Beta2, Epsilon float64
	Step                  int // t, counting this update
	MBefore, MAfter       float64
	VBefore, VAfter       float64
	BiasCorrection1       float64 // 1 − β1ᵗ
	BiasCorrection2       float64 // 1 − β2ᵗ
	Denom                 float64 // √v / √(1 − β2ᵗ) + ε

	// Any other optimizer: its state buffers before and after.
	State []StateChange
}

// optUpdate is what the last Update did to one parameter value: the
// optimizer, its step count and each state buffer's value before and after.
type optUpdate struct {
	kind  string
	t     int // steps taken, this one included (Adam's t; SGD's first step is t = 1)
	hyper Hyper
	state []StateChange // in the order of OptState.Buffers
}

// StateChange is one optimizer state buffer's value before and after an
// update, named as in the saved file ("momentum", "adam_m", "square_avg").
type StateChange struct {
	Name          string
	Before, After float64
}

// of returns the change of the buffer named name (zeros if there is none).
func (u optUpdate) of(name string) [2]float64 {
	for _, c := range u.state {
		if c.Name == name {
			return [2]float64{c.Before, c.After}
		}
	}
	return [2]float64{}
}

// lastUpdate returns the optimizer state of value k of parameter j of layer
// i before and after this step's Update. It is the one place that reads the
// optimizer's run (t.opt: its state, and the checkpoint Update made first);
// the rest of this file works from its result.
func (t *Trainer) lastUpdate(i, j, k int) optUpdate {
	r := &t.opt
	u := optUpdate{kind: r.kind, t: r.t, hyper: t.cfg.Hyper}
	u.hyper.LearningRate = t.lastRate
	// the checkpoint Update wrote before it changed anything: the one that
	// holds t.old
	c := &t.ckpt[0]
	if len(t.old) > 0 && len(t.ckpt[1].weights) > 0 && &t.ckpt[1].weights[0] == &t.old[0] {
		c = &t.ckpt[1]
	}
	for _, b := range r.state[i][j].Buffers(t.cfg.Hyper) {
		for s, x := range r.bufs {
			if len(x) > 0 && len(b.Data) > 0 && &x[0] == &b.Data[0] {
				u.state = append(u.state, StateChange{Name: b.Name, Before: c.bufs[s][k], After: b.Data[k]})
			}
		}
	}
	return u
}

// explainUpdate answers updateW and updateb of layer i.
func (v *view) explainUpdate(i int, tensor string, idx []int) (Explanation, error) {
	t := v.t
	j := 0
	if tensor == TensorUpdateB {
		j = 1
	}
	p := t.params[i][j]
	k := flat(idx, p.Value.Shape)
	e := Explanation{Layer: i, Name: t.layerName(i), Tensor: tensor, Index: append([]int{}, idx...), Value: p.Value.Data[k]}
	if t.cfg.Hyper != t.lastHyper {
		return Explanation{}, errHyperChanged
	}
	u := t.lastUpdate(i, j, k)
	h := u.hyper
	d := UpdateDetail{Optimizer: u.kind, Before: t.old[i][j][k], Grad: p.Grad.Data[k], LearningRate: h.LearningRate}
	d.After, d.Delta = e.Value, e.Value-d.Before
	if !p.IsBias {
		d.WeightDecay = h.WeightDecay
	}
	name := p.Name
	w, g := d.Before, d.Grad
	if d.WeightDecay != 0 {
		g += float64(d.WeightDecay * w)
	}
	d.G = g
	lines := []Quantity{{Name: "g", Formula: "dL/d" + name + " + λ·" + name, Value: g,
		Args: []Arg{{Name: "dL/d" + name, Value: d.Grad}, {Name: "λ", Value: d.WeightDecay}, {Name: name, Value: w}}}}
	var step Term // the term added to Before
	switch u.kind {
	case OptSGD:
		mu := h.Momentum
		d.Momentum, d.Nesterov = mu, h.Nesterov
		dir := g
		if mu != 0 {
			d.First, d.BufBefore = u.t == 1, u.of("momentum")[0]
			buf := g
			if d.First {
				lines = append(lines, Quantity{Name: "buf", Formula: "g (the first step fills the buffer)", Value: buf, Args: []Arg{{Name: "g", Value: g}}})
			} else {
				buf = float64(mu*d.BufBefore) + g
				lines = append(lines, Quantity{Name: "buf", Formula: "μ·buf + g", Value: buf,
					Args: []Arg{{Name: "μ", Value: mu}, {Name: "buf", Value: d.BufBefore}, {Name: "g", Value: g}}})
			}
			if math.Abs(buf) < minNormal {
				buf, d.Flushed = 0, buf != 0
			}
			d.BufAfter = buf
			if h.Nesterov {
				dir += float64(mu * buf)
				lines = append(lines, Quantity{Name: "d", Formula: "g + μ·buf (Nesterov)", Value: dir,
					Args: []Arg{{Name: "g", Value: g}, {Name: "μ", Value: mu}, {Name: "buf", Value: buf}}})
			} else {
				dir = buf
			}
		}
		d.Direction = dir
		step = Term{A: Operand{Name: "−lr", Value: -h.LearningRate}, B: Operand{Name: "d", Value: dir}, Product: -(h.LearningRate * dir)}
		e.Formula = name + "_new = " + name + " − lr·d"
		if mu == 0 {
			e.Formula = name + "_new = " + name + " − lr·g"
			step.B.Name = "g"
		}
		if d.BufAfter != u.of("momentum")[1] {
			return Explanation{}, errHyperChanged
		}
	case OptAdam:
		b1, b2 := h.Beta1, h.Beta2
		d.Beta1, d.Beta2, d.Epsilon, d.Step = b1, b2, h.Epsilon, u.t
		d.MBefore, d.VBefore = u.of("adam_m")[0], u.of("adam_v")[0]
		bc1 := 1 - math.Pow(b1, float64(u.t))
		bc2 := 1 - math.Pow(b2, float64(u.t))
		stepSize := h.LearningRate / bc1
		sqrtBC2 := math.Sqrt(bc2)
		m := d.MBefore
		m += float64((1 - b1) * (g - m))
		vv := float64(b2*d.VBefore) + float64((1-b2)*g*g)
		lines = append(lines,
			Quantity{Name: "m", Formula: "β1·m + (1−β1)·g, computed as m + (1−β1)·(g − m)", Value: m,
				Args: []Arg{{Name: "β1", Value: b1}, {Name: "m", Value: d.MBefore}, {Name: "g", Value: g}}},
			Quantity{Name: "v", Formula: "β2·v + (1−β2)·g²", Value: vv,
				Args: []Arg{{Name: "β2", Value: b2}, {Name: "v", Value: d.VBefore}, {Name: "g", Value: g}}})
		if math.Abs(m) < minNormal {
			m, d.Flushed = 0, m != 0 || d.Flushed
		}
		if vv < minNormal {
			vv, d.Flushed = 0, vv != 0 || d.Flushed
		}
		denom := math.Sqrt(vv)/sqrtBC2 + h.Epsilon
		d.MAfter, d.VAfter, d.BiasCorrection1, d.BiasCorrection2, d.Denom = m, vv, bc1, bc2, denom
		lines = append(lines,
			Quantity{Name: "1 − β1ᵗ", Formula: "1 − β1ᵗ", Value: bc1, Args: []Arg{{Name: "β1", Value: b1}, {Name: "t", Value: float64(u.t)}}},
			Quantity{Name: "1 − β2ᵗ", Formula: "1 − β2ᵗ", Value: bc2, Args: []Arg{{Name: "β2", Value: b2}, {Name: "t", Value: float64(u.t)}}},
			Quantity{Name: "m̂", Formula: "m / (1 − β1ᵗ)", Value: m / bc1, Args: []Arg{{Name: "m", Value: m}, {Name: "1 − β1ᵗ", Value: bc1}}},
			Quantity{Name: "√v̂ + ε", Formula: "√v / √(1 − β2ᵗ) + ε", Value: denom,
				Args: []Arg{{Name: "v", Value: vv}, {Name: "1 − β2ᵗ", Value: bc2}, {Name: "ε", Value: h.Epsilon}}})
		step = Term{A: Operand{Name: "−lr", Value: -h.LearningRate}, B: Operand{Name: "m̂ / (√v̂ + ε)", Value: m / bc1 / denom},
			Product: -(stepSize * m / denom)}
		e.Formula = name + "_new = " + name + " − lr · m̂ / (√v̂ + ε),  m̂ = m / (1 − β1ᵗ),  √v̂ = √v / √(1 − β2ᵗ)"
		if m != u.of("adam_m")[1] || vv != u.of("adam_v")[1] {
			return Explanation{}, errHyperChanged
		}
	default:
		// An optimizer without a worked-out form here: its step as the
		// change it made, with its state before and after.
		d.State = u.state
		step = Term{A: Operand{Name: "Δ" + name, Value: d.Delta}, Product: d.Delta}
		e.Formula = name + "_new = " + name + " + Δ" + name + " (" + u.kind + "; its state is listed)"
		e.Terms = []Term{{A: Operand{Name: name, Index: e.Index, Value: w}, Product: w}, step}
		e.Lines, e.Update = lines, &d
		return e, nil
	}
	e.Terms = []Term{{A: Operand{Name: name, Index: e.Index, Value: w}, Product: w}, step}
	if w+step.Product != d.After {
		return Explanation{}, errHyperChanged
	}
	e.Lines = lines
	e.Update = &d
	if d.Flushed {
		e.Note = "A subnormal momentum or moment was flushed to 0 (it would only slow the arithmetic)."
	}
	if p.IsBias && h.WeightDecay != 0 {
		e.Note = joinNote(e.Note, "Weight decay skips biases.")
	}
	return e, nil
}

// errHyperChanged is returned when the update cannot be replayed because
// SetHyper changed the hyperparameters after it.
var errHyperChanged = errors.New("the hyperparameters changed after this step's update, so it cannot be worked out again: the next step's update can be explained")
