package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

func TestRoomFork(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	for range 3 {
		owner.reply(owner.cmd("step_batch", nil))
	}
	owner.reply(owner.send(map[string]any{"type": "subscribe", "exact": true, "kinds": []string{"weights"}}))
	roomW := owner.frame()

	fork := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+strings.ToLower(room.Code), nil)
	var w protocol.Welcome
	fork.expect("welcome", &w)
	if w.Resume == "" {
		t.Fatalf("fork's welcome has no resume token")
	}
	var st testState
	fork.expect("state", &st)
	if st.Step != 3 || st.Playing {
		t.Fatalf("fork starts at %+v, want step 3, paused", st)
	}
	// Its charts go on from the room's: the history of steps 1 … 3.
	var m struct {
		Reset  bool         `json:"reset"`
		Points [][3]float64 `json:"points"`
	}
	fork.expect("metrics", &m)
	if !m.Reset || len(m.Points) != 3 || m.Points[2][0] != 3 {
		t.Errorf("fork's first metrics %+v, want reset and the room's steps 1 … 3", m)
	}
	// The fork starts from the room's weights, exactly.
	fork.reply(fork.send(map[string]any{"type": "subscribe", "exact": true, "kinds": []string{"weights"}}))
	forkW := fork.frame()
	compared := 0
	for _, rt := range roomW.Tensors {
		// A frame sent before the subscription took effect may hold other
		// kinds (the room's input); the weights are what a fork copies.
		if rt.Kind != protocol.KindWeights {
			continue
		}
		compared++
		ft := forkW.Tensor(rt.Layer, rt.Kind)
		if ft == nil || len(ft.F32) != len(rt.F32) {
			t.Fatalf("fork lacks %d:%s", rt.Layer, rt.Kind)
		}
		for i := range rt.F32 {
			if ft.F32[i] != rt.F32[i] {
				t.Fatalf("fork %d:%s[%d] = %v, room %v", rt.Layer, rt.Kind, i, ft.F32[i], rt.F32[i])
			}
		}
	}
	if compared == 0 {
		t.Fatalf("the room's frame holds no weights")
	}
	// The student drives the fork alone: two steps with a large learning rate.
	if r := fork.reply(fork.cmd("set", map[string]any{"lr": 0.05, "opt": "sgd"})); r.Type != "ack" {
		t.Fatalf("fork set: %+v", r)
	}
	for range 2 {
		if r := fork.reply(fork.cmd("step_batch", nil)); r.Type != "ack" {
			t.Fatalf("fork step_batch: %+v", r)
		}
	}
	var f = fork.frame()
	for f.Header.Step != 5 {
		f = fork.frame()
	}
	owner.reply(owner.cmd("step_batch", nil))
	var rs testState
	for rs.Step != 4 {
		owner.expect("state", &rs)
	}
	if rs.Hyper.Opt == "sgd" || rs.Hyper.LR == 0.05 {
		t.Errorf("room after the fork's set: %+v, want its own optimizer", rs.Hyper)
	}
	g := owner.frame()
	for g.Header.Step != 4 {
		g = owner.frame()
	}
	diff := 0
	for _, rt := range g.Tensors {
		ft := f.Tensor(rt.Layer, rt.Kind)
		for i := range rt.F32 {
			if ft.F32[i] != rt.F32[i] {
				diff++
			}
		}
	}
	if diff == 0 {
		t.Errorf("fork at step 5 has the room's weights at step 4")
	}

	// A closed fork tab comes back to the fork with its token.
	fork.conn.Close()
	waitDetached(t, srv, w.Resume)
	again := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code+"?resume="+w.Resume, nil)
	var w2 protocol.Welcome
	again.expect("welcome", &w2)
	again.expect("state", &st)
	if w2.Session != w.Session || !w2.Resumed || st.Step != 5 {
		t.Errorf("fork resumed as %s (resumed %v) at step %d, want %s at step 5", w2.Session, w2.Resumed, st.Step, w.Session)
	}
	// And with the fork cookie the page gets after forking.
	again.conn.Close()
	waitDetached(t, srv, w.Resume)
	h := http.Header{"Cookie": {forkCookie(room.Code) + "=" + w.Resume}}
	cookie := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, h)
	cookie.expect("welcome", &w2)
	if w2.Session != w.Session {
		t.Errorf("fork cookie resumed %s, want %s", w2.Session, w.Session)
	}
}

