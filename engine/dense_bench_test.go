package engine_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// BenchmarkDenseKernels times the dense layer of the default network alone:
// X (N, 16, 4, 4) read as (N, 256), W (10, 256), Y (N, 10), calling Forward
// and Backward directly. A forward pass is 2·N·256·10 FLOPs (a multiply and
// an add per term), a backward pass twice that (dL/dW and dL/dX; the N·10
// adds of dL/db are not counted). GFLOP/s is reported per sub-benchmark;
// run it with GOMAXPROCS=1 (the layer uses one core anyway).
func BenchmarkDenseKernels(b *testing.B) {
	in := engine.Shape{16, 4, 4}
	const out = 10
	for _, n := range []int{1, 20} {
		l, err := engine.NewDense(in, out)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewSource(1))
		l.Init(rng, engine.Glorot)
		x := engine.NewTensor(n, 16, 4, 4)
		for i := range x.Data {
			x.Data[i] = rng.NormFloat64()
		}
		dy := engine.NewTensor(n, out)
		for i := range dy.Data {
			dy.Data[i] = rng.NormFloat64() * 0.01
		}
		flops := float64(2 * n * in.Size() * out)
		b.Run(fmt.Sprintf("forward-batch=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			l.Forward(x)
			for b.Loop() {
				l.Forward(x)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("backward-batch=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			l.Forward(x)
			l.Backward(dy)
			for b.Loop() {
				l.Backward(dy)
			}
			b.ReportMetric(2*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
