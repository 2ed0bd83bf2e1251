package engine

import (
	"fmt"
	"math"
)

// pool holds what max and average pooling share: a square K×K window moved
// with stride S over each channel of X (N, C, H, W) padded by P on every
// side, giving Y (N, C, H', W') with H' = ⌊(H + 2P − K)/S⌋ + 1 (likewise W').
type pool struct {
	in, out Shape // (C, H, W) and (C, H', W')
	k, s, p int
	X       *Tensor // (N, C, H, W) the input of the last Forward (not a copy)
	Y       *Tensor // (N, C, H', W')
	DX      *Tensor // (N, C, H, W)
}

func newPool(kind string, in Shape, kernel, stride, pad int) (pool, error) {
	oh, ow, err := windowOut(kind, in, kernel, kernel, stride, pad)
	if err != nil {
		return pool{}, err
	}
	if pad >= kernel {
		return pool{}, fmt.Errorf("%s: padding %d, want less than the kernel %d (a window would hold only padding)", kind, pad, kernel)
	}
	return pool{in: in.clone(), out: Shape{in[0], oh, ow}, k: kernel, s: stride, p: pad}, nil
}

func (l *pool) InShape() Shape   { return l.in }
func (l *pool) OutShape() Shape  { return l.out }
func (l *pool) Params() []*Param { return nil }

// window returns the rows [y0, y1) and columns [x0, x1) of the unpadded
// input that output cell (oy, ox) covers.
func (l *pool) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0, x0 = oy*l.s-l.p, ox*l.s-l.p
	y1, x1 = min(y0+l.k, l.in[1]), min(x0+l.k, l.in[2])
	return max(y0, 0), y1, max(x0, 0), x1
}

// MaxPool2D is max pooling: Y[n,c,y,x] is the largest input cell in the
// window, where padding cells never win. The switches record which cell won;
// Backward sends dL/dY to that cell only (summing where windows overlap).
type MaxPool2D struct {
	pool
	switches []int32 // (N, C, H', W') flat index iy·W+ix into the channel's input plane

	split parallelJob // Forward's samples split over the cores (parallel.go)
	x     *Tensor     // the input of the running Forward
}

// NewMaxPool2D returns max pooling with a kernel×kernel window. It returns an
// error for kernel or stride < 1, pad < 0, pad ≥ kernel, or a window larger
// than the padded input.
func NewMaxPool2D(in Shape, kernel, stride, pad int) (*MaxPool2D, error) {
	p, err := newPool("maxpool", in, kernel, stride, pad)
	if err != nil {
		return nil, err
	}
	return &MaxPool2D{pool: p}, nil
}

func (l *MaxPool2D) Kind() string { return "maxpool" }

// String returns e.g. "maxpool(2,s2,p0)".
func (l *MaxPool2D) String() string { return fmt.Sprintf("maxpool(%d,s%d,p%d)", l.k, l.s, l.p) }

// Switches returns, for every output cell of the last Forward, the flat index
// iy·W+ix of the winning cell in the same channel's unpadded input plane;
// shape (N, C, H', W'). The slice is owned by the layer and reused.
func (l *MaxPool2D) Switches() []int32 { return l.switches }

// Forward returns the window maxima (N, C, H', W'); ties go to the first
// maximum in row-major window order.
func (l *MaxPool2D) Forward(x *Tensor) *Tensor {
	checkInput("MaxPool2D.Forward", x, l.in)
	l.X = x
	l.Y = batchTensor(l.Y, x.Shape[0], l.out)
	if cap(l.switches) < len(l.Y.Data) {
		l.switches = make([]int32, len(l.Y.Data))
	}
	l.switches = l.switches[:len(l.Y.Data)]
	l.x = x
	parts, slots := parallelSplit(x.Shape[0], len(x.Data)*elementWork, partsPerSlot)
	l.split.parallelFor(parts, slots, l)
	l.x = nil
	return l.Y
}

// runPart runs Forward for part i of parts of the batch's samples.
func (l *MaxPool2D) runPart(i, parts, _ int) {
	lo, hi := span(l.x.Shape[0], i, parts)
	lo, hi = lo*l.in[0], hi*l.in[0]
	switch {
	case l.p != 0:
		l.forwardWindows(l.x, lo, hi)
	case l.k == 2:
		l.forward2x2(l.x, lo, hi)
	default:
		l.forwardUnpadded(l.x, lo, hi)
	}
}

// forwardWindows is Forward for any padding, for the planes (n, c) of
// [lo, hi): each window clipped to the input.
func (l *MaxPool2D) forwardWindows(x *Tensor, lo, hi int) {
	H, W := l.in[1], l.in[2]
	OH, OW := l.out[1], l.out[2]
	o := lo * OH * OW
	for nc := lo; nc < hi; nc++ {
		plane := x.Data[nc*H*W : (nc+1)*H*W]
		for oy := range OH {
			for ox := range OW {
				y0, y1, x0, x1 := l.window(oy, ox)
				best, arg := math.Inf(-1), y0*W+x0
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						if v := plane[iy*W+ix]; v > best {
							best, arg = v, iy*W+ix
						}
					}
				}
				l.Y.Data[o] = plane[arg]
				l.switches[o] = int32(arg)
				o++
			}
		}
	}
}

