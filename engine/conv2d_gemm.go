package engine

// The fast form of Conv2D: im2col + matrix products.
//
// For one sample, im2col lays the input out as a matrix cols (K, P) with
// K = C·KH·KW rows (one per filter weight, in the order of W's last three
// dimensions) and P = H'·W' columns (one per output cell): cols[k,p] is the
// input cell that weight k multiplies for output cell p, or 0 in the padding.
// Then, with W viewed as a matrix (F, K),
//
//	Y_n  = W · cols_n + b          (F, P)
//	dWᵀ += cols_n · dY_nᵀ          (K, F)   (summing over n, like the loops)
//	dcols = Wᵀ · dY_n              (K, P), scattered back (col2im) into dX_n.
//
// The products accumulate each element of Y and dW in the same order as the
// direct loops of conv2d.go, but fuse each multiply-add (one rounding
// instead of two), so they agree with the loops to about 1e-15 relative;
// dX and db sum their terms in another order.
//
// At stride 1 the products skip writing a matrix out: a row of cols (and of
// the im2col matrix of dY that dX takes at stride 1, see inputGradSample)
// is the zero-padded input shifted, so gemmOff reads it in place
// (forwardShift, inputGradCorrelation), computing a few extra columns that
// are dropped, or, with few channels, reads it from planes shifted once
// per kernel column (forwardShifted, conv2d_gemm_shifted.go), and
// gemmRows reads it for dL/dW (weightGradRows). They give the bits of the
// written-out product.

// convScratch holds the buffers of a Conv2D's fast form, reused from one
// call to the next so that a steady batch size allocates nothing. K is
// C·KH·KW and P is H'·W'.
//
// A pass is split into parts run on every core (parallel.go): Forward and
// dL/dX over the samples of the batch, dL/dW over the rows of dL/dWᵀ (K,
// in blocks of 8). Each slot running parts has its own buffers (parts[i]);
// no sum crosses parts, so the results are those of one part.
type convScratch struct {
	gwT []float64 // (K, F) dL/dWᵀ, summed over the batch
	// The filters of the last Backward, kept for dL/dX (see
	// inputGradSample, which InputGrad runs after Backward).
	wT     []float64 // (K, F) Wᵀ
	wRot   []float64 // (C, F·KH·KW) W rotated by 180°, F and C swapped
	rotOff []int     // (F·KH·KW) offsets of inputGradCorrelation's rows in dyPad
	fwdOff []int     // (C·KH·KW) offsets of forwardShift's rows in xPad
	// (C·KH·KW) offsets of forwardShifted's rows in xs
	shiftOff []int

	parts  []convPart  // one per slot of the running pass
	job    parallelJob // the running pass's split
	pass   convPass    // which pass runPart runs
	wParts int         // the backward pass's parts of dL/dW
	dy     []float64   // (N, F, H', W') dL/dY of the running Backward
	gb     []float64   // (F) dL/db of the running Backward
	sums   []float64   // transposeSums's scratch for dWᵀ
}

// convPart is one slot's buffers.
type convPart struct {
	cols  []float64 // (K, P) the im2col matrix of one sample (or rows of it)
	dcols []float64 // (K, P) Wᵀ·dY_n, scattered back into dL/dX by col2im
	dyT   []float64 // (P, F) dY_nᵀ
	sums  []float64 // (F, 4) transposeSums's running sums
	// inputGradCorrelation's buffers (Hp = H'+2(KH−1−P), Wp = W'+2(KW−1−P)).
	dyPad  []float64 // (F, Hp, Wp) dY_n zero-padded
	dxWide []float64 // (C, (H−1)·Wp + W) dL/dX_n with the dropped columns
	// forwardShift's buffers (Hp = H+2P, Wp = W+2P).
	xPad  []float64 // (C, Hp, Wp) X_n zero-padded
	yWide []float64 // (F, (H'−1)·Wp + W') Y_n with the dropped columns
	// forwardShifted's buffer (conv2d_gemm_shifted.go).
	xs []float64 // (C·KW, H+2P, W') X_n zero-padded, shifted
}

// convPass names the pass Conv2D.runPart runs.
type convPass int

const (
	passForward  convPass = iota // Y of samples span(N)
	passBackward                 // rows span(K) of dL/dWᵀ over the batch, then dL/dX of samples span(N)
)

// macsPerSample is the multiply-adds of one sample's forward pass, F·K·P
// (dL/dW and dL/dX take as many each).
func (l *Conv2D) macsPerSample() int {
	return l.out.Size() * l.in[0] * l.kh * l.kw
}

