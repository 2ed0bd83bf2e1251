package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/internal/natstest"
	"github.com/backpropviz/backpropviz/protocol"
)

// newReplica starts a server connected to the NATS server at natsURL as
// replica id, saving its rooms' models every second.
func newReplica(t *testing.T, natsURL, id string) (*Server, *httptest.Server) {
	t.Helper()
	return newTestServer(t, Config{Cluster: cluster.Config{URL: natsURL, ReplicaID: id, SnapshotEvery: time.Second}})
}

// untilState reads until a state at step, and returns it.
func (c *wsClient) untilState(step int) testState {
	c.t.Helper()
	st, _ := c.until(step, -1)
	return st
}

// untilFrame reads until a frame of step, and returns it.
func (c *wsClient) untilFrame(step int) *protocol.Frame {
	c.t.Helper()
	_, f := c.until(-1, step)
	return f
}

// untilStep reads until both a state at step and a frame of step (from
// another replica they come in either order).
func (c *wsClient) untilStep(step int) (testState, *protocol.Frame) {
	c.t.Helper()
	return c.until(step, step)
}

// until reads until a state at step stateStep and a frame of step
// frameStep (−1: none wanted), skipping earlier ones and other messages.
func (c *wsClient) until(stateStep, frameStep int) (testState, *protocol.Frame) {
	c.t.Helper()
	var st testState
	var f *protocol.Frame
	gotState, gotFrame := stateStep < 0, frameStep < 0
	for range 10000 {
		if gotState && gotFrame {
			return st, f
		}
		m := c.next()
		switch {
		case m.frame != nil && !gotFrame:
			if m.frame.Header.Step > frameStep {
				c.t.Fatalf("frame of step %d, want %d first", m.frame.Header.Step, frameStep)
			}
			f, gotFrame = m.frame, m.frame.Header.Step == frameStep
		case m.typ == "state" && !gotState:
			json.Unmarshal(m.raw, &st)
			if st.Step > stateStep {
				c.t.Fatalf("state at step %d, want %d first", st.Step, stateStep)
			}
			gotState = st.Step == stateStep
		case m.typ == "error":
			c.t.Fatalf("unexpected error: %s", m.raw)
		}
	}
	c.t.Fatalf("no state at step %d or no frame of step %d", stateStep, frameStep)
	return st, f
}

// weights subscribes to the exact weights and returns them, layer by
// layer, from the keyframe that answers.
func (c *wsClient) weights() map[int][]float32 {
	c.t.Helper()
	c.reply(c.send(map[string]any{"type": "subscribe", "exact": true, "kinds": []string{"weights"}}))
	for range 100 {
		f := c.frame()
		if !f.Header.Keyframe || len(f.Tensors) == 0 || f.Tensors[0].Kind != protocol.KindWeights {
			continue
		}
		w := map[int][]float32{}
		for _, t := range f.Tensors {
			// a keyframe of an earlier subscription may carry biases too
			if t.Kind == protocol.KindWeights {
				w[t.Layer] = t.F32
			}
		}
		return w
	}
	c.t.Fatalf("no keyframe of weights")
	return nil
}

func sameWeights(t *testing.T, what string, got, want map[int][]float32) {
	t.Helper()
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("%s: weights of %d layers, want %d", what, len(got), len(want))
	}
	for l, w := range want {
		g := got[l]
		if len(g) != len(w) {
			t.Fatalf("%s: layer %d has %d weights, want %d", what, l, len(g), len(w))
		}
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("%s: layer %d weight %d = %v, want %v", what, l, i, g[i], w[i])
			}
		}
	}
}

func ownerOn(t *testing.T, ts *httptest.Server, room *Room) *wsClient {
	t.Helper()
	return dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code+"?owner="+url.QueryEscape(room.OwnerToken()), nil)
}

