package engine

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func TestDenseSmall(t *testing.T) {
	l, err := NewDense(Shape{1, 1, 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	copy(l.W.Value.Data, []float64{1, 2, 3, 4}) // W (Out=2, In=2)
	copy(l.B.Value.Data, []float64{0.5, -0.5})
	x := &Tensor{Shape: []int{2, 1, 1, 2}, Data: []float64{1, 1, 2, -1}}
	if y := l.Forward(x); !slices.Equal(y.Data, []float64{3.5, 6.5, 0.5, 1.5}) {
		t.Errorf("Y = %v, want [3.5 6.5 0.5 1.5]", y.Data)
	}
	dx := l.Backward(&Tensor{Shape: []int{2, 2}, Data: []float64{1, 0, 0, 1}})
	if !slices.Equal(dx.Data, []float64{1, 2, 3, 4}) || !slices.Equal(dx.Shape, x.Shape) {
		t.Errorf("dX = %v %v, want [1 2 3 4] shaped like X", dx.Shape, dx.Data)
	}
	if want := []float64{1, 1, 2, -1}; !slices.Equal(l.W.Grad.Data, want) {
		t.Errorf("dW = %v, want %v", l.W.Grad.Data, want)
	}
	if want := []float64{1, 1}; !slices.Equal(l.B.Grad.Data, want) {
		t.Errorf("db = %v, want %v", l.B.Grad.Data, want)
	}
	if l.String() != "dense(2)" || l.Kind() != "dense" {
		t.Errorf("String %q Kind %q", l, l.Kind())
	}
}

func TestDenseInitAndErrors(t *testing.T) {
	if _, err := NewDense(Shape{10}, 0); err == nil || !strings.Contains(err.Error(), "0 outputs") {
		t.Errorf("NewDense(out=0) error %v", err)
	}
	l, _ := NewDense(Shape{16, 4, 4}, 10)
	l.Init(rand.New(rand.NewSource(2)), Glorot)
	a := math.Sqrt(6.0 / (256 + 10))
	for _, v := range l.W.Value.Data {
		if math.Abs(v) > a || v == 0 {
			t.Fatalf("Glorot weight %v, want 0 < |w| ≤ %v", v, a)
		}
	}
}
