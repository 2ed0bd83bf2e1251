package engine

import (
	"fmt"
	"math/rand"
)

// Conv2D is a 2-D convolution layer (a cross-correlation: the filters are not
// flipped) with zero padding P on all four sides and stride S.
//
// It maps X (N, C, H, W) to Y (N, F, H', W') with
//
//	H' = ⌊(H + 2P − KH)/S⌋ + 1,  W' = ⌊(W + 2P − KW)/S⌋ + 1
//	Y[n,f,y,x] = b[f] + Σ_c Σ_ky Σ_kx W[f,c,ky,kx] · X[n,c, y·S+ky−P, x·S+kx−P]
//
// where X outside the image is 0. Forward and Backward run the im2col + GEMM
// form of conv2d_gemm.go; forwardDirect and backwardDirect below are the same
// formulas as plain loops, and the tests hold the two equal (to 1e-12
// relative: the fast form fuses each multiply-add).
type Conv2D struct {
	in              Shape // (C, H, W)
	out             Shape // (F, H', W')
	filters, kh, kw int
	stride, pad     int
	W               *Param  // filters (F, C, KH, KW)
	B               *Param  // biases (F)
	X               *Tensor // (N, C, H, W) the input of the last Forward (not a copy)
	Y               *Tensor // (N, F, H', W') the output of the last Forward
	DX              *Tensor // (N, C, H, W) dL/dX of the last Backward; nil with SkipInputGrad
	dy              *Tensor // (N, F, H', W') dL/dY of the last Backward (not a copy)

	// SkipInputGrad makes Backward leave out dL/dX (return nil): training
	// needs no gradient with respect to the network's input image, the
	// first layer's X. InputGrad computes it for one sample on demand.
	SkipInputGrad bool

	gemm convScratch // buffers of the fast form, see conv2d_gemm.go
}

// NewConv2D returns a convolution of input shape in = (C, H, W) with
// `filters` filters of kh×kw, the given stride and zero padding. Weights and
// biases are 0 until Init. It returns an error, naming the setting, for
// stride < 1, pad < 0, kernel or filters < 1, or a kernel larger than the
// padded input.
func NewConv2D(in Shape, filters, kh, kw, stride, pad int) (*Conv2D, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("conv: input shape %v, want (C,H,W)", in)
	}
	if filters < 1 {
		return nil, fmt.Errorf("conv: %d filters, want at least 1", filters)
	}
	oh, ow, err := windowOut("conv", in, kh, kw, stride, pad)
	if err != nil {
		return nil, err
	}
	c := in[0]
	l := &Conv2D{
		in: in.clone(), out: Shape{filters, oh, ow},
		filters: filters, kh: kh, kw: kw, stride: stride, pad: pad,
		W: &Param{Name: "W", Value: NewTensor(filters, c, kh, kw), Grad: NewTensor(filters, c, kh, kw)},
		B: &Param{Name: "b", Value: NewTensor(filters), Grad: NewTensor(filters), IsBias: true},
	}
	return l, nil
}

// windowOut validates a sliding window over in = (C, H, W) and returns the
// output size H', W'.
func windowOut(kind string, in Shape, kh, kw, stride, pad int) (oh, ow int, err error) {
	switch {
	case len(in) != 3 || in[0] < 1 || in[1] < 1 || in[2] < 1:
		return 0, 0, fmt.Errorf("%s: input shape %v, want (C,H,W) with every dimension ≥ 1", kind, in)
	case kh < 1 || kw < 1:
		return 0, 0, fmt.Errorf("%s: kernel %d×%d, want at least 1×1", kind, kh, kw)
	case stride < 1:
		return 0, 0, fmt.Errorf("%s: stride %d, want at least 1", kind, stride)
	case pad < 0:
		return 0, 0, fmt.Errorf("%s: padding %d, want at least 0", kind, pad)
	case kh > in[1]+2*pad || kw > in[2]+2*pad:
		return 0, 0, fmt.Errorf("%s: kernel %d×%d larger than padded input %d×%d", kind, kh, kw, in[1]+2*pad, in[2]+2*pad)
	}
	return (in[1]+2*pad-kh)/stride + 1, (in[2]+2*pad-kw)/stride + 1, nil
}

