package engine

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
)

// closeRel reports the first index where got and want differ by more than
// rel times the largest |want| (at least 1), or −1.
func closeRel(got, want []float64, rel float64) int {
	if len(got) != len(want) {
		return 0
	}
	scale := 1.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= rel*scale) {
			return i
		}
	}
	return -1
}

// TestConv2DFastMatchesDirect holds the im2col + GEMM path equal to the
// direct loops on random configurations and on fixed ones that take each
// form of dL/dX (see inputGradSample): the default network's layers, stride
// 1 with every padding from 0 to K−1 and non-square kernels (the
// correlation form once C ≥ 4), padding ≥ K and stride 2 (col2im).
func TestConv2DFastMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := range 32 {
		c, f := 1+rng.Intn(4), 1+rng.Intn(6)
		h, w := 1+rng.Intn(12), 1+rng.Intn(12)
		kh, kw := 1+rng.Intn(5), 1+rng.Intn(5)
		s, p := 1+rng.Intn(3), rng.Intn(3)
		n := 1 + rng.Intn(3)
		l, err := NewConv2D(Shape{c, h, w}, f, kh, kw, s, p)
		if err != nil { // kernel larger than the padded input: draw again
			continue
		}
		t.Run(fmt.Sprintf("%d_n%d_%v_%s", i, n, Shape{c, h, w}, l), func(t *testing.T) {
			checkConvFastMatchesDirect(t, l, rng, n)
		})
	}
	fixed := []struct {
		in                    Shape
		filters, kh, kw, s, p int
		correlation           bool
	}{
		{Shape{1, 28, 28}, 8, 5, 5, 1, 2, false},
		{Shape{8, 14, 14}, 16, 5, 5, 1, 2, true},
		{Shape{4, 6, 7}, 3, 3, 3, 1, 0, true},
		{Shape{4, 6, 7}, 3, 3, 3, 1, 1, true},
		{Shape{4, 6, 7}, 3, 3, 3, 1, 2, true},
		{Shape{5, 5, 9}, 2, 2, 4, 1, 1, true},
		{Shape{6, 4, 3}, 7, 4, 1, 1, 0, true},
		{Shape{4, 6, 7}, 3, 3, 3, 1, 3, false},
		{Shape{4, 9, 9}, 3, 3, 3, 2, 1, false},
	}
	for _, tc := range fixed {
		l, err := NewConv2D(tc.in, tc.filters, tc.kh, tc.kw, tc.s, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.inputGradByCorrelation(); got != tc.correlation {
			t.Errorf("%v %s: dL/dX by correlation %v, want %v", tc.in, l, got, tc.correlation)
		}
		t.Run(fmt.Sprintf("%v_%s", tc.in, l), func(t *testing.T) {
			checkConvFastMatchesDirect(t, l, rng, 3)
		})
	}
}

// checkConvFastMatchesDirect draws weights, biases, X (n, C, H, W) and dY
// and compares Forward and Backward with forwardDirect and backwardDirect.
func checkConvFastMatchesDirect(t *testing.T, l *Conv2D, rng *rand.Rand, n int) {
	t.Helper()
	l.Init(rng, He)
	for j := range l.B.Value.Data {
		l.B.Value.Data[j] = rng.NormFloat64()
	}
	x := randTensor(rng, append([]int{n}, l.InShape()...)...)
	dy := randTensor(rng, append([]int{n}, l.OutShape()...)...)

	want := l.forwardDirect(x)
	l.W.Grad.Zero()
	l.B.Grad.Zero()
	wantDX := l.backwardDirect(x, dy)
	wantDW, wantDB := l.W.Grad.Clone(), l.B.Grad.Clone()

	l.W.Grad.Zero()
	l.B.Grad.Zero()
	got := l.Forward(x)
	gotDX := l.Backward(dy)
	for _, c := range []struct {
		name      string
		got, want []float64
	}{
		{"Y", got.Data, want.Data},
		{"dX", gotDX.Data, wantDX.Data},
		{"dW", l.W.Grad.Data, wantDW.Data},
		{"db", l.B.Grad.Data, wantDB.Data},
	} {
		if j := closeRel(c.got, c.want, 1e-12); j >= 0 {
			t.Errorf("%s[%d] = %v, direct loops give %v", c.name, j, c.got[j], c.want[j])
		}
	}
}