// runSplit runs pass split into parts on slots, each slot with its own
// buffers. The forward pass has parts of samples; the backward pass first
// l.gemm.wParts parts of rows of dL/dWᵀ (one per slot: each transposes
// every dY_n), then parts of samples for dL/dX (unless l.DX is nil), in
// one call, so that a part of either kind waits for no other.
func (l *Conv2D) runSplit(pass convPass) {
	N, work := l.X.Shape[0], l.X.Shape[0]*l.macsPerSample()
	var parts, slots int
	if pass == passForward {
		parts, slots = parallelSplit(N, work, partsPerSlot)
	} else {
		K := l.in[0] * l.kh * l.kw
		// At least 4 blocks of 8 rows a part: every part transposes dY
		// and pads X again, which fewer rows do not repay (the first
		// layer's 25 rows ran slower on two cores than on one).
		l.gemm.wParts, slots = parallelSplit(max(1, (K+7)/8/4), work, 1)
		parts = l.gemm.wParts
		if l.DX != nil {
			dParts, dSlots := parallelSplit(N, work, partsPerSlot)
			parts, slots = parts+dParts, max(slots, dSlots)
		}
	}
	for len(l.gemm.parts) < slots {
		l.gemm.parts = append(l.gemm.parts, convPart{})
	}
	l.gemm.pass = pass
	l.gemm.job.parallelFor(parts, slots, l)
}

// runPart runs part i of parts of the pass l.gemm.pass with the buffers of
// slot.
func (l *Conv2D) runPart(i, parts, slot int) {
	s := &l.gemm.parts[slot]
	N := l.X.Shape[0]
	switch l.gemm.pass {
	case passForward:
		lo, hi := span(N, i, parts)
		if l.forwardByShift() {
			l.forwardShift(lo, hi, s)
		} else if l.forwardByShifted() {
			l.forwardShifted(lo, hi, s)
		} else {
			l.forwardIm2col(lo, hi, s)
		}
	case passBackward:
		if w := l.gemm.wParts; i < w {
			K := l.in[0] * l.kh * l.kw
			lo, hi := span((K+7)/8, i, w)
			l.weightGradRows(8*lo, min(8*hi, K), s)
			return
		}
		in, FP := l.in.Size(), l.out.Size()
		lo, hi := span(N, i-l.gemm.wParts, parts-l.gemm.wParts)
		for n := lo; n < hi; n++ {
			l.inputGradSample(l.gemm.dy[n*FP:(n+1)*FP], l.DX.Data[n*in:(n+1)*in], s)
		}
	}
}

// forwardGEMM fills l.Y from l.X, the samples split over the cores. The
// im2col buffer (K, P) holds one sample at a time: Backward builds it again
// from X, which costs less than keeping a whole batch's matrices
// (megabytes) and reading them back from main memory.
func (l *Conv2D) forwardGEMM() {
	if l.forwardByShift() {
		l.setForwardOffsets()
	} else if l.forwardByShifted() {
		l.setShiftedOffsets()
	}
	l.runSplit(passForward)
}

// setForwardOffsets sets the offsets forwardShift reads its rows from.
func (l *Conv2D) setForwardOffsets() {
	if len(l.gemm.fwdOff) == l.in[0]*l.kh*l.kw {
		return
	}
	Hp, Wp := l.in[1]+2*l.pad, l.in[2]+2*l.pad
	l.gemm.fwdOff = make([]int, 0, l.in[0]*l.kh*l.kw)
	for c := range l.in[0] {
		for ky := range l.kh {
			for kx := range l.kw {
				l.gemm.fwdOff = append(l.gemm.fwdOff, (c*Hp+ky)*Wp+kx)
			}
		}
	}
}

// forwardIm2col is forwardGEMM through the im2col matrix, for the samples
// [lo, hi).
func (l *Conv2D) forwardIm2col(lo, hi int, s *convPart) {
	x, y := l.X, l.Y
	F, K, P := l.out[0], l.in[0]*l.kh*l.kw, l.out[1]*l.out[2]
	in := l.in.Size()
	s.cols = growFloats(s.cols, K*P)
	w, b := l.W.Value.Data[:F*K], l.B.Value.Data[:F]
	for n := lo; n < hi; n++ {
		l.im2col(x.Data[n*in:(n+1)*in], 0, K, s.cols)
		yn := y.Data[n*F*P : (n+1)*F*P]
		for f := range F {
			row := yn[f*P : (f+1)*P]
			for i := range row {
				row[i] = b[f]
			}
		}
		gemmNN(F, P, K, w, K, s.cols, P, yn, P)
	}
}

