package engine

import "fmt"

// A conv layer's backward convolution walked through step by step, for one
// filter f, one input channel c and one sample (see Conv2D.Backward):
//
//	dL/dW[f,c] = X[c] ⋆ δ[f]: δ[f] = dL/dY[f] (H', W') slides over X[c]
//	             (H, W) zero-padded by P, every S cells; the share of this
//	             sample, added output cell by output cell.
//	dL/dX[c]   = Σ_f rot180(W[f,c]) ⋆ D[f]: D[f] (H+KH−1, W+KW−1) is δ[f]
//	             dilated by S (S−1 zeros between cells), zero-padded by
//	             KH−1−P rows above and KW−1−P columns to the left (a
//	             negative padding crops) and by as many below and to the
//	             right as fill D (KH−1−P plus the rows no window reads,
//	             (H+2P−KH) mod S); the filter rotated by 180° slides over it
//	             one cell at a time, and input cell (i, j) is the window
//	             whose top-left is D[i, j] (see Window.PlaneH).

// ConvWalk is the walk-through of one filter and channel of a conv layer.
// Planes are row-major.
type ConvWalk struct {
	Layer           int
	Name            string // e.g. "conv 2"
	Grad            string // TensorDW or TensorDX
	Filter, Channel int
	Sample          int  // the sample within the batch; −1 for the probe
	Probe           bool // the probe image's own pass

	KH, KW, Stride, Pad int
	InH, InW            int // H, W
	OutH, OutW          int // H', W'

	X     []float64 // (H, W) the input plane X[c] of the sample
	Delta []float64 // (H', W') δ[f] = dL/dY[f] of the sample
	W     []float64 // (KH, KW) the filter W[f,c] the backward pass used

	// For TensorDX: D[f], (DilatedH, DilatedW) = (H+KH−1, W+KW−1), the
	// explanation's Window.PlaneH and PlaneW; D[f][r, q] is δ[f, y, x]
	// where r = y·S + KH−1−P and q = x·S + KW−1−P, else 0.
	DilatedH, DilatedW int
	Dilated            []float64

	Steps []WalkStep
	// Result is, for TensorDW, the last step's Sums, this sample's share of
	// dL/dW[f,c] (KH, KW), bit for bit the (f, c) plane of SampleShare's W;
	// for TensorDX, dL/dX[c] (H, W) of the sample, bit for bit the trace's.
	Result []float64
}

// WalkStep is one step of a ConvWalk.
type WalkStep struct {
	// At is the output cell (y, x) for TensorDW, the input cell (i, j) for
	// TensorDX.
	At [2]int

	// TensorDW: Products[ky·KW+kx] = X[c, y·S+ky−P, x·S+kx−P] · δ[f,y,x]
	// (0 on the padding, and where δ is 0); Sums, the running sums of the
	// products over the steps so far.
	Products, Sums []float64

	// TensorDX: Origin is the cell of D[f] under the rotated filter's
	// top-left tap, (i, j); Taps[u·KW+v] = rot180(W)[u,v] · D[f, i+u, j+v]
	// (0 outside D); Partial = Σ Taps, filter f's share of dL/dX[c,i,j];
	// Value = dL/dX[c,i,j] of every filter, the trace's number.
	Origin  [2]int
	Taps    []float64
	Partial float64
	Value   float64
}

// WalkConv walks through the backward convolution of conv layer `layer` for
// filter f and input channel c: grad TensorDW gives dL/dW[f,c] as X[c]
// correlated with δ[f], one output cell a step; TensorDX gives dL/dX[c] as
// the filter rotated by 180° over δ[f] dilated and padded, one input cell
// a step. opt chooses the sample (or the probe), as for Trace. It changes
// nothing in the trainer. It returns an error for a layer that is not a
// conv layer, a grad, filter, channel or sample that does not exist, or
// before the layer's backward phase has run in this step.
func (t *Trainer) WalkConv(layer int, grad string, f, c int, opt TraceOptions) (ConvWalk, error) {
	if layer < 0 || layer >= len(t.layers) {
		return ConvWalk{}, fmt.Errorf("layer %d: the network has layers 0 … %d", layer, len(t.layers)-1)
	}
	name := t.layerName(layer)
	l, ok := t.layers[layer].(*Conv2D)
	if !ok {
		return ConvWalk{}, fmt.Errorf("%s is a %s layer: the backward convolution is walked through for conv layers", name, t.layers[layer].Kind())
	}
	if grad != TensorDW && grad != TensorDX {
		return ConvWalk{}, fmt.Errorf("grad %q: want %q or %q", grad, TensorDW, TensorDX)
	}
	F, C := l.out[0], l.in[0]
	if f < 0 || f >= F {
		return ConvWalk{}, fmt.Errorf("filter %d of %s: want 0 … %d", f, name, F-1)
	}
	if c < 0 || c >= C {
		return ConvWalk{}, fmt.Errorf("channel %d of %s: want 0 … %d", c, name, C-1)
	}
	if t.progress == 0 || !t.backwardDone(layer) {
		return ConvWalk{}, t.notYet("the backward convolution of "+name, Phase{PhaseBackward, layer})
	}
	v, err := t.viewOf(opt.Sample, opt.Probe)
	if err != nil {
		return ConvWalk{}, err
	}
	H, W := l.in[1], l.in[2]
	OH, OW := l.out[1], l.out[2]
	K := l.kh * l.kw
	wk := &ConvWalk{
		Layer: layer, Name: name, Grad: grad, Filter: f, Channel: c, Sample: v.n, Probe: v.probe,
		KH: l.kh, KW: l.kw, Stride: l.stride, Pad: l.pad, InH: H, InW: W, OutH: OH, OutW: OW,
		X:     clonePlane(v.of(v.input(layer)), c, H*W),
		Delta: clonePlane(v.of(v.src.gradOuts[layer]), f, OH*OW),
		W:     clonePlane(v.weights(layer, 0), f*C+c, K),
	}
	if v.probe {
		wk.Sample = -1
	}
	if grad == TensorDW {
		wk.walkDW()
	} else {
		wk.walkDX(clonePlane(v.inputGrad(layer), c, H*W))
	}
	return *wk, nil
}

