package engine

import "fmt"

// Explaining a dense layer's and a flatten layer's numbers (see explain.go),
// for one sample, from the formulas of Dense:
//
//	Y[o]         = b[o] + Σ_i W[o,i] · X[i]
//	dL/dX[i]     = Σ_o dY[o] · W[o,i]          (the column i of Wᵀ·dY)
//	dL/dW[o,i]  += X[i] · dY[o]                (each sample's share of δ·xᵀ)
//	dL/db[o]    += dY[o]
//
// X's index i is the row-major offset of a (C, H, W) input; operands give
// it in the input's own shape.

// explainDense answers Y, dX, dW and db of dense layer i.
func (v *view) explainDense(l *Dense, i int, e *Explanation) error {
	I, O := l.nIn, l.nOut
	idx := e.Index
	switch e.Tensor {
	case TensorY:
		o := idx[0]
		e.Value = v.of(v.src.outs[i])[o]
		w, b := v.weights(i, 0), v.weights(i, 1)
		x := v.of(v.input(i))
		e.Formula = fmt.Sprintf("Y[%d] = b[%d] + Σ_i W[%d,i] · X[i]  (i over the %d inputs)", o, o, o, I)
		e.Terms = make([]Term, 0, 1+I)
		e.Terms = append(e.Terms, Term{A: Operand{Name: "b", Index: []int{o}, Value: b[o]}, Product: b[o]})
		for k := range I {
			wv := w[o*I+k]
			e.Terms = append(e.Terms, Term{
				A:       Operand{Name: "X", Index: unflat(k, l.in), Value: x[k]},
				B:       Operand{Name: "W", Index: []int{o, k}, Value: wv},
				Product: wv * x[k],
			})
		}
	case TensorDX:
		k := flat(idx, l.in)
		e.Value = v.inputGrad(i)[k]
		w := v.weights(i, 0)
		dy := v.of(v.src.gradOuts[i])
		e.Formula = fmt.Sprintf("dL/dX[%s] = Σ_o dY[o] · W[o,%d]  (column %d of Wᵀ·dY)", ix(idx...), k, k)
		for o := range O {
			e.Terms = append(e.Terms, Term{
				A:       Operand{Name: "dY", Index: []int{o}, Value: dy[o]},
				B:       Operand{Name: "W", Index: []int{o, k}, Value: w[o*I+k]},
				Product: dy[o] * w[o*I+k],
			})
		}
	case TensorDW:
		o, k := idx[0], idx[1]
		x, dy := v.of(v.input(i)), v.of(v.src.gradOuts[i])
		e.Formula = fmt.Sprintf("dL/dW[%d,%d] = Σ_n X[n,%s] · dY[n,%d]  (the batch's δ·xᵀ)", o, k, ix(unflat(k, l.in)...), o)
		e.Terms = []Term{{
			A:       Operand{Name: "X", Index: unflat(k, l.in), Value: x[k]},
			B:       Operand{Name: "dY", Index: []int{o}, Value: dy[o]},
			Product: x[k] * dy[o],
		}}
		v.batchGrad(i, 0, o*I+k, e, func(x, dy []float64) float64 { return x[k] * dy[o] })
	case TensorDB:
		o := idx[0]
		g := v.of(v.src.gradOuts[i])[o]
		e.Formula = fmt.Sprintf("dL/db[%d] = Σ_n dY[n,%d]", o, o)
		e.Terms = []Term{{A: Operand{Name: "dY", Index: []int{o}, Value: g}, Product: g}}
		v.batchGrad(i, 1, o, e, func(_, dy []float64) float64 { return dy[o] })
	}
	if (e.Tensor == TensorY || e.Tensor == TensorDX) && v.t.updated && !v.probe {
		e.Note = joinNote(e.Note, "Computed with the weights before this step's update.")
	}
	return nil
}

// sampleGrad returns one sample's share of dL/dW (Out, In) and dL/db (Out)
// from its input x (In) and dY (Out).
func (l *Dense) sampleGrad(x, dy []float64) []*Tensor {
	gw, gb := NewTensor(l.nOut, l.nIn), NewTensor(l.nOut)
	for o, g := range dy {
		for k, xv := range x {
			gw.Data[o*l.nIn+k] = xv * g
		}
		gb.Data[o] = g
	}
	return []*Tensor{gw, gb}
}

// explainFlatten answers Y and dX of flatten layer i: the same number at
// another index.
func (v *view) explainFlatten(l *Flatten, i int, e *Explanation) error {
	if e.Tensor == TensorY {
		k := e.Index[0]
		at := unflat(k, l.in)
		e.Value = v.of(v.src.outs[i])[k]
		e.Formula = fmt.Sprintf("Y[%d] = X[%s]", k, ix(at...))
		if len(l.in) == 3 {
			e.Formula += fmt.Sprintf("  (row-major: %d = (%d·%d + %d)·%d + %d)", k, at[0], l.in[1], at[1], l.in[2], at[2])
		}
		x := v.of(v.input(i))[k]
		e.Terms = []Term{{A: Operand{Name: "X", Index: at, Value: x}, Product: x}}
		return nil
	}
	k := flat(e.Index, l.in)
	e.Value = v.inputGrad(i)[k]
	g := v.of(v.src.gradOuts[i])[k]
	e.Formula = fmt.Sprintf("dL/dX[%s] = dL/dY[%d]", ix(e.Index...), k)
	e.Terms = []Term{{A: Operand{Name: "dY", Index: []int{k}, Value: g}, Product: g}}
	return nil
}