// forwardByShift says whether forwardGEMM takes forwardShift: at stride 1,
// with channels enough (C ≥ 4) that im2col's many short rows cost more than
// the dropped columns, and those at most half as many again as the kept
// ones (2(KW−1) ≤ W'). Measured on the default network: the second conv
// layer gains, the first (C = 1) loses.
func (l *Conv2D) forwardByShift() bool {
	return l.stride == 1 && l.in[0] >= 4 && 2*(l.kw-1) <= l.out[2]
}

// forwardShift is forwardGEMM at stride 1 without the im2col matrix, for
// the samples [lo, hi): row (c, ky, kx) of it is X zero-padded, xPad
// (C, Hp, Wp) with Hp = H+2P and Wp = W+2P, from c·Hp·Wp + ky·Wp + kx on
// (l.gemm.fwdOff, see setForwardOffsets), and column y·Wp + x of the
// product is Y[f, y, x] for x < W'; the columns x ≥ W' in between are
// computed and dropped. Every kept cell starts at b[f] and gets the terms
// of the im2col product in the same order: the same bits.
func (l *Conv2D) forwardShift(lo, hi int, sc *convPart) {
	x, y := l.X, l.Y
	C, H, W := l.in[0], l.in[1], l.in[2]
	F, OH, OW, P := l.out[0], l.out[1], l.out[2], l.pad
	K := C * l.kh * l.kw
	Hp, Wp := H+2*P, W+2*P
	n := (OH-1)*Wp + OW
	sc.xPad = growFloats(sc.xPad, C*Hp*Wp)
	sc.yWide = growFloats(sc.yWide, F*n)
	w, b := l.W.Value.Data[:F*K], l.B.Value.Data[:F]
	in := l.in.Size()
	for s := lo; s < hi; s++ {
		padPlanes(x.Data[s*in:(s+1)*in], C, H, W, P, P, sc.xPad)
		for f := range F {
			row := sc.yWide[f*n : (f+1)*n]
			for i := range row {
				row[i] = b[f]
			}
		}
		gemmOff(F, n, K, w, K, sc.xPad, l.gemm.fwdOff, sc.yWide, n)
		ys := y.Data[s*F*OH*OW : (s+1)*F*OH*OW]
		for f := range F {
			for oy := range OH {
				copy(ys[(f*OH+oy)*OW:(f*OH+oy+1)*OW], sc.yWide[f*n+oy*Wp:])
			}
		}
	}
}

// backwardGEMM adds dL/dW and dL/db into the parameters' Grad and, unless
// l.DX is nil, writes dL/dX into l.DX.
func (l *Conv2D) backwardGEMM(dy *Tensor) {
	F, K := l.out[0], l.in[0]*l.kh*l.kw
	gw, gb := l.W.Grad.Data[:F*K], l.B.Grad.Data[:F]
	// The filters for dL/dX (kept for InputGrad), and dWᵀ (K, F):
	// dWᵀ += cols·dYᵀ transposes the small matrices (F·K and F·P values)
	// instead of cols (K·P).
	l.setInputGradFilters()
	if l.stride == 1 {
		l.setForwardOffsets() // weightGradRows reads cols_n in place
	}
	l.gemm.gwT = growFloats(l.gemm.gwT, K*F)
	l.gemm.sums = growFloats(l.gemm.sums, 4*max(F, K))
	transposeSums(gw, F, K, l.gemm.gwT, nil, l.gemm.sums)
	l.gemm.gb = gb // summed by the part of dL/dW's first rows
	l.gemm.dy = dy.Data
	l.runSplit(passBackward)
	l.gemm.dy, l.gemm.gb = nil, nil
	transposeSums(l.gemm.gwT, K, F, gw, nil, l.gemm.sums)
}