func TestClusterRoomAcrossReplicas(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, tsA := newReplica(t, natsURL, "a")
	_, tsB := newReplica(t, natsURL, "b")
	_, tsC := newReplica(t, natsURL, "c")
	room := newRoom(t, a, "Biology 3B")

	// A student joins on B a room of A: the same welcome sequence.
	student := joinAsViewer(t, tsB, room)
	var w protocol.Welcome
	student.expect("welcome", &w)
	if len(w.Layers) != 4 || w.Resume != "" {
		t.Fatalf("student's welcome: %d layers, resume %q; want the room's 4, none", len(w.Layers), w.Resume)
	}
	student.untilState(0)
	if f := student.frame(); !f.Header.Keyframe {
		t.Errorf("first frame on B is not a keyframe")
	}
	var rm protocol.Room
	student.expect("room", &rm)
	if rm.Code != room.Code || rm.Name != "Biology 3B" || rm.Role != protocol.RoleViewer {
		t.Errorf("student's room message %+v", rm)
	}

	// The owner drives the room from C; its page counts the student on B.
	owner := ownerOn(t, tsC, room)
	owner.expect("welcome", nil)
	if m := owner.expectRoom(1); m.Role != protocol.RoleOwner {
		t.Errorf("owner's room message %+v", m)
	}
	// A student on A too: both see every step the owner takes.
	local := joinAsViewer(t, tsA, room)
	local.expect("welcome", nil)
	for step := 1; step <= 3; step++ {
		if r := owner.reply(owner.cmd("step_batch", nil)); r.Type != protocol.TypeAck {
			t.Fatalf("owner's step_batch through C: %+v", r)
		}
		for _, v := range []*wsClient{student, local} {
			if st, _ := v.untilStep(step); st.Done == nil || st.Done.Kind != protocol.PhaseUpdate {
				t.Errorf("state of step %d: done %+v, want update", step, st.Done)
			}
		}
	}
	// The student on B gets the very numbers of A.
	sameWeights(t, "student on B", student.weights(), local.weights())

	// A student's command is refused on B as on A.
	if r := student.reply(student.cmd("play", nil)); r.Code != protocol.CodeForbidden {
		t.Errorf("student's play on B: %+v, want forbidden", r)
	}
	// The owner's settings reach everyone.
	if r := owner.reply(owner.cmd("set", map[string]any{"lr": 0.02})); r.Type != protocol.TypeAck {
		t.Fatalf("owner's set through C: %+v", r)
	}
	for range 100 {
		var st testState
		student.expect("state", &st)
		if st.Hyper.LR == 0.02 {
			break
		}
	}
	// An invalid command gets the home's error.
	if r := owner.reply(owner.cmd("set", map[string]any{"lr": -1})); r.Code != protocol.CodeInvalid || !strings.Contains(r.Message, "learning rate") {
		t.Errorf("owner's invalid set through C: %+v", r)
	}

	// A fork on B starts from the room's weights and is B's own.
	roomW := local.weights()
	fork := dialPath(t, websocket.DefaultDialer, tsB, "/ws/fork/"+room.Code, nil)
	fork.expect("welcome", &w)
	if w.Resume == "" {
		t.Fatalf("fork's welcome has no resume token")
	}
	if st := fork.untilState(3); st.Playing || st.Hyper.LR != 0.02 {
		t.Errorf("fork starts %+v; want paused with the room's lr", st)
	}
	sameWeights(t, "fork on B", fork.weights(), roomW)
	if r := fork.reply(fork.cmd("step_batch", nil)); r.Type != protocol.TypeAck {
		t.Fatalf("fork's step: %+v", r)
	}
	fork.untilState(4)

	// Play and pause from C: the student on B sees the room move on.
	owner.reply(owner.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 20}}))
	owner.reply(owner.cmd("play", nil))
	student.untilFrame(6)
	owner.reply(owner.cmd("pause", nil))
	for range 1000 {
		var st testState
		student.expect("state", &st)
		if !st.Playing {
			break
		}
	}
	if got := a.class.rooms.len(); got != 1 {
		t.Errorf("A hosts %d rooms, want 1 (B and C only mirror it)", got)
	}
}

