package engine

import "math"

// minNormal is the smallest positive normal float64, 2⁻¹⁰²².
const minNormal = 0x1p-1022

// sgdStep applies one step of stochastic gradient descent to p, following
// torch.optim.SGD (dampening 0):
//
//	g   = ∇p + λ·p            (λ = weight decay; biases get λ = 0)
//	buf = g                   at the first step with momentum μ > 0
//	buf = μ·buf + g           afterwards
//	g   = g + μ·buf           (Nesterov) or g = buf (classic momentum)
//	p   = p − lr·g
//
// (with subnormal buffer values flushed to zero, see below).
//
// buf has len(p.Value.Data) and is updated in place; first says whether buf
// holds nothing yet.
func sgdStep(p *Param, buf []float64, first bool, h Hyper) {
	w, grad := p.Value.Data, p.Grad.Data
	wd := h.WeightDecay
	if p.IsBias {
		wd = 0
	}
	mu, lr := h.Momentum, h.LearningRate
	for i := range w {
		g := grad[i]
		if wd != 0 {
			g += wd * w[i]
		}
		if mu != 0 {
			if first {
				buf[i] = g
			} else {
				buf[i] = mu*buf[i] + g
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
				g += mu * buf[i]
			} else {
				g = buf[i]
			}
		}
		w[i] -= lr * g
	}
}
