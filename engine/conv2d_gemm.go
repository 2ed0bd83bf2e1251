package engine

import "math"

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
// dX sums its terms in another order.

// forwardGEMM fills l.Y from l.X. The im2col buffer l.cols (K, P) holds one
// sample at a time: Backward builds it again from X, which costs less than
// keeping a whole batch's matrices (megabytes) and reading them back from
// main memory.
func (l *Conv2D) forwardGEMM() {
	x, y := l.X, l.Y
	N := x.Shape[0]
	F, K, P := l.out[0], l.in[0]*l.kh*l.kw, l.out[1]*l.out[2]
	in := l.in.Size()
	l.cols = growFloats(l.cols, K*P)
	w, b := l.W.Value.Data[:F*K], l.B.Value.Data[:F]
	for n := range N {
		cols := l.cols
		l.im2col(x.Data[n*in:(n+1)*in], cols)
		yn := y.Data[n*F*P : (n+1)*F*P]
		for f := range F {
			row := yn[f*P : (f+1)*P]
			for i := range row {
				row[i] = b[f]
			}
		}
		gemmNN(F, P, K, w, K, cols, P, yn, P)
	}
}

// backwardGEMM adds dL/dW and dL/db into the parameters' Grad and, unless
// l.DX is nil, writes dL/dX into l.DX.
func (l *Conv2D) backwardGEMM(dy *Tensor) {
	N := l.X.Shape[0]
	F, K, P := l.out[0], l.in[0]*l.kh*l.kw, l.out[1]*l.out[2]
	in := l.in.Size()
	gw, gb := l.W.Grad.Data[:F*K], l.B.Grad.Data[:F]
	// The filters for dL/dX (kept for InputGrad), and dWᵀ (K, F):
	// dWᵀ += cols·dYᵀ transposes the small matrices (F·K and F·P values)
	// instead of cols (K·P).
	l.setInputGradFilters()
	l.gwT = growFloats(l.gwT, K*F)
	for f := range F {
		for k := range K {
			l.gwT[k*F+f] = gw[f*K+k]
		}
	}
	l.dyT = growFloats(l.dyT, P*F)
	for n := range N {
		cols := l.cols
		l.im2col(l.X.Data[n*in:(n+1)*in], cols)
		dyn := dy.Data[n*F*P : (n+1)*F*P]
		for f := range F {
			row := dyn[f*P : (f+1)*P]
			gb[f] += sum4(row)
			for p, g := range row {
				l.dyT[p*F+f] = g
			}
		}
		gemmNN(K, F, P, cols, P, l.dyT, F, l.gwT, F)
		if l.DX != nil {
			l.inputGradSample(dyn, l.DX.Data[n*in:(n+1)*in])
		}
	}
	for f := range F {
		for k := range K {
			gw[f*K+k] = l.gwT[k*F+f]
		}
	}
}

// inputGradSample writes one sample's dL/dX (C, H, W) into dx from its
// dL/dY dyn (F, H', W'), with the filters of the last backwardGEMM.
//
// At stride 1 (with P ≤ KH−1, KW−1, and at least 4 input channels, so that
// the product has rows enough for the 4-row kernels) dL/dX is the
// correlation of dL/dY, zero-padded by KH−1−P rows and KW−1−P columns, with
// the filters rotated by 180° and their F and C axes swapped: im2col of dY
// (F·KH·KW, H·W) and one product, Wrot (C, F·KH·KW) · dcols, every input
// cell a single fused sum of its F·KH·KW terms. Otherwise dcols = Wᵀ·dY_n
// (K, P) and col2im scatters it back.
func (l *Conv2D) inputGradSample(dyn, dx []float64) {
	F, K, P := l.out[0], l.in[0]*l.kh*l.kw, l.out[1]*l.out[2]
	if l.inputGradByCorrelation() {
		C, HW := l.in[0], l.in[1]*l.in[2]
		KR := F * l.kh * l.kw
		l.dcols = growFloats(l.dcols, KR*HW)
		im2col(dyn, F, l.out[1], l.out[2], l.kh, l.kw, 1, l.kh-1-l.pad, l.kw-1-l.pad, l.in[1], l.in[2], l.dcols)
		clear(dx)
		gemmNN(C, HW, KR, l.wRot, KR, l.dcols, HW, dx, HW)
		return
	}
	l.dcols = growFloats(l.dcols, K*P)
	clear(l.dcols)
	gemmNN(K, P, F, l.wT, F, dyn, P, l.dcols, P)
	clear(dx)
	l.col2im(l.dcols, dx)
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
		l.wT = growFloats(l.wT, K*F)
		for f := range F {
			for k := range K {
				l.wT[k*F+f] = w[f*K+k]
			}
		}
		return
	}
	KR := F * KH * KW
	l.wRot = growFloats(l.wRot, C*KR)
	for c := range C {
		for f := range F {
			src := w[(f*C+c)*KH*KW : (f*C+c+1)*KH*KW]
			dst := l.wRot[c*KR+f*KH*KW : c*KR+(f+1)*KH*KW]
			for i, v := range src {
				dst[len(dst)-1-i] = v
			}
		}
	}
}

