package server

import (
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestBadMessages: each bad message gets an error reply and the connection
// keeps working.
func TestBadMessages(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.expect("welcome", nil)
	tests := []struct {
		name string
		msg  string
		bin  bool
		code string
	}{
		{"malformed JSON", `{"type":"cmd",`, false, protocol.CodeBadMessage},
		{"not an object", `[1,2]`, false, protocol.CodeBadMessage},
		{"unknown command", `{"type":"cmd","v":1,"id":3,"cmd":"fly"}`, false, protocol.CodeBadMessage},
		{"unknown type", `{"type":"hello","v":1}`, false, protocol.CodeBadMessage},
		{"bad version", `{"type":"cmd","v":2,"cmd":"play"}`, false, protocol.CodeBadVersion},
		{"binary", "\x00\x01", true, protocol.CodeBadMessage},
		{"oversized", `{"type":"cmd","cmd":"set","spec":"` + strings.Repeat("x", 20<<10) + `"}`, false, protocol.CodeTooLarge},
		{"bad subscription", `{"type":"subscribe","v":1,"kinds":["colour"]}`, false, protocol.CodeInvalid},
		{"bad sample", `{"type":"subscribe","v":1,"sample":-3}`, false, protocol.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt := websocket.TextMessage
			if tt.bin {
				mt = websocket.BinaryMessage
			}
			if err := c.conn.WriteMessage(mt, []byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			var e protocol.Reply
			c.expect("error", &e)
			if e.Code != tt.code || e.Message == "" {
				t.Errorf("error %+v, want code %s", e, tt.code)
			}
			// Still working.
			id := c.send(map[string]any{"type": "ping"})
			if r := c.reply(id); r.Type != "pong" {
				t.Errorf("ping after %s: %+v", tt.name, r)
			}
		})
	}
}

// TestSetInvalid: an invalid set answers invalid and changes nothing, not
// even its valid parts.
func TestSetInvalid(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	var w protocol.Welcome
	c.expect("welcome", &w)
	var st0 testState
	c.expect("state", &st0)
	tests := []struct {
		name string
		args map[string]any
		want string // part of the message
	}{
		{"negative learning rate", map[string]any{"lr": -1}, "learning rate"},
		{"bad spec", map[string]any{"spec": "conv(8,5", "lr": 0.5}, "spec"},
		{"spec that does not fit", map[string]any{"spec": "conv(4,30) dense(5)"}, "conv"},
		{"unknown optimizer", map[string]any{"opt": "adagrad"}, "optimizer"},
		{"batch too big", map[string]any{"batch": 100000}, "batch"},
		{"unknown data", map[string]any{"data": "cifar"}, "data"},
		{"bad speed", map[string]any{"speed": map[string]any{"unit": "epoch", "rate": 1}}, "speed"},
		{"wrong type", map[string]any{"lr": "fast"}, "lr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := c.cmd("set", tt.args)
			r := c.reply(id)
			if r.Type != "error" || !strings.Contains(r.Message, tt.want) {
				t.Fatalf("set %v: %+v, want an error about %q", tt.args, r, tt.want)
			}
		})
	}
	id := c.cmd("pause", nil)
	c.reply(id)
	var st testState
	c.expect("state", &st)
	if st.Hyper != st0.Hyper || st.Speed != st0.Speed || st.Step != 0 {
		t.Errorf("after invalid sets: %+v, want %+v", st, st0)
	}

	// A valid set of the spec re-sends welcome with the new layers.
	id = c.cmd("set", map[string]any{"args": map[string]any{"spec": "conv(3,3) relu dense(5)", "lr": 0.01}})
	if r := c.reply(id); r.Type != "ack" {
		t.Fatalf("valid set: %+v", r)
	}
	var w2 protocol.Welcome
	c.expect("welcome", &w2)
	if w2.Session != w.Session || len(w2.Layers) != 3 || w2.Config.Hyper.LR != 0.01 {
		t.Errorf("welcome after set: session %q layers %d lr %v", w2.Session, len(w2.Layers), w2.Config.Hyper.LR)
	}
}
