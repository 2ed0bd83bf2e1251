package engine

import "fmt"

// Explaining a conv layer's numbers (see explain.go), for one sample, from
// the formulas of Conv2D:
//
//	Y[f,y,x]          = b[f] + Σ_c,ky,kx W[f,c,ky,kx] · X[c, y·S+ky−P, x·S+kx−P]
//	dL/dX[c,i,j]      = Σ dY[f,y,x] · W[f,c,ky,kx] over i = y·S+ky−P, j = x·S+kx−P
//	dL/dW[f,c,ky,kx] += Σ_y,x X[c, y·S+ky−P, x·S+kx−P] · dY[f,y,x]   (each sample's share)
//	dL/db[f]         += Σ_y,x dY[f,y,x]

// explainConv answers Y, dX, dW and db of conv layer i.
func (v *view) explainConv(l *Conv2D, i int, e *Explanation) error {
	H, W := l.in[1], l.in[2]
	OH, OW, S, P := l.out[1], l.out[2], l.stride, l.pad
	e.Window = &Window{KH: l.kh, KW: l.kw, Stride: S, Pad: P, InH: H, InW: W, OutH: OH, OutW: OW}
	w := v.weights(i, 0)
	idx := e.Index
	switch e.Tensor {
	case TensorY:
		f, oy, ox := idx[0], idx[1], idx[2]
		e.Value = v.of(v.src.outs[i])[flat(idx, l.out)]
		e.Window.Origin = []int{oy*S - P, ox*S - P}
		e.Formula = fmt.Sprintf("Y[%s] = b[%d] + Σ_c,ky,kx W[%d,c,ky,kx] · X[c, %s, %s]",
			ix(idx...), f, f, plus(oy*S-P, "ky"), plus(ox*S-P, "kx"))
		e.Terms = l.termsY(v.of(v.input(i)), w, v.weights(i, 1), f, oy, ox)
		pad := 0
		for _, t := range e.Terms {
			if t.Padding {
				pad++
			}
		}
		if pad > 0 {
			e.Note = fmt.Sprintf("%d of the %d taps fall on the zero padding and add 0.", pad, len(e.Terms)-1)
		}
	case TensorDX:
		c, iy, jx := idx[0], idx[1], idx[2]
		e.Value = v.inputGrad(i)[flat(idx, l.in)]
		ph, pw := l.kh-1-P, l.kw-1-P
		e.Window.Origin = []int{iy, jx}
		e.Window.PlaneH, e.Window.PlaneW = H+l.kh-1, W+l.kw-1 // every window within, see Window
		e.Formula = fmt.Sprintf("dL/dX[%s] = Σ dY[f,y,x] · W[f,%d,ky,kx] over y·%d+ky−%d = %d, x·%d+kx−%d = %d "+
			"(= Σ_f,u,v rot180(W)[f,%d,u,v] · D[f,%d+u,%d+v], D being dY dilated by %d and zero-padded by %d×%d)",
			ix(idx...), c, S, P, iy, S, P, jx, c, iy, jx, S, ph, pw)
		e.Terms = l.termsDX(v.of(v.src.gradOuts[i]), w, c, iy, jx)
		if len(e.Terms) == 0 {
			e.Note = l.uncovered(iy, jx)
		}
	case TensorDW:
		f, c, ky, kx := idx[0], idx[1], idx[2], idx[3]
		e.Window.Origin = []int{ky - P, kx - P}
		e.Formula = fmt.Sprintf("dL/dW[%s] = Σ_n Σ_y,x X[n,%d, y·%d%s, x·%d%s] · dY[n,%d,y,x]",
			ix(idx...), c, S, signed(ky-P), S, signed(kx-P), f)
		e.Terms = l.termsDW(v.of(v.input(i)), v.of(v.src.gradOuts[i]), f, c, ky, kx)
		v.batchGrad(i, 0, flat(idx, l.W.Value.Shape), e, func(x, dy []float64) float64 {
			return l.shareW(x, dy, f, c, ky, kx)
		})
	case TensorDB:
		f := idx[0]
		e.Formula = fmt.Sprintf("dL/db[%d] = Σ_n Σ_y,x dY[n,%d,y,x]", f, f)
		dy := v.of(v.src.gradOuts[i])
		for y := range OH {
			for x := range OW {
				g := dy[(f*OH+y)*OW+x]
				e.Terms = append(e.Terms, Term{A: Operand{Name: "dY", Index: []int{f, y, x}, Value: g}, Product: g})
			}
		}
		v.batchGrad(i, 1, f, e, func(_, dy []float64) float64 {
			s := 0.0
			for _, g := range dy[f*OH*OW : (f+1)*OH*OW] {
				s += g
			}
			return s
		})
	}
	if (e.Tensor == TensorY || e.Tensor == TensorDX) && v.t.updated && !v.probe {
		e.Note = joinNote(e.Note, "Computed with the weights before this step's update.")
	}
	return nil
}

