package engine

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestOptimizersMatchTorch replays torch.optim.SGD, torch.optim.Adam and
// torch.optim.RMSprop on the reference numbers in testdata/optim.json (made
// by gen_optim.py): every registered optimizer has cases there.
func TestOptimizersMatchTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/optim.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Name, Opt                                  string
			LR, Momentum, WD, Beta1, Beta2, Alpha, Eps float64
			Nesterov, Centered, Bias                   bool
			P0                                         []float64
			Grads, After                               [][]float64
		}
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	cases := map[string]int{}
	for _, c := range ref.Cases {
		cases[c.Opt]++
	}
	for _, name := range OptimizerNames() {
		if cases[name] < 2 {
			t.Errorf("optimizer %q: %d reference cases, want at least 2", name, cases[name])
		}
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			h := Hyper{Optimizer: c.Opt, LearningRate: c.LR, Momentum: c.Momentum, Nesterov: c.Nesterov,
				WeightDecay: c.WD, Beta1: c.Beta1, Beta2: c.Beta2, Alpha: c.Alpha, Centered: c.Centered,
				Epsilon: c.Eps, BatchSize: 1}
			if c.Opt == OptSGD {
				h.Epsilon = 1e-8 // unused, but Validate wants ε > 0
			}
			if err := h.Validate(); err != nil {
				t.Fatal(err)
			}
			n := len(c.P0)
			p := &Param{Name: "W", Value: &Tensor{Shape: []int{n}, Data: append([]float64(nil), c.P0...)},
				Grad: NewTensor(n), IsBias: c.Bias}
			opt := optimizers[c.Opt]
			st := opt.NewState(n)
			for step, g := range c.Grads {
				copy(p.Grad.Data, g)
				opt.Step(p, st, step+1, h)
				for i, got := range p.Value.Data {
					want := c.After[step][i]
					if math.Abs(got-want) > 1e-14+1e-12*math.Abs(want) {
						t.Errorf("step %d: p[%d] = %.17g, want %.17g", step+1, i, got, want)
					}
				}
			}
		})
	}
}
