package server

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// timeline sends a timeline message and returns its answer (a timeline
// reply; frames read meanwhile are dropped).
func (c *wsClient) timeline(action string, args map[string]any) protocol.Timeline {
	c.t.Helper()
	m := map[string]any{"type": "timeline", "action": action}
	for k, v := range args {
		m[k] = v
	}
	var out protocol.Timeline
	typ, raw := c.answer(c.send(m), nil)
	if typ != protocol.TypeTimeline {
		c.t.Fatalf("timeline %s: got %s", action, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// historyFrame reads until a frame of the history's step (live: −1 reads
// until a live keyframe).
func (c *wsClient) historyFrame(step int) *protocol.Frame {
	c.t.Helper()
	for range 1000 {
		f := c.frame()
		switch h := f.Header.History; {
		case step < 0 && h == nil && f.Header.Keyframe:
			return f
		case step >= 0 && h != nil && h.Step == step:
			return f
		}
	}
	c.t.Fatalf("no frame of history step %d", step)
	return nil
}

func tensorOf(f *protocol.Frame, layer int, kind string) []float32 {
	for _, t := range f.Tensors {
		if t.Layer == layer && t.Kind == kind {
			return t.F32
		}
	}
	return nil
}

// TestTimelineScrubChangesNothing: a lab looked back through (views,
// comparisons, lists, live again, between steps and within one) trains as
// one never looked back: the same frames bit for bit. The history's frame
// of step 0 holds the weights the lab started with.
func TestTimelineScrubChangesNothing(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxQuestions: 1000, CmdRate: 1000})
	scrubbed, quiet := dial(t, ts, tinyQuery), dial(t, ts, tinyQuery)
	scrubbed.expect("welcome", nil)
	quiet.expect("welcome", nil)
	start := scrubbed.subscribeAll()
	w0 := tensorOf(start, 0, protocol.KindWeights)
	for range 6 {
		scrubbed.stepBatch()
		quiet.stepBatch()
	}
	for i := range 8 {
		tl := scrubbed.timeline(protocol.TimelineView, map[string]any{"step": 0})
		if tl.Viewing == nil || *tl.Viewing != 0 || tl.Shared || tl.Steps[0] != 0 {
			t.Fatalf("view of step 0: %+v", tl)
		}
		f := scrubbed.historyFrame(0)
		if got := tensorOf(f, 0, protocol.KindWeights); len(w0) == 0 || !slices.Equal(got, w0) {
			t.Fatalf("history frame of step 0: conv 1's W %v, want the lab's first %v", got, w0)
		}
		if tensorOf(f, 0, protocol.KindWGrad) != nil {
			t.Fatalf("history frame of step 0 carries a dL/dW before any step")
		}
		var cmp protocol.TimelineCompareReply
		scrubbed.answer(scrubbed.send(map[string]any{"type": "timeline", "action": "compare", "step": 1, "layer": 0, "filter": 1}), &cmp)
		if cmp.Then != 1 || len(cmp.Diff) != 9 || !slices.Equal(cmp.Shape, []int{1, 3, 3}) {
			t.Fatalf("compare: %+v", cmp)
		}
		for k := range cmp.Diff {
			n, th, d := float64(cmp.WNow[k]), float64(cmp.WThen[k]), float64(cmp.Diff[k])
			if math.Abs(d-(n-th)) > 1e-6*max(math.Abs(n), math.Abs(th)) {
				t.Fatalf("compare: diff[%d] = %v, want now − then = %v − %v", k, d, n, th)
			}
		}
		if i%2 == 0 {
			scrubbed.timeline(protocol.TimelineLive, nil)
			scrubbed.historyFrame(-1)
		}
		// within a step and at its end (a page looking back gets no live frame)
		scrubbed.reply(scrubbed.cmd("step_phase", nil))
		quiet.reply(quiet.cmd("step_phase", nil))
		scrubbed.reply(scrubbed.cmd("step_batch", nil))
		quiet.reply(quiet.cmd("step_batch", nil))
	}
	if tl := scrubbed.timeline(protocol.TimelineLive, nil); tl.Viewing != nil || tl.Live != quiet.timeline(protocol.TimelineList, nil).Live {
		t.Fatalf("live again: %+v", tl)
	}
	fa := traceFrames(t, scrubbed, 5)
	fq := traceFrames(t, quiet, 5)
	if !sameFrames(fa, fq) {
		t.Fatal("a lab looked back through sends other frames than one never looked back")
	}
}

// TestTimelineRoomViews: in a room the owner's view is the room's: a
// student who has not chosen a step follows it, a student who has keeps
// theirs (and follows the room's again with live); a student's view is
// never the room's or another student's; the owner going live brings the
// followers back.
func TestTimelineRoomViews(t *testing.T) {
	srv, ts := newTestServer(t, Config{MaxQuestions: 1000, CmdRate: 1000})
	room := newRoom(t, srv, "Timeline")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	a, b := joinAsViewer(t, ts, room), joinAsViewer(t, ts, room)
	a.expect("welcome", nil)
	b.expect("welcome", nil)
	for range 6 {
		owner.stepBatch()
	}

	// student a looks at step 3 alone
	if tl := a.timeline(protocol.TimelineView, map[string]any{"step": 3}); tl.Viewing == nil || *tl.Viewing != 3 || tl.Shared {
		t.Fatalf("a's own view: %+v", tl)
	}
	if f := a.historyFrame(3); f.Header.History.Shared {
		t.Fatal("a's own view came marked as the room's")
	}
	for name, c := range map[string]*wsClient{"owner": owner, "b": b} {
		if tl := c.timeline(protocol.TimelineList, nil); tl.Viewing != nil {
			t.Fatalf("%s after a student's view: %+v, want live", name, tl)
		}
	}

	// the owner shows the room step 1: b follows, a keeps step 3
	if tl := owner.timeline(protocol.TimelineView, map[string]any{"step": 1}); tl.Viewing == nil || *tl.Viewing != 1 || !tl.Shared {
		t.Fatalf("owner's view: %+v", tl)
	}
	owner.historyFrame(1)
	if f := b.historyFrame(1); !f.Header.History.Shared {
		t.Fatal("b's frame of the room's view is not marked shared")
	}
	if tl := a.timeline(protocol.TimelineList, nil); tl.Viewing == nil || *tl.Viewing != 3 || tl.Shared {
		t.Fatalf("a after the owner's view: %+v, want its own step 3", tl)
	}
	// training goes on; the followers stay on the room's step
	owner.reply(owner.cmd("step_batch", nil))
	if tl := b.timeline(protocol.TimelineList, nil); tl.Viewing == nil || *tl.Viewing != 1 || !tl.Shared || tl.Live != 7 {
		t.Fatalf("b after a step: %+v, want the room's step 1 while live is 7", tl)
	}
	// a student cannot move the room
	b.timeline(protocol.TimelineView, map[string]any{"step": 5})
	if tl := owner.timeline(protocol.TimelineList, nil); tl.Viewing == nil || *tl.Viewing != 1 {
		t.Fatalf("owner after b's own view: %+v, want step 1", tl)
	}
	// a returns to the room's view, b too
	if tl := a.timeline(protocol.TimelineLive, nil); tl.Viewing == nil || *tl.Viewing != 1 || !tl.Shared {
		t.Fatalf("a after live: %+v, want the room's step 1", tl)
	}
	a.historyFrame(1)
	b.timeline(protocol.TimelineLive, nil)
	// the owner goes live: everyone who follows the room gets live frames
	owner.timeline(protocol.TimelineLive, nil)
	for name, c := range map[string]*wsClient{"owner": owner, "a": a, "b": b} {
		c.historyFrame(-1)
		if tl := c.timeline(protocol.TimelineList, nil); tl.Viewing != nil {
			t.Fatalf("%s after the owner went live: %+v", name, tl)
		}
	}
}

// TestTimelineErrors: bad timeline messages are refused with a message
// and change nothing.
func TestTimelineErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxQuestions: 1000, CmdRate: 1000})
	c := dial(t, ts, tinyQuery)
	c.expect("welcome", nil)
	c.stepBatch()
	for _, m := range []map[string]any{
		{"type": "timeline"},
		{"type": "timeline", "action": "rewind"},
		{"type": "timeline", "action": "view"},
		{"type": "timeline", "action": "compare", "step": 0, "layer": 1, "filter": 0},
		{"type": "timeline", "action": "compare", "step": 0, "layer": 0, "filter": 9},
		{"type": "timeline", "action": "compare", "step": 0, "layer": 0},
	} {
		typ, raw := c.answer(c.send(m), nil)
		if typ != "error" {
			t.Errorf("%v: got %s, want an error", m, raw)
		}
	}
	if tl := c.timeline(protocol.TimelineList, nil); tl.Viewing != nil || !slices.Equal(tl.Steps, []int{0, 1}) {
		t.Errorf("after refusals: %+v", tl)
	}
}