// signed formats k as "+k", "−k" or "".
func signed(k int) string {
	switch {
	case k > 0:
		return fmt.Sprintf("+%d", k)
	case k < 0:
		return fmt.Sprintf("−%d", -k)
	}
	return ""
}

// joinNote appends sentence s to note.
func joinNote(note, s string) string {
	if note == "" {
		return s
	}
	return note + " " + s
}

// inputGrad is layer i's dL/dX for the view's sample: the backward pass's,
// or for a first conv layer that skips it in training, Conv2D.InputGrad, as
// the trace computes it.
func (v *view) inputGrad(i int) []float64 {
	if g := v.src.gradIns[i]; g != nil {
		return v.of(g)
	}
	return v.src.layers[i].(*Conv2D).InputGrad(v.n).Data
}

// termsY lists Y[f,oy,ox]'s terms for one sample x (C, H, W) with filters w
// and biases b: b[f] first, then W[f,c,ky,kx]·X[c,iy,ix] for c, ky, kx in
// order, including the taps on the zero padding.
func (l *Conv2D) termsY(x, w, b []float64, f, oy, ox int) []Term {
	C, H, W := l.in[0], l.in[1], l.in[2]
	terms := make([]Term, 0, 1+C*l.kh*l.kw)
	terms = append(terms, Term{A: Operand{Name: "b", Index: []int{f}, Value: b[f]}, Product: b[f]})
	for c := range C {
		for ky := range l.kh {
			for kx := range l.kw {
				iy, jx := oy*l.stride+ky-l.pad, ox*l.stride+kx-l.pad
				t := Term{B: Operand{Name: "W", Index: []int{f, c, ky, kx}, Value: w[((f*C+c)*l.kh+ky)*l.kw+kx]}}
				t.A = Operand{Name: "X", Index: []int{c, iy, jx}}
				if iy < 0 || iy >= H || jx < 0 || jx >= W {
					t.Padding = true
				} else {
					t.A.Value = x[(c*H+iy)*W+jx]
					t.Product = t.A.Value * t.B.Value
				}
				terms = append(terms, t)
			}
		}
	}
	return terms
}

// termsDX lists dL/dX[c,iy,jx]'s terms for one sample's dY (F, H', W') and
// filters w: for each filter f, the taps of the rotated filter in row-major
// order (u, v) over the dilated, padded dY, keeping the cells that hold an
// output cell's dY (the others are the dilation's and padding's zeros).
func (l *Conv2D) termsDX(dy, w []float64, c, iy, jx int) []Term {
	C := l.in[0]
	F, OH, OW, S, P := l.out[0], l.out[1], l.out[2], l.stride, l.pad
	var terms []Term
	for f := range F {
		for u := range l.kh {
			ky := l.kh - 1 - u
			y := iy + P - ky // = y·S
			if y < 0 || y%S != 0 || y/S >= OH {
				continue
			}
			y /= S
			for vv := range l.kw {
				kx := l.kw - 1 - vv
				x := jx + P - kx
				if x < 0 || x%S != 0 || x/S >= OW {
					continue
				}
				x /= S
				g, wt := dy[(f*OH+y)*OW+x], w[((f*C+c)*l.kh+ky)*l.kw+kx]
				terms = append(terms, Term{
					A:       Operand{Name: "dY", Index: []int{f, y, x}, Value: g},
					B:       Operand{Name: "W", Index: []int{f, c, ky, kx}, Value: wt},
					Product: g * wt,
					Rotated: []int{u, vv},
					Dilated: []int{iy + u, jx + vv},
				})
			}
		}
	}
	return terms
}

