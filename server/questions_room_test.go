package server

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// questionTypes are the types of the answers to questions and of look.
var questionTypes = []string{protocol.TypeExplanation, protocol.TypeWalkthrough, protocol.TypeGradCheck, protocol.TypeLook}

// quietUntilAck subscribes c (to its default) and fails if c receives an
// answer to a question or a look before the ack: a message the session put
// into c's mailbox before it handled the subscribe.
func (c *wsClient) quietUntilAck() {
	c.t.Helper()
	id := c.send(map[string]any{"type": "subscribe"})
	for {
		m := c.next()
		if slices.Contains(questionTypes, m.typ) {
			c.t.Fatalf("received %.200s, a message for another page", m.raw)
		}
		if m.typ == "ack" && strings.Contains(string(m.raw), `"id":`+itoa(id)) {
			return
		}
	}
}

// roomWeights returns the room's step and a copy of its weights.
func roomWeights(t *testing.T, room *Room) (int, []float64) {
	t.Helper()
	var step int
	var w []float64
	room.session.inSession(func() {
		tr := room.session.t.Trace(engine.TraceOptions{})
		step = tr.Step
		for _, l := range tr.Layers {
			if l.Weights != nil {
				w = append(w, l.Weights.Data...)
				w = append(w, l.Bias.Data...)
			}
		}
	})
	return step, w
}

// TestRoomQuestionsPrivate: a student asks the room's trainer questions and
// alone receives the answers; the room's step and weights do not change.
func TestRoomQuestionsPrivate(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Physics")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	v1, v2 := joinAsViewer(t, ts, room), joinAsViewer(t, ts, room)
	v1.expect("welcome", nil)
	v2.expect("welcome", nil)
	owner.stepBatch()
	step, w := roomWeights(t, room)

	var e protocol.Explanation
	v1.mustAnswer(map[string]any{"type": "explain", "layer": 0, "tensor": "dW", "index": []int{1, 0, 1, 2}, "sample": 3}, "explanation", &e)
	if e.Name != "conv 1" || e.Batch == nil || e.Batch.N != 8 || e.Step != step {
		t.Errorf("viewer's explanation %+v", e)
	}
	v1.mustAnswer(map[string]any{"type": "walk", "layer": 0, "grad": "dX", "filter": 1, "channel": 0}, "walkthrough", nil)
	v1.mustAnswer(map[string]any{"type": "gradcheck", "layer": 3, "param": "b", "index": []int{2}}, "gradcheck", nil)
	v1.mustRefuse(map[string]any{"type": "walk", "layer": 2, "grad": "dX"}, "invalid", "maxpool 1 is a maxpool layer")
	v2.quietUntilAck()
	owner.quietUntilAck()
	if s, w2 := roomWeights(t, room); s != step || !slices.Equal(w, w2) {
		t.Errorf("after a student's questions the room is at step %d, weights changed %v; want step %d, the same weights", s, !slices.Equal(w, w2), step)
	}
	// while the teacher plays, a gradient check waits for the pause
	owner.reply(owner.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 1}}))
	owner.reply(owner.cmd("play", nil))
	v2.mustRefuse(map[string]any{"type": "gradcheck", "layer": 3, "param": "b", "index": []int{2}}, protocol.CodePlaying, "Pause")
	v2.mustAnswer(map[string]any{"type": "explain", "layer": -1, "tensor": "batchloss"}, "explanation", nil)
}

// TestLook: the owner's look is acknowledged and reaches every page of the
// room; a student's is forbidden and reaches no one; an invalid one is
// refused.
func TestLook(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Chemistry")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	viewers := []*wsClient{joinAsViewer(t, ts, room), joinAsViewer(t, ts, room)}
	for _, v := range viewers {
		v.expect("welcome", nil)
	}
	look := map[string]any{"type": "look", "layer": 0, "tensor": "dX", "index": []int{0, 5, 5}}
	owner.mustRefuse(look, "invalid", "no step has started")
	owner.stepBatch()
	viewers[0].mustRefuse(look, "forbidden", msgForbiddenLook)
	owner.mustRefuse(map[string]any{"type": "look", "layer": 0, "tensor": "dX", "index": []int{0, 5}}, "invalid", "want 3 indices")
	owner.mustRefuse(map[string]any{"type": "look", "layer": 1, "tensor": "db", "index": []int{0}}, "invalid", "relu 1 has no parameters")
	for _, v := range viewers {
		v.quietUntilAck() // neither refused look reached them
	}
	owner.mustAnswer(look, "ack", nil)
	for _, c := range append(viewers, owner) {
		var l protocol.Look
		raw := c.expect("look", &l)
		if l.Layer != 0 || l.Tensor != "dX" || !slices.Equal(l.Index, []int{0, 5, 5}) || l.ID != nil {
			t.Errorf("look received as %s", raw)
		}
	}
}

// TestForkQuestions: a fork's page asks its own trainer and may point at a
// cell (it owns the fork).
func TestForkQuestions(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Maths")
	fork := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, nil)
	fork.expect("welcome", nil)
	fork.stepBatch()
	fork.mustAnswer(map[string]any{"type": "explain", "layer": 3, "tensor": "dW", "index": []int{0, 0}}, "explanation", nil)
	fork.mustAnswer(map[string]any{"type": "look", "layer": 3, "tensor": "dW", "index": []int{0, 0}}, "ack", nil)
	fork.expect("look", nil)
}

// TestQuestionRate: a client asking faster than MaxQuestions (in bursts of
// as many) is refused with rate_limited, counted under the limit
// "questions"; the welcome tells the rate.
func TestQuestionRate(t *testing.T) {
	srv, ts := newTestServer(t, Config{MaxQuestions: 0.5}) // bursts of 1
	c := dial(t, ts, tinyQuery)
	var w protocol.Welcome
	c.expect("welcome", &w)
	if w.Limits.QuestionRate != 0.5 {
		t.Errorf("welcome limits.question_rate = %v, want 0.5", w.Limits.QuestionRate)
	}
	c.stepBatch()
	ids := make([]int, 8)
	for i := range ids {
		ids[i] = c.send(map[string]any{"type": "explain", "layer": 0, "tensor": "Y", "index": []int{0, 1, i}})
	}
	answered, refused := 0, 0
	for answered+refused < len(ids) { // refusals come first: the read pump sends them
		m := c.next()
		var r protocol.Reply
		json.Unmarshal(m.raw, &r)
		switch {
		case m.typ == "explanation":
			answered++
		case m.typ == "error" && r.Code == protocol.CodeRateLimited && strings.Contains(r.Message, "More than 0.5 questions"):
			refused++
		case m.typ == "error":
			t.Fatalf("a question answered %s", m.raw)
		}
	}
	if answered < 1 || refused < 5 {
		t.Errorf("%d answered, %d refused; want the burst of 1 answered and most of the others refused", answered, refused)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("questions")); got != float64(refused) {
		t.Errorf("bpv_limit_hits_total{limit=\"questions\"} = %v, want %d", got, refused)
	}
	// other messages still pass
	if r := c.reply(c.send(map[string]any{"type": "ping"})); r.Type != "pong" {
		t.Errorf("ping: %+v", r)
	}
}
