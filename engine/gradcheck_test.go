package engine

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// randTensor returns a tensor with values uniform in [−1, 1) that keep at
// least 1e-3 away from 0, so a finite-difference step never crosses a kink.
func randTensor(rng *rand.Rand, shape ...int) *Tensor {
	t := NewTensor(shape...)
	for i := range t.Data {
		v := 2*rng.Float64() - 1
		if math.Abs(v) < 1e-3 {
			v = math.Copysign(1e-3, v) + v
		}
		t.Data[i] = v
	}
	return t
}

// distinctTensor returns a tensor whose values are a random permutation of
// multiples of 0.01 (plus a little noise), centred on 0: no ties, no zeros,
// and any two values at least 0.005 apart.
func distinctTensor(rng *rand.Rand, shape ...int) *Tensor {
	t := NewTensor(shape...)
	perm := rng.Perm(len(t.Data))
	for i, p := range perm {
		t.Data[i] = (float64(p)-float64(len(perm))/2+0.5)*0.01 + 0.004*(rng.Float64()-0.5)
	}
	return t
}

// gradCheck compares a layer's Backward with central finite differences of
// L = Σ Y·R for a random R = dL/dY: dL/dX and the dL/dθ of every parameter.
func gradCheck(t *testing.T, l Layer, x *Tensor, rng *rand.Rand) {
	t.Helper()
	const h, tol = 1e-5, 1e-6
	y := l.Forward(x)
	r := randTensor(rng, y.Shape...)
	loss := func() float64 {
		y := l.Forward(x)
		s := 0.0
		for i, v := range y.Data {
			s += v * r.Data[i]
		}
		return s
	}
	for _, p := range l.Params() {
		p.Grad.Zero()
	}
	l.Forward(x)
	dx := l.Backward(r).Clone()
	grads := make([]*Tensor, len(l.Params()))
	for i, p := range l.Params() {
		grads[i] = p.Grad.Clone()
	}
	check := func(what string, v []float64, analytic []float64) {
		t.Helper()
		bad := 0
		for i := range v {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			num := (lp - lm) / (2 * h)
			if d := math.Abs(analytic[i] - num); d > tol*(math.Abs(num)+math.Abs(analytic[i]))+1e-9 {
				if bad < 5 {
					t.Errorf("%s: %s[%d] = %.12g, finite difference %.12g", l, what, i, analytic[i], num)
				}
				bad++
			}
		}
	}
	check("dL/dX", x.Data, dx.Data)
	for i, p := range l.Params() {
		check("dL/d"+p.Name, p.Value.Data, grads[i].Data)
	}
}

func TestGradCheckConv2D(t *testing.T) {
	tests := []struct {
		n, c, h, w, f, kh, kw, s, p int
	}{
		{1, 1, 5, 5, 1, 3, 3, 1, 0},
		{3, 2, 6, 5, 3, 3, 3, 1, 1},
		{1, 3, 7, 7, 2, 3, 2, 2, 0},  // (7−3) even, (7−2)=5 not a multiple of 2
		{3, 2, 8, 6, 2, 2, 3, 2, 1},  // rectangular kernel, stride 2, pad 1
		{1, 2, 7, 8, 3, 3, 3, 3, 2},  // stride 3, pad 2: uncovered rows and columns
		{3, 1, 9, 9, 2, 5, 5, 3, 1},  // (9+2−5)=6: covered; columns likewise
		{1, 2, 6, 6, 4, 5, 5, 1, 2},  // 'same' padding as in the default network
		{3, 3, 5, 4, 2, 1, 1, 2, 0},  // 1×1 kernel with stride skips cells
		{1, 1, 4, 4, 2, 6, 6, 1, 1},  // kernel equal to padded input
		{3, 2, 10, 7, 2, 4, 3, 3, 2}, // stride 3, rectangular, both remainders
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d_n%d_c%d_%dx%d_f%d_k%dx%d_s%d_p%d", i, tc.n, tc.c, tc.h, tc.w, tc.f, tc.kh, tc.kw, tc.s, tc.p), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(i + 1)))
			l, err := NewConv2D(Shape{tc.c, tc.h, tc.w}, tc.f, tc.kh, tc.kw, tc.s, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			l.Init(rng, Glorot)
			for j := range l.B.Value.Data {
				l.B.Value.Data[j] = rng.Float64() - 0.5
			}
			gradCheck(t, l, randTensor(rng, tc.n, tc.c, tc.h, tc.w), rng)
		})
	}
}

