package engine

import (
	"errors"
	"math"
)

// OptSGD names stochastic gradient descent, with optional momentum and
// Nesterov, in Hyper.Optimizer.
const OptSGD = "sgd"

// minNormal is the smallest positive normal float64, 2⁻¹⁰²².
const minNormal = 0x1p-1022

// sgd is torch.optim.SGD (dampening 0). It reads LearningRate, Momentum,
// Nesterov and WeightDecay.
type sgd struct{}

// sgdState is one parameter's SGD state.
type sgdState struct {
	momentum []float64 // (the parameter's shape) the momentum buffer
}

func (sgd) Check(h Hyper) error {
	if h.Nesterov && h.Momentum == 0 {
		return errors.New("nesterov needs momentum > 0")
	}
	return nil
}

func (sgd) NewState(n int) OptState { return &sgdState{momentum: make([]float64, n)} }

// Buffers returns the momentum buffer, shown with momentum > 0.
func (s *sgdState) Buffers(h Hyper) []StateBuffer {
	return []StateBuffer{{Name: "momentum", Data: s.momentum, Shown: h.Momentum != 0, Optional: true}}
}

// Step applies one step of stochastic gradient descent to p, following
// torch.optim.SGD (dampening 0):
//
//	g   = ∇p + λ·p            (λ = weight decay; biases get λ = 0)
//	buf = g                   at the first step (t = 1) with momentum μ > 0
//	buf = μ·buf + g           afterwards
//	g   = g + μ·buf           (Nesterov) or g = buf (classic momentum)
//	p   = p − lr·g
//
// (with subnormal buffer values flushed to zero, see below). Every product
// is rounded before it is added (the explicit float64 conversions): no
// architecture fuses a multiply-add, so the numbers are the same on all.
func (sgd) Step(p *Param, st OptState, t int, h Hyper) {
	buf := st.(*sgdState).momentum
	first := t == 1
	w, grad := p.Value.Data, p.Grad.Data
	wd := h.WeightDecay
	if p.IsBias {
		wd = 0
	}
	mu, lr := h.Momentum, h.LearningRate
	for i := range w {
		g := grad[i]
		if wd != 0 {
			g += float64(wd * w[i])
		}
		if mu != 0 {
			if first {
				buf[i] = g
			} else {
				buf[i] = float64(mu*buf[i]) + g
			}
			if math.Abs(buf[i]) < minNormal {
				// Flush subnormals to zero: a buffer decaying by μ each step
				// otherwise lingers at the smallest subnormal (0.9·2⁻¹⁰⁷⁴
				// rounds back to it), and subnormal arithmetic is many times
				// slower. lr·buf is then far below half an ulp of any weight
				// larger than 1e-290, so the weights are unchanged.
				buf[i] = 0
			}
			if h.Nesterov {
				g += float64(mu * buf[i])
			} else {
				g = buf[i]
			}
		}
		w[i] -= float64(lr * g)
	}
}