// im2col writes one sample's x (C, H, W) as cols (K, P).
func (l *Conv2D) im2col(x, cols []float64) {
	im2col(x, l.in[0], l.in[1], l.in[2], l.kh, l.kw, l.stride, l.pad, l.pad, l.out[1], l.out[2], cols)
}

// im2col writes x (C, H, W) as cols (C·KH·KW, OH·OW) for a KH×KW window
// moved with stride S over x zero-padded by PH rows above and below and PW
// columns left and right: cols[(c·KH+ky)·KW+kx, oy·OW+ox] is
// x[c, oy·S+ky−PH, ox·S+kx−PW], or 0 outside the image.
func im2col(x []float64, C, H, W, KH, KW, S, PH, PW, OH, OW int, cols []float64) {
	k := 0
	for c := range C {
		plane := x[c*H*W : (c+1)*H*W]
		for ky := range KH {
			for kx := range KW {
				row := cols[k*OH*OW : (k+1)*OH*OW]
				k++
				lo, hi := validRange(kx, PW, S, W, OW)
				// Output rows whose input row iy = oy·S + ky − PH lies in
				// the image: [oy0, oy1).
				oy0, oy1 := validRange(ky, PH, S, H, OH)
				if lo >= hi || oy0 >= oy1 {
					clear(row)
					continue
				}
				if S == 1 && OW == W {
					im2colShift(plane, row, ky-PH, kx-PW, W, oy0, oy1, lo, hi)
					continue
				}
				clear(row[:oy0*OW])
				clear(row[oy1*OW:])
				for oy := oy0; oy < oy1; oy++ {
					dst := row[oy*OW : (oy+1)*OW]
					iy := oy*S + ky - PH
					src := plane[iy*W : (iy+1)*W]
					for ox := range lo {
						dst[ox] = 0
					}
					if S == 1 {
						copy(dst[lo:hi], src[lo+kx-PW:])
					} else {
						ix := lo*S + kx - PW
						for ox := lo; ox < hi; ox++ {
							dst[ox] = src[ix]
							ix += S
						}
					}
					for ox := hi; ox < OW; ox++ {
						dst[ox] = 0
					}
				}
			}
		}
	}
}

// im2colShift is one row of im2col for stride 1 when the output is as wide
// as the input (OW = W): then row[oy·W+ox] = plane[(oy+dy)·W + ox+dx] is the
// plane shifted by dy·W + dx, copied in one piece for the output rows
// [oy0, oy1) whose input row lies in the image, with the columns outside
// [lo, hi) (whose input column does not) set to 0 afterwards.
func im2colShift(plane, row []float64, dy, dx, W, oy0, oy1, lo, hi int) {
	t0, t1 := oy0*W, oy1*W
	s0, s1 := t0+dy*W+dx, t1+dy*W+dx
	// A shift left or right reaches one element before or after the plane:
	// those cells are outside [lo, hi) anyway.
	if s0 < 0 {
		t0 -= s0
		s0 = 0
	}
	if s1 > len(plane) {
		t1 -= s1 - len(plane)
		s1 = len(plane)
	}
	clear(row[:t0])
	copy(row[t0:t1], plane[s0:s1])
	clear(row[t1:])
	if lo == 0 && hi == W {
		return
	}
	for oy := oy0; oy < oy1; oy++ {
		r := row[oy*W : (oy+1)*W]
		for ox := range lo {
			r[ox] = 0
		}
		for ox := hi; ox < W; ox++ {
			r[ox] = 0
		}
	}
}