func TestGradCheckPool(t *testing.T) {
	tests := []struct {
		max                 bool
		incPad              bool
		n, c, h, w, k, s, p int
	}{
		{true, false, 1, 1, 4, 4, 2, 2, 0},
		{true, false, 3, 2, 7, 7, 3, 2, 0}, // overlapping windows
		{true, false, 1, 2, 6, 5, 3, 2, 1}, // padding
		{true, false, 3, 1, 8, 8, 3, 3, 1},
		{true, false, 1, 2, 14, 14, 3, 3, 0}, // as in the default network: last rows uncovered
		{false, false, 3, 2, 7, 6, 3, 2, 1},
		{false, true, 3, 2, 7, 6, 3, 2, 1},
		{false, false, 1, 1, 5, 5, 2, 2, 0},
		{false, true, 1, 3, 6, 6, 3, 1, 2},
		{false, false, 1, 3, 6, 6, 3, 1, 2},
	}
	for i, tc := range tests {
		var (
			l   Layer
			err error
		)
		in := Shape{tc.c, tc.h, tc.w}
		if tc.max {
			l, err = NewMaxPool2D(in, tc.k, tc.s, tc.p)
		} else {
			l, err = NewAvgPool2D(in, tc.k, tc.s, tc.p, tc.incPad)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("%d_%s_n%d", i, l, tc.n), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(i + 1)))
			gradCheck(t, l, distinctTensor(rng, tc.n, tc.c, tc.h, tc.w), rng)
		})
	}
}

func TestGradCheckActivationsDense(t *testing.T) {
	in := Shape{2, 3, 4}
	leaky, _ := NewLeakyReLU(in, 0.1)
	leaky0, _ := NewLeakyReLU(in, 0)
	dense, _ := NewDense(in, 5)
	denseFlat, _ := NewDense(Shape{7}, 3)
	tests := []struct {
		l  Layer
		in Shape
	}{
		{NewReLU(in), in},
		{leaky, in},
		{leaky0, in},
		{NewTanh(in), in},
		{NewSigmoid(in), in},
		{NewFlatten(in), in},
		{dense, in},
		{denseFlat, Shape{7}},
	}
	for i, tc := range tests {
		t.Run(tc.l.String(), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(i + 1)))
			if init, ok := tc.l.(Initializer); ok {
				init.Init(rng, He)
				p := tc.l.Params()[1]
				for j := range p.Value.Data {
					p.Value.Data[j] = rng.Float64() - 0.5
				}
			}
			for _, n := range []int{1, 3} {
				gradCheck(t, tc.l, randTensor(rng, append([]int{n}, tc.in...)...), rng)
			}
		})
	}
}

func TestGradCheckSoftmaxCrossEntropy(t *testing.T) {
	tests := []struct {
		n, k  int
		scale float64
	}{{1, 10, 1}, {3, 4, 3}, {5, 2, 0.5}, {2, 10, 20}}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("n%d_k%d", tc.n, tc.k), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(i + 1)))
			z := randTensor(rng, tc.n, tc.k)
			for j := range z.Data {
				z.Data[j] *= tc.scale
			}
			labels := make([]int, tc.n)
			for j := range labels {
				labels[j] = rng.Intn(tc.k)
			}
			var l SoftmaxCrossEntropy
			l.Forward(z, labels)
			g := l.Backward().Clone()
			const h = 1e-5
			for j := range z.Data {
				old := z.Data[j]
				z.Data[j] = old + h
				lp := l.Forward(z, labels)
				z.Data[j] = old - h
				lm := l.Forward(z, labels)
				z.Data[j] = old
				num := (lp - lm) / (2 * h)
				if math.Abs(num-g.Data[j]) > 1e-6*(math.Abs(num)+math.Abs(g.Data[j]))+1e-9 {
					t.Errorf("dL/dz[%d] = %.12g, finite difference %.12g", j, g.Data[j], num)
				}
			}
		})
	}
}