// Kind returns "conv".
func (l *Conv2D) Kind() string { return "conv" }

// String returns the spec token, e.g. "conv(8,5,s1,p2)" or "conv(8,3x5,s2,p0)".
func (l *Conv2D) String() string {
	if l.kh == l.kw {
		return fmt.Sprintf("conv(%d,%d,s%d,p%d)", l.filters, l.kh, l.stride, l.pad)
	}
	return fmt.Sprintf("conv(%d,%dx%d,s%d,p%d)", l.filters, l.kh, l.kw, l.stride, l.pad)
}

// InShape is (C, H, W); OutShape is (F, H', W').
func (l *Conv2D) InShape() Shape  { return l.in }
func (l *Conv2D) OutShape() Shape { return l.out }

// Params returns [W, B].
func (l *Conv2D) Params() []*Param { return []*Param{l.W, l.B} }

// Init draws the filters with fanIn = C·KH·KW, fanOut = F·KH·KW and sets the
// biases to 0.
func (l *Conv2D) Init(rng *rand.Rand, scheme InitScheme) {
	k := l.kh * l.kw
	initWeights(l.W.Value.Data, l.in[0]*k, l.filters*k, rng, scheme)
	l.B.Value.Zero()
}

// Forward computes Y (N, F, H', W') from X (N, C, H, W), keeps X, and returns
// Y (owned by the layer). It panics if X's per-sample shape is not (C, H, W).
func (l *Conv2D) Forward(x *Tensor) *Tensor {
	checkInput("Conv2D.Forward", x, l.in)
	l.X = x
	l.Y = batchTensor(l.Y, x.Shape[0], l.out)
	l.forwardGEMM()
	return l.Y
}

// Backward takes dL/dY (N, F, H', W'), adds dL/dW (summed over the batch)
// into W.Grad and dL/db into B.Grad, and returns dL/dX (N, C, H, W):
//
//	dL/dW[f,c,ky,kx] = Σ_n Σ_y Σ_x dY[n,f,y,x] · X[n,c, y·S+ky−P, x·S+kx−P]
//	dL/db[f]         = Σ_n Σ_y Σ_x dY[n,f,y,x]
//	dL/dX            = (dY dilated by S, zero-padded by K−1−P) fully convolved
//	                   with the filters rotated by 180°
//
// that is, every output cell adds W[f,c,ky,kx]·dY[n,f,y,x] to the input cell
// it read; input rows and columns no window covers get 0.
//
// With SkipInputGrad it adds dL/dW and dL/db only and returns nil.
func (l *Conv2D) Backward(dy *Tensor) *Tensor {
	checkGrad("Conv2D.Backward", dy, l.X, l.out)
	l.dy = dy
	if l.SkipInputGrad {
		l.DX = nil
	} else {
		l.DX = resize(l.DX, l.X.Shape...)
	}
	l.backwardGEMM(dy)
	return l.DX
}

// InputGrad returns dL/dX (C, H, W) of sample n of the last Backward, as a
// new tensor: the same computation (and the same bits) as Backward's dL/dX
// without SkipInputGrad, with the filters and dL/dY of that Backward. It
// panics if no Backward came before or n is outside the batch.
func (l *Conv2D) InputGrad(n int) *Tensor {
	if l.dy == nil {
		panic("engine: Conv2D.InputGrad: no Backward before")
	}
	N := l.dy.Shape[0]
	if n < 0 || n >= N {
		panic(fmt.Sprintf("engine: Conv2D.InputGrad: sample %d outside the batch of %d", n, N))
	}
	dx := NewTensor(l.in...)
	FP := l.out.Size()
	if len(l.gemm.parts) == 0 {
		l.gemm.parts = append(l.gemm.parts, convPart{})
	}
	l.inputGradSample(l.dy.Data[n*FP:(n+1)*FP], dx.Data, &l.gemm.parts[0])
	return dx
}

