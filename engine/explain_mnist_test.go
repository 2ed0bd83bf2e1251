package engine_test

import (
	"bytes"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// TestGradCheckDefaultNetwork checks the default network's gradients on
// MNIST against central differences of the batch's loss: for each parameter
// tensor, the values of largest gradient (where rounding in the difference
// matters least), skipping those whose step crosses a kink. It also checks
// that the checks leave the trainer as it was.
func TestGradCheckDefaultNetwork(t *testing.T) {
	tr, err := engine.NewTrainer(engine.DefaultConfig(), mnistData(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 { // biases away from 0
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
	}
	for tr.Next().Kind != engine.PhaseUpdate {
		if _, err := tr.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
	var save bytes.Buffer
	if err := tr.Save(&save); err != nil {
		t.Fatal(err)
	}
	trace := tr.Trace(engine.TraceOptions{Sample: 3})
	checked, kinks := 0, 0
	for i, info := range tr.Layers() {
		tl := trace.Layers[i]
		for j, g := range []*engine.Tensor{tl.GradWeights, tl.GradBias} {
			if g == nil {
				continue
			}
			order := make([]int, len(g.Data))
			for k := range order {
				order[k] = k
			}
			slices.SortFunc(order, func(a, b int) int { return -cmpAbs(g.Data[a], g.Data[b]) })
			for _, k := range order[:min(6, len(order))] {
				idx := unflatIndex(k, info.ParamShapes[j])
				r, err := tr.GradCheck(i, j, idx, engine.DefaultGradCheckH)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Kinks) > 0 {
					kinks++
					continue
				}
				checked++
				if r.RelError > 1e-6 {
					t.Errorf("%s %s%v: numeric %.12g, backprop %.12g, relative error %.3g", info.Name, r.Param, idx, r.Numeric, r.Backprop, r.RelError)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("%d gradients checked, %d crossed a kink: want at least 20 checked", checked, kinks)
	}
	var again bytes.Buffer
	if err := tr.Save(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(save.Bytes(), again.Bytes()) || !reflect.DeepEqual(trace, tr.Trace(engine.TraceOptions{Sample: 3})) {
		t.Errorf("GradCheck changed the trainer")
	}
}

func cmpAbs(a, b float64) int {
	switch a, b = math.Abs(a), math.Abs(b); {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// unflatIndex is the index of row-major offset o in shape.
func unflatIndex(o int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = o % shape[d]
		o /= shape[d]
	}
	return idx
}
