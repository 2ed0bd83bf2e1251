package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestInvalidValuesRefused sends every field of every client message with
// values out of its range and checks that each is refused with "invalid",
// a message naming the field, and that nothing changed.
func TestInvalidValuesRefused(t *testing.T) {
	_, ts := newTestServer(t, Config{CmdRate: 1000, MaxQuestions: 1000})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.expect("welcome", nil)
	// One step computed: questions get past "not computed yet" to their
	// own checks.
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch: %+v", r)
	}
	var before testState
	c.expect("state", &before)

	huge := json.RawMessage("1e400")
	tests := []struct {
		name  string
		msg   map[string]any
		field string // in the error message
	}{
		{"negative step rate", badSet("speed", map[string]any{"unit": "step", "rate": -5}), "rate"},
		{"negative phase rate", badSet("speed", map[string]any{"unit": "phase", "rate": -0.5}), "rate"},
		{"negative rate, unit absent", badSet("speed", map[string]any{"rate": -1}), "rate"},
		{"huge rate", badSet("speed", map[string]any{"unit": "step", "rate": 1e12}), "rate"},
		{"rate beyond float64", badSet("speed", map[string]any{"unit": "step", "rate": huge}), "rate"},
		{"unknown unit", badSet("speed", map[string]any{"unit": "epoch", "rate": 1}), "unit"},
		{"unit in capitals", badSet("speed", map[string]any{"unit": "STEP", "rate": 1}), "unit"},
		{"rate as text", badSet("speed", map[string]any{"unit": "step", "rate": "5"}), "rate"},
		{"batch 0", badSet("batch", 0), "batch"},
		{"negative batch", badSet("batch", -3), "batch"},
		{"batch above the limit", badSet("batch", 100000), "batch"},
		{"batch beyond int", badSet("batch", json.RawMessage("1e30")), "batch"},
		{"fractional batch", badSet("batch", 2.5), "batch"},
		{"lr 0", badSet("lr", 0), "learning rate"},
		{"negative lr", badSet("lr", -0.1), "learning rate"},
		{"huge lr", badSet("lr", 1e300), "learning rate"},
		{"lr beyond float64", badSet("lr", huge), "lr"},
		{"negative momentum", badSet("momentum", -0.1), "momentum"},
		{"momentum 1", badSet("momentum", 1), "momentum"},
		{"negative weight decay", badSet("wd", -1), "weight decay"},
		{"beta1 1", badSet("beta1", 1), "beta1"},
		{"negative beta2", badSet("beta2", -0.5), "beta2"},
		{"eps 0", badSet("eps", 0), "epsilon"},
		{"unknown optimizer", badSet("opt", "sgdx"), "optimizer"},
		{"nesterov as text", badSet("nesterov", "yes"), "nesterov"},
		{"spec unparsable", badSet("spec", "conv("), "spec"},
		{"spec too long", badSet("spec", strings.Repeat("relu ", 300)), "spec"},
		{"seed as text", badSet("seed", "x"), "seed"},
		{"fractional seed", badSet("seed", 1.5), "seed"},
		{"unknown data", badSet("data", "cifar"), "data"},
		{"negative sample", badSet("sample", -1), "sample"},
		{"sample beyond any batch", badSet("sample", 512), "sample"},
		{"fractional sample", badSet("sample", 1.5), "sample"},
		{"sample word", badSet("sample", "first"), "sample"},
		{"valid and invalid together", map[string]any{"type": "cmd", "cmd": "set", "lr": 0.5, "batch": 0}, "batch"},
		{"in args", map[string]any{"type": "cmd", "cmd": "set", "args": map[string]any{"speed": map[string]any{"unit": "step", "rate": -5}}}, "rate"},
		{"test max 0", badCmd("test", "max", 0), "max"},
		{"test max negative", badCmd("test", "max", -10), "max"},
		{"test max above the limit", badCmd("test", "max", 1<<40), "max"},
		{"reset seed as text", badCmd("reset", "seed", "x"), "seed"},
		{"subscribe unknown kind", badMsg("subscribe", "kinds", []string{"acts"}), "kind"},
		{"subscribe negative sample", badMsg("subscribe", "sample", -2), "sample"},
		{"subscribe layers word", badMsg("subscribe", "layers", "some"), "layers"},
		{"subscribe channels reversed", badMsg("subscribe", "layers", []any{map[string]any{"layer": 0, "channels": []int{3, 1}}}), "channels"},
		{"explain negative index", badMsg("explain", "layer", 0, "tensor", "Y", "index", []int{0, -1, 0}), "index"},
		{"explain layer below the loss", badMsg("explain", "layer", -7, "tensor", "Y", "index", []int{0}), "layer"},
		{"explain unknown tensor", badMsg("explain", "layer", 0, "tensor", "Z", "index", []int{0}), "tensor"},
		{"explain negative limit", badMsg("explain", "layer", 0, "tensor", "Y", "index", []int{0, 0, 0}, "limit", -1), "limit"},
		{"walk unknown grad", badMsg("walk", "layer", 0, "grad", "dY"), "grad"},
		{"gradcheck h 0", badMsg("gradcheck", "layer", 0, "param", "W", "index", []int{0, 0, 0, 0}, "h", 0), "h 0"},
		{"gradcheck negative h", badMsg("gradcheck", "layer", 0, "param", "W", "index", []int{0, 0, 0, 0}, "h", -1e-5), "h -1e-05"},
		{"gradcheck huge h", badMsg("gradcheck", "layer", 0, "param", "W", "index", []int{0, 0, 0, 0}, "h", 1e300), "h 1e+300"},
		{"gradcheck index out of range", badMsg("gradcheck", "layer", 0, "param", "W", "index", []int{0, 0, 0, 9}), "index"},
		{"walk negative filter", badMsg("walk", "layer", 0, "grad", "dW", "filter", -1), "filter"},
		{"walk filter out of range", badMsg("walk", "layer", 0, "grad", "dW", "filter", 99), "filter"},
		{"walk negative channel", badMsg("walk", "layer", 0, "grad", "dX", "channel", -1), "channel"},
		{"walk not a conv", badMsg("walk", "layer", 1, "grad", "dW"), "relu"},
		{"explain index out of range", badMsg("explain", "layer", 0, "tensor", "Y", "index", []int{0, 99, 0}), "index"},
		{"gradcheck unknown param", badMsg("gradcheck", "layer", 0, "param", "V", "index", []int{0}), "param"},
		{"look negative index", badMsg("look", "layer", 0, "tensor", "Y", "index", []int{-1}), "index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			id := c.send(tt.msg)
			r := c.reply(id)
			if r.Type != "error" || r.Code != protocol.CodeInvalid {
				t.Fatalf("%v: %+v, want error %q", tt.msg, r, protocol.CodeInvalid)
			}
			t.Logf("%s", r.Message)
			if !strings.Contains(r.Message, tt.field) {
				t.Errorf("%v: message %q does not name %q", tt.msg, r.Message, tt.field)
			}
			// pause answers with the state: nothing may have changed.
			c.cmd("pause", nil)
			var after testState
			c.expect("state", &after)
			if after.Hyper != before.Hyper || after.Speed != before.Speed || after.Step != before.Step {
				t.Errorf("%v changed the state: %+v %+v, was %+v %+v", tt.msg, after.Hyper, after.Speed, before.Hyper, before.Speed)
			}
		})
	}
}

func badSet(k string, v any) map[string]any { return badCmd("set", k, v) }

// badCmd is the command name with the arguments kv (key, value, …).
func badCmd(name string, kv ...any) map[string]any {
	m := badMsg("cmd", kv...)
	m["cmd"] = name
	return m
}

// badMsg is a message of type typ with the fields kv (key, value, …).
func badMsg(typ string, kv ...any) map[string]any {
	m := map[string]any{"type": typ}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}
