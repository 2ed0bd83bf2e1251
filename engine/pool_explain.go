package engine

import "fmt"

// Explaining a pooling layer's numbers (see explain.go), for one sample:
//
//	max: Y[c,y,x] = the window's largest X (the switch; ties go to the first
//	     in row-major order; padding never wins); dL/dX[c,i,j] = Σ dY[c,y,x]
//	     over the windows whose switch is (i, j)
//	avg: Y[c,y,x] = Σ window X / d; dL/dX[c,i,j] = Σ dY[c,y,x] / d over the
//	     windows that cover (i, j), d being each window's divisor

// poolWindow is the geometry of a pool layer.
func (l *pool) poolWindow() *Window {
	return &Window{KH: l.k, KW: l.k, Stride: l.s, Pad: l.p, InH: l.in[1], InW: l.in[2], OutH: l.out[1], OutW: l.out[2]}
}

// covering lists the output cells (y, x) whose windows cover input cell
// (iy, jx), in row-major order.
func (l *pool) covering(iy, jx int) [][2]int {
	var cells [][2]int
	for y := range l.out[1] {
		for x := range l.out[2] {
			y0, y1, x0, x1 := l.window(y, x)
			if iy >= y0 && iy < y1 && jx >= x0 && jx < x1 {
				cells = append(cells, [2]int{y, x})
			}
		}
	}
	return cells
}

// windowTerms lists the K×K cells of output (c, oy, ox)'s window in
// row-major order, the padding cells marked, with Product 0.
func (l *pool) windowTerms(x []float64, c, oy, ox int) []Term {
	H, W := l.in[1], l.in[2]
	terms := make([]Term, 0, l.k*l.k)
	for ky := range l.k {
		for kx := range l.k {
			iy, jx := oy*l.s-l.p+ky, ox*l.s-l.p+kx
			t := Term{A: Operand{Name: "X", Index: []int{c, iy, jx}}}
			if iy < 0 || iy >= H || jx < 0 || jx >= W {
				t.Padding = true
			} else {
				t.A.Value = x[(c*H+iy)*W+jx]
			}
			terms = append(terms, t)
		}
	}
	return terms
}

// explainMaxPool answers Y and dX of max-pool layer i.
func (v *view) explainMaxPool(l *MaxPool2D, i int, e *Explanation) error {
	e.Window = l.poolWindow()
	W, OH, OW := l.in[2], l.out[1], l.out[2]
	sw := v.src.layers[i].(*MaxPool2D).Switches()
	per := l.out.Size()
	sw = sw[v.n*per : (v.n+1)*per]
	idx := e.Index
	switch e.Tensor {
	case TensorY:
		c, oy, ox := idx[0], idx[1], idx[2]
		e.Value = v.of(v.src.outs[i])[flat(idx, l.out)]
		e.Window.Origin = []int{oy*l.s - l.p, ox*l.s - l.p}
		win := int(sw[(c*OH+oy)*OW+ox])
		e.Terms = l.windowTerms(v.of(v.input(i)), c, oy, ox)
		ties := 0
		for k := range e.Terms {
			t := &e.Terms[k]
			if t.Padding {
				continue
			}
			if t.A.Index[1]*W+t.A.Index[2] == win {
				t.Winner, t.Product = true, t.A.Value
			} else if t.A.Value == e.Value {
				ties++
			}
		}
		e.Formula = fmt.Sprintf("Y[%s] = max of X[%d, %d…%d, %d…%d] = X[%s]", ix(idx...), c,
			oy*l.s-l.p, oy*l.s-l.p+l.k-1, ox*l.s-l.p, ox*l.s-l.p+l.k-1, ix(c, win/W, win%W))
		e.Note = "The winner's position is kept (the switch): backward sends dL/dY to it alone."
		if ties > 0 {
			e.Note = joinNote(e.Note, fmt.Sprintf("%d other cells tie with it: the first maximum in row-major order wins.", ties))
		}
		if l.p > 0 {
			e.Note = joinNote(e.Note, "Padding cells never win.")
		}
	case TensorDX:
		c, iy, jx := idx[0], idx[1], idx[2]
		e.Value = v.inputGrad(i)[flat(idx, l.in)]
		dy := v.of(v.src.gradOuts[i])
		cells := l.covering(iy, jx)
		wins := 0
		for _, yx := range cells {
			o := (c*OH+yx[0])*OW + yx[1]
			s := int(sw[o])
			t := Term{A: Operand{Name: "dY", Index: []int{c, yx[0], yx[1]}, Value: dy[o]}, Switch: []int{c, s / W, s % W}}
			if s == iy*W+jx {
				t.Winner, t.Product = true, dy[o]
				wins++
			}
			e.Terms = append(e.Terms, t)
		}
		e.Formula = fmt.Sprintf("dL/dX[%s] = Σ dY[%d,y,x] over the windows whose maximum is X[%s]", ix(idx...), c, ix(idx...))
		switch {
		case len(cells) == 0:
			e.Note = "No window covers this cell (the stride is larger than the window), so no output depends on it and dL/dX is 0."
		case wins == 0:
			e.Note = fmt.Sprintf("X[%s] is the maximum of none of the %d windows that cover it: their dL/dY goes to their winners, and dL/dX here is 0.", ix(idx...), len(cells))
		case wins > 1:
			e.Note = fmt.Sprintf("X[%s] is the maximum of %d overlapping windows: their dL/dY add up.", ix(idx...), wins)
		}
	}
	return nil
}