func TestConv2DBackwardAccumulates(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	l, err := NewConv2D(Shape{2, 5, 5}, 3, 3, 3, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	l.Init(rng, Glorot)
	x := randTensor(rng, 2, 2, 5, 5)
	dy := randTensor(rng, 2, 3, 5, 5)
	l.Forward(x)
	l.Backward(dy)
	once := l.W.Grad.Clone()
	l.Forward(x)
	l.Backward(dy)
	for i, g := range l.W.Grad.Data {
		if math.Abs(g-2*once.Data[i]) > 1e-12 {
			t.Fatalf("after two Backward calls dW[%d] = %v, want 2·%v", i, g, once.Data[i])
		}
	}
}

func TestNewConv2DErrors(t *testing.T) {
	tests := []struct {
		in                    Shape
		filters, kh, kw, s, p int
		wantErr               string
	}{
		{Shape{1, 28, 28}, 8, 5, 5, 0, 2, "stride 0"},
		{Shape{1, 28, 28}, 8, 5, 5, 1, -1, "padding -1"},
		{Shape{1, 28, 28}, 8, 0, 5, 1, 0, "kernel 0×5"},
		{Shape{1, 28, 28}, 0, 5, 5, 1, 0, "0 filters"},
		{Shape{1, 3, 3}, 1, 5, 5, 1, 0, "kernel 5×5 larger than padded input 3×3"},
		{Shape{1, 3, 3}, 1, 6, 2, 1, 1, "kernel 6×2 larger than padded input 5×5"},
		{Shape{28, 28}, 1, 3, 3, 1, 0, "input shape (28,28)"},
	}
	for _, tc := range tests {
		_, err := NewConv2D(tc.in, tc.filters, tc.kh, tc.kw, tc.s, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("NewConv2D(%v, %d, %d, %d, %d, %d) error %v, want %q", tc.in, tc.filters, tc.kh, tc.kw, tc.s, tc.p, err, tc.wantErr)
		}
	}
}

func TestConv2DShapesAndString(t *testing.T) {
	tests := []struct {
		in                    Shape
		filters, kh, kw, s, p int
		out                   Shape
		str                   string
	}{
		{Shape{1, 28, 28}, 8, 5, 5, 1, 2, Shape{8, 28, 28}, "conv(8,5,s1,p2)"},
		{Shape{8, 14, 14}, 16, 5, 5, 1, 2, Shape{16, 14, 14}, "conv(16,5,s1,p2)"},
		{Shape{3, 7, 8}, 4, 3, 5, 2, 1, Shape{4, 4, 3}, "conv(4,3x5,s2,p1)"},
		{Shape{1, 5, 5}, 1, 3, 3, 2, 1, Shape{1, 3, 3}, "conv(1,3,s2,p1)"},
	}
	for _, tc := range tests {
		l, err := NewConv2D(tc.in, tc.filters, tc.kh, tc.kw, tc.s, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.OutShape(); !shapeEq(got, tc.out) {
			t.Errorf("%s on %v: OutShape %v, want %v", tc.str, tc.in, got, tc.out)
		}
		if got := l.String(); got != tc.str {
			t.Errorf("String() = %q, want %q", got, tc.str)
		}
		if got := l.W.Value.Shape; !shapeEq(got, Shape{tc.filters, tc.in[0], tc.kh, tc.kw}) {
			t.Errorf("%s: W shape %v", tc.str, got)
		}
	}
}

func TestConv2DInit(t *testing.T) {
	l, _ := NewConv2D(Shape{8, 14, 14}, 16, 5, 5, 1, 2)
	l.B.Value.Data[0] = 3
	l.Init(rand.New(rand.NewSource(1)), He)
	var sum, sq float64
	for _, v := range l.W.Value.Data {
		sum += v
		sq += v * v
	}
	n := float64(len(l.W.Value.Data))
	// He: variance 2/fanIn = 2/200 = 0.01; 3200 draws keep the estimate within ±10 %.
	if v := sq/n - (sum/n)*(sum/n); math.Abs(v-0.01) > 0.001 {
		t.Errorf("He init variance %v, want 0.01 ± 0.001", v)
	}
	if l.B.Value.Data[0] != 0 {
		t.Errorf("Init left bias %v, want 0", l.B.Value.Data[0])
	}
	l.Init(rand.New(rand.NewSource(1)), Glorot)
	a := math.Sqrt(6.0 / (200 + 400))
	for _, v := range l.W.Value.Data {
		if math.Abs(v) > a {
			t.Fatalf("Glorot init weight %v outside ±%v", v, a)
		}
	}
}

func TestForwardPanicsOnWrongShape(t *testing.T) {
	conv, _ := NewConv2D(Shape{1, 28, 28}, 8, 5, 5, 1, 2)
	pool, _ := NewMaxPool2D(Shape{8, 28, 28}, 2, 2, 0)
	dense, _ := NewDense(Shape{16, 4, 4}, 10)
	tests := []struct {
		l    Layer
		x    *Tensor
		want string
	}{
		{conv, NewTensor(1, 3, 28, 28), "engine: Conv2D.Forward: input (1,3,28,28), want (N,1,28,28)"},
		{conv, NewTensor(1, 28, 28), "engine: Conv2D.Forward: input (1,28,28), want (N,1,28,28)"},
		{pool, NewTensor(2, 8, 27, 28), "engine: MaxPool2D.Forward: input (2,8,27,28), want (N,8,28,28)"},
		{dense, NewTensor(1, 255), "engine: Dense.Forward: input (1,255), want (N,16,4,4)"},
		{NewReLU(Shape{3}), NewTensor(2, 4), "engine: ReLU.Forward: input (2,4), want (N,3)"},
	}
	for _, tc := range tests {
		func() {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("%s.Forward(%v) panicked with %v, want %q", tc.l, Shape(tc.x.Shape), r, tc.want)
				}
			}()
			tc.l.Forward(tc.x)
		}()
	}
}

