package server

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// fakeHistory is a timeline whose snapshots are size float64s each, for
// tests of the thinning alone.
func fakeHistory(size int, budget int64) *timeline {
	h := &timeline{budget: budget, density: tlMaxDensity, layout: &tlLayout{size: size}}
	return h
}

// add appends an empty snapshot of step and thins, as record does.
func (h *timeline) add(step int) {
	sn := h.spare
	h.spare = nil
	if sn == nil {
		sn = &tlSnap{data: make([]float64, h.layout.size)}
	}
	sn.step = step
	h.snaps = append(h.snaps, sn)
	h.thin(step)
}

// TestTimelineThinning runs 20,000 steps into a history whose budget holds
// about 200 snapshots: after every step it holds at most its budget, the
// first and the newest step, every step of the last K (its density), and
// gaps that grow with age: between two kept steps at most 2·age/K (and 1
// within the last K), and at most K/2+1 snapshots in each band of ages
// [K·2^(j−1), K·2^j).
func TestTimelineThinning(t *testing.T) {
	const size = 1000 // 8 KB a snapshot
	budget := 200 * (int64(8*size) + tlSnapOverhead)
	h := fakeHistory(size, budget)
	maxCount := 0
	for now := 0; now <= 20000; now++ {
		h.add(now)
		if h.bytes() > budget {
			t.Fatalf("step %d: %d bytes, want ≤ %d", now, h.bytes(), budget)
		}
		steps := h.steps()
		maxCount = max(maxCount, len(steps))
		if steps[0] != 0 || steps[len(steps)-1] != now {
			t.Fatalf("step %d: kept %d … %d, want 0 … %d", now, steps[0], steps[len(steps)-1], now)
		}
		if !slices.IsSorted(steps) || len(slices.Compact(slices.Clone(steps))) != len(steps) {
			t.Fatalf("step %d: kept steps not increasing: %v", now, steps)
		}
		if now%997 == 0 || now == 20000 {
			checkGeometric(t, now, steps, h.density)
		}
	}
	k := h.density
	if want := k + k/2*(bits.Len(uint(20000/k))+1) + 1; len(h.steps()) > want {
		t.Errorf("%d snapshots at density %d after 20,000 steps, want ≤ %d", len(h.steps()), k, want)
	}
	if k < 8 {
		t.Errorf("density %d after 20,000 steps in a budget of 200 snapshots, want ≥ 8", k)
	}
	t.Logf("20,000 steps: %d snapshots kept (at most %d at once), density %d, %d bytes", len(h.steps()), maxCount, k, h.bytes())
}

func checkGeometric(t *testing.T, now int, steps []int, k int) {
	t.Helper()
	for s := max(0, now-k+1); s <= now; s++ {
		if !slices.Contains(steps, s) {
			t.Fatalf("step %d (density %d): step %d of the last %d is missing", now, k, s, k)
		}
	}
	bands := map[int]int{}
	for i := 0; i+1 < len(steps); i++ {
		age := now - steps[i]
		gap := steps[i+1] - steps[i]
		if limit := max(1, 2*age/k); gap > limit {
			t.Fatalf("step %d (density %d): gap %d after step %d of age %d, want ≤ %d", now, k, gap, steps[i], age, limit)
		}
		bands[bits.Len(uint(age/k))]++
	}
	for j, n := range bands {
		if j > 0 && n > k/2+1 {
			t.Fatalf("step %d (density %d): %d snapshots of ages [%d, %d), want ≤ %d", now, k, n, k<<(j-1), k<<j, k/2+1)
		}
	}
}

// TestTimelineSmallBudget: a budget of 5 snapshots keeps at most 5, the
// first and the newest among them.
func TestTimelineSmallBudget(t *testing.T) {
	h := fakeHistory(100, 5*(800+tlSnapOverhead))
	for now := 0; now <= 10000; now++ {
		h.add(now)
		steps := h.steps()
		if h.bytes() > h.budget || len(steps) > 5 || steps[0] != 0 || steps[len(steps)-1] != now {
			t.Fatalf("step %d: %v, %d bytes of %d", now, steps, h.bytes(), h.budget)
		}
	}
	if h.density != 1 {
		t.Errorf("density %d, want 1", h.density)
	}
}

