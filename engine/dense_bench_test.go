package engine_test

import (
	"fmt"
	"math/rand"
	"runtime"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// BenchmarkDenseKernels times the dense layer of the default network alone:
// X (N, 16, 4, 4) read as (N, 256), W (10, 256), Y (N, 10), calling Forward
// and Backward directly. A forward pass is 2·N·256·10 FLOPs (a multiply and
// an add per term), a backward pass twice that (dL/dW and dL/dX; the N·10
// adds of dL/db are not counted). GFLOP/s is reported per sub-benchmark;
// run it with GOMAXPROCS=1 (the layer uses one core anyway). On Linux,
// cpu-GFLOP/s divides by the CPU time of the benchmark's thread instead of
// the wall-clock time: on a machine shared with other work, time spent
// waiting for a core does not count in it (time spent sharing caches still
// does).
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
			l.Forward(x)
			timeDense(b, flops, func() { l.Forward(x) })
		})
		b.Run(fmt.Sprintf("backward-batch=%d", n), func(b *testing.B) {
			l.Forward(x)
			l.Backward(dy)
			timeDense(b, 2*flops, func() { l.Backward(dy) })
		})
	}
}

// timeDense runs f in the benchmark's loop and reports its rate of flops
// per call in GFLOP/s, by the wall clock and, where it can be read, by the
// thread's CPU time (cpu-GFLOP/s).
func timeDense(b *testing.B, flops float64, f func()) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := engine.ThreadCPUTime()
	for b.Loop() {
		f()
	}
	c1 := engine.ThreadCPUTime()
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if c0 > 0 && c1 > c0 {
		b.ReportMetric(flops*float64(b.N)/(c1-c0)/1e9, "cpu-GFLOP/s")
	}
}
