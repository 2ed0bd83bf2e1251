package protocol

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// TestMetricsRoundTrip: what AppendMetrics writes, Metrics reads back, as
// float32, with NaN and values beyond float32 as null.
func TestMetricsRoundTrip(t *testing.T) {
	points := []MetricsPoint{{Step: 1, Loss: 2.302585092994046, TrainAcc: math.NaN()}, {Step: 2, Loss: 1e300, TrainAcc: 0.5}}
	tests := []TestPoint{{Step: 2, Acc: 0.25}}
	b := AppendMetrics(nil, true, points, tests)
	want := `{"type":"metrics","v":1,"reset":true,"points":[[1,2.3025851,null],[2,null,0.5]],"test":[[2,0.25]]}`
	if string(b) != want {
		t.Fatalf("AppendMetrics = %s, want %s", b, want)
	}
	var m Metrics
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if m.Type != TypeMetrics || m.V != Version || !m.Reset || len(m.Points) != 2 || len(m.Test) != 1 {
		t.Fatalf("decoded %+v", m)
	}
	if p := m.Points[0]; p.Step != 1 || p.Loss != float64(float32(2.302585092994046)) || !math.IsNaN(p.TrainAcc) {
		t.Errorf("point 0 = %+v", p)
	}
	if p := m.Points[1]; p.Step != 2 || !math.IsNaN(p.Loss) || p.TrainAcc != 0.5 {
		t.Errorf("point 1 = %+v", p)
	}
	if m.Test[0] != tests[0] {
		t.Errorf("test point = %+v, want %+v", m.Test[0], tests[0])
	}
	if err := json.Unmarshal([]byte(`{"points":[[1,2]]}`), &m); err == nil {
		t.Error("a point of two numbers decoded")
	}
}

// TestDecodeClientMsg: the envelope of a client message is checked, and
// the error carries the reply's code and the message's id.
func TestDecodeClientMsg(t *testing.T) {
	tests := []struct {
		in, code, id string
	}{
		{`{"type":"cmd","cmd":"play","id":1}`, "", ""},
		{`{"type":"cmd","cmd":"set","args":{"lr":0.1}}`, "", ""},
		{`{"type":"ping","v":1}`, "", ""},
		{`{"type":"subscribe","kinds":["act"]}`, "", ""},
		{`{bad`, CodeBadMessage, ""},
		{`{"type":"cmd","cmd":"fly","id":"x"}`, CodeBadMessage, `"x"`},
		{`{"type":"cmd","cmd":"play","v":2,"id":3}`, CodeBadVersion, "3"},
		{`{"type":"zap","id":4}`, CodeBadMessage, "4"},
		{`{"type":1,"id":5}`, CodeBadMessage, "5"},
		{`{"type":"cmd","cmd":"set","lr":"x","id":6}`, CodeInvalid, "6"},
	}
	for _, tt := range tests {
		m, err := DecodeClientMsg([]byte(tt.in))
		var e *MsgError
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code || string(e.ID) != tt.id):
			t.Errorf("%s: error %#v, want code %s, id %s", tt.in, err, tt.code, tt.id)
		}
		if tt.code == "" && m.Type == TypeCmd && m.Cmd == CmdSet {
			if a := m.Arguments(); a.LR == nil || *a.LR != 0.1 {
				t.Errorf("%s: arguments %+v, want lr 0.1", tt.in, a)
			}
		}
	}
}

// TestClientMsgEncodes: a client writes only the fields it sets.
func TestClientMsgEncodes(t *testing.T) {
	v, rate := Version, 5.0
	b := Marshal(ClientMsg{Type: TypeCmd, V: &v, ID: json.RawMessage("7"), Cmd: CmdSet,
		CmdArgs: CmdArgs{Speed: &Speed{Unit: UnitStep, Rate: rate}}})
	want := `{"type":"cmd","v":1,"id":7,"cmd":"set","speed":{"unit":"step","rate":5}}`
	if string(b) != want {
		t.Errorf("ClientMsg = %s, want %s", b, want)
	}
}