// TestConv2DInputGradOnDemand: with SkipInputGrad, Backward returns nil and
// gives the same dL/dW and dL/db bits, and InputGrad(n) gives the bits of
// sample n of the full batch's dL/dX.
func TestConv2DInputGradOnDemand(t *testing.T) {
	tests := []struct {
		in                    Shape
		filters, kh, kw, s, p int
		n                     int
	}{
		{Shape{1, 28, 28}, 8, 5, 5, 1, 2, 3}, // the default network's first layer
		{Shape{3, 9, 7}, 5, 3, 2, 2, 1, 2},
		{Shape{2, 6, 6}, 4, 5, 5, 1, 0, 1},
		{Shape{8, 14, 14}, 16, 5, 5, 1, 2, 2}, // the second layer: dL/dX by correlation
	}
	for _, tc := range tests {
		full, err := NewConv2D(tc.in, tc.filters, tc.kh, tc.kw, tc.s, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewSource(5))
		full.Init(rng, He)
		x := randTensor(rng, append([]int{tc.n}, tc.in...)...)
		dy := randTensor(rng, append([]int{tc.n}, full.OutShape()...)...)
		skip, _ := NewConv2D(tc.in, tc.filters, tc.kh, tc.kw, tc.s, tc.p)
		copy(skip.W.Value.Data, full.W.Value.Data)
		skip.SkipInputGrad = true

		full.Forward(x)
		dx := full.Backward(dy)
		skip.Forward(x)
		if got := skip.Backward(dy); got != nil {
			t.Fatalf("%s: Backward with SkipInputGrad returned %v, want nil", full, Shape(got.Shape))
		}
		for _, c := range []struct {
			name      string
			got, want []float64
		}{
			{"dW", skip.W.Grad.Data, full.W.Grad.Data},
			{"db", skip.B.Grad.Data, full.B.Grad.Data},
		} {
			if i := firstBitDiff(c.got, c.want); i >= 0 {
				t.Errorf("%s: %s[%d] = %v with SkipInputGrad, %v without", full, c.name, i, c.got[i], c.want[i])
			}
		}
		for n := range tc.n {
			got := skip.InputGrad(n)
			if !shapeEq(got.Shape, tc.in) {
				t.Fatalf("%s: InputGrad(%d) shape %v, want %v", full, n, Shape(got.Shape), tc.in)
			}
			if i := firstBitDiff(got.Data, dx.Sample(n).Data); i >= 0 {
				t.Errorf("%s: InputGrad(%d)[%d] = %v, full batch dL/dX gives %v", full, n, i, got.Data[i], dx.Sample(n).Data[i])
			}
		}
	}
}

