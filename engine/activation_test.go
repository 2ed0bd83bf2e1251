package engine

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestActivationsAtKinks(t *testing.T) {
	in := Shape{5}
	x := &Tensor{Shape: []int{1, 5}, Data: []float64{-2, -0.5, 0, 0.5, 2}}
	dy := &Tensor{Shape: []int{1, 5}, Data: []float64{1, 1, 1, 1, 1}}
	leaky, _ := NewLeakyReLU(in, 0.25)
	sig, tanh := NewSigmoid(in), NewTanh(in)
	tests := []struct {
		l          Layer
		kind, spec string
		y, dx      []float64
	}{
		{NewReLU(in), "relu", "relu", []float64{0, 0, 0, 0.5, 2}, []float64{0, 0, 0, 1, 1}},
		{leaky, "leakyrelu", "leakyrelu(0.25)", []float64{-0.5, -0.125, 0, 0.5, 2}, []float64{0.25, 0.25, 0.25, 1, 1}},
		{tanh, "tanh", "tanh",
			[]float64{math.Tanh(-2), math.Tanh(-0.5), 0, math.Tanh(0.5), math.Tanh(2)},
			[]float64{1 - math.Pow(math.Tanh(2), 2), 1 - math.Pow(math.Tanh(0.5), 2), 1, 1 - math.Pow(math.Tanh(0.5), 2), 1 - math.Pow(math.Tanh(2), 2)}},
		{sig, "sigmoid", "sigmoid",
			[]float64{1 / (1 + math.Exp(2)), 1 / (1 + math.Exp(0.5)), 0.5, 1 / (1 + math.Exp(-0.5)), 1 / (1 + math.Exp(-2))},
			[]float64{math.Exp(2) / math.Pow(1+math.Exp(2), 2), math.Exp(0.5) / math.Pow(1+math.Exp(0.5), 2), 0.25, math.Exp(0.5) / math.Pow(1+math.Exp(0.5), 2), math.Exp(2) / math.Pow(1+math.Exp(2), 2)}},
	}
	for _, tc := range tests {
		if tc.l.Kind() != tc.kind || tc.l.String() != tc.spec {
			t.Errorf("Kind() %q String() %q, want %q %q", tc.l.Kind(), tc.l.String(), tc.kind, tc.spec)
		}
		y := tc.l.Forward(x)
		dx := tc.l.Backward(dy)
		for i := range tc.y {
			if math.Abs(y.Data[i]-tc.y[i]) > 1e-15 || math.Abs(dx.Data[i]-tc.dx[i]) > 1e-15 {
				t.Errorf("%s at x=%v: y %v dx %v, want %v %v", tc.l, x.Data[i], y.Data[i], dx.Data[i], tc.y[i], tc.dx[i])
			}
		}
	}
	big := &Tensor{Shape: []int{1, 5}, Data: []float64{-1000, -40, 0, 40, 1000}}
	for _, v := range sig.Forward(big).Data {
		if math.IsNaN(v) || v < 0 || v > 1 {
			t.Errorf("sigmoid of large input gave %v", v)
		}
	}
}

func TestNewLeakyReLUErrors(t *testing.T) {
	for _, a := range []float64{-0.1, 1, 2, math.NaN()} {
		if _, err := NewLeakyReLU(Shape{3}, a); err == nil || !strings.Contains(err.Error(), "slope") {
			t.Errorf("NewLeakyReLU(α=%v) error %v, want a slope error", a, err)
		}
	}
}

func TestFlatten(t *testing.T) {
	l := NewFlatten(Shape{2, 1, 2})
	x := &Tensor{Shape: []int{2, 2, 1, 2}, Data: []float64{1, 2, 3, 4, 5, 6, 7, 8}}
	y := l.Forward(x)
	if !slices.Equal(y.Shape, []int{2, 4}) || !slices.Equal(y.Data, x.Data) || l.String() != "flatten" {
		t.Errorf("Flatten: %v %v %q", y.Shape, y.Data, l)
	}
	dx := l.Backward(&Tensor{Shape: []int{2, 4}, Data: []float64{8, 7, 6, 5, 4, 3, 2, 1}})
	if !slices.Equal(dx.Shape, x.Shape) || dx.Data[0] != 8 {
		t.Errorf("Flatten.Backward: %v %v", dx.Shape, dx.Data)
	}
}

func TestPositiveMask(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want bool
	}{
		{1, true}, {5e-324, true}, {math.MaxFloat64, true}, {math.Inf(1), true},
		{0, false}, {math.Copysign(0, -1), false}, {-5e-324, false}, {-1, false}, {math.Inf(-1), false}, {math.NaN(), false},
	} {
		if got := positiveMask(tc.v) != 0; got != tc.want {
			t.Errorf("positiveMask(%v) set = %v, want %v", tc.v, got, tc.want)
		}
	}
}
