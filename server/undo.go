package server

import (
	"slices"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Undo in a room. A reset, a new spec or a new data set wipes the lesson on
// every screen; before one of them the room's session keeps what it had —
// the trainer itself (weights, optimizer state, step, data cursor, even a
// step in progress), its settings and its charts — and "undo" puts it back,
// bit for bit.

// maxUndo is how many changes of a room can be undone.
const maxUndo = 3

// undoPoint is a room's session as it was before a change.
type undoPoint struct {
	t       *engine.Trainer
	params  LabParams
	history []protocol.MetricsPoint
	tests   []protocol.TestPoint
}

// keepsUndo reports whether the session keeps undo points: a room's.
func (s *session) keepsUndo() bool { return s.room != nil }

// saveUndo keeps the session as it is now, before a change that replaces
// s.t (the caller gives the session a new trainer or a clone to change).
func (s *session) saveUndo() {
	if !s.keepsUndo() {
		return
	}
	s.flushPoints()
	s.undo = append(s.undo, undoPoint{t: s.t, params: s.params,
		history: slices.Clone(s.history), tests: slices.Clone(s.tests)})
	if len(s.undo) > maxUndo {
		s.undo = slices.Delete(s.undo, 0, len(s.undo)-maxUndo)
	}
}

// undoLast puts back the session as it was before its last change (see
// saveUndo), paused, and tells every page: its network (a welcome if the
// layers or data differ), its charts, its state and a keyframe.
func (s *session) undoLast(m *sessionMsg) {
	if len(s.undo) == 0 {
		m.c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, "nothing to undo"))
		return
	}
	u := s.undo[len(s.undo)-1]
	s.undo = s.undo[:len(s.undo)-1]
	rebuilt := u.params.Config.Spec != s.params.Config.Spec || u.params.Data != s.params.Data
	s.t, s.params, s.history, s.tests, s.pending = u.t, u.params, u.history, u.tests, nil
	s.mode = modePaused
	m.c.reply(protocol.Ack(m.id))
	var welcome []byte
	if rebuilt {
		welcome = s.welcome(true)
	}
	for _, c := range s.clients {
		if welcome != nil {
			c.reply(welcome)
		}
		c.mb.putMetrics(true, s.history, s.tests)
	}
	s.publishState()
	s.publishFrames(s.clients, true, true)
	s.log.Info("undone", "step", s.t.Step(), "left", len(s.undo))
}
