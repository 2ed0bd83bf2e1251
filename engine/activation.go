package engine

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// The elementwise activations. Each maps X (N, in...) to Y of the same shape
// and keeps what its derivative needs as a field the trace can read.

// ReLU is Y = max(0, X); dL/dX = dL/dY where X > 0 and 0 elsewhere
// (including at exactly 0).
type ReLU struct {
	in    Shape
	X     *Tensor // (N, in...) the input of the last Forward (not a copy); the mask is X > 0
	Y, DX *Tensor // (N, in...)

	split parallelJob // a pass's samples split over the cores (parallel.go)
	dy    *Tensor     // dL/dY of the running Backward, nil in Forward
}

// NewReLU returns a ReLU for per-sample shape in.
func NewReLU(in Shape) *ReLU { return &ReLU{in: in.clone()} }

func (l *ReLU) Kind() string     { return "relu" }
func (l *ReLU) String() string   { return "relu" }
func (l *ReLU) InShape() Shape   { return l.in }
func (l *ReLU) OutShape() Shape  { return l.in }
func (l *ReLU) Params() []*Param { return nil }

// Forward returns max(0, X). It panics if X is not (N, in...).
func (l *ReLU) Forward(x *Tensor) *Tensor {
	checkInput("ReLU.Forward", x, l.in)
	l.X = x
	l.Y = resize(l.Y, x.Shape...)
	l.runSplit(nil)
	return l.Y
}

// runSplit runs Forward (dy nil) or Backward over the samples, split over
// the cores: each value is its own, so any split gives the same values.
func (l *ReLU) runSplit(dy *Tensor) {
	l.dy = dy
	parts, slots := parallelSplit(l.X.Shape[0], len(l.X.Data)*elementWork, partsPerSlot)
	l.split.parallelFor(parts, slots, l)
	l.dy = nil
}

// runPart runs the pass for part i of parts of the batch's samples.
func (l *ReLU) runPart(i, parts, _ int) {
	size := l.in.Size()
	lo, hi := span(l.X.Shape[0], i, parts)
	lo, hi = lo*size, hi*size
	x := l.X.Data[lo:hi]
	if l.dy == nil {
		y := l.Y.Data[lo:hi]
		for i, v := range x {
			y[i] = math.Float64frombits(math.Float64bits(v) & positiveMask(v))
		}
		return
	}
	dx := l.DX.Data[lo:hi]
	for i, g := range l.dy.Data[lo:hi] {
		dx[i] = math.Float64frombits(math.Float64bits(g) & positiveMask(x[i]))
	}
}

// positiveMask returns all ones if v > 0 and 0 otherwise (also for NaN):
// the ReLU mask without a branch, which random signs would mispredict.
// The bits of v > 0 (+Inf included) are exactly 1 … 0x7FF0000000000000,
// those less 1 the values below 0x7FF0000000000000: the subtraction's
// borrow (an intrinsic, no branch) is 1 for them.
func positiveMask(v float64) uint64 {
	_, borrow := bits.Sub64(math.Float64bits(v)-1, 0x7FF0000000000000, 0)
	return -borrow
}

// Backward returns dL/dX = dL/dY · [X > 0].
func (l *ReLU) Backward(dy *Tensor) *Tensor {
	checkGrad("ReLU.Backward", dy, l.X, l.in)
	l.DX = resize(l.DX, dy.Shape...)
	l.runSplit(dy)
	return l.DX
}

// LeakyReLU is Y = X for X > 0 and α·X otherwise; dL/dX = dL/dY for X > 0
// and α·dL/dY otherwise (the slope α applies at exactly 0).
type LeakyReLU struct {
	in    Shape
	Alpha float64 // negative slope α, 0 ≤ α < 1
	X     *Tensor // (N, in...) the input of the last Forward (not a copy)
	Y, DX *Tensor // (N, in...)
}

// NewLeakyReLU returns a leaky ReLU with negative slope alpha; it returns an
// error unless 0 ≤ alpha < 1.
func NewLeakyReLU(in Shape, alpha float64) (*LeakyReLU, error) {
	if !(alpha >= 0 && alpha < 1) {
		return nil, fmt.Errorf("leakyrelu: slope %v, want 0 ≤ α < 1", alpha)
	}
	return &LeakyReLU{in: in.clone(), Alpha: alpha}, nil
}

func (l *LeakyReLU) Kind() string { return "leakyrelu" }

// String returns e.g. "leakyrelu(0.01)".
func (l *LeakyReLU) String() string {
	return "leakyrelu(" + strconv.FormatFloat(l.Alpha, 'g', -1, 64) + ")"
}
func (l *LeakyReLU) InShape() Shape   { return l.in }
func (l *LeakyReLU) OutShape() Shape  { return l.in }
func (l *LeakyReLU) Params() []*Param { return nil }

