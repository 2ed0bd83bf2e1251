package engine

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func TestMaxPool2DSwitchesAndOverlap(t *testing.T) {
	tests := []struct {
		name     string
		in       Shape
		k, s, p  int
		x, dy    []float64
		y        []float64
		switches []int32
		dx       []float64
	}{
		{
			name: "ties go to the first maximum in row-major order",
			in:   Shape{1, 2, 4}, k: 2, s: 2,
			x:        []float64{1, 3, 3, 3, 3, 3, 0, 2},
			dy:       []float64{10, 20},
			y:        []float64{3, 3},
			switches: []int32{1, 2},
			dx:       []float64{0, 10, 20, 0, 0, 0, 0, 0},
		},
		{
			name: "overlapping windows k3 s2 add gradients at a shared maximum",
			in:   Shape{1, 5, 5}, k: 3, s: 2,
			x: []float64{
				0, 0, 0, 0, 0,
				0, 0, 0, 0, 0,
				0, 0, 9, 0, 0,
				0, 0, 0, 0, 0,
				0, 0, 0, 0, 1,
			},
			dy:       []float64{1, 2, 3, 4},
			y:        []float64{9, 9, 9, 9},
			switches: []int32{12, 12, 12, 12},
			dx: []float64{
				0, 0, 0, 0, 0,
				0, 0, 0, 0, 0,
				0, 0, 10, 0, 0,
				0, 0, 0, 0, 0,
				0, 0, 0, 0, 0,
			},
		},
		{
			name: "padding never wins, switches index the unpadded plane",
			in:   Shape{1, 3, 3}, k: 2, s: 2, p: 1,
			x:        []float64{-5, -4, -3, -2, -1, -6, -7, -8, -9},
			dy:       []float64{1, 2, 3, 4},
			y:        []float64{-5, -3, -2, -1},
			switches: []int32{0, 2, 3, 4},
			dx:       []float64{1, 0, 2, 3, 4, 0, 0, 0, 0},
		},
		{
			name: "all-equal window: first cell, for every channel",
			in:   Shape{2, 2, 2}, k: 2, s: 1,
			x:        []float64{7, 7, 7, 7, -1, -1, -1, -1},
			dy:       []float64{5, 6},
			y:        []float64{7, -1},
			switches: []int32{0, 0},
			dx:       []float64{5, 0, 0, 0, 6, 0, 0, 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewMaxPool2D(tc.in, tc.k, tc.s, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			x := &Tensor{Shape: append([]int{1}, tc.in...), Data: tc.x}
			y := l.Forward(x)
			if !slices.Equal(y.Data, tc.y) {
				t.Errorf("Y = %v, want %v", y.Data, tc.y)
			}
			if !slices.Equal(l.Switches(), tc.switches) {
				t.Errorf("Switches() = %v, want %v", l.Switches(), tc.switches)
			}
			dx := l.Backward(&Tensor{Shape: append([]int{1}, l.OutShape()...), Data: tc.dy})
			if !slices.Equal(dx.Data, tc.dx) {
				t.Errorf("dX = %v, want %v", dx.Data, tc.dx)
			}
		})
	}
}

func TestMaxPool2DSwitchesBatch(t *testing.T) {
	l, _ := NewMaxPool2D(Shape{1, 2, 2}, 2, 2, 0)
	x := &Tensor{Shape: []int{3, 1, 2, 2}, Data: []float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}}
	l.Forward(x)
	if want := []int32{0, 1, 3}; !slices.Equal(l.Switches(), want) {
		t.Errorf("Switches() for a batch of 3 = %v, want %v (N, C, H', W')", l.Switches(), want)
	}
}

func TestAvgPool2DDivisor(t *testing.T) {
	x := &Tensor{Shape: []int{1, 1, 2, 2}, Data: []float64{1, 2, 3, 6}}
	tests := []struct {
		incPad bool
		y, dx  []float64
	}{
		// windows at (−1,−1),(−1,1),(1,−1),(1,1) hold one real cell each
		{false, []float64{1, 2, 3, 6}, []float64{1, 1, 1, 1}},
		{true, []float64{0.25, 0.5, 0.75, 1.5}, []float64{0.25, 0.25, 0.25, 0.25}},
	}
	for _, tc := range tests {
		l, err := NewAvgPool2D(Shape{1, 2, 2}, 2, 2, 1, tc.incPad)
		if err != nil {
			t.Fatal(err)
		}
		if y := l.Forward(x); !slices.Equal(y.Data, tc.y) {
			t.Errorf("%s: Y = %v, want %v", l, y.Data, tc.y)
		}
		dy := &Tensor{Shape: []int{1, 1, 2, 2}, Data: []float64{1, 1, 1, 1}}
		if dx := l.Backward(dy); !slices.Equal(dx.Data, tc.dx) {
			t.Errorf("%s: dX = %v, want %v", l, dx.Data, tc.dx)
		}
	}
}