// TestTraceInputGradOfFirstConv: the trainer skips the first conv layer's
// dL/dX for the batch, and the trace still shows the visualized sample's,
// equal bit for bit to what a full Backward computes — also after Update
// has changed the filters.
func TestTraceInputGradOfFirstConv(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(3))
	conv, ok := tr.layers[0].(*Conv2D)
	if !ok {
		t.Fatalf("toy network starts with %s, want a conv layer", tr.layers[0])
	}
	L := len(tr.layers)
	for range 2*L + 1 { // through Backward(0)
		if _, err := tr.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
	if tr.gradIns[0] != nil {
		t.Fatalf("Backward(0) computed the batch's dL/dX")
	}
	ref, _ := NewConv2D(conv.InShape(), conv.filters, conv.kh, conv.kw, conv.stride, conv.pad)
	copy(ref.W.Value.Data, conv.W.Value.Data)
	ref.Forward(tr.x)
	want := ref.Backward(tr.gradOuts[0])
	for k, phase := range []string{"after Backward(0)", "after Update"} {
		if k == 1 {
			if p, err := tr.StepPhase(); err != nil || p.Kind != PhaseUpdate {
				t.Fatalf("StepPhase = %v, %v, want update", p, err)
			}
		}
		for s := range 3 {
			lt := tr.Trace(TraceOptions{Sample: s}).Layers[0]
			if lt.GradInput == nil {
				t.Fatalf("%s: trace of sample %d has no dL/dX of layer 0", phase, s)
			}
			if i := firstBitDiff(lt.GradInput.Data, want.Sample(s).Data); i >= 0 {
				t.Errorf("%s: sample %d dL/dX[%d] = %v, full Backward gives %v", phase, s, i, lt.GradInput.Data[i], want.Sample(s).Data[i])
			}
		}
	}
}

// firstBitDiff returns the first index where got and want differ in any
// bit (or 0 if their lengths differ), or −1.
func firstBitDiff(got, want []float64) int {
	if len(got) != len(want) {
		return 0
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			return i
		}
	}
	return -1
}

// TestConv2DForwardShiftMatchesIm2col: at stride 1 with C ≥ 4 Forward
// reads the padded input in place of the im2col matrix (forwardShift); it
// gives the bits of the im2col product.
func TestConv2DForwardShiftMatchesIm2col(t *testing.T) {
	tests := []struct {
		in                 Shape
		filters, kh, kw, p int
		shift              bool
	}{
		{Shape{1, 28, 28}, 8, 5, 5, 2, false}, // the default network's
		{Shape{8, 14, 14}, 16, 5, 5, 2, true},
		{Shape{4, 7, 9}, 5, 3, 2, 0, true},
		{Shape{5, 5, 6}, 7, 2, 3, 1, true},
		{Shape{4, 4, 4}, 1, 1, 1, 0, true},
		{Shape{6, 3, 3}, 2, 3, 3, 1, false}, // W' = 3 < 2(KW−1)
	}
	rng := rand.New(rand.NewSource(19))
	for _, tc := range tests {
		l, err := NewConv2D(tc.in, tc.filters, tc.kh, tc.kw, 1, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.forwardByShift(); got != tc.shift {
			t.Errorf("%v %s: forwardShift %v, want %v", tc.in, l, got, tc.shift)
		}
		l.Init(rng, He)
		for j := range l.B.Value.Data {
			l.B.Value.Data[j] = rng.NormFloat64()
		}
		x := randTensor(rng, append([]int{3}, tc.in...)...)
		l.Forward(x)
		want := l.Y.Clone()
		l.forwardIm2col(0, 3, &convPart{})
		l.Y, want = want, l.Y
		l.setForwardOffsets()
		l.forwardShift(0, 3, &convPart{})
		if i := firstBitDiff(l.Y.Data, want.Data); i >= 0 {
			t.Errorf("%v %s: Y[%d] = %v, the im2col product gives %v", tc.in, l, i, l.Y.Data[i], want.Data[i])
		}
	}
}