// TestTimelineMemory: the history's bytes are the gauge's and are held
// within the memory budget (tlChunk at a time); -timeline-budget 0 (a
// negative TimelineBytes) keeps none and says so.
func TestTimelineMemory(t *testing.T) {
	used := map[bool]float64{}
	for _, on := range []bool{true, false} {
		cfg := Config{MaxQuestions: 1000, CmdRate: 1000}
		if !on {
			cfg.TimelineBytes = -1
		}
		srv, ts := newTestServer(t, cfg)
		c := dial(t, ts, tinyQuery)
		c.expect("welcome", nil)
		for range 3 {
			c.stepBatch()
		}
		tl := c.timeline(protocol.TimelineList, nil)
		if got := gaugeValue(t, srv.tlBytes); got != float64(tl.Bytes) {
			t.Errorf("history on %v: bpv_timeline_bytes %v, the session's %d", on, got, tl.Bytes)
		}
		used[on] = gaugeValue(t, srv.metrics.memInUse)
		switch {
		case on && (!slices.Equal(tl.Steps, []int{0, 1, 2, 3}) || tl.Bytes <= 0 || tl.Budget != DefaultTimelineBytes):
			t.Errorf("history on: %+v", tl)
		case !on && (len(tl.Steps) != 0 || tl.Bytes != 0 || tl.Note != msgHistoryOff):
			t.Errorf("history off: %+v", tl)
		}
		if on {
			// ending the session gives back its trainer's and its history's memory at once
			for _, sess := range srv.sessions.private() {
				srv.sessions.end(sess, evictIdle)
				<-sess.done
			}
			if got, tb := gaugeValue(t, srv.metrics.memInUse), gaugeValue(t, srv.tlBytes); got != 0 || tb != 0 {
				t.Errorf("after the session ended: memory in use %v, bpv_timeline_bytes %v; want 0 and 0", got, tb)
			}
			continue
		}
		if !on {
			var r protocol.Reply
			if typ, raw := c.answer(c.send(map[string]any{"type": "timeline", "action": "view", "step": 0}), &r); typ != "error" || r.Message != msgHistoryOff {
				t.Errorf("view without history: %s", raw)
			}
		}
	}
	if d := used[true] - used[false]; d != tlChunk {
		t.Errorf("memory in use with a history %v more than without, want %d (one chunk)", d, tlChunk)
	}
}
