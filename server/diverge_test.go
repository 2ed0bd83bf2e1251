package server

import (
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestDivergencePausesAndSaysWhy drives a network that diverges (three
// linear dense layers, SGD at learning rate 10 with momentum 0.99) over a
// real websocket: the step command is answered with "diverged", the state
// carries the engine's message, the weights in the exact frame stay finite,
// and a lower learning rate lets training go on.
func TestDivergencePausesAndSaysWhy(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	q := url.Values{"spec": {"dense(300) dense(300) dense(300) dense(10)"}, "opt": {"sgd"}, "lr": {"10"},
		"momentum": {"0.99"}, "batch": {"1"}}
	c := dial(t, ts, q.Encode())
	c.expect("welcome", nil)
	var diverged protocol.Reply
	for i := range 200 {
		r := c.reply(c.cmd("step_batch", nil))
		if r.Type == "error" {
			diverged = r
			break
		}
		if i == 199 {
			t.Fatalf("no divergence in 200 steps at lr 10, momentum 0.99")
		}
	}
	if diverged.Code != protocol.CodeDiverged || !strings.Contains(diverged.Message, "Lower the learning rate") {
		t.Fatalf("reply %+v, want code %q with advice", diverged, protocol.CodeDiverged)
	}
	var st testState
	for st.Error == nil {
		c.expect("state", &st)
	}
	if st.Playing || !strings.Contains(*st.Error, "diverged") {
		t.Errorf("state after divergence: playing %v, error %q", st.Playing, *st.Error)
	}
	c.reply(c.send(map[string]any{"type": "subscribe", "exact": true, "kinds": []string{"weights", "bias"}}))
	f := c.frame()
	n := 0
	for _, ten := range f.Tensors {
		// A frame sent before the subscription may also hold the gradients
		// that diverged; the weights are what must stay finite.
		if ten.Kind != protocol.KindWeights && ten.Kind != protocol.KindBias {
			continue
		}
		for _, v := range ten.F32 {
			n++
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("layer %d %s holds %v after divergence", ten.Layer, ten.Kind, v)
			}
		}
	}
	if n == 0 {
		t.Fatalf("the exact frame holds no weights")
	}
	// Another step without a change is refused again; a lower learning
	// rate goes on.
	if r := c.reply(c.cmd("step_batch", nil)); r.Code != protocol.CodeDiverged {
		t.Errorf("step after divergence: %+v, want %q", r, protocol.CodeDiverged)
	}
	if r := c.reply(c.cmd("set", map[string]any{"lr": 0.0001, "momentum": 0})); r.Type != "ack" {
		t.Fatalf("set lr: %+v", r)
	}
	if r := c.reply(c.cmd("reset", nil)); r.Type != "ack" {
		t.Fatalf("reset: %+v", r)
	}
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Errorf("step after a lower learning rate and reset: %+v, want ack", r)
	}
}
