package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestFramesOff: a page that turns its frames off (a hidden tab) gets no
// frame while the session plays, but its states; turned on again it gets
// an ack and a keyframe, then frames.
func TestFramesOff(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.expect("welcome", nil)
	c.frame() // the first keyframe
	if r := c.reply(c.send(map[string]any{"type": protocol.TypeFrames, "send": false})); r.Type != protocol.TypeAck {
		t.Fatalf("frames off: %+v", r)
	}
	sent := counterValue(t, srv.metrics.framesSent)
	c.cmd(protocol.CmdSet, map[string]any{"speed": map[string]any{"unit": "step", "rate": 50}})
	c.cmd(protocol.CmdPlay, nil)
	var st testState
	for st.Step < 20 {
		m := c.next()
		if m.frame != nil {
			t.Fatalf("a frame (seq %d) arrived while frames were off", m.frame.Header.Seq)
		}
		if m.typ == protocol.TypeState {
			if err := json.Unmarshal(m.raw, &st); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := counterValue(t, srv.metrics.framesSent); n != sent {
		t.Errorf("%v frames written while the page's frames were off", n-sent)
	}
	id := c.send(map[string]any{"type": protocol.TypeFrames, "send": true})
	if r := c.reply(id); r.Type != protocol.TypeAck {
		t.Fatalf("frames on: %+v", r)
	}
	f := c.frame()
	if !f.Header.Keyframe {
		t.Errorf("the first frame after frames on is not a keyframe: %+v", f.Header)
	}
	if f.Header.Step < 20 {
		t.Errorf("the keyframe is of step %d, want the current step (≥ 20)", f.Header.Step)
	}
	if g := c.frame(); g.Header.Seq <= f.Header.Seq {
		t.Errorf("frame seq %d after keyframe %d", g.Header.Seq, f.Header.Seq)
	}
	// a frames message without send is refused
	if r := c.reply(c.send(map[string]any{"type": protocol.TypeFrames})); r.Type != protocol.TypeError || r.Code != protocol.CodeInvalid {
		t.Errorf("frames without send: %+v", r)
	}
}

// TestAckedFramesKeepComing: a page that acknowledges every frame at once
// on loopback (an acknowledgement may arrive before the server's write
// returns) keeps getting frames while the session plays.
func TestAckedFramesKeepComing(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxFPS: 120})
	c := dial(t, ts, "acks=1&data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.cmd(protocol.CmdSet, map[string]any{"speed": map[string]any{"unit": "phase", "rate": 0}})
	c.cmd(protocol.CmdPlay, nil)
	var last uint64
	for range 200 {
		f := c.frame()
		if f.Header.Seq <= last {
			t.Fatalf("frame seq %d after %d", f.Header.Seq, last)
		}
		last = f.Header.Seq
		c.send(map[string]any{"type": protocol.TypeReceived, "seq": f.Header.Seq})
	}
}