func TestNewPoolErrorsAndStrings(t *testing.T) {
	errs := []struct {
		in      Shape
		k, s, p int
		want    string
	}{
		{Shape{1, 4, 4}, 2, 0, 0, "stride 0"},
		{Shape{1, 4, 4}, 0, 1, 0, "kernel 0×0"},
		{Shape{1, 4, 4}, 2, 2, -1, "padding -1"},
		{Shape{1, 3, 3}, 6, 1, 1, "kernel 6×6 larger than padded input 5×5"},
		{Shape{1, 4, 4}, 2, 1, 2, "padding 2, want less than the kernel 2"},
	}
	for _, tc := range errs {
		_, err1 := NewMaxPool2D(tc.in, tc.k, tc.s, tc.p)
		_, err2 := NewAvgPool2D(tc.in, tc.k, tc.s, tc.p, true)
		for _, err := range []error{err1, err2} {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("pool %v k%d s%d p%d: error %v, want %q", tc.in, tc.k, tc.s, tc.p, err, tc.want)
			}
		}
	}
	mp, _ := NewMaxPool2D(Shape{16, 14, 14}, 3, 3, 0)
	ap, _ := NewAvgPool2D(Shape{1, 5, 5}, 3, 1, 1, true)
	ap2, _ := NewAvgPool2D(Shape{1, 5, 5}, 2, 2, 0, false)
	for _, tc := range []struct {
		l         Layer
		str, kind string
		out       Shape
	}{
		{mp, "maxpool(3,s3,p0)", "maxpool", Shape{16, 4, 4}},
		{ap, "avgpool(3,s1,p1,incpad)", "avgpool", Shape{1, 5, 5}},
		{ap2, "avgpool(2,s2,p0)", "avgpool", Shape{1, 2, 2}},
	} {
		if tc.l.String() != tc.str || tc.l.Kind() != tc.kind || !shapeEq(tc.l.OutShape(), tc.out) {
			t.Errorf("got %q kind %q out %v, want %q %q %v", tc.l.String(), tc.l.Kind(), tc.l.OutShape(), tc.str, tc.kind, tc.out)
		}
	}
}

// TestMaxPool2DUnpaddedMatchesWindows: without padding, Forward takes a path
// that does not clip windows (with the 2×2 window written out); it gives the
// same maxima and switches as the clipped windows, ties (to the first
// maximum), −0, −Inf and NaN included.
func TestMaxPool2DUnpaddedMatchesWindows(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	tests := []struct {
		in      Shape
		k, s, n int
	}{
		{Shape{8, 28, 28}, 2, 2, 2}, // the default network's
		{Shape{16, 14, 14}, 3, 3, 2},
		{Shape{2, 7, 9}, 3, 2, 3},
		{Shape{1, 5, 4}, 2, 1, 1},
		{Shape{3, 6, 6}, 6, 1, 2},
		{Shape{2, 7, 9}, 2, 3, 2},
		{Shape{1, 2, 2}, 2, 2, 4},
	}
	// Many ties, −0 beside +0, −Inf, and NaN, which never wins.
	values := []float64{0, math.Copysign(0, -1), 1, 2, 3, -1, math.Inf(-1), math.NaN()}
	for _, tc := range tests {
		l, err := NewMaxPool2D(tc.in, tc.k, tc.s, 0)
		if err != nil {
			t.Fatal(err)
		}
		x := NewTensor(append([]int{tc.n}, tc.in...)...)
		for i := range x.Data {
			x.Data[i] = values[rng.Intn(len(values))]
		}
		x.Data[0], x.Data[1] = math.NaN(), math.Inf(-1)
		y := l.Forward(x).Clone()
		sw := slices.Clone(l.Switches())
		l.forwardWindows(x, 0, tc.n*tc.in[0])
		for i := range y.Data {
			if math.Float64bits(y.Data[i]) != math.Float64bits(l.Y.Data[i]) || sw[i] != l.switches[i] {
				t.Fatalf("%s on %v: cell %d = %v (switch %d), clipped windows give %v (switch %d)",
					l, tc.in, i, y.Data[i], sw[i], l.Y.Data[i], l.switches[i])
			}
		}
	}
}
