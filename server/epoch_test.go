package server

import (
	"net/url"
	"testing"
	"time"
)

// TestStepEpochProgressAndPause: a step_epoch reports the part of the epoch
// done and the time left as it goes, and a pause stops it at once: the
// state that follows the pause's ack is paused, and no step is taken
// after it.
func TestStepEpochProgressAndPause(t *testing.T) {
	_, ts := newTestServer(t, Config{ShapesTrain: 40000, ShapesTest: 100})
	c := dial(t, ts, "data=shapes&spec="+url.QueryEscape(tinySpec)+"&batch=8")
	c.expect("welcome", nil)
	if r := c.reply(c.cmd("step_epoch", nil)); r.Type != "ack" {
		t.Fatalf("step_epoch: %+v", r)
	}
	// Progress: a part of the epoch between 0 and 1 that grows, and a time
	// left once steps have been timed.
	var last float64
	st := c.waitState(func(s testState) bool {
		if s.Mode != "epoch" || s.EpochDone == nil {
			return false
		}
		if *s.EpochDone < last || *s.EpochDone < 0 || *s.EpochDone > 1 {
			t.Fatalf("epoch done %v after %v", *s.EpochDone, last)
		}
		last = *s.EpochDone
		return s.Step >= 20 && s.EpochLeft != nil
	})
	if *st.EpochLeft <= 0 {
		t.Errorf("time left %v s, want > 0 in the middle of the epoch", *st.EpochLeft)
	}
	sent := time.Now()
	id := c.cmd("pause", nil)
	if r := c.reply(id); r.Type != "ack" {
		t.Fatalf("pause: %+v", r)
	}
	latency := time.Since(sent)
	paused := c.waitState(func(s testState) bool { return true })
	if paused.Mode != "paused" || paused.Playing || paused.EpochDone != nil {
		t.Fatalf("state after the pause's ack: %+v, want paused", paused)
	}
	// Nothing moves after the pause: a step_batch takes the very next step.
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch: %+v", r)
	}
	next := c.waitState(func(s testState) bool { return s.Step != paused.Step })
	if next.Step != paused.Step+1 {
		t.Errorf("after pausing at step %d and one step_batch the step is %d: the epoch went on after the pause", paused.Step, next.Step)
	}
	if paused.Step >= 40000/8 {
		t.Errorf("the epoch ended (step %d) before the pause", paused.Step)
	}
	t.Logf("paused at step %d of %d, %.0f%% of the epoch; pause answered in %v", paused.Step, 40000/8, last*100, latency)
}