func TestForkTrainingRate(t *testing.T) {
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{ForkRate: 4}})
	room := newRoom(t, srv, "")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	owner.reply(owner.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 0}}))

	fork := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, nil)
	var st testState
	fork.expect("state", &st)
	if st.Speed != (protocol.Speed{Unit: protocol.UnitStep, Rate: 4}) {
		t.Errorf("fork of a room playing as fast as possible: speed %+v, want 4 steps/s", st.Speed)
	}
	// tinySpec has 4 layers: 10 phases a step.
	tests := []struct {
		name string
		cmd  string
		args map[string]any
		ok   bool
	}{
		{"as fast as possible", "set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 0}}, false},
		{"5 steps/s", "set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 5}}, false},
		{"4 steps/s", "set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 4}}, true},
		{"40 phases/s", "set", map[string]any{"speed": map[string]any{"unit": "phase", "rate": 40}}, true},
		{"41 phases/s", "set", map[string]any{"speed": map[string]any{"unit": "phase", "rate": 41}}, false},
		{"a whole epoch", "step_epoch", nil, false},
		{"hyperparameters", "set", map[string]any{"lr": 0.01}, true},
	}
	for _, tt := range tests {
		r := fork.reply(fork.cmd(tt.cmd, tt.args))
		if tt.ok != (r.Type == "ack") || (!tt.ok && r.Code != protocol.CodeRateLimited) {
			t.Errorf("fork %s: reply %+v, want ok %v (else %s)", tt.name, r, tt.ok, protocol.CodeRateLimited)
		}
	}
	// The room itself is not bounded.
	if r := owner.reply(owner.cmd("step_epoch", nil)); r.Type != "ack" {
		t.Errorf("room's step_epoch: %+v", r)
	}
}

// TestForkBudget: the forks of a server share its budget of steps per
// second: with a budget of one step a second, two forks playing at 5
// steps a second wait for it, each says so in its state (fork_shared),
// and the waits are counted; paused, a fork no longer says it.
func TestForkBudget(t *testing.T) {
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{ForkRate: 5, ForkBudget: 1}})
	room := newRoom(t, srv, "")
	type sharedState struct {
		Step       int  `json:"step"`
		Playing    bool `json:"playing"`
		ForkShared bool `json:"fork_shared"`
	}
	var forks []*wsClient
	for range 2 {
		f := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, nil)
		f.expect("welcome", nil)
		if r := f.reply(f.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 5}})); r.Type != "ack" {
			t.Fatalf("speed: %+v", r)
		}
		forks = append(forks, f)
	}
	for _, f := range forks {
		f.reply(f.cmd("play", nil))
	}
	for i, f := range forks {
		var st sharedState
		for n := 0; !st.ForkShared; n++ {
			if n == 100 {
				t.Fatalf("fork %d: 100 states while playing, none says it waits for the budget (step %d)", i, st.Step)
			}
			f.expect("state", &st)
		}
	}
	if n := counterValue(t, srv.class.forkBudget.waits); n < 2 {
		t.Errorf("bpv_fork_budget_waits_total %v, want at least 2", n)
	}
	f := forks[0]
	f.reply(f.cmd("pause", nil))
	for {
		var st sharedState
		f.expect("state", &st)
		if !st.Playing {
			if st.ForkShared {
				t.Errorf("a paused fork says it waits for the budget: %+v", st)
			}
			break
		}
	}
}
