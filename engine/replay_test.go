package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// replaySet is a placeholder training set of the replay cases' shape: the
// batches come from SetBatch.
type replaySet struct{ classes int }

func (s replaySet) Len() int                       { return 1 }
func (s replaySet) Shape() []int                   { return []int{1, 6, 6} }
func (s replaySet) NumClasses() int                { return s.classes }
func (s replaySet) Image(i int, dst []float64) int { clear(dst); return 0 }

// TestReplayTorchTrajectories replays PyTorch training runs
// (testdata/replay.json, made by gen_replay.py): each case's initial state
// is a saved model, each step's batch is given with SetBatch, and after
// every step each weight and bias matches torch's to 1e-12 (and the loss
// before the update too). The first case runs its steps phase by phase.
func TestReplayTorchTrajectories(t *testing.T) {
	raw, err := os.ReadFile("testdata/replay.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Name    string
			Classes int
			Model   json.RawMessage
			Steps   []struct {
				X      []float64
				Labels []int
				Loss   float64
				Params [][]float64
			}
		}
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 4 {
		t.Fatalf("%d replay cases, want at least 4", len(ref.Cases))
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-12+1e-12*math.Abs(want) }
	for k, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			data := engine.Data{Name: "replay", Train: replaySet{c.Classes}}
			tr, err := engine.Load(bytes.NewReader(c.Model), data)
			if err != nil {
				t.Fatal(err)
			}
			for s, step := range c.Steps {
				if err := tr.SetBatch(step.X, step.Labels); err != nil {
					t.Fatal(err)
				}
				if k == 0 {
					for {
						p, err := tr.StepPhase()
						if err != nil {
							t.Fatalf("step %d, %v: %v", s, p, err)
						}
						if p.Kind == engine.PhaseUpdate {
							break
						}
					}
				} else if err := tr.StepBatch(); err != nil {
					t.Fatalf("step %d: %v", s, err)
				}
				if got := tr.Metrics().LastLoss; !near(got, step.Loss) {
					t.Errorf("step %d: loss %.17g, torch %.17g", s, got, step.Loss)
				}
				got := params(tr)
				if len(got) != len(step.Params) {
					t.Fatalf("step %d: %d parameter tensors, torch has %d", s, len(got), len(step.Params))
				}
				for i, want := range step.Params {
					for j, w := range want {
						if !near(got[i][j], w) {
							t.Fatalf("step %d: params[%d][%d] = %.17g, torch %.17g", s, i, j, got[i][j], w)
						}
					}
				}
			}
			if tr.Step() != len(c.Steps) {
				t.Errorf("step counter %d after %d steps", tr.Step(), len(c.Steps))
			}
		})
	}
}

// params returns every weight and bias, layer by layer, weights first: the
// order of a saved model's params.
func params(tr *engine.Trainer) [][]float64 {
	var ps [][]float64
	for _, l := range tr.Trace(engine.TraceOptions{}).Layers {
		for _, p := range []*engine.Tensor{l.Weights, l.Bias} {
			if p != nil {
				ps = append(ps, p.Data)
			}
		}
	}
	return ps
}

// TestSetBatchErrors: a batch that does not fit the network is refused
// and changes nothing.
func TestSetBatchErrors(t *testing.T) {
	tr, err := engine.NewTrainer(engine.Config{Spec: "conv(2,3,s1,p1) relu dense(4)", Seed: 1, Hyper: engine.DefaultHyper()},
		engine.Data{Name: "replay", Train: replaySet{4}})
	if err != nil {
		t.Fatal(err)
	}
	img := make([]float64, 36)
	cases := []struct {
		name   string
		x      []float64
		labels []int
		want   string
	}{
		{"no labels", nil, nil, "no labels"},
		{"short", img[:35], []int{0}, "35 values for 1 images of (1,6,6), want 36"},
		{"label", img, []int{4}, "label 4 of image 0 outside 0 … 3"},
		{"negative label", img, []int{-1}, "label -1 of image 0"},
		{"too many", make([]float64, 36*(engine.MaxBatchSize+1)), make([]int, engine.MaxBatchSize+1), fmt.Sprintf("at most %d", engine.MaxBatchSize)},
	}
	for _, c := range cases {
		err := tr.SetBatch(c.x, c.labels)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: SetBatch error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
