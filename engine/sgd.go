package engine

// sgdStep applies one step of stochastic gradient descent to p, following
// torch.optim.SGD (dampening 0):
//
//	g   = ∇p + λ·p            (λ = weight decay; biases get λ = 0)
//	buf = g                   at the first step with momentum μ > 0
//	buf = μ·buf + g           afterwards
//	g   = g + μ·buf           (Nesterov) or g = buf (classic momentum)
//	p   = p − lr·g
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
			if h.Nesterov {
				g += mu * buf[i]
			} else {
				g = buf[i]
			}
		}
		w[i] -= lr * g
	}
}