func TestClusterHomeStops(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, tsA := newReplica(t, natsURL, "a")
	_, tsB := newReplica(t, natsURL, "b")
	_, tsC := newReplica(t, natsURL, "c")
	room := newRoom(t, a, "Physics")
	owner := ownerOn(t, tsA, room)
	owner.expect("welcome", nil)
	student := joinAsViewer(t, tsB, room)
	student.expect("welcome", nil)
	for step := 1; step <= 2; step++ {
		owner.reply(owner.cmd("step_batch", nil))
		student.untilState(step)
	}
	before := student.weights()

	// A stops: the student on B is told, and the code says so.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	tsA.Close()
	var bye protocol.Reply
	student.expect("bye", &bye)
	if bye.Reason != msgRoomWentAway {
		t.Errorf("student's bye %q, want %q", bye.Reason, msgRoomWentAway)
	}
	again := joinAsViewer(t, tsB, room)
	if e := again.expectError(); e.Code != protocol.CodeNotFound || e.Message != msgRoomGoneViewer {
		t.Errorf("joining a room whose server went away: %+v", e)
	}

	// Its owner is offered to resume it, with what is kept.
	jar := &http.Cookie{Name: ownerCookie(room.Code), Value: room.OwnerToken()}
	p := get(t, tsB, "/r/"+room.Code, jar)
	if !strings.Contains(p.body, `data-testid="room-resume"`) || !strings.Contains(p.body, "step 2,") || !strings.Contains(p.body, "Not kept") {
		t.Fatalf("owner's page of a room gone: status %d, no resume offer:\n%s", p.status, p.body)
	}
	if p := get(t, tsB, "/r/"+room.Code); strings.Contains(p.body, "room-resume") {
		t.Errorf("a student is offered to resume the room")
	}
	// Only with the owner token.
	if p := postForm(t, tsC, "/r/"+room.Code+"/resume", url.Values{"owner": {"not the token"}}, ""); p.status != http.StatusForbidden {
		t.Errorf("resume without the token: status %d, want 403", p.status)
	}
	if p := postForm(t, tsC, "/r/"+room.Code+"/resume", url.Values{"owner": {room.OwnerToken()}}, ""); p.status != http.StatusSeeOther || p.header.Get("Location") != "/r/"+room.Code {
		t.Fatalf("resume: status %d, location %q: %s", p.status, p.header.Get("Location"), p.body)
	}

	// Resumed on C from the model A saved as it stopped: the student on B
	// comes back to the same weights, step and charts.
	back := joinAsViewer(t, tsB, room)
	back.expect("welcome", nil)
	if st := back.untilState(2); st.Playing {
		t.Errorf("resumed room plays")
	}
	var charts struct {
		Reset  bool         `json:"reset"`
		Points [][3]float64 `json:"points"`
	}
	back.expect("metrics", &charts)
	if !charts.Reset || len(charts.Points) != 2 {
		t.Errorf("resumed room's charts: %+v, want steps 1 and 2", charts)
	}
	sameWeights(t, "resumed room", back.weights(), before)
	// The owner link still drives it, from B.
	owner2 := ownerOn(t, tsB, room)
	owner2.expect("welcome", nil)
	if r := owner2.reply(owner2.cmd("step_batch", nil)); r.Type != protocol.TypeAck {
		t.Fatalf("owner's step after resuming: %+v", r)
	}
	back.untilState(3)
}

func TestClusterHomeCrashes(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, _ := newReplica(t, natsURL, "a")
	_, tsB := newReplica(t, natsURL, "b")
	c, tsC := newReplica(t, natsURL, "c")
	room := newRoom(t, a, "")
	owner := ownerOn(t, tsB, room)
	owner.expect("welcome", nil)
	student := joinAsViewer(t, tsB, room)
	student.expect("welcome", nil)
	owner.reply(owner.cmd("step_batch", nil))
	student.untilState(1)
	// Wait for the periodic save of step 1.
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, ok, _ := c.cluster.link.Snapshot(context.Background(), room.Code)
		if ok && info.Step == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no saved model of step 1")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A loses NATS without a word (as if its process were killed).
	a.cluster.link.Close(context.Background())
	var bye protocol.Reply
	student.expect("bye", &bye)
	if bye.Reason != msgRoomWentAway {
		t.Errorf("student's bye %q", bye.Reason)
	}
	owner.expect("bye", &bye)
	if bye.Reason != msgRoomWentAwayOwner {
		t.Errorf("owner's bye %q", bye.Reason)
	}
	// Its directory entry has not expired yet; resuming finds A silent.
	if _, err := c.ResumeRoom(room.Code, room.OwnerToken()); err != nil {
		t.Fatalf("ResumeRoom on C: %v", err)
	}
	back := joinAsViewer(t, tsC, room)
	back.expect("welcome", nil)
	back.untilState(1)
}

