package engine

import "fmt"

// Explaining an elementwise activation's numbers (see explain.go), for one
// sample: Y[k] = f(X[k]) and dL/dX[k] = dL/dY[k] · f'(X[k]).

// explainActivation answers Y and dX of activation layer i (ReLU,
// LeakyReLU, Tanh or Sigmoid).
func (v *view) explainActivation(l Layer, i int, e *Explanation) error {
	k := flat(e.Index, l.InShape())
	x := v.of(v.input(i))[k]
	y := v.of(v.src.outs[i])[k]
	at := ix(e.Index...)
	xArg, yArg := Arg{Name: "X", Value: x}, Arg{Name: "Y", Value: y}
	if e.Tensor == TensorY {
		e.Value = y
		t := Term{A: Operand{Name: "X", Index: e.Index, Value: x}, Product: y}
		switch l := l.(type) {
		case *ReLU:
			e.Formula = fmt.Sprintf("Y[%s] = max(0, X[%s])", at, at)
			if !(x > 0) {
				e.Note = "X ≤ 0: the ReLU outputs 0."
			}
		case *LeakyReLU:
			e.Formula = fmt.Sprintf("Y[%s] = X[%s] if X > 0, else α·X (α = %v)", at, at, l.Alpha)
			if !(x > 0) {
				t.B = Operand{Name: "α", Value: l.Alpha}
			}
		case *Tanh:
			e.Formula = fmt.Sprintf("Y[%s] = tanh(X[%s])", at, at)
		case *Sigmoid:
			e.Formula = fmt.Sprintf("Y[%s] = σ(X[%s]) = 1 / (1 + e^−X)", at, at)
		}
		e.Terms = []Term{t}
		return nil
	}
	e.Value = v.inputGrad(i)[k]
	g := v.of(v.src.gradOuts[i])[k]
	d := Quantity{Name: "f'(X)", Args: []Arg{xArg}}
	var product float64
	switch l := l.(type) {
	case *ReLU:
		d.Formula = "1 if X > 0, else 0"
		if x > 0 {
			d.Value, product = 1, g
		} else if x == 0 {
			e.Note = "X is exactly 0: the ReLU's derivative is taken as 0 there."
		} else {
			e.Note = "X < 0: the ReLU blocks the gradient."
		}
	case *LeakyReLU:
		d.Formula = fmt.Sprintf("1 if X > 0, else α = %v", l.Alpha)
		if x > 0 {
			d.Value, product = 1, g
		} else {
			d.Value, product = l.Alpha, l.Alpha*g
		}
	case *Tanh:
		d.Formula, d.Args = "1 − Y²", []Arg{xArg, yArg}
		d.Value, product = 1-float64(y*y), g*(1-float64(y*y))
	case *Sigmoid:
		d.Formula, d.Args = "Y · (1 − Y)", []Arg{xArg, yArg}
		d.Value, product = y*(1-y), g*y*(1-y)
	}
	e.Formula = fmt.Sprintf("dL/dX[%s] = dL/dY[%s] · f'(X[%s])", at, at, at)
	e.Lines = []Quantity{d}
	e.Terms = []Term{{
		A:       Operand{Name: "dY", Index: e.Index, Value: g},
		B:       Operand{Name: "f'(X)", Index: e.Index, Value: d.Value},
		Product: product,
	}}
	return nil
}