// clonePlane copies plane k of n values of xs.
func clonePlane(xs []float64, k, n int) []float64 {
	return append([]float64(nil), xs[k*n:(k+1)*n]...)
}

// walkDW fills the steps of dL/dW[f,c]: for each output cell in row-major
// order, the products of its window and the running sums. The sums add
// the products in the order Conv2D.sampleGrad does, skipping the same
// cells, so that the last sums are its share bit for bit.
func (wk *ConvWalk) walkDW() {
	H, W, OH, OW := wk.InH, wk.InW, wk.OutH, wk.OutW
	S, P, KH, KW := wk.Stride, wk.Pad, wk.KH, wk.KW
	K := KH * KW
	n := OH * OW
	buf := make([]float64, 2*n*K) // every step's products, then every step's sums
	wk.Steps = make([]WalkStep, n)
	sums := make([]float64, K)
	for y := range OH {
		for xo := range OW {
			s := y*OW + xo
			st := WalkStep{At: [2]int{y, xo}, Products: buf[s*K : (s+1)*K], Sums: buf[(n+s)*K : (n+s+1)*K]}
			if g := wk.Delta[s]; g != 0 {
				for ky := range KH {
					iy := y*S + ky - P
					if iy < 0 || iy >= H {
						continue
					}
					for kx := range KW {
						if jx := xo*S + kx - P; jx >= 0 && jx < W {
							p := float64(wk.X[iy*W+jx] * g)
							st.Products[ky*KW+kx] = p
							sums[ky*KW+kx] += p
						}
					}
				}
			}
			copy(st.Sums, sums)
			wk.Steps[s] = st
		}
	}
	wk.Result = append([]float64(nil), sums...)
}

// walkDX fills the dilated, padded δ and the steps of dL/dX[c]: for each
// input cell in row-major order, the rotated filter's taps over the
// dilated plane and their sum; dx is dL/dX[c] (H, W) of the sample.
func (wk *ConvWalk) walkDX(dx []float64) {
	H, W, OH, OW := wk.InH, wk.InW, wk.OutH, wk.OutW
	S, KH, KW := wk.Stride, wk.KH, wk.KW
	ph, pw := KH-1-wk.Pad, KW-1-wk.Pad
	DH, DW := H+KH-1, W+KW-1
	wk.DilatedH, wk.DilatedW = DH, DW
	wk.Dilated = make([]float64, DH*DW)
	for y := range OH {
		for x := range OW {
			if r, q := y*S+ph, x*S+pw; r >= 0 && r < DH && q >= 0 && q < DW {
				wk.Dilated[r*DW+q] = wk.Delta[y*OW+x]
			}
		}
	}
	K := KH * KW
	taps := make([]float64, H*W*K)
	wk.Steps = make([]WalkStep, H*W)
	for i := range H {
		for j := range W {
			s := i*W + j
			st := WalkStep{At: [2]int{i, j}, Origin: [2]int{i, j}, Taps: taps[s*K : (s+1)*K], Value: dx[s]}
			for u := range KH {
				row := wk.Dilated[(i+u)*DW+j : (i+u)*DW+j+KW]
				for v, d := range row {
					if d != 0 {
						p := float64(wk.W[(KH-1-u)*KW+KW-1-v] * d)
						st.Taps[u*KW+v] = p
						st.Partial += p
					}
				}
			}
			wk.Steps[s] = st
		}
	}
	wk.Result = dx
}
