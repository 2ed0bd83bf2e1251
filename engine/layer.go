package engine

import (
	"math"
	"math/rand"
)

// Layer is one stage of a network. Forward and Backward work on a whole batch.
//
// Forward takes X of shape (N, InShape...) and returns Y of shape
// (N, OutShape...). It caches what Backward needs (the input, the ReLU mask,
// the max-pool switches) as fields the trace can read. The returned tensor is
// owned by the layer and reused by the next Forward: copy it to keep it.
//
// Backward takes dL/dY of shape (N, OutShape...), adds dL/dθ into each
// parameter's Grad, and returns dL/dX of shape (N, InShape...), again owned by
// the layer. Backward must follow a Forward of the same batch.
type Layer interface {
	// Kind is the layer's name in a spec: "conv", "relu", "maxpool", ...
	Kind() string
	// String is the layer's spec token, e.g. "conv(8,5,s1,p2)".
	String() string
	// InShape and OutShape are the per-sample shapes (C, H, W) or (K).
	InShape() Shape
	OutShape() Shape
	Forward(x *Tensor) *Tensor
	Backward(dy *Tensor) *Tensor
	// Params returns the layer's parameters (nil for none), weights first.
	Params() []*Param
}

// Param is one trainable tensor of a layer and its gradient.
type Param struct {
	Name   string  // "W" (weights, filters) or "b" (bias)
	Value  *Tensor // the parameter, e.g. (F, C, KH, KW) filters
	Grad   *Tensor // dL/dValue, same shape; accumulated by Backward
	IsBias bool    // biases get no weight decay
}

// InitScheme chooses how initial weights are drawn.
type InitScheme int

const (
	// Glorot draws W ~ U(−a, a) with a = √(6/(fanIn+fanOut))
	// (Glorot & Bengio, 2010). Used unless a ReLU follows.
	Glorot InitScheme = iota
	// He draws W ~ N(0, 2/fanIn) (He et al., 2015). Used for layers
	// followed by ReLU or LeakyReLU.
	He
)

// Initializer is implemented by layers with parameters: it draws the
// weights from rng with the given scheme and sets biases to 0.
type Initializer interface {
	Init(rng *rand.Rand, scheme InitScheme)
}

// initWeights fills w with fanIn/fanOut-scaled random numbers, the same on
// every architecture (no fused multiply-add: see Dense.Forward).
func initWeights(w []float64, fanIn, fanOut int, rng *rand.Rand, scheme InitScheme) {
	switch scheme {
	case He:
		std := math.Sqrt(2 / float64(fanIn))
		for i := range w {
			w[i] = normFloat64(rng) * std
		}
	default:
		a := math.Sqrt(6 / float64(fanIn+fanOut))
		for i := range w {
			// Float64 is inlined: its conversion keeps its product
			// out of a fused multiply-add with 2u − 1.
			u := float64(rng.Float64())
			w[i] = (float64(2*u) - 1) * a
		}
	}
}
