package engine

import (
	"fmt"
	"math/rand"
)

// Dense is a fully connected layer. It takes any per-sample shape, read as a
// vector of In values in row-major order (c·H·W + h·W + w for feature maps),
// and maps X (N, In) to
//
//	Y[n,o] = b[o] + Σ_i W[o,i] · X[n,i]                      (N, Out)
//
// Backward:
//
//	dL/dW[o,i] = Σ_n dY[n,o] · X[n,i]
//	dL/db[o]   = Σ_n dY[n,o]
//	dL/dX[n,i] = Σ_o dY[n,o] · W[o,i]
type Dense struct {
	in        Shape
	out       Shape   // (Out)
	W         *Param  // (Out, In)
	B         *Param  // (Out)
	X         *Tensor // (N, in...) the input of the last Forward (not a copy)
	Y         *Tensor // (N, Out)
	DX        *Tensor // (N, in...)
	nIn, nOut int

	// Buffers of forwardFast, kept from one step to the next: from 8
	// samples on
	xt       []float64 // (denseChunk, NP) a chunk of X transposed, NP = N padded
	yt       []float64 // (Out, NP) Y transposed
	xtN, ldt int       // N and NP of xt, whose padding columns are 0
	// and below
	wt []float64 // (In, OutP) W transposed, OutP = Out padded
	yp []float64 // (N, OutP) Y with OutP columns
}

// NewDense returns a dense layer from per-sample shape in to out values.
// Weights are 0 until Init. It returns an error if out < 1 or in is empty.
func NewDense(in Shape, out int) (*Dense, error) {
	if out < 1 {
		return nil, fmt.Errorf("dense: %d outputs, want at least 1", out)
	}
	if len(in) == 0 || in.Size() < 1 {
		return nil, fmt.Errorf("dense: input shape %v, want at least one value", in)
	}
	n := in.Size()
	return &Dense{
		in: in.clone(), out: Shape{out}, nIn: n, nOut: out,
		W: &Param{Name: "W", Value: NewTensor(out, n), Grad: NewTensor(out, n)},
		B: &Param{Name: "b", Value: NewTensor(out), Grad: NewTensor(out), IsBias: true},
	}, nil
}

func (l *Dense) Kind() string { return "dense" }

// String returns e.g. "dense(10)".
func (l *Dense) String() string   { return fmt.Sprintf("dense(%d)", l.nOut) }
func (l *Dense) InShape() Shape   { return l.in }
func (l *Dense) OutShape() Shape  { return l.out }
func (l *Dense) Params() []*Param { return []*Param{l.W, l.B} }

// Init draws W with fanIn = In, fanOut = Out and sets b to 0.
func (l *Dense) Init(rng *rand.Rand, scheme InitScheme) {
	initWeights(l.W.Value.Data, l.nIn, l.nOut, rng, scheme)
	l.B.Value.Zero()
}

// Forward returns Y (N, Out). Every product is rounded before it is added
// (the explicit float64 conversion in forwardRef; separate multiply and add
// instructions in the kernels), so no architecture fuses the multiply-add
// and the numbers are the same on all. With the kernels of
// dense_kernels_amd64.s it runs forwardFast, otherwise forwardRef: the same
// sums in the same order, so the same bits. It panics if X is not (N, in...).
func (l *Dense) Forward(x *Tensor) *Tensor {
	checkInput("Dense.Forward", x, l.in)
	l.X = x
	l.Y = batchTensor(l.Y, x.Shape[0], l.out)
	if useDenseKernels {
		l.forwardFast()
	} else {
		l.forwardRef()
	}
	return l.Y
}

// Backward adds dL/dW and dL/db (summed over the batch) into the Grads and
// returns dL/dX shaped like X. Like Forward, it runs backwardFast with the
// kernels and backwardRef without, with the same bits.
func (l *Dense) Backward(dy *Tensor) *Tensor {
	checkGrad("Dense.Backward", dy, l.X, l.out)
	l.DX = resize(l.DX, l.X.Shape...)
	if useDenseKernels {
		l.backwardFast(dy)
	} else {
		l.backwardRef(dy)
	}
	return l.DX
}