// Forward returns X where X > 0 and α·X elsewhere.
func (l *LeakyReLU) Forward(x *Tensor) *Tensor {
	checkInput("LeakyReLU.Forward", x, l.in)
	l.X = x
	l.Y = resize(l.Y, x.Shape...)
	y := l.Y.Data[:len(x.Data)]
	for i, v := range x.Data {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = l.Alpha * v
		}
	}
	return l.Y
}

// Backward returns dL/dY where X > 0 and α·dL/dY elsewhere.
func (l *LeakyReLU) Backward(dy *Tensor) *Tensor {
	checkGrad("LeakyReLU.Backward", dy, l.X, l.in)
	l.DX = resize(l.DX, dy.Shape...)
	dx, x := l.DX.Data[:len(dy.Data)], l.X.Data[:len(dy.Data)]
	for i, g := range dy.Data {
		if x[i] > 0 {
			dx[i] = g
		} else {
			dx[i] = l.Alpha * g
		}
	}
	return l.DX
}

// Tanh is Y = tanh(X); dL/dX = dL/dY · (1 − Y²). tanh is portableTanh, the
// same bits on every machine.
type Tanh struct {
	in    Shape
	X     *Tensor // (N, in...) the input of the last Forward (not a copy)
	Y, DX *Tensor // (N, in...); Backward uses Y
}

// NewTanh returns a tanh activation for per-sample shape in.
func NewTanh(in Shape) *Tanh { return &Tanh{in: in.clone()} }

func (l *Tanh) Kind() string     { return "tanh" }
func (l *Tanh) String() string   { return "tanh" }
func (l *Tanh) InShape() Shape   { return l.in }
func (l *Tanh) OutShape() Shape  { return l.in }
func (l *Tanh) Params() []*Param { return nil }

// Forward returns tanh(X).
func (l *Tanh) Forward(x *Tensor) *Tensor {
	checkInput("Tanh.Forward", x, l.in)
	l.X = x
	l.Y = resize(l.Y, x.Shape...)
	y := l.Y.Data[:len(x.Data)]
	for i, v := range x.Data {
		y[i] = portableTanh(v)
	}
	return l.Y
}

// Backward returns dL/dY · (1 − Y²), with Y² rounded before the
// subtraction (no fused multiply-add, as in Dense.Forward).
func (l *Tanh) Backward(dy *Tensor) *Tensor {
	checkGrad("Tanh.Backward", dy, l.X, l.in)
	l.DX = resize(l.DX, dy.Shape...)
	dx, y := l.DX.Data[:len(dy.Data)], l.Y.Data[:len(dy.Data)]
	for i, g := range dy.Data {
		dx[i] = g * (1 - float64(y[i]*y[i]))
	}
	return l.DX
}

// Sigmoid is Y = σ(X) = 1/(1 + e^−X); dL/dX = dL/dY · Y(1 − Y). The
// exponential is portableExp, the same bits on every machine.
type Sigmoid struct {
	in    Shape
	X     *Tensor // (N, in...) the input of the last Forward (not a copy)
	Y, DX *Tensor // (N, in...); Backward uses Y
}

// NewSigmoid returns a logistic sigmoid activation for per-sample shape in.
func NewSigmoid(in Shape) *Sigmoid { return &Sigmoid{in: in.clone()} }

func (l *Sigmoid) Kind() string     { return "sigmoid" }
func (l *Sigmoid) String() string   { return "sigmoid" }
func (l *Sigmoid) InShape() Shape   { return l.in }
func (l *Sigmoid) OutShape() Shape  { return l.in }
func (l *Sigmoid) Params() []*Param { return nil }

// Forward returns σ(X), computed without overflow for large |X|.
func (l *Sigmoid) Forward(x *Tensor) *Tensor {
	checkInput("Sigmoid.Forward", x, l.in)
	l.X = x
	l.Y = resize(l.Y, x.Shape...)
	y := l.Y.Data[:len(x.Data)]
	for i, v := range x.Data {
		if v >= 0 {
			y[i] = 1 / (1 + portableExp(-v))
		} else {
			e := portableExp(v)
			y[i] = e / (1 + e)
		}
	}
	return l.Y
}

// Backward returns dL/dY · Y(1 − Y).
func (l *Sigmoid) Backward(dy *Tensor) *Tensor {
	checkGrad("Sigmoid.Backward", dy, l.X, l.in)
	l.DX = resize(l.DX, dy.Shape...)
	dx, y := l.DX.Data[:len(dy.Data)], l.Y.Data[:len(dy.Data)]
	for i, g := range dy.Data {
		dx[i] = g * y[i] * (1 - y[i])
	}
	return l.DX
}
