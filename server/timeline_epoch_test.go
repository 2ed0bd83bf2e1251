package server

import (
	"math"
	"net/url"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// TestTimelineEpochRunCopiesWhatItKeeps: a run told where it ends (an
// epoch run) copies only the steps the thinning keeps at that end, and
// ends with the same steps, bit for bit, as a run that copied every step;
// one stopped before its end keeps the step it stopped at.
func TestTimelineEpochRunCopiesWhatItKeeps(t *testing.T) {
	const steps = 700
	every := func() (*engine.Trainer, *timeline) { return shapesRun(t, steps, DefaultTimelineBytes) }
	_, want := every()

	cfg := engine.DefaultConfig()
	cfg.Spec = "conv(4,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"
	cfg.Seed = 7
	tr, err := engine.NewTrainer(cfg, mustShapes(t))
	if err != nil {
		t.Fatal(err)
	}
	h := &timeline{budget: DefaultTimelineBytes, density: tlMaxDensity}
	h.observe(tr)
	copied := 1
	for i := range steps {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		h.until = steps
		if h.observe(tr) {
			copied++
		}
		if i == steps/2 && len(h.snaps) > 0 && h.last().step == tr.Step() && !keeps(tr.Step(), 0, steps, h.density) {
			t.Fatalf("step %d, which the end drops, was copied", tr.Step())
		}
	}
	if got, all := h.steps(), want.steps(); !slices.Equal(got, all) {
		t.Fatalf("steps kept by the epoch run %v,\nwant those of the run that copied every step %v", got, all)
	}
	for i, sn := range h.snaps {
		w := want.snaps[i]
		if !slices.Equal(sn.data, w.data) || math.Float64bits(sn.loss) != math.Float64bits(w.loss) || sn.grads != w.grads {
			t.Fatalf("step %d: the snapshot differs from the one copied at every step", sn.step)
		}
	}
	if copied != len(h.snaps) {
		t.Errorf("the epoch run copied %d steps and keeps %d: it copied steps it then dropped", copied, len(h.snaps))
	}
	t.Logf("%d steps: %d copied (every step: %d)", steps, copied, steps+1)

	// stopped at step 1,003 of a run meant to end at 1,500: step 1,003 is
	// passed over while the run goes on, and kept once it stops
	for range 303 {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		h.until = 1500
		h.observe(tr)
	}
	if keeps(1003, 0, 1500, h.density) || h.last().step == 1003 {
		t.Fatalf("the test wants a step the run's end drops: newest kept %d", h.last().step)
	}
	h.until = 0
	if !h.observe(tr) || h.last().step != 1003 {
		t.Fatalf("after the run stopped, the newest step kept is %d, want 1003", h.last().step)
	}
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	if !h.observe(tr) || h.base != 0 || h.last().step != 1004 {
		t.Errorf("the next step after the stop: newest %d from base %d, want 1004 in the same history", h.last().step, h.base)
	}
}

// TestStepEpochHistory: after a step_epoch the history holds what the
// thinning keeps at the epoch's last step, and the last step; stopped in
// the middle, it goes on from there.
func TestStepEpochHistory(t *testing.T) {
	_, ts := newTestServer(t, Config{ShapesTrain: 40000, ShapesTest: 100})
	c := dial(t, ts, "data=shapes&spec="+url.QueryEscape(tinySpec)+"&batch=100")
	c.expect("welcome", nil)
	if r := c.reply(c.cmd("step_epoch", nil)); r.Type != "ack" {
		t.Fatalf("step_epoch: %+v", r)
	}
	c.waitState(func(s testState) bool { return s.Mode == "paused" && s.Step > 0 })
	tl := c.timeline("list", nil)
	if tl.Live != 40000/100 || len(tl.Steps) == 0 || tl.Steps[len(tl.Steps)-1] != tl.Live || tl.Steps[0] != 0 {
		t.Fatalf("after an epoch of %d steps: live %d, history %v; want it from 0 to the last step", 40000/100, tl.Live, tl.Steps)
	}
	for _, s := range tl.Steps {
		if !keeps(s, 0, tl.Live, tl.Density) {
			t.Errorf("step %d is in the history, which the thinning drops at step %d", s, tl.Live)
		}
	}

	// an epoch of 5,000 steps, paused in the middle
	c = dial(t, ts, "data=shapes&spec="+url.QueryEscape(tinySpec)+"&batch=8")
	c.expect("welcome", nil)
	if r := c.reply(c.cmd("step_epoch", nil)); r.Type != "ack" {
		t.Fatalf("step_epoch: %+v", r)
	}
	c.waitState(func(s testState) bool { return s.Mode == "epoch" && s.Step >= 100 })
	if r := c.reply(c.cmd("pause", nil)); r.Type != "ack" {
		t.Fatalf("pause: %+v", r)
	}
	paused := c.waitState(func(s testState) bool { return s.Mode == "paused" })
	if paused.Step >= 40000/8 {
		t.Fatalf("the epoch ended (step %d) before the pause", paused.Step)
	}
	// the pause may come within a step, when the step before it, which the
	// run's end would have dropped, is gone: the history goes on from the
	// next step's end, and the first step is still its start
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch: %+v", r)
	}
	c.waitState(func(s testState) bool { return s.Step == paused.Step+1 })
	tl = c.timeline("list", nil)
	if n := len(tl.Steps); tl.Live != paused.Step+1 || tl.Steps[n-1] != tl.Live || tl.Steps[0] != 0 {
		t.Errorf("paused at step %d, then one step: live %d, history %d … %d, want it from 0 to the live step", paused.Step, tl.Live, tl.Steps[0], tl.Steps[n-1])
	}
	t.Logf("paused at step %d: %d steps kept", paused.Step, len(tl.Steps))
}
