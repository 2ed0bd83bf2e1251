package engine

import (
	"fmt"
	"math/rand"
	"testing"
)

// defaultNet builds the default network by hand:
// conv(8,5,p2) relu maxpool(2) conv(16,5,p2) relu maxpool(3) dense(10)
// on 28×28×1 images.
func defaultNet(tb testing.TB, rng *rand.Rand) []Layer {
	tb.Helper()
	c1, err := NewConv2D(Shape{1, 28, 28}, 8, 5, 5, 1, 2)
	if err != nil {
		tb.Fatal(err)
	}
	p1, err := NewMaxPool2D(Shape{8, 28, 28}, 2, 2, 0)
	if err != nil {
		tb.Fatal(err)
	}
	c2, err := NewConv2D(Shape{8, 14, 14}, 16, 5, 5, 1, 2)
	if err != nil {
		tb.Fatal(err)
	}
	p2, err := NewMaxPool2D(Shape{16, 14, 14}, 3, 3, 0)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := NewDense(Shape{16, 4, 4}, 10)
	if err != nil {
		tb.Fatal(err)
	}
	c1.Init(rng, He)
	c2.Init(rng, He)
	d.Init(rng, Glorot)
	return []Layer{c1, NewReLU(Shape{8, 28, 28}), p1, c2, NewReLU(Shape{16, 14, 14}), p2, d}
}

// TestZeroAllocs: after a warm-up at a fixed batch size, Forward and Backward
// of every layer and of the loss allocate nothing.
func TestZeroAllocs(t *testing.T) {
	in := Shape{3, 6, 6}
	conv, _ := NewConv2D(in, 4, 3, 2, 2, 1)
	maxp, _ := NewMaxPool2D(in, 3, 2, 1)
	avgp, _ := NewAvgPool2D(in, 2, 2, 1, false)
	leaky, _ := NewLeakyReLU(in, 0.01)
	dense, _ := NewDense(in, 10)
	layers := []Layer{conv, maxp, avgp, NewReLU(in), leaky, NewTanh(in), NewSigmoid(in), NewFlatten(in), dense}
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{1, 5} {
		x := randTensor(rng, append([]int{n}, in...)...)
		for _, l := range layers {
			dy := randTensor(rng, append([]int{n}, l.OutShape()...)...)
			l.Forward(x) // warm-up: buffers for batch n
			l.Backward(dy)
			if a := testing.AllocsPerRun(10, func() {
				l.Forward(x)
				l.Backward(dy)
			}); a != 0 {
				t.Errorf("%s at N=%d: %v allocations per Forward+Backward, want 0", l, n, a)
			}
		}
		var loss SoftmaxCrossEntropy
		logits := randTensor(rng, n, 10)
		labels := make([]int, n)
		loss.Forward(logits, labels)
		loss.Backward()
		if a := testing.AllocsPerRun(10, func() {
			loss.Forward(logits, labels)
			loss.Backward()
		}); a != 0 {
			t.Errorf("SoftmaxCrossEntropy at N=%d: %v allocations, want 0", n, a)
		}
	}
}

// TestZeroAllocsDefaultNet runs whole training passes of the default network.
func TestZeroAllocsDefaultNet(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	net := defaultNet(t, rng)
	x := randTensor(rng, 4, 1, 28, 28)
	labels := []int{1, 2, 3, 4}
	var loss SoftmaxCrossEntropy
	step := func() { trainPass(net, &loss, x, labels) }
	step()
	if a := testing.AllocsPerRun(5, step); a != 0 {
		t.Errorf("default network: %v allocations per forward+backward pass, want 0", a)
	}
}

// trainPass runs the network forward, the loss, and the network backward.
func trainPass(net []Layer, loss *SoftmaxCrossEntropy, x *Tensor, labels []int) float64 {
	for _, l := range net {
		x = l.Forward(x)
	}
	v := loss.Forward(x, labels)
	g := loss.Backward()
	for i := len(net) - 1; i >= 0; i-- {
		g = net[i].Backward(g)
	}
	return v
}

func benchNet(b *testing.B, n int) {
	rng := rand.New(rand.NewSource(1))
	net := defaultNet(b, rng)
	x := randTensor(rng, n, 1, 28, 28)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.Intn(10)
	}
	var loss SoftmaxCrossEntropy
	trainPass(net, &loss, x, labels)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		trainPass(net, &loss, x, labels)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkDefaultNet times one forward and backward pass of the default
// network (no optimizer step).
func BenchmarkDefaultNetBatch1(b *testing.B)  { benchNet(b, 1) }
func BenchmarkDefaultNetBatch20(b *testing.B) { benchNet(b, 20) }

func benchConv(b *testing.B, in Shape, filters, n int, backward bool) {
	rng := rand.New(rand.NewSource(1))
	l, err := NewConv2D(in, filters, 5, 5, 1, 2)
	if err != nil {
		b.Fatal(err)
	}
	l.Init(rng, He)
	x := randTensor(rng, append([]int{n}, in...)...)
	dy := randTensor(rng, append([]int{n}, l.OutShape()...)...)
	l.Forward(x)
	l.Backward(dy)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if backward {
			l.Backward(dy)
		} else {
			l.Forward(x)
		}
	}
}

// The two conv layers of the default network: conv1 (1,28,28)→(8,28,28),
// conv2 (8,14,14)→(16,14,14), both 5×5 with padding 2.
func BenchmarkConv2DForward(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("conv1/N%d", n), func(b *testing.B) { benchConv(b, Shape{1, 28, 28}, 8, n, false) })
		b.Run(fmt.Sprintf("conv2/N%d", n), func(b *testing.B) { benchConv(b, Shape{8, 14, 14}, 16, n, false) })
	}
}

func BenchmarkConv2DBackward(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("conv1/N%d", n), func(b *testing.B) { benchConv(b, Shape{1, 28, 28}, 8, n, true) })
		b.Run(fmt.Sprintf("conv2/N%d", n), func(b *testing.B) { benchConv(b, Shape{8, 14, 14}, 16, n, true) })
	}
}
