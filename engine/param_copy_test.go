package engine_test

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// TestCopyParams copies a trainer's parameters at every phase of a step, at
// GOMAXPROCS 1, 2 and 8, and wants exactly what ParamViews shows: every
// value, every gradient the backward pass has reached, zeros for the
// others (over a destination full of NaN), nothing for a nil slice, and no
// allocation once the trainer has copied once.
func TestCopyParams(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	data := benchData(t)
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		cfg := engine.DefaultConfig()
		cfg.Hyper.BatchSize = 3
		tr, err := engine.NewTrainer(cfg, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		type key struct {
			layer int
			bias  bool
		}
		dst := map[key][2][]float64{}
		tr.ParamViews(func(i int, bias bool, value, _ *engine.Tensor) {
			dst[key{i, bias}] = [2][]float64{make([]float64, len(value.Data)), make([]float64, len(value.Data))}
		})
		for phase := range 17 {
			for _, d := range dst {
				for _, s := range d {
					for j := range s {
						s[j] = math.NaN()
					}
				}
			}
			skipped := key{0, true} // conv 1's bias: its gradient is not wanted
			into := func(i int, bias bool) ([]float64, []float64) {
				d := dst[key{i, bias}]
				if (key{i, bias}) == skipped {
					return d[0], nil
				}
				return d[0], d[1]
			}
			grads := tr.CopyParams(into)
			if n := testing.AllocsPerRun(3, func() { tr.CopyParams(into) }); n != 0 {
				t.Errorf("GOMAXPROCS %d, phase %d: %v allocations a copy, want 0", procs, phase, n)
			}
			anyGrad := false
			tr.ParamViews(func(i int, bias bool, value, grad *engine.Tensor) {
				d := dst[key{i, bias}]
				if !slices.Equal(d[0], value.Data) {
					t.Errorf("GOMAXPROCS %d, phase %d: layer %d bias %v: the value differs", procs, phase, i, bias)
				}
				switch {
				case (key{i, bias}) == skipped:
					if !math.IsNaN(d[1][0]) {
						t.Errorf("GOMAXPROCS %d, phase %d: a gradient not asked for was written", procs, phase)
					}
				case grad != nil:
					anyGrad = true
					if !slices.Equal(d[1], grad.Data) {
						t.Errorf("GOMAXPROCS %d, phase %d: layer %d bias %v: the gradient differs", procs, phase, i, bias)
					}
				case slices.ContainsFunc(d[1], func(v float64) bool { return v != 0 }):
					t.Errorf("GOMAXPROCS %d, phase %d: layer %d bias %v: a gradient not reached yet is not zeros", procs, phase, i, bias)
				}
			})
			if grads != anyGrad {
				t.Errorf("GOMAXPROCS %d, phase %d: CopyParams reports gradients %v, ParamViews shows %v", procs, phase, grads, anyGrad)
			}
			if _, err := tr.StepPhase(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
