package server

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/protocol"
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

// TestRunStoppedByLeavingIsTold: Play or a step_epoch running when the
// session's last page closes (a reload) stops; the first state the page
// gets when it comes back says so, with the step, and later states do not.
// A session left paused says nothing.
func TestRunStoppedByLeavingIsTold(t *testing.T) {
	srv, ts := newTestServer(t, Config{ShapesTrain: 40000, ShapesTest: 100})
	for _, tc := range []struct{ cmd, mode, want string }{
		{"step_epoch", "epoch", "Step epoch stopped at step "},
		{"play", "play", "Play stopped at step "},
		{"", "paused", ""},
	} {
		c := dial(t, ts, "data=shapes&spec="+url.QueryEscape(tinySpec)+"&batch=8&speed=step&rate=0")
		var w protocol.Welcome
		c.expect("welcome", &w)
		if tc.cmd != "" {
			if r := c.reply(c.cmd(tc.cmd, nil)); r.Type != "ack" {
				t.Fatalf("%s: %+v", tc.cmd, r)
			}
		}
		c.waitState(func(s testState) bool { return s.Mode == tc.mode && (tc.cmd == "" || s.Step >= 5) })
		c.conn.Close()
		waitDetached(t, srv, w.Resume)

		back := dial(t, ts, "resume="+w.Resume)
		back.expect("welcome", nil)
		first := back.waitState(func(testState) bool { return true })
		if first.Mode != "paused" {
			t.Errorf("%s: back, the session is %q, want paused", tc.mode, first.Mode)
		}
		want := ""
		if tc.want != "" {
			want = tc.want + strconv.Itoa(first.Step)
		}
		if !strings.HasPrefix(first.Stopped, want) || (want == "") != (first.Stopped == "") {
			t.Errorf("%s: back, the first state says %q, want it to begin %q", tc.mode, first.Stopped, want)
		}
		if r := back.reply(back.cmd("step_batch", nil)); r.Type != "ack" {
			t.Fatalf("step_batch: %+v", r)
		}
		if later := back.waitState(func(s testState) bool { return s.Step > first.Step }); later.Stopped != "" {
			t.Errorf("%s: a later state says %q again", tc.mode, later.Stopped)
		}
		back.conn.Close()
	}
}