// explainAvgPool answers Y and dX of average-pool layer i.
func (v *view) explainAvgPool(l *AvgPool2D, i int, e *Explanation) error {
	e.Window = l.poolWindow()
	OH, OW := l.out[1], l.out[2]
	idx := e.Index
	divisor := func(y, x int) float64 { return l.divisor(l.window(y, x)) }
	switch e.Tensor {
	case TensorY:
		c, oy, ox := idx[0], idx[1], idx[2]
		e.Value = v.of(v.src.outs[i])[flat(idx, l.out)]
		e.Window.Origin = []int{oy*l.s - l.p, ox*l.s - l.p}
		d := divisor(oy, ox)
		e.Terms = l.windowTerms(v.of(v.input(i)), c, oy, ox)
		for k := range e.Terms {
			t := &e.Terms[k]
			t.B = Operand{Name: "1/area", Value: 1 / d}
			if !t.Padding {
				t.Product = t.A.Value / d
			}
		}
		e.Formula = fmt.Sprintf("Y[%s] = (Σ X[%d, %d…%d, %d…%d]) / %v", ix(idx...), c,
			oy*l.s-l.p, oy*l.s-l.p+l.k-1, ox*l.s-l.p, ox*l.s-l.p+l.k-1, d)
		e.Note = l.divisorNote(d)
	case TensorDX:
		c, iy, jx := idx[0], idx[1], idx[2]
		e.Value = v.inputGrad(i)[flat(idx, l.in)]
		dy := v.of(v.src.gradOuts[i])
		cells := l.covering(iy, jx)
		for _, yx := range cells {
			o := (c*OH+yx[0])*OW + yx[1]
			d := divisor(yx[0], yx[1])
			e.Terms = append(e.Terms, Term{
				A:       Operand{Name: "dY", Index: []int{c, yx[0], yx[1]}, Value: dy[o]},
				B:       Operand{Name: "1/area", Value: 1 / d},
				Product: dy[o] / d,
			})
		}
		e.Formula = fmt.Sprintf("dL/dX[%s] = Σ dY[%d,y,x] / d over the windows that cover it", ix(idx...), c)
		if len(cells) == 0 {
			e.Note = "No window covers this cell (the stride is larger than the window), so no output depends on it and dL/dX is 0."
		} else {
			e.Note = l.divisorNote(0)
		}
	}
	return nil
}

// divisorNote says what the divisor counts (and its value if d > 0).
func (l *AvgPool2D) divisorNote(d float64) string {
	s := "Each window's divisor counts its cells inside the input (padding is left out)."
	if l.CountIncludePad {
		s = fmt.Sprintf("Each window's divisor is K² = %d: padding cells count, as zeros.", l.k*l.k)
	}
	if d > 0 && !l.CountIncludePad {
		s += fmt.Sprintf(" This window has %v.", d)
	}
	return s
}