// forwardUnpadded is Forward for padding 0, for the planes (n, c) of
// [lo, hi), where every window lies inside the input
// (H' = ⌊(H − K)/S⌋ + 1): the same comparisons in the same order, without
// clipping the window.
func (l *MaxPool2D) forwardUnpadded(x *Tensor, lo, hi int) {
	H, W, K, S := l.in[1], l.in[2], l.k, l.s
	OH, OW := l.out[1], l.out[2]
	y, sw := l.Y.Data, l.switches
	o := lo * OH * OW
	for nc := lo; nc < hi; nc++ {
		plane := x.Data[nc*H*W : (nc+1)*H*W]
		for oy := range OH {
			for ox := range OW {
				first := oy*S*W + ox*S
				best, arg := math.Inf(-1), first
				for r := first; r < first+K*W; r += W {
					for i, v := range plane[r : r+K] {
						if v > best {
							best, arg = v, r+i
						}
					}
				}
				y[o] = plane[arg]
				sw[o] = int32(arg)
				o++
			}
		}
	}
}

// forward2x2 is forwardUnpadded for a 2×2 window, its four comparisons
// written out.
func (l *MaxPool2D) forward2x2(x *Tensor, lo, hi int) {
	H, W, S := l.in[1], l.in[2], l.s
	OH, OW := l.out[1], l.out[2]
	y, sw := l.Y.Data, l.switches
	o := lo * OH * OW
	for nc := lo; nc < hi; nc++ {
		plane := x.Data[nc*H*W : (nc+1)*H*W]
		for oy := range OH {
			row := plane[oy*S*W:]
			yr, swr := y[o:o+OW], sw[o:o+OW]
			o += OW
			for ox := range yr {
				i := oy*S*W + ox*S
				w := row[ox*S : ox*S+W+2]
				best, arg := math.Inf(-1), i
				if v := w[0]; v > best {
					best = v
				}
				if v := w[1]; v > best {
					best, arg = v, i+1
				}
				if v := w[W]; v > best {
					best, arg = v, i+W
				}
				if v := w[W+1]; v > best {
					arg = i + W + 1
				}
				yr[ox] = plane[arg]
				swr[ox] = int32(arg)
			}
		}
	}
}

// Backward returns dL/dX: each dL/dY cell added to the input cell its
// switch points at, 0 elsewhere.
func (l *MaxPool2D) Backward(dy *Tensor) *Tensor {
	checkGrad("MaxPool2D.Backward", dy, l.X, l.out)
	l.DX = resize(l.DX, l.X.Shape...)
	clear(l.DX.Data)
	HW, OHW := l.in[1]*l.in[2], l.out[1]*l.out[2]
	for nc := range len(dy.Data) / OHW {
		plane := l.DX.Data[nc*HW : (nc+1)*HW]
		sw := l.switches[nc*OHW : (nc+1)*OHW]
		for i, g := range dy.Data[nc*OHW : (nc+1)*OHW] {
			plane[sw[i]] += g
		}
	}
	return l.DX
}

// AvgPool2D is average pooling: Y[n,c,y,x] is the mean of the window. The
// divisor is K² when padding cells count (CountIncludePad), otherwise the
// number of real input cells in the window. Backward spreads dL/dY evenly
// over the window's input cells: dX += dY/divisor.
type AvgPool2D struct {
	pool
	CountIncludePad bool
}

// NewAvgPool2D returns average pooling with a kernel×kernel window; errors as
// for NewMaxPool2D.
func NewAvgPool2D(in Shape, kernel, stride, pad int, countIncludePad bool) (*AvgPool2D, error) {
	p, err := newPool("avgpool", in, kernel, stride, pad)
	if err != nil {
		return nil, err
	}
	return &AvgPool2D{pool: p, CountIncludePad: countIncludePad}, nil
}

func (l *AvgPool2D) Kind() string { return "avgpool" }

// String returns e.g. "avgpool(2,s2,p0)" or "avgpool(3,s1,p1,incpad)".
func (l *AvgPool2D) String() string {
	s := fmt.Sprintf("avgpool(%d,s%d,p%d", l.k, l.s, l.p)
	if l.CountIncludePad {
		s += ",incpad"
	}
	return s + ")"
}

// divisor is the number the window sum is divided by.
func (l *AvgPool2D) divisor(y0, y1, x0, x1 int) float64 {
	if l.CountIncludePad {
		return float64(l.k * l.k)
	}
	return float64((y1 - y0) * (x1 - x0))
}

// Forward returns the window means (N, C, H', W').
func (l *AvgPool2D) Forward(x *Tensor) *Tensor {
	checkInput("AvgPool2D.Forward", x, l.in)
	l.X = x
	N, C, H, W := x.Shape[0], l.in[0], l.in[1], l.in[2]
	OH, OW := l.out[1], l.out[2]
	l.Y = batchTensor(l.Y, N, l.out)
	o := 0
	for nc := range N * C {
		plane := x.Data[nc*H*W : (nc+1)*H*W]
		for oy := range OH {
			for ox := range OW {
				y0, y1, x0, x1 := l.window(oy, ox)
				s := 0.0
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						s += plane[iy*W+ix]
					}
				}
				l.Y.Data[o] = s / l.divisor(y0, y1, x0, x1)
				o++
			}
		}
	}
	return l.Y
}

// Backward returns dL/dX: each dL/dY cell divided by its divisor and added
// to every input cell of its window.
func (l *AvgPool2D) Backward(dy *Tensor) *Tensor {
	checkGrad("AvgPool2D.Backward", dy, l.X, l.out)
	l.DX = resize(l.DX, l.X.Shape...)
	clear(l.DX.Data)
	W, HW := l.in[2], l.in[1]*l.in[2]
	OH, OW := l.out[1], l.out[2]
	o := 0
	for nc := range len(dy.Data) / (OH * OW) {
		plane := l.DX.Data[nc*HW : (nc+1)*HW]
		for oy := range OH {
			for ox := range OW {
				y0, y1, x0, x1 := l.window(oy, ox)
				g := dy.Data[o] / l.divisor(y0, y1, x0, x1)
				o++
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						plane[iy*W+ix] += g
					}
				}
			}
		}
	}
	return l.DX
}
