package server

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// The commands of a session, run in its goroutine once admitted.

func (s *session) command(m *sessionMsg) {
	c := m.c
	switch m.cmd {
	case protocol.CmdPlay:
		s.mode = modePlay
		s.nextDue = time.Time{}
		c.reply(protocol.Ack(m.id))
		s.publishState()
	case protocol.CmdPause:
		s.mode = modePaused
		c.reply(protocol.Ack(m.id))
		s.publishState()
		s.publishFrames(s.clients, true, true)
	case protocol.CmdStepPhase:
		s.mode = modePaused
		start := time.Now()
		p, err := s.t.StepPhase()
		s.trained(start)
		if err != nil {
			s.diverged(m)
			return
		}
		if p.Kind == engine.PhaseUpdate {
			s.stepDone()
		}
		c.reply(protocol.Ack(m.id))
		s.publishState()
		s.publishFrames(s.clients, true, false)
	case protocol.CmdStepBatch:
		s.mode = modePaused
		before, start := s.t.Step(), time.Now()
		err := s.t.StepBatch()
		s.trained(start)
		if s.t.Step() != before {
			s.stepDone()
		}
		if err != nil {
			s.diverged(m)
			return
		}
		c.reply(protocol.Ack(m.id))
		s.publishState()
		s.publishFrames(s.clients, true, false)
	case protocol.CmdStepEpoch:
		s.mode, s.epoch0 = modeEpoch, s.t.Epoch()
		s.epochAt, s.epochP0 = time.Now(), s.t.EpochProgress()
		c.reply(protocol.Ack(m.id))
		s.publishState()
	case protocol.CmdReset:
		if s.keepsUndo() {
			s.saveUndo()
			s.t = s.t.Clone() // the kept trainer stays as it was
		}
		if m.args.Seed != nil {
			s.t.ResetSeed(*m.args.Seed)
		} else {
			s.t.Reset()
		}
		s.params.Config = s.t.Config()
		c.reply(protocol.Ack(m.id))
		s.restarted(false)
	case protocol.CmdSet:
		s.set(m)
	case protocol.CmdClass: // an owner's page on this replica: carried out in its read pump (dashboard.go); one on another replica: forwarded here
		if s.room == nil {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, "class: only a room has a class"))
			return
		}
		c.reply(s.srv.classReply(s.room, m.id, m.args)) // dashboard.go
	case protocol.CmdUndo:
		s.undoLast(m) // undo.go
	case protocol.CmdPrompt, protocol.CmdReveal, protocol.CmdPromptClose:
		s.promptCommand(m) // prompt_session.go
	case protocol.CmdTest:
		n := 1000
		if m.args.Max != nil {
			n = *m.args.Max
		}
		if n < 1 || n > s.srv.cfg.MaxTestImages {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, fmt.Sprintf("test max %d: want 1 … %d images", n, s.srv.cfg.MaxTestImages)))
			return
		}
		acc := s.t.EvalTest(n)
		if math.IsNaN(acc) {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, "this data set has no test images"))
			return
		}
		p := protocol.TestPoint{Step: s.t.Step(), Acc: acc}
		s.tests = append(s.tests, p)
		c.reply(protocol.Ack(m.id))
		s.publishState()
		for _, c := range s.clients {
			c.mb.putMetrics(false, nil, []protocol.TestPoint{p})
		}
	}
}

// set applies a "set" command: all of it or, on error, nothing.
func (s *session) set(m *sessionMsg) {
	if err := s.applySet(m.c, &m.args, func() { m.c.reply(protocol.Ack(m.id)) }); err != nil {
		s.refuseSet(m, err)
	}
}

// applySet applies settings a, all of them or, on error, nothing, and
// calls acked before telling the clients what changed. c is the client
// that asked (nil: none, e.g. the parameters of an owner link), whose
// subscription takes a new sample.
func (s *session) applySet(c *client, a *protocol.CmdArgs, acked func()) error {
	np, ch, err := s.params.apply(a, s.srv.cfg.limits())
	if err != nil {
		return err
	}
	if ch.rebuild {
		data, err := s.srv.data.get(np.Data)
		if err != nil {
			s.log.Warn("load data", "data", np.Data, "err", err)
			return err
		}
		// Within the memory budget, the old trainer counted until the new
		// one replaces it.
		t, mem, err := s.srv.buildTrainer(np.Config, data, s)
		var mr memRefusal
		if err != nil && ch.dataOnly && !errors.As(err, &mr) {
			// Say what would change before changing it: the page asks the
			// user and sends the data with the new spec.
			spec := s.srv.data.defaultSpec(data)
			return specChange{spec: spec, msg: fmt.Sprintf("The network does not fit %s (%s): changing the data replaces it with %s", np.Data, err, spec)}
		}
		if err != nil {
			return err
		}
		s.saveUndo()
		s.t = t
		s.srv.sessions.setMem(s, mem)
	} else if ch.hyper {
		old := s.t.Config().Hyper
		// A batch size or optimizer holds another amount of memory.
		need, err := memoryOf(s.t, np.Config.Hyper)
		if err == nil {
			err = s.srv.sessions.resize(s, need)
		}
		if err == nil {
			err = s.t.SetHyper(np.Config.Hyper)
		}
		if err != nil {
			if had, err := memoryOf(s.t, old); err == nil {
				s.srv.sessions.resize(s, had) // back (no larger than before)
			}
			return err
		}
	}
	np.Config = s.t.Config()
	s.params = np
	if ch.sample && c != nil {
		c.sub.Sample, c.sub.Probe = np.Sample, np.Probe
		c.subKey = c.sub.Key()
	}
	acked()
	if ch.rebuild {
		s.restarted(true)
		return nil
	}
	s.publishState()
	switch {
	case ch.hyper:
		// After a divergence SetHyper drops the diverged step: everyone's
		// trace changes.
		s.publishFrames(s.clients, s.mode == modePaused, false)
	case ch.sample && c != nil:
		s.publishFrames([]*client{c}, s.mode == modePaused, true)
	}
	return nil
}

// specChange is a data change refused because the network does not fit
// the new data: the reply names the network the data set would bring.
type specChange struct{ spec, msg string }

func (e specChange) Error() string { return e.msg }

// refuseSet answers a "set" that changed nothing: a memory refusal (counted
// as a limit hit) or an invalid value.
func (s *session) refuseSet(m *sessionMsg, err error) {
	var mem memRefusal
	if errors.As(err, &mem) {
		m.c.reply(s.srv.counted(refuseMemory(mem)).reply(m.id))
		return
	}
	var sc specChange
	if errors.As(err, &sc) {
		m.c.reply(protocol.Marshal(protocol.Reply{Type: protocol.TypeError, V: protocol.Version, ID: m.id,
			Code: protocol.CodeSpecChange, Spec: sc.spec, Message: sc.msg}))
		return
	}
	m.c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
}

// restarted tells every client that the network was reset (and, if
// rebuilt, that its layers changed): step 0, empty charts, a keyframe.
func (s *session) restarted(rebuilt bool) {
	s.mode = modePaused
	s.pending, s.history, s.tests = nil, nil, nil
	var welcome []byte
	if rebuilt {
		welcome = s.welcome(true)
	}
	for _, c := range s.clients {
		if welcome != nil {
			c.reply(welcome)
		}
		c.mb.putMetrics(true, nil, nil)
	}
	s.publishState()
	s.publishFrames(s.clients, true, true)
}
