package engine

import (
	"fmt"
	"math/rand"
	"runtime"
	"testing"
)

// BenchmarkConvKernels times the conv layers of the default network alone,
// their Forward and Backward called directly at batch 20 and 1, and reports
// GFLOP/s (2 FLOPs a multiply-add):
//
//	conv1: conv(8,5,s1,p2) on (N, 1, 28, 28) → (N, 8, 28, 28)
//	conv2: conv(16,5,s1,p2) on (N, 8, 14, 14) → (N, 16, 14, 14)
//
// "forward" is Forward (Y = W·cols + b); "dW" is Backward with
// SkipInputGrad (dL/dW and dL/db, all that the first layer computes);
// "backward" is Backward with dL/dX too (twice the multiply-adds).
// GFLOP/s-cpu divides by the CPU time of the benchmark's thread instead of
// the wall clock (on Linux): on a machine shared with other work it leaves
// out the time the thread waited for a core. Per core:
//
//	GOMAXPROCS=1 go test -run '^$' -bench ConvKernels -count 5 ./engine
func BenchmarkConvKernels(b *testing.B) {
	type layerCase struct {
		name                 string
		in                   Shape
		filters, k, str, pad int
	}
	layers := []layerCase{
		{"conv1", Shape{1, 28, 28}, 8, 5, 1, 2},
		{"conv2", Shape{8, 14, 14}, 16, 5, 1, 2},
	}
	for _, lc := range layers {
		for _, n := range []int{20, 1} {
			for _, pass := range []string{"forward", "dW", "backward"} {
				if lc.name == "conv1" && pass == "backward" {
					continue // the first layer computes no dL/dX
				}
				b.Run(fmt.Sprintf("%s-%s/N=%d", lc.name, pass, n), func(b *testing.B) {
					l, err := NewConv2D(lc.in, lc.filters, lc.k, lc.k, lc.str, lc.pad)
					if err != nil {
						b.Fatal(err)
					}
					rng := rand.New(rand.NewSource(1))
					l.Init(rng, He)
					l.SkipInputGrad = pass == "dW"
					x := NewTensor(append([]int{n}, lc.in...)...)
					for i := range x.Data {
						x.Data[i] = rng.NormFloat64()
					}
					dy := NewTensor(append([]int{n}, l.OutShape()...)...)
					for i := range dy.Data {
						dy.Data[i] = rng.NormFloat64() * 1e-3
					}
					l.Forward(x)
					l.Backward(dy)
					macs := n * l.macsPerSample()
					if pass == "backward" {
						macs *= 2
					}
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := threadCPUTime()
					for b.Loop() {
						if pass == "forward" {
							l.Forward(x)
						} else {
							l.Backward(dy)
						}
					}
					flops := 2 * float64(macs) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if cpu := threadCPUTime() - cpu0; cpu > 0 {
						b.ReportMetric(flops/cpu/1e9, "GFLOP/s-cpu")
					}
				})
			}
		}
	}
}
