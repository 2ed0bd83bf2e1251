package engine

import "math"

// OptRMSprop names RMSprop (Hinton, 2012) in Hyper.Optimizer.
const OptRMSprop = "rmsprop"

// rmsprop is torch.optim.RMSprop, with its momentum and centered forms. It
// reads LearningRate, Alpha, Epsilon, WeightDecay, Momentum and Centered.
type rmsprop struct{}

// rmspropState is one parameter's RMSprop state; each buffer has the
// parameter's shape.
type rmspropState struct {
	squareAvg []float64 // running mean of g²
	gradAvg   []float64 // running mean of g (centered form)
	momentum  []float64 // momentum buffer
}

func (rmsprop) Check(Hyper) error { return nil }

func (rmsprop) NewState(n int) OptState {
	return &rmspropState{squareAvg: make([]float64, n), gradAvg: make([]float64, n), momentum: make([]float64, n)}
}

// Buffers returns the mean of g², the mean of g (shown in the centered form)
// and the momentum buffer (shown with momentum > 0).
func (s *rmspropState) Buffers(h Hyper) []StateBuffer {
	return []StateBuffer{
		{Name: "square_avg", Data: s.squareAvg, Shown: true},
		{Name: "grad_avg", Data: s.gradAvg, Shown: h.Centered},
		{Name: "momentum", Data: s.momentum, Shown: h.Momentum != 0},
	}
}

// Step applies one RMSprop step to p, following torch.optim.RMSprop with its
// order of operations:
//
//	g   = ∇p + λ·p                 (coupled L2; biases get λ = 0)
//	s   = α·s + (1−α)·g²           (square_avg)
//	a   = a + (1−α)·(g − a)        (grad_avg, centered form only; torch's lerp)
//	d   = √(s − a²) + ε            (centered) or √s + ε
//	buf = μ·buf + g/d,  p = p − lr·buf   with momentum μ > 0
//	p   = p − lr·g/d                     without
//
// torch 1.13, which made the reference cases, computes a as α·a + (1−α)·g;
// the two agree to within an ulp. The state starts at zeros and every step
// is the same, so t is not read. Subnormal state values are flushed to
// zero, and every product is rounded before it is added (see sgd.Step).
//
// In the centered form s − a² is the gradient's variance: when the gradient
// barely changes it is near 0 and rounding can make it negative. The step is
// then NaN, as in torch, and the trainer undoes it as a divergence.
func (rmsprop) Step(p *Param, st OptState, _ int, h Hyper) {
	s := st.(*rmspropState)
	sq, ga, buf := s.squareAvg, s.gradAvg, s.momentum
	w, grad := p.Value.Data, p.Grad.Data
	wd := h.WeightDecay
	if p.IsBias {
		wd = 0
	}
	alpha, mu, lr := h.Alpha, h.Momentum, h.LearningRate
	for i := range w {
		g := grad[i]
		if wd != 0 {
			g += float64(wd * w[i])
		}
		sq[i] = float64(alpha*sq[i]) + float64((1-alpha)*g*g)
		if sq[i] < minNormal {
			sq[i] = 0
		}
		var d float64
		if h.Centered {
			ga[i] += float64((1 - alpha) * (g - ga[i]))
			if math.Abs(ga[i]) < minNormal {
				ga[i] = 0
			}
			d = math.Sqrt(sq[i]-float64(ga[i]*ga[i])) + h.Epsilon
		} else {
			d = math.Sqrt(sq[i]) + h.Epsilon
		}
		if mu != 0 {
			buf[i] = float64(mu*buf[i]) + g/d
			if math.Abs(buf[i]) < minNormal {
				buf[i] = 0
			}
			w[i] -= float64(lr * buf[i])
		} else {
			w[i] -= lr * g / d
		}
	}
}
