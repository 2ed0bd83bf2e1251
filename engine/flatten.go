package engine

// Flatten maps feature maps X (N, C, H, W) to vectors Y (N, C·H·W) in
// row-major order (index c·H·W + h·W + w); Backward reshapes dL/dY back.
type Flatten struct {
	in    Shape
	out   Shape   // (C·H·W)
	x     *Tensor // the input of the last Forward
	Y, DX *Tensor // (N, C·H·W) and (N, C, H, W)
}

// NewFlatten returns a flatten layer for per-sample shape in.
func NewFlatten(in Shape) *Flatten { return &Flatten{in: in.clone(), out: Shape{in.Size()}} }

func (l *Flatten) Kind() string     { return "flatten" }
func (l *Flatten) String() string   { return "flatten" }
func (l *Flatten) InShape() Shape   { return l.in }
func (l *Flatten) OutShape() Shape  { return l.out }
func (l *Flatten) Params() []*Param { return nil }

// Forward returns a copy of X shaped (N, C·H·W).
func (l *Flatten) Forward(x *Tensor) *Tensor {
	checkInput("Flatten.Forward", x, l.in)
	l.x = x
	l.Y = batchTensor(l.Y, x.Shape[0], l.out)
	copy(l.Y.Data, x.Data)
	return l.Y
}

// Backward returns a copy of dL/dY shaped like X.
func (l *Flatten) Backward(dy *Tensor) *Tensor {
	checkGrad("Flatten.Backward", dy, l.x, l.out)
	l.DX = resize(l.DX, l.x.Shape...)
	copy(l.DX.Data, dy.Data)
	return l.DX
}