// inputGradSample writes one sample's dL/dX (C, H, W) into dx from its
// dL/dY dyn (F, H', W'), with the filters of the last backwardGEMM.
//
// At stride 1 (with P ≤ KH−1, KW−1, and at least 4 input channels, so that
// the product has rows enough for the 4-row kernels) dL/dX is the
// correlation of dL/dY, zero-padded by KH−1−P rows and KW−1−P columns, with
// the filters rotated by 180° and their F and C axes swapped: one product
// Wrot (C, F·KH·KW) · (the im2col matrix of dY (F·KH·KW, H·W)), every input
// cell a single fused sum of its F·KH·KW terms (inputGradCorrelation).
// Otherwise dcols = Wᵀ·dY_n (K, P) and col2im scatters it back.
func (l *Conv2D) inputGradSample(dyn, dx []float64, s *convPart) {
	F, K, P := l.out[0], l.in[0]*l.kh*l.kw, l.out[1]*l.out[2]
	if l.inputGradByCorrelation() {
		l.inputGradCorrelation(dyn, dx, s)
		return
	}
	s.dcols = growFloats(s.dcols, K*P)
	clear(s.dcols)
	gemmNN(K, P, F, l.gemm.wT, F, dyn, P, s.dcols, P)
	clear(dx)
	l.col2im(s.dcols, dx)
}

// inputGradCorrelation is inputGradSample's correlation form. Instead of
// writing out the im2col matrix of dY, the product reads its rows straight
// from dY zero-padded, dyPad (F, Hp, Wp) with Hp = H'+2(KH−1−P) and
// Wp = W'+2(KW−1−P): row (f, ky, kx) is dyPad from f·Hp·Wp + ky·Wp + kx on
// (l.gemm.rotOff), and column y·Wp + x of the product is dL/dX[c, y, x] for
// x < W; the columns x ≥ W in between (the rows of dyPad are Wp wide) are
// computed and dropped. Every kept cell has the terms of im2col's product
// in the same order: the same bits.
func (l *Conv2D) inputGradCorrelation(dyn, dx []float64, s *convPart) {
	F, OH, OW := l.out[0], l.out[1], l.out[2]
	C, H, W := l.in[0], l.in[1], l.in[2]
	ph, pw := l.kh-1-l.pad, l.kw-1-l.pad
	Hp, Wp := OH+2*ph, OW+2*pw
	s.dyPad = growFloats(s.dyPad, F*Hp*Wp)
	padPlanes(dyn, F, OH, OW, ph, pw, s.dyPad)
	n := (H-1)*Wp + W
	KR := F * l.kh * l.kw
	s.dxWide = growFloats(s.dxWide, C*n)
	clear(s.dxWide)
	gemmOff(C, n, KR, l.gemm.wRot, KR, s.dyPad, l.gemm.rotOff, s.dxWide, n)
	for c := range C {
		for y := range H {
			copy(dx[(c*H+y)*W:(c*H+y+1)*W], s.dxWide[c*n+y*Wp:])
		}
	}
}

// inputGradByCorrelation says whether inputGradSample takes the
// correlation form.
func (l *Conv2D) inputGradByCorrelation() bool {
	return l.stride == 1 && l.pad < l.kh && l.pad < l.kw && l.in[0] >= 4
}

// setInputGradFilters keeps the filters that inputGradSample needs: Wᵀ
// (K, F), or for the correlation form Wrot (C, F·KH·KW) with
// Wrot[c, (f·KH+ky)·KW+kx] = W[f, c, KH−1−ky, KW−1−kx].
func (l *Conv2D) setInputGradFilters() {
	F, C, KH, KW := l.out[0], l.in[0], l.kh, l.kw
	K := C * KH * KW
	w := l.W.Value.Data[:F*K]
	if !l.inputGradByCorrelation() {
		l.gemm.wT = growFloats(l.gemm.wT, K*F)
		for f := range F {
			for k := range K {
				l.gemm.wT[k*F+f] = w[f*K+k]
			}
		}
		return
	}
	KR := F * KH * KW
	if len(l.gemm.rotOff) != KR {
		Hp, Wp := l.out[1]+2*(KH-1-l.pad), l.out[2]+2*(KW-1-l.pad)
		l.gemm.rotOff = make([]int, 0, KR)
		for f := range F {
			for ky := range KH {
				for kx := range KW {
					l.gemm.rotOff = append(l.gemm.rotOff, (f*Hp+ky)*Wp+kx)
				}
			}
		}
	}
	l.gemm.wRot = growFloats(l.gemm.wRot, C*KR)
	for c := range C {
		for f := range F {
			src := w[(f*C+c)*KH*KW : (f*C+c+1)*KH*KW]
			dst := l.gemm.wRot[c*KR+f*KH*KW : c*KR+(f+1)*KH*KW]
			for i, v := range src {
				dst[len(dst)-1-i] = v
			}
		}
	}
}
