package server

import (
	"net/netip"
	"slices"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// forkCookie names the cookie that carries the resume token of a student's
// fork of a room, so a reopened tab comes back to it.
func forkCookie(code string) string { return "bpv_fork_" + code }

// Fork starts a private session from the room's trainer as it is now: its
// weights, optimizer state, hyperparameters, step and data cursor (a step
// in progress starts anew), paused, for a student at network address from
// (counted against MaxSessionsPerAddr). The returned session has no client
// yet; it waits the resume grace period for one. Errors: errRoomClosed,
// errSessionsPerAddr, errFull.
func (s *Server) Fork(room *Room, from netip.Addr) (*session, error) {
	return s.forkFor(room, from, nil)
}

// forkFor is Fork for the student st of the room's roster (nil: none): the
// teacher's dashboard follows the fork.
func (s *Server) forkFor(room *Room, from netip.Addr, st *student) (*session, error) {
	rs := room.session
	if rs == nil || room.closed.Load() {
		return nil, errRoomClosed
	}
	var t *engine.Trainer
	var p LabParams
	var history []protocol.MetricsPoint
	var tests []protocol.TestPoint
	var mem int64
	var err error
	if room.mirror != nil {
		// The trainer is on the room's home replica (cluster_mirror.go).
		if t, p, history, tests, err = room.mirror.forkState(); err != nil {
			return nil, err
		}
		if mem, err = s.reserveLoaded(t); err != nil {
			return nil, err
		}
	} else if !rs.inSession(func() {
		// The memory of the copy is reserved before it is made.
		if mem, err = trainerBytes(rs.t.Config(), rs.t.Data()); err != nil {
			return
		}
		if err = s.sessions.reserve(mem, nil); err != nil {
			return
		}
		t, p = rs.t.Clone(), rs.params
		// The fork's charts go on from the room's.
		history, tests = slices.Clone(rs.history), slices.Clone(rs.tests)
	}) {
		return nil, errRoomClosed
	} else if err != nil {
		return nil, err
	}
	p.Speed = capSpeed(p.Speed, s.cfg.ForkRate, len(t.Layers()))
	sess := s.newSession(t, p, from, true)
	sess.mem = mem
	sess.maxRate = s.cfg.ForkRate // before run starts: it reads them
	sess.forkOf = room.Code
	sess.history, sess.tests = history, tests // when a client attaches
	if st != nil {
		sess.student, sess.roster = st, &room.roster
	}
	if l := room.Lesson(); l != nil {
		sess.lessonFork = &l.Fork // lesson_fork.go
	}
	if err := s.sessions.add(sess, 0); err != nil {
		return nil, err
	}
	if st != nil {
		room.roster.forked(st, sess)
	}
	s.class.metrics.forks.Inc()
	s.log.Info("room forked", "room", room.Code, "session", sess.id, "step", t.Step())
	return sess, nil
}

// forkOfRoom returns the live fork of the room of join code code whose
// resume token is tok, or nil: a token of a lab, of a room's trainer or of
// a fork of another room is no proof of having joined this room.
func (s *Server) forkOfRoom(tok, code string) *session {
	if tok == "" {
		return nil
	}
	if sess := s.sessions.lookup(tok); sess != nil && sess.room == nil && sess.forkOf == code {
		return sess
	}
	return nil
}

// capSpeed returns sp slowed to at most maxRate optimizer steps per second.
func capSpeed(sp protocol.Speed, maxRate float64, layers int) protocol.Speed {
	if stepRate(sp, layers) <= maxRate {
		return sp
	}
	if sp.Unit == protocol.UnitPhase {
		sp.Rate = maxRate * phasesPerStep(layers)
	} else {
		sp.Unit, sp.Rate = protocol.UnitStep, maxRate
	}
	return sp
}

// forkAllows returns whether a fork of a network of the given layers may
// play at rate units per second (unit "phase" or "step"): the speeds a
// fork's page offers. Rate 0 (as fast as the CPU allows) never is.
func (s *Server) forkAllows(layers int) func(unit string, rate float64) bool {
	return func(unit string, rate float64) bool {
		return rate > 0 && stepRate(protocol.Speed{Unit: unit, Rate: rate}, layers) <= s.cfg.ForkRate*(1+1e-9)
	}
}

// layersOf is the number of layers of sess's network (the default
// network's if sess is nil, has ended or is homed on another replica).
func layersOf(sess *session) int {
	n := 0
	if sess != nil {
		sess.inSession(func() { n = len(sess.t.Layers()) })
	}
	if n == 0 {
		if ls, err := engine.ParseSpec(engine.DefaultSpec); err == nil {
			n = len(ls)
		}
	}
	return n
}
