package engine

// The forward pass at stride 1 through shifted planes, for few input
// channels (the first layer's C = 1): the im2col matrix without writing it
// out, and without the dropped columns of forwardShift.
//
// At stride 1 row (c, ky, kx) of the im2col matrix (K, P) is
//
//	cols[(c·KH+ky)·KW+kx, oy·W'+ox] = xPad[c, oy+ky, ox+kx]
//
// with xPad (C, Hp, Wp) the input zero-padded (Hp = H+2P = H'+KH−1). Write
// out, for each channel c and column shift kx, the plane
//
//	xs[c·KW+kx, r, ox] = xPad[c, r, ox+kx]     xs (C·KW, Hp, W')
//
// and the row is the H'·W' values of plane c·KW+kx from row ky on, in one
// piece: xs from ((c·KW+kx)·Hp+ky)·W' (l.gemm.shiftOff). The planes hold
// C·KW·Hp·W' values, about KH times fewer than the im2col matrix's
// C·KH·KW·H'·W', and gemmOff reads the product's rows from them in place,
// every column a kept one (forwardShift reads xPad itself, whose rows are
// Wp wide, and drops Wp − W' columns of every row: a seventh of the work
// for the first layer's 28 + 4).

// forwardByShifted says whether forwardGEMM takes forwardShifted: at
// stride 1 where forwardByShift does not apply, with filters a multiple of
// 4 (the row blocks of gemmOff's kernels; gemmNN has kernels for single
// rows too).
func (l *Conv2D) forwardByShifted() bool {
	return l.stride == 1 && !l.forwardByShift() && l.out[0]%4 == 0
}

// setShiftedOffsets sets the offsets of the im2col matrix's rows in the
// shifted planes (see forwardShifted).
func (l *Conv2D) setShiftedOffsets() {
	C, KH, KW := l.in[0], l.kh, l.kw
	if len(l.gemm.shiftOff) == C*KH*KW {
		return
	}
	Hp, OW := l.in[1]+2*l.pad, l.out[2]
	l.gemm.shiftOff = make([]int, 0, C*KH*KW)
	for c := range C {
		for ky := range KH {
			for kx := range KW {
				l.gemm.shiftOff = append(l.gemm.shiftOff, ((c*KW+kx)*Hp+ky)*OW)
			}
		}
	}
}

// forwardShifted is forwardGEMM at stride 1 through the shifted planes,
// for the samples [lo, hi): Y_n (F, H'·W') starts at b and gets W·cols_n
// with the rows of cols_n read from the planes, every term in the order of
// the im2col product: the same bits.
func (l *Conv2D) forwardShifted(lo, hi int, s *convPart) {
	C, H, W := l.in[0], l.in[1], l.in[2]
	F, OH, OW := l.out[0], l.out[1], l.out[2]
	K, P := C*l.kh*l.kw, OH*OW
	Hp := H + 2*l.pad
	s.xs = growFloats(s.xs, C*l.kw*Hp*OW)
	w, b := l.W.Value.Data[:F*K], l.B.Value.Data[:F]
	in := l.in.Size()
	for n := lo; n < hi; n++ {
		shiftPlanes(l.X.Data[n*in:(n+1)*in], C, H, W, l.kw, l.pad, l.pad, OW, s.xs)
		gemmOffBias(F, P, K, w, K, s.xs, l.gemm.shiftOff, b, l.Y.Data[n*F*P:(n+1)*F*P], P)
	}
}

// shiftPlanes writes x (C, H, W), zero-padded by PH rows above and below
// and PW columns left and right, as the shifted planes xs (C·KW, H+2·PH,
// OW): xs[c·KW+kx, r, ox] = x[c, r−PH, ox+kx−PW], or 0 outside the image.
// Every cell of xs is written.
func shiftPlanes(x []float64, C, H, W, KW, PH, PW, OW int, xs []float64) {
	Hp := H + 2*PH
	for c := range C {
		src := x[c*H*W : (c+1)*H*W]
		for kx := range KW {
			plane := xs[(c*KW+kx)*Hp*OW : (c*KW+kx+1)*Hp*OW]
			clear(plane[:PH*OW])
			clear(plane[(H+PH)*OW:])
			// The output columns whose input column ox+kx−PW is in the
			// image: [lo, hi).
			lo, hi := validRange(kx, PW, 1, W, OW)
			if OW == W {
				// The image shifted by kx−PW columns: one copy, then
				// the columns outside [lo, hi) zeroed.
				im2colShift(src, plane[PH*OW:(H+PH)*OW], 0, kx-PW, W, 0, H, lo, hi)
				continue
			}
			for y := range H {
				row := plane[(y+PH)*OW : (y+PH+1)*OW]
				if lo >= hi {
					clear(row)
					continue
				}
				clear(row[:lo])
				copy(row[lo:hi], src[y*W+lo+kx-PW:])
				clear(row[hi:])
			}
		}
	}
}

// gemmOffBias sets C (m, n) to bias + A·B, B's rows read at offsets as
// gemmOff reads them: C[i,j] = bias[i] + Σ_p A[i,p]·b[boff[p]+j], every
// term fused into the running sum in increasing p, the bits of gemmOff on
// C filled with the biases. The AVX-512 kernels start their blocks at the
// biases in registers (no pass filling C); the rest is filled and goes to
// gemmOff. It panics as gemmOff does.
func gemmOffBias(m, n, k int, a []float64, lda int, b []float64, boff []int, bias, c []float64, ldc int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	if len(a) < (m-1)*lda+k || len(boff) < k || len(bias) < m || len(c) < (m-1)*ldc+n {
		panic("engine: gemmOffBias: matrix slices too short")
	}
	for _, o := range boff[:k] {
		if o < 0 || o+n > len(b) {
			panic("engine: gemmOffBias: row offset out of range")
		}
	}
	rows, cols := gemmOffBiasFast(m, n, k, a, lda, b, boff, bias, c, ldc)
	if cols < n && rows > 0 {
		for i := range rows {
			fill(c[i*ldc+cols:i*ldc+n], bias[i])
		}
		gemmOff(rows, n-cols, k, a, lda, b[cols:], boff, c[cols:], ldc)
	}
	if rows < m {
		for i := rows; i < m; i++ {
			fill(c[i*ldc:i*ldc+n], bias[i])
		}
		gemmOff(m-rows, n, k, a[rows*lda:], lda, b, boff, c[rows*ldc:], ldc)
	}
}

// fill sets every element of s to v, in copies of doubling length (which
// run in vector stores).
func fill(s []float64, v float64) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for n := 1; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}