// TestKeepsMonotone: a step dropped is never wanted again (keeps only
// turns false as the run goes on).
func TestKeepsMonotone(t *testing.T) {
	for _, k := range []int{1, 2, 8, 64} {
		for s := 0; s < 300; s++ {
			dropped := false
			for now := s; now < 5000; now++ {
				kept := keeps(s, 0, now, k)
				if dropped && kept {
					t.Fatalf("k %d: step %d dropped and kept again at %d", k, s, now)
				}
				dropped = dropped || !kept
			}
		}
	}
}

// shapesRun builds a small network on the shapes set, records its history
// for steps steps and returns both.
func shapesRun(t *testing.T, steps int, budget int64) (*engine.Trainer, *timeline) {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.Spec = "conv(4,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"
	cfg.Seed = 7
	tr, err := engine.NewTrainer(cfg, mustShapes(t))
	if err != nil {
		t.Fatal(err)
	}
	h := &timeline{budget: budget, density: tlMaxDensity}
	h.observe(tr)
	for range steps {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		h.observe(tr)
	}
	return tr, h
}

// TestTimelineDeterministic: the same run keeps the same steps with the
// same bits; each snapshot holds the engine's numbers exactly (checked
// against the trainer's own trace at the last step and at the start).
func TestTimelineDeterministic(t *testing.T) {
	const budget = 2 << 20
	tr1, a := shapesRun(t, 600, budget)
	_, b := shapesRun(t, 600, budget)
	if !slices.Equal(a.steps(), b.steps()) {
		t.Fatalf("kept steps differ:\n%v\n%v", a.steps(), b.steps())
	}
	for i := range a.snaps {
		x, y := a.snaps[i], b.snaps[i]
		if !slices.EqualFunc(x.data, y.data, func(p, q float64) bool { return math.Float64bits(p) == math.Float64bits(q) }) {
			t.Fatalf("snapshot of step %d differs between two runs", x.step)
		}
	}
	if a.bytes() > budget {
		t.Errorf("%d bytes, want ≤ %d", a.bytes(), budget)
	}
	// the newest snapshot is the trainer's state now, bit for bit
	want := tr1.Trace(engine.TraceOptions{Probe: true, Preview: true})
	got, err := a.trace(a.last())
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != tr1.Step() {
		t.Fatalf("last snapshot of step %d, want %d", got.Step, tr1.Step())
	}
	same := func(what string, g, w *engine.Tensor) {
		t.Helper()
		if (g == nil) != (w == nil) || g != nil && !slices.Equal(g.Data, w.Data) {
			t.Errorf("%s of step %d differs from the trainer's", what, got.Step)
		}
	}
	same("input", got.Input, want.Input)
	for i := range want.Layers {
		same("act "+strconv.Itoa(i), got.Layers[i].Output, want.Layers[i].Output)
		same("W "+strconv.Itoa(i), got.Layers[i].Weights, want.Layers[i].Weights)
		same("dL/dW "+strconv.Itoa(i), got.Layers[i].GradWeights, want.Layers[i].GradWeights)
		same("b "+strconv.Itoa(i), got.Layers[i].Bias, want.Layers[i].Bias)
	}
	if !slices.Equal(got.Probs, want.Probs) {
		t.Errorf("probabilities of step %d differ: %v, want %v", got.Step, got.Probs, want.Probs)
	}
	// the first is the network before any step: the seed's weights, no dL/dW
	fresh, _ := shapesRun(t, 0, budget)
	first, err := a.trace(a.snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	w0 := fresh.Trace(engine.TraceOptions{Probe: true, Preview: true})
	if first.Step != 0 || !slices.Equal(first.Layers[0].Weights.Data, w0.Layers[0].Weights.Data) || first.Layers[0].GradWeights != nil {
		t.Errorf("first snapshot: step %d, W equal %v, dL/dW %v; want step 0, the seed's W, none",
			first.Step, slices.Equal(first.Layers[0].Weights.Data, w0.Layers[0].Weights.Data), first.Layers[0].GradWeights != nil)
	}
}

// TestTimelineNewHistory: a reset starts a new history at step 0.
func TestTimelineNewHistory(t *testing.T) {
	tr, h := shapesRun(t, 40, 2<<20)
	tr.Reset()
	h.observe(tr)
	if got := h.steps(); !slices.Equal(got, []int{0}) {
		t.Errorf("after a reset the history keeps %v, want [0]", got)
	}
}
