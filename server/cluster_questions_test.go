package server

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/internal/natstest"
	"github.com/backpropviz/backpropviz/protocol"
)

// askBoth asks q of a page on the home and of a page on another replica,
// and fails unless both get the same answer of type typ (but for its id).
func askBoth(t *testing.T, home, other *wsClient, q map[string]any, typ string) {
	t.Helper()
	answer := func(c *wsClient) []byte {
		id := c.send(q)
		got, raw := c.answer(id, nil)
		if got != typ {
			t.Fatalf("%v: answered %.300s, want %s", q, raw, typ)
		}
		return bytes.Replace(raw, []byte(`"id":`+itoa(id)+`,`), nil, 1)
	}
	if a, b := answer(home), answer(other); !bytes.Equal(a, b) {
		t.Errorf("%v: answered on the home\n%.400s\nand on another replica\n%.400s", q, a, b)
	}
}

// TestClusterQuestions: a student on a replica other than the room's home
// asks questions about the room's numbers and gets the home's answers; the
// owner's look from a third replica reaches every page of every replica.
func TestClusterQuestions(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, tsA := newReplica(t, natsURL, "a")
	_, tsB := newReplica(t, natsURL, "b")
	_, tsC := newReplica(t, natsURL, "c")
	room := newRoom(t, a, "Biology 3B")
	owner := ownerOn(t, tsC, room)
	owner.expect("welcome", nil)
	student := joinAsViewer(t, tsB, room)
	student.expect("welcome", nil)
	local := joinAsViewer(t, tsA, room)
	local.expect("welcome", nil)
	owner.reply(owner.cmd("step_batch", nil))
	student.untilStep(1)
	local.untilStep(1)
	step, w := roomWeights(t, room)

	// The same answers on B as on A, to the very byte.
	for _, q := range []struct {
		msg map[string]any
		typ string
	}{
		{map[string]any{"type": "explain", "layer": 0, "tensor": "dW", "index": []int{1, 0, 1, 2}, "sample": 3}, protocol.TypeExplanation},
		{map[string]any{"type": "explain", "layer": 3, "tensor": "Y", "index": []int{4}, "probe": true}, protocol.TypeExplanation},
		{map[string]any{"type": "walk", "layer": 0, "grad": "dX", "filter": 1, "channel": 0}, protocol.TypeWalkthrough},
		{map[string]any{"type": "gradcheck", "layer": 3, "param": "b", "index": []int{2}}, protocol.TypeGradCheck},
		{map[string]any{"type": "walk", "layer": 2, "grad": "dX"}, protocol.TypeError},
		{map[string]any{"type": "explain", "layer": 0, "tensor": "dW", "index": []int{99, 0, 0, 0}}, protocol.TypeError},
	} {
		askBoth(t, local, student, q.msg, q.typ)
	}
	var e protocol.Explanation
	student.mustAnswer(map[string]any{"type": "explain", "layer": 0, "tensor": "dW", "index": []int{1, 0, 1, 2}}, protocol.TypeExplanation, &e)
	if e.Name != "conv 1" || e.Step != step {
		t.Errorf("student's explanation on B: %q at step %d, want conv 1 at %d", e.Name, e.Step, step)
	}
	// The answers went to the student alone.
	owner.quietUntilAck()
	if s, w2 := roomWeights(t, room); s != step || !slices.Equal(w, w2) {
		t.Errorf("after questions from B the room is at step %d, weights changed %v; want step %d, the same weights", s, !slices.Equal(w, w2), step)
	}

	// A student's look is refused on B and reaches no one.
	look := map[string]any{"type": "look", "layer": 0, "tensor": "dX", "index": []int{0, 5, 5}}
	student.mustRefuse(look, protocol.CodeForbidden, msgForbiddenLook)
	for _, c := range []*wsClient{owner, local} {
		c.quietUntilAck()
	}
	// An invalid look of the owner's is refused by the home.
	owner.mustRefuse(map[string]any{"type": "look", "layer": 1, "tensor": "db", "index": []int{0}}, protocol.CodeInvalid, "relu 1 has no parameters")
	// The owner's look from C reaches the pages of B, A and C.
	owner.mustAnswer(look, protocol.TypeAck, nil)
	for _, c := range []*wsClient{student, local, owner} {
		var l protocol.Look
		c.expect(protocol.TypeLook, &l)
		if l.Layer != 0 || l.Tensor != "dX" || !slices.Equal(l.Index, []int{0, 5, 5}) {
			t.Errorf("look %+v", l)
		}
	}

	// While the room plays, a gradient check is refused on B as on A.
	owner.reply(owner.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 5}}))
	owner.reply(owner.cmd("play", nil))
	for {
		var st testState
		student.expect("state", &st)
		if st.Playing {
			break
		}
	}
	gc := map[string]any{"type": "gradcheck", "layer": 3, "param": "b", "index": []int{2}}
	student.mustRefuse(gc, protocol.CodePlaying, msgGradCheckPlaying)
	local.mustRefuse(gc, protocol.CodePlaying, msgGradCheckPlaying)
	student.mustAnswer(map[string]any{"type": "explain", "layer": -1, "tensor": "batchloss"}, protocol.TypeExplanation, nil)
	owner.reply(owner.cmd("pause", nil))
}

// TestClusterQuestionRate: a page on another replica than the home is
// held to its own replica's question rate before anything is forwarded.
func TestClusterQuestionRate(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, _ := newReplica(t, natsURL, "a")
	_, tsB := newTestServer(t, Config{MaxQuestions: 1, Cluster: cluster.Config{URL: natsURL, ReplicaID: "b", SnapshotEvery: time.Second}})
	room := newRoom(t, a, "")
	student := joinAsViewer(t, tsB, room)
	student.expect("welcome", nil)
	q := map[string]any{"type": "explain", "layer": -1, "tensor": "batchloss"}
	student.mustRefuse(q, protocol.CodeInvalid, "no step")
	student.mustRefuse(q, protocol.CodeRateLimited, "questions")
}
