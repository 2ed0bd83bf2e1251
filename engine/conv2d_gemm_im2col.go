package engine

// im2col and col2im: the input of a convolution laid out as a matrix with
// a row per filter weight and a column per output cell, and back (see
// conv2d_gemm.go).

// im2col writes rows [k0, k1) of one sample's x (C, H, W) as an im2col
// matrix (K, P) into cols (k1−k0, P).
func (l *Conv2D) im2col(x []float64, k0, k1 int, cols []float64) {
	im2colRows(x, l.in[0], l.in[1], l.in[2], l.kh, l.kw, l.stride, l.pad, l.pad, l.out[1], l.out[2], k0, k1, cols)
}

// im2col writes x (C, H, W) as cols (C·KH·KW, OH·OW) for a KH×KW window
// moved with stride S over x zero-padded by PH rows above and below and PW
// columns left and right: cols[(c·KH+ky)·KW+kx, oy·OW+ox] is
// x[c, oy·S+ky−PH, ox·S+kx−PW], or 0 outside the image.
func im2col(x []float64, C, H, W, KH, KW, S, PH, PW, OH, OW int, cols []float64) {
	im2colRows(x, C, H, W, KH, KW, S, PH, PW, OH, OW, 0, C*KH*KW, cols)
}

// im2colRows is im2col for the rows [k0, k1) only, written as cols
// (k1−k0, OH·OW): the rows one part of a split product needs.
func im2colRows(x []float64, C, H, W, KH, KW, S, PH, PW, OH, OW, k0, k1 int, cols []float64) {
	k := 0
	for c := range C {
		plane := x[c*H*W : (c+1)*H*W]
		for ky := range KH {
			for kx := range KW {
				if k < k0 || k >= k1 {
					k++
					continue
				}
				row := cols[(k-k0)*OH*OW : (k-k0+1)*OH*OW]
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
	// The columns [hi, W) of one output row and [0, lo) of the next are a
	// run of n cells starting at column hi: zero the runs that start from
	// row oy0 − 1 to row oy1 − 1, cut to the rows [oy0, oy1).
	n := lo + W - hi
	if n == 0 {
		return
	}
	for t := (oy0-1)*W + hi; t <= (oy1-1)*W+hi; t += W {
		for i := max(t, oy0*W); i < min(t+n, oy1*W); i++ {
			row[i] = 0
		}
	}
}

// padPlanes writes x (C, H, W) into dst (C, H+2·PH, W+2·PW) zero-padded by
// PH rows above and below and PW columns left and right: it copies the
// image and zeroes only the border (dst's every cell is written, so a
// buffer reused from sample to sample is not cleared first).
func padPlanes(x []float64, C, H, W, PH, PW int, dst []float64) {
	Hp, Wp := H+2*PH, W+2*PW
	for c := range C {
		plane := dst[c*Hp*Wp : (c+1)*Hp*Wp]
		src := x[c*H*W : (c+1)*H*W]
		// The top rows and the first row's left border; each row, then the
		// right border of it and the left border of the next; the last
		// row's right border and the bottom rows.
		clear(plane[:PH*Wp+PW])
		for y := range H {
			o := (y+PH)*Wp + PW
			copy(plane[o:o+W], src[y*W:(y+1)*W])
			if y < H-1 {
				clear(plane[o+W : o+W+2*PW])
			}
		}
		clear(plane[(H+PH)*Wp-PW:])
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