// forwardDirect is Forward as plain loops: the teaching version. Each
// product is rounded before it is added (the explicit conversion), on every
// architecture.
func (l *Conv2D) forwardDirect(x *Tensor) *Tensor {
	N, C, H, W := x.Shape[0], l.in[0], l.in[1], l.in[2]
	F, OH, OW, S, P := l.out[0], l.out[1], l.out[2], l.stride, l.pad
	y := NewTensor(N, F, OH, OW)
	for n := range N {
		for f := range F {
			for oy := range OH {
				for ox := range OW {
					sum := l.B.Value.Data[f]
					for c := range C {
						for ky := range l.kh {
							for kx := range l.kw {
								iy, ix := oy*S+ky-P, ox*S+kx-P
								if iy >= 0 && iy < H && ix >= 0 && ix < W {
									sum += float64(l.W.Value.Data[((f*C+c)*l.kh+ky)*l.kw+kx] * x.Data[((n*C+c)*H+iy)*W+ix])
								}
							}
						}
					}
					y.Data[((n*F+f)*OH+oy)*OW+ox] = sum
				}
			}
		}
	}
	return y
}

// backwardDirect is Backward as plain loops: each output cell sends its
// gradient back along the weights it was computed with.
func (l *Conv2D) backwardDirect(x, dy *Tensor) (dx *Tensor) {
	N, C, H, W := x.Shape[0], l.in[0], l.in[1], l.in[2]
	F, OH, OW, S, P := l.out[0], l.out[1], l.out[2], l.stride, l.pad
	dx = NewTensor(x.Shape...)
	for n := range N {
		for f := range F {
			for oy := range OH {
				for ox := range OW {
					g := dy.Data[((n*F+f)*OH+oy)*OW+ox]
					l.B.Grad.Data[f] += g
					for c := range C {
						for ky := range l.kh {
							for kx := range l.kw {
								iy, ix := oy*S+ky-P, ox*S+kx-P
								if iy >= 0 && iy < H && ix >= 0 && ix < W {
									w := ((f*C+c)*l.kh+ky)*l.kw + kx
									i := ((n*C+c)*H+iy)*W + ix
									l.W.Grad.Data[w] += float64(g * x.Data[i])
									dx.Data[i] += float64(g * l.W.Value.Data[w])
								}
							}
						}
					}
				}
			}
		}
	}
	return dx
}

// checkInput panics unless x is (N, in...) with N ≥ 1.
func checkInput(op string, x *Tensor, in Shape) {
	if x == nil || len(x.Shape) != len(in)+1 || x.Shape[0] < 1 || !shapeEq(x.Shape[1:], in) || len(x.Data) != x.Shape[0]*in.Size() {
		var s any = "nil"
		if x != nil {
			s = Shape(x.Shape)
		}
		panic(fmt.Sprintf("engine: %s: input %v, want (N,%s)", op, s, in.String()[1:len(in.String())-1]))
	}
}

// checkGrad panics unless a Forward of batch x came before and dy is
// (N, out...) with the same N.
func checkGrad(op string, dy, x *Tensor, out Shape) {
	if x == nil {
		panic(fmt.Sprintf("engine: %s: no Forward before Backward", op))
	}
	if dy == nil || len(dy.Shape) != len(out)+1 || dy.Shape[0] != x.Shape[0] || !shapeEq(dy.Shape[1:], out) || len(dy.Data) != x.Shape[0]*out.Size() {
		var s any = "nil"
		if dy != nil {
			s = Shape(dy.Shape)
		}
		panic(fmt.Sprintf("engine: %s: dL/dY %v, want (%d,%s)", op, s, x.Shape[0], out.String()[1:len(out.String())-1]))
	}
}

func shapeEq(a []int, b Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s Shape) clone() Shape { return append(Shape(nil), s...) }

// batchTensor returns t if it has shape (n, per...), or else a new zeroed
// tensor of that shape, so that Forward at a steady batch size allocates
// nothing.
func batchTensor(t *Tensor, n int, per Shape) *Tensor {
	if t != nil && len(t.Shape) == len(per)+1 && t.Shape[0] == n && shapeEq(t.Shape[1:], per) {
		return t
	}
	return NewTensor(append([]int{n}, per...)...)
}
