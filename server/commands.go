package server

import (
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
		p, err := s.t.StepPhase()
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
		before := s.t.Step()
		err := s.t.StepBatch()
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
		c.reply(protocol.Ack(m.id))
		s.publishState()
	case protocol.CmdReset:
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
	c := m.c
	np, ch, err := s.params.apply(&m.args, s.srv.cfg.limits())
	if err != nil {
		c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
		return
	}
	if ch.rebuild {
		data, err := s.srv.data.get(np.Data)
		if err != nil {
			s.log.Warn("load data", "data", np.Data, "err", err)
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
			return
		}
		t, err := engine.NewTrainer(np.Config, data)
		if err != nil && ch.dataOnly {
			// Say what would change before changing it: the page asks the
			// user and sends the data with the new spec.
			spec := s.srv.data.defaultSpec(data)
			c.reply(protocol.Marshal(protocol.Reply{Type: protocol.TypeError, V: protocol.Version, ID: m.id,
				Code: protocol.CodeSpecChange, Spec: spec,
				Message: fmt.Sprintf("The network does not fit %s (%s): changing the data replaces it with %s", np.Data, err, spec)}))
			return
		}
		if err != nil {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
			return
		}
		s.t = t
	} else if ch.hyper {
		if err := s.t.SetHyper(np.Config.Hyper); err != nil {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
			return
		}
	}
	np.Config = s.t.Config()
	s.params = np
	if ch.sample {
		c.sub.Sample, c.sub.Probe = np.Sample, np.Probe
		c.subKey = c.sub.Key()
	}
	c.reply(protocol.Ack(m.id))
	if ch.rebuild {
		s.restarted(true)
		return
	}
	s.publishState()
	switch {
	case ch.hyper:
		// After a divergence SetHyper drops the diverged step: everyone's
		// trace changes.
		s.publishFrames(s.clients, s.mode == modePaused, false)
	case ch.sample:
		s.publishFrames([]*client{c}, s.mode == modePaused, true)
	}
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
