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
// direct loops of conv2d.go, so they give the same bits; dX sums its terms
// in another order.

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

// backwardGEMM adds dL/dW and dL/db into the parameters' Grad and writes
// dL/dX into l.DX.
func (l *Conv2D) backwardGEMM(dy *Tensor) {
	N := l.X.Shape[0]
	F, K, P := l.out[0], l.in[0]*l.kh*l.kw, l.out[1]*l.out[2]
	in := l.in.Size()
	w, gw, gb := l.W.Value.Data[:F*K], l.W.Grad.Data[:F*K], l.B.Grad.Data[:F]
	// Wᵀ (K, F), so that dcols = Wᵀ·dY is a product of row-major matrices,
	// and dWᵀ (K, F): dWᵀ += cols·dYᵀ transposes the small matrices (F·K
	// and F·P values) instead of cols (K·P).
	l.wT = growFloats(l.wT, K*F)
	l.gwT = growFloats(l.gwT, K*F)
	for f := range F {
		for k := range K {
			l.wT[k*F+f] = w[f*K+k]
			l.gwT[k*F+f] = gw[f*K+k]
		}
	}
	l.dcols = growFloats(l.dcols, K*P)
	l.dyT = growFloats(l.dyT, P*F)
	for n := range N {
		cols := l.cols
		l.im2col(l.X.Data[n*in:(n+1)*in], cols)
		dyn := dy.Data[n*F*P : (n+1)*F*P]
		for f := range F {
			s := 0.0
			for p, g := range dyn[f*P : (f+1)*P] {
				s += g
				l.dyT[p*F+f] = g
			}
			gb[f] += s
		}
		gemmNN(K, F, P, cols, P, l.dyT, F, l.gwT, F)
		clear(l.dcols)
		gemmNN(K, P, F, l.wT, F, dyn, P, l.dcols, P)
		dx := l.DX.Data[n*in : (n+1)*in]
		clear(dx)
		l.col2im(l.dcols, dx)
	}
	for f := range F {
		for k := range K {
			gw[f*K+k] = l.gwT[k*F+f]
		}
	}
}

// im2col writes one sample's x (C, H, W) as cols (K, P).
func (l *Conv2D) im2col(x, cols []float64) {
	C, H, W := l.in[0], l.in[1], l.in[2]
	OH, OW, S, P := l.out[1], l.out[2], l.stride, l.pad
	k := 0
	for c := range C {
		plane := x[c*H*W : (c+1)*H*W]
		for ky := range l.kh {
			for kx := range l.kw {
				row := cols[k*OH*OW : (k+1)*OH*OW]
				k++
				lo, hi := validRange(kx, P, S, W, OW)
				for oy := range OH {
					dst := row[oy*OW : (oy+1)*OW]
					iy := oy*S + ky - P
					if iy < 0 || iy >= H || lo >= hi {
						clear(dst)
						continue
					}
					src := plane[iy*W : (iy+1)*W]
					clear(dst[:lo])
					if S == 1 {
						copy(dst[lo:hi], src[lo+kx-P:])
					} else {
						ix := lo*S + kx - P
						for ox := lo; ox < hi; ox++ {
							dst[ox] = src[ix]
							ix += S
						}
					}
					clear(dst[hi:])
				}
			}
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
// terms A[i,p]·B[p,j] one at a time in increasing p (a multiply, then an
// add: never fused), so every path below gives the same bits.
//
// Blocks of 4 rows × 8 columns of C stay in registers while p runs (the
// assembly kernel kern4x8 on amd64 with AVX2, or its Go twin); the edges go
// through axpy4 and axpy1.
func gemmNN(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	if len(a) < (m-1)*lda+k || len(b) < (k-1)*ldb+n || len(c) < (m-1)*ldc+n {
		panic("engine: gemmNN: matrix slices too short")
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		a0, a1, a2, a3 := a[i*lda:i*lda+k], a[(i+1)*lda:(i+1)*lda+k], a[(i+2)*lda:(i+2)*lda+k], a[(i+3)*lda:(i+3)*lda+k]
		j := 0
		for ; j+8 <= n; j += 8 {
			kern4x8(k, a0, a1, a2, a3, b[j:], ldb, c[i*ldc+j:], c[(i+1)*ldc+j:], c[(i+2)*ldc+j:], c[(i+3)*ldc+j:])
		}
		if j == n {
			continue
		}
		c0 := c[i*ldc+j : i*ldc+n]
		c1 := c[(i+1)*ldc+j : (i+1)*ldc+n]
		c2 := c[(i+2)*ldc+j : (i+2)*ldc+n]
		c3 := c[(i+3)*ldc+j : (i+3)*ldc+n]
		for p := range k {
			axpy4(a0[p], a1[p], a2[p], a3[p], b[p*ldb+j:p*ldb+n], c0, c1, c2, c3)
		}
	}
	for ; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		for p := range k {
			axpy1(a[i*lda+p], b[p*ldb:p*ldb+n], ci)
		}
	}
}

// kern4x8Go adds Σ_p a_r[p]·B[p, 0:8] to c_r[0:8] for r = 0 … 3, where B
// row p starts at b[p·ldb]. It is the portable form of kern4x8.
func kern4x8Go(k int, a0, a1, a2, a3, b []float64, ldb int, c0, c1, c2, c3 []float64) {
	c0, c1, c2, c3 = c0[:8], c1[:8], c2[:8], c3[:8]
	a0, a1, a2, a3 = a0[:k], a1[:k], a2[:k], a3[:k]
	for j := 0; j < 8; j += 2 {
		s00, s01, s10, s11 := c0[j], c0[j+1], c1[j], c1[j+1]
		s20, s21, s30, s31 := c2[j], c2[j+1], c3[j], c3[j+1]
		for p := range k {
			bp := b[p*ldb+j : p*ldb+j+2]
			b0, b1 := bp[0], bp[1]
			s00 += a0[p] * b0
			s01 += a0[p] * b1
			s10 += a1[p] * b0
			s11 += a1[p] * b1
			s20 += a2[p] * b0
			s21 += a2[p] * b1
			s30 += a3[p] * b0
			s31 += a3[p] * b1
		}
		c0[j], c0[j+1], c1[j], c1[j+1] = s00, s01, s10, s11
		c2[j], c2[j+1], c3[j], c3[j+1] = s20, s21, s30, s31
	}
}

// axpy4 adds a_r·x to y_r for r = 0 … 3.
func axpy4(a0, a1, a2, a3 float64, x, y0, y1, y2, y3 []float64) {
	y0, y1, y2, y3 = y0[:len(x)], y1[:len(x)], y2[:len(x)], y3[:len(x)]
	for j, v := range x {
		y0[j] += a0 * v
		y1[j] += a1 * v
		y2[j] += a2 * v
		y3[j] += a3 * v
	}
}

// axpy1 adds a·x to y.
func axpy1(a float64, x, y []float64) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] += a * v
	}
}