// col2im adds dcols (K, P) into one sample's dx (C, H, W).
func (l *Conv2D) col2im(dcols, dx []float64) {
	C, H, W := l.in[0], l.in[1], l.in[2]
	OH, OW, S, P := l.out[1], l.out[2], l.stride, l.pad
	k := 0
	for c := range C {
		plane := dx[c*H*W : (c+1)*H*W]
		for ky := range l.kh {
			for kx := range l.kw {
				row := dcols[k*OH*OW : (k+1)*OH*OW]
				k++
				lo, hi := validRange(kx, P, S, W, OW)
				if lo >= hi {
					continue
				}
				for oy := range OH {
					iy := oy*S + ky - P
					if iy < 0 || iy >= H {
						continue
					}
					src := row[oy*OW+lo : oy*OW+hi]
					dst := plane[iy*W : (iy+1)*W]
					ix := lo*S + kx - P
					if S == 1 {
						dst = dst[ix : ix+len(src)]
						for i, v := range src {
							dst[i] += v
						}
						continue
					}
					for _, v := range src {
						dst[ix] += v
						ix += S
					}
				}
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// ox·S + kx − P lies inside 0 … W−1.
func validRange(kx, P, S, W, OW int) (lo, hi int) {
	// ox·S ≥ P − kx  and  ox·S ≤ W − 1 + P − kx
	if S == 1 { // without the divisions
		lo, hi = max(P-kx, 0), min(W+P-kx, OW)
		return min(lo, max(hi, 0)), max(hi, 0)
	}
	if d := P - kx; d > 0 {
		lo = (d + S - 1) / S
	}
	e := W - 1 + P - kx
	if e < 0 {
		return 0, 0
	}
	hi = min(e/S+1, OW)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// growFloats returns s resized to n, reusing its backing array if it can.
func growFloats(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// gemmNN adds A·B to C, all row-major: A (m, k) with row stride lda,
// B (k, n) with stride ldb, C (m, n) with stride ldc. Each C[i,j] gets its
// terms A[i,p]·B[p,j] one at a time in increasing p, each fused into the
// running sum (math.FMA: one rounding per term), so the assembly kernels
// (gemmFast, on amd64 with AVX2 and FMA) and gemmGo give the same bits.
// It panics if a slice is too short.
func gemmNN(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	if len(a) < (m-1)*lda+k || len(b) < (k-1)*ldb+n || len(c) < (m-1)*ldc+n {
		panic("engine: gemmNN: matrix slices too short")
	}
	if !gemmFast(m, n, k, a, lda, b, ldb, c, ldc) {
		gemmGo(m, n, k, a, lda, b, ldb, c, ldc)
	}
}

// gemmGo is gemmNN in Go: row i of C gets A[i,p]·B[p,:] for p = 0, 1, …
func gemmGo(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for p, aip := range a[i*lda : i*lda+k] {
			bp := b[p*ldb : p*ldb+n]
			for j, v := range bp {
				ci[j] = math.FMA(aip, v, ci[j])
			}
		}
	}
}

// sum4 returns the sum of x in four running sums (elements i mod 4 = 0, 1,
// 2, 3, added as (s0 + s1) + (s2 + s3)), which do not wait on each other
// as a single running sum waits on every addition.
func sum4(x []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
	}
	for j, v := range x[i:] {
		switch j {
		case 0:
			s0 += v
		case 1:
			s1 += v
		default:
			s2 += v
		}
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy1 adds a·x to y.
func axpy1(a float64, x, y []float64) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] += a * v
	}
}