func TestClusterMalformedMessagesDropped(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, _ := newReplica(t, natsURL, "a")
	b, tsB := newReplica(t, natsURL, "b")
	room := newRoom(t, a, "")
	student := joinAsViewer(t, tsB, room)
	student.expect("welcome", nil)
	student.frame()
	owner := ownerOn(t, tsB, room)
	owner.expect("welcome", nil)

	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub := protocol.DefaultSubscription()
	link := b.cluster.link
	for _, subj := range []string{
		link.Event(room.Code, cluster.EvState),
		link.Event(room.Code, cluster.EvMetrics),
		link.Event(room.Code, cluster.EvGone),
		link.Event(room.Code, cluster.EvCount),
		link.Event(room.Code, "nonsense"),
		link.Frames(room.Code, cluster.KeyHash(sub.Key())),
	} {
		nc.Publish(subj, []byte("{not json"))
	}
	nc.Publish(link.Frames(room.Code, cluster.KeyHash(sub.Key())), []byte("BPV1\xff\xff\xff\xff"))
	// Requests to the home: malformed ones are dropped, a forged command
	// is refused like a student's.
	for _, name := range []string{cluster.RPCInterest, cluster.RPCKeyframe, cluster.RPCCmd, cluster.RPCAsk, "nonsense"} {
		m, err := nc.Request(link.RPC(room.Code, name), []byte("{not json"), 5*time.Second)
		if err != nil || cluster.ReplyError(m) == "" {
			t.Errorf("malformed %s request: %v, reply %v; want an error reply", name, err, m)
		}
	}
	// Questions that no page could have sent: none, not a question, one
	// that does not parse, one too large.
	layer := 0
	for _, q := range []askReq{
		{},
		{Msg: &protocol.ClientMsg{Type: protocol.TypeCmd, Cmd: protocol.CmdPlay}},
		{Msg: &protocol.ClientMsg{Type: protocol.TypeExplain, Layer: &layer}},
		{Msg: &protocol.ClientMsg{Type: protocol.TypeExplain, Index: make([]int, maxAskReq)}},
	} {
		b, _ := json.Marshal(q)
		m, err := nc.Request(link.RPC(room.Code, cluster.RPCAsk), b, 5*time.Second)
		if err != nil || cluster.ReplyError(m) == "" {
			t.Errorf("malformed question %.100s: %v, reply %v; want an error reply", b, err, m)
		}
	}
	forged, _ := json.Marshal(cmdReq{Token: "guess", Cmd: protocol.CmdPlay, Sub: sub})
	m, err := nc.Request(link.RPC(room.Code, cluster.RPCCmd), forged, 5*time.Second)
	var rep cmdReply
	if err != nil || json.Unmarshal(m.Data, &rep) != nil || len(rep.Replies) != 1 || !strings.Contains(string(rep.Replies[0]), protocol.CodeForbidden) {
		t.Errorf("forged command: %v, %s; want forbidden", err, m.Data)
	}
	// A look with a wrong token is refused like a student's.
	tensor := "dX"
	forged, _ = json.Marshal(askReq{Token: "guess", Msg: &protocol.ClientMsg{Type: protocol.TypeLook, Layer: &layer, Tensor: &tensor, Index: []int{0, 5, 5}}})
	m, err = nc.Request(link.RPC(room.Code, cluster.RPCAsk), forged, 5*time.Second)
	if err != nil || typeOf(m.Data) != protocol.TypeError || !strings.Contains(string(m.Data), msgForbiddenLook) {
		t.Errorf("forged look: %v, %s; want forbidden", err, m.Data)
	}
	nc.Flush()

	// The room goes on; B counted what it dropped, A too.
	owner.reply(owner.cmd("step_batch", nil))
	student.untilStep(1)
	if n := link.DroppedCount("malformed"); n != 7 {
		t.Errorf("B dropped %v malformed messages, want 7", n)
	}
	if n := a.cluster.link.DroppedCount("malformed"); n != 9 {
		t.Errorf("A dropped %v malformed requests, want 9", n)
	}
	// The link's metrics are served.
	resp, err := http.Get(tsB.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"bpv_nats_connected 1", `bpv_nats_messages_dropped_total{reason="malformed"} 7`, `bpv_nats_messages_in_total{kind="frame"}`, `bpv_nats_messages_out_total{kind="sync"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
