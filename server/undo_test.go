package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// roomSnapshot is the room trainer's whole saved state (weights, optimizer
// state, step, epoch, data cursor: engine.Trainer.Save, whose floats
// round-trip exactly), the hash of its weights and its chart history.
type roomSnapshot struct {
	saved       []byte
	weightsHash string
	optHash     string // the optimizer's state (Adam's moments)
	history     []protocol.MetricsPoint
	tests       []protocol.TestPoint
}

func snapshotOf(t *testing.T, room *Room) roomSnapshot {
	t.Helper()
	var s roomSnapshot
	var err error
	room.session.inSession(func() {
		var b bytes.Buffer
		err = room.session.t.Save(&b)
		s.saved = b.Bytes()
		room.session.flushPoints()
		s.history, s.tests = slices.Clone(room.session.history), slices.Clone(room.session.tests)
	})
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	// The hashes of the weights and of the optimizer's state, from their
	// float64 bits.
	// Each parameter is an object: layer, name, shape, value (the
	// weights) and one field per buffer of the optimizer's state.
	var f struct {
		Params []map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(s.saved, &f); err != nil {
		t.Fatalf("decode saved trainer: %v", err)
	}
	hw, ho := sha256.New(), sha256.New()
	buffers := 0
	for _, p := range f.Params {
		for _, k := range slices.Sorted(maps.Keys(p)) {
			if k == "layer" || k == "name" || k == "shape" {
				continue
			}
			var d []float64
			if err := json.Unmarshal(p[k], &d); err != nil {
				t.Fatalf("decode %s: %v", k, err)
			}
			h := ho
			if k == "value" {
				h = hw
			} else {
				buffers++
				h.Write([]byte(k))
			}
			for _, v := range d {
				binary.Write(h, binary.LittleEndian, math.Float64bits(v))
			}
		}
	}
	if len(f.Params) == 0 || buffers == 0 {
		t.Fatalf("saved trainer has %d parameters, %d optimizer buffers", len(f.Params), buffers)
	}
	s.weightsHash, s.optHash = hex.EncodeToString(hw.Sum(nil)), hex.EncodeToString(ho.Sum(nil))
	return s
}

func (a roomSnapshot) equal(b roomSnapshot) bool {
	return bytes.Equal(a.saved, b.saved) && a.weightsHash == b.weightsHash && a.optHash == b.optHash &&
		slices.Equal(a.history, b.history) && slices.Equal(a.tests, b.tests)
}

// waitState reads states until one at step.
func (c *wsClient) waitState(pred func(testState) bool) testState {
	c.t.Helper()
	var st testState
	for range 1000 {
		c.expect("state", &st)
		if pred(st) {
			return st
		}
	}
	c.t.Fatalf("no such state; last %+v", st)
	return st
}

// TestRoomUndo: the owner's reset, new spec and new data are undone bit for
// bit: the trainer's saved state (weights, optimizer state, step, cursor),
// the weights' hash and the charts are those before the change; every
// page is told; a viewer may not undo; with nothing left it says so.
func TestRoomUndo(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Undo")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	viewer := joinAsViewer(t, ts, room)
	viewer.expect("welcome", nil)

	for range 3 {
		if r := owner.reply(owner.cmd("step_batch", nil)); r.Type != "ack" {
			t.Fatalf("step_batch: %+v", r)
		}
	}
	if r := owner.reply(owner.cmd("test", map[string]any{"max": 50})); r.Type != "ack" {
		t.Fatalf("test: %+v", r)
	}
	before := snapshotOf(t, room)
	if len(before.history) != 3 || len(before.tests) != 1 {
		t.Fatalf("history %d points, tests %d, want 3 and 1", len(before.history), len(before.tests))
	}

	// Reset with another seed, then undo.
	if r := owner.reply(owner.cmd("reset", map[string]any{"seed": 99})); r.Type != "ack" {
		t.Fatalf("reset: %+v", r)
	}
	owner.waitState(func(s testState) bool { return s.Step == 0 && s.Undo == 1 })
	if reset := snapshotOf(t, room); reset.weightsHash == before.weightsHash || reset.optHash == before.optHash {
		t.Fatalf("reset left the weights or the optimizer's state as they were")
	}
	if r := viewer.reply(viewer.cmd("undo", nil)); r.Type != "error" || r.Code != protocol.CodeForbidden {
		t.Errorf("viewer's undo: %+v, want forbidden", r)
	}
	if r := owner.reply(owner.cmd("undo", nil)); r.Type != "ack" {
		t.Fatalf("undo: %+v", r)
	}
	viewer.waitState(func(s testState) bool { return s.Step == 3 && s.Undo == 0 })
	if after := snapshotOf(t, room); !after.equal(before) {
		t.Errorf("after reset and undo the room differs:\nweights %s vs %s\nhistory %v vs %v", after.weightsHash, before.weightsHash, after.history, before.history)
	}

	// A new spec, then a new data set, then undo both.
	if r := owner.reply(owner.cmd("set", map[string]any{"spec": "conv(3,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"})); r.Type != "ack" {
		t.Fatalf("set spec: %+v", r)
	}
	if r := owner.reply(owner.cmd("set", map[string]any{"data": "mnist", "spec": DefaultSpecFor(protocol.DataMNIST)})); r.Type != "ack" {
		t.Fatalf("set data: %+v", r)
	}
	owner.waitState(func(s testState) bool { return s.Undo == 2 })
	owner.reply(owner.cmd("undo", nil))
	owner.reply(owner.cmd("undo", nil))
	var w protocol.Welcome
	for w.Config.Spec != tinySpec {
		viewer.expect("welcome", &w) // the viewer's page rebuilds the network it had
	}
	viewer.waitState(func(s testState) bool { return s.Spec == tinySpec && s.Step == 3 && s.Undo == 0 })
	if after := snapshotOf(t, room); !after.equal(before) {
		t.Errorf("after spec, data and two undos the room differs: weights %s vs %s", after.weightsHash, before.weightsHash)
	}
	// The room goes on from there exactly as it would have.
	if r := owner.reply(owner.cmd("undo", nil)); r.Type != "error" || r.Message != "nothing to undo" {
		t.Errorf("undo with nothing left: %+v", r)
	}
}
