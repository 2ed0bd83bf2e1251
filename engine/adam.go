package engine

import "math"

// OptAdam names Adam with bias correction (Kingma & Ba, 2015) in
// Hyper.Optimizer.
const OptAdam = "adam"

// adam is torch.optim.Adam (amsgrad off). It reads LearningRate, Beta1,
// Beta2, Epsilon and WeightDecay.
type adam struct{}

// adamState is one parameter's Adam state.
type adamState struct {
	m []float64 // (the parameter's shape) first moment
	v []float64 // (the parameter's shape) second moment
}

func (adam) Check(Hyper) error { return nil }

func (adam) NewState(n int) OptState {
	return &adamState{m: make([]float64, n), v: make([]float64, n)}
}

// Buffers returns m and v, always shown.
func (s *adamState) Buffers(Hyper) []StateBuffer {
	return []StateBuffer{{Name: "adam_m", Data: s.m, Shown: true}, {Name: "adam_v", Data: s.v, Shown: true}}
}

// Step applies one Adam step to p, following torch.optim.Adam with its order
// of operations, so reference runs replay:
//
//	g  = ∇p + λ·p                    (coupled L2; biases get λ = 0)
//	m  = β1·m + (1−β1)·g            (computed as m + (1−β1)·(g − m), as torch does)
//	v  = β2·v + (1−β2)·g²
//	p  = p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
//
// Subnormal moments are flushed to zero, and every product is rounded before
// it is added (see sgd.Step).
func (adam) Step(p *Param, st OptState, t int, h Hyper) {
	s := st.(*adamState)
	m, v := s.m, s.v
	w, grad := p.Value.Data, p.Grad.Data
	wd := h.WeightDecay
	if p.IsBias {
		wd = 0
	}
	b1, b2 := h.Beta1, h.Beta2
	bc1 := 1 - math.Pow(b1, float64(t))
	bc2 := 1 - math.Pow(b2, float64(t))
	stepSize := h.LearningRate / bc1
	sqrtBC2 := math.Sqrt(bc2)
	for i := range w {
		g := grad[i]
		if wd != 0 {
			g += float64(wd * w[i])
		}
		m[i] += float64((1 - b1) * (g - m[i])) // torch's lerp form of β1·m + (1−β1)·g
		v[i] = float64(b2*v[i]) + float64((1-b2)*g*g)
		// Flush subnormals to zero, as in sgd.Step: moments that decay
		// while a gradient stays 0 would otherwise linger there and make
		// every later step many times slower.
		if math.Abs(m[i]) < minNormal {
			m[i] = 0
		}
		if v[i] < minNormal {
			v[i] = 0
		}
		denom := math.Sqrt(v[i])/sqrtBC2 + h.Epsilon
		w[i] -= stepSize * m[i] / denom
	}
}