// uncovered says why no window reads input cell (iy, jx).
func (l *Conv2D) uncovered(iy, jx int) string {
	covers := func(i, k, out int) bool {
		for o := range out {
			if d := i - o*l.stride + l.pad; d >= 0 && d < k {
				return true
			}
		}
		return false
	}
	what := ""
	switch {
	case !covers(iy, l.kh, l.out[1]):
		what = fmt.Sprintf("row %d", iy)
	case !covers(jx, l.kw, l.out[2]):
		what = fmt.Sprintf("column %d", jx)
	}
	return fmt.Sprintf("No window reads %s: windows of %d×%d taps start every %d cells at −%d, and %s falls between them or past the last, so no output depends on this cell and dL/dX is 0.",
		what, l.kh, l.kw, l.stride, l.pad, what)
}

// termsDW lists one sample's share of dL/dW[f,c,ky,kx]: X[c,iy,ix]·dY[f,y,x]
// for every output cell (y, x) in order, including the taps on the padding.
func (l *Conv2D) termsDW(x, dy []float64, f, c, ky, kx int) []Term {
	H, W := l.in[1], l.in[2]
	OH, OW := l.out[1], l.out[2]
	terms := make([]Term, 0, OH*OW)
	for y := range OH {
		for xo := range OW {
			iy, jx := y*l.stride+ky-l.pad, xo*l.stride+kx-l.pad
			t := Term{
				A: Operand{Name: "X", Index: []int{c, iy, jx}},
				B: Operand{Name: "dY", Index: []int{f, y, xo}, Value: dy[(f*OH+y)*OW+xo]},
			}
			if iy < 0 || iy >= H || jx < 0 || jx >= W {
				t.Padding = true
			} else {
				t.A.Value = x[(c*H+iy)*W+jx]
				t.Product = t.A.Value * t.B.Value
			}
			terms = append(terms, t)
		}
	}
	return terms
}

// shareW is the sum of termsDW.
func (l *Conv2D) shareW(x, dy []float64, f, c, ky, kx int) float64 {
	H, W := l.in[1], l.in[2]
	OH, OW := l.out[1], l.out[2]
	s := 0.0
	for y := range OH {
		iy := y*l.stride + ky - l.pad
		if iy < 0 || iy >= H {
			continue
		}
		for xo := range OW {
			if jx := xo*l.stride + kx - l.pad; jx >= 0 && jx < W {
				s += float64(x[(c*H+iy)*W+jx] * dy[(f*OH+y)*OW+xo])
			}
		}
	}
	return s
}

// sampleGrad returns one sample's share of dL/dW (F, C, KH, KW) and dL/db
// (F) from its input x (C, H, W) and dY (F, H', W'): shareW for every
// weight (each adds its terms in the same order), skipping the output cells
// whose dY is 0 (most of them, behind a max pool).
func (l *Conv2D) sampleGrad(x, dy []float64) []*Tensor {
	C, H, W := l.in[0], l.in[1], l.in[2]
	F, OH, OW := l.out[0], l.out[1], l.out[2]
	KH, KW, S, P := l.kh, l.kw, l.stride, l.pad
	gw, gb := NewTensor(F, C, KH, KW), NewTensor(F)
	for f := range F {
		gwf := gw.Data[f*C*KH*KW : (f+1)*C*KH*KW]
		for y := range OH {
			for xo := range OW {
				g := dy[(f*OH+y)*OW+xo]
				gb.Data[f] += g
				if g == 0 {
					continue
				}
				for c := range C {
					for ky := range KH {
						iy := y*S + ky - P
						if iy < 0 || iy >= H {
							continue
						}
						row, taps := x[(c*H+iy)*W:(c*H+iy+1)*W], gwf[(c*KH+ky)*KW:(c*KH+ky+1)*KW]
						for kx := range taps {
							if jx := xo*S + kx - P; jx >= 0 && jx < W {
								// the product rounded on its own (not fused
								// into the add), as WalkConv shows it
								taps[kx] += float64(row[jx] * g)
							}
						}
					}
				}
			}
		}
	}
	return []*Tensor{gw, gb}
}
