package server

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Questions: a page asks how a number was computed (explain), for a conv
// layer's backward convolution step by step (walk) or for a gradient check
// (gradcheck), and the session's owner points every page at a cell (look).
// The read pump parses them and bounds how fast one client asks (see
// client.question); the session answers in its goroutine, from the trainer
// as it stands, to the asker alone. Answering never changes the trainer: a
// room's viewers ask about the room's state without changing it, and the
// engine's questions are cheap enough (well under a millisecond for an
// explanation, a few for a gradient check; see BenchmarkAnswer) not to
// stall it.

// question is a parsed question: one of the protocol's ExplainRequest,
// WalkRequest, GradCheckRequest or LookRequest.
type question any

// msgGradCheckPlaying is told to a gradient check while the session plays.
const msgGradCheckPlaying = "Pause training to run a gradient check."

// question parses a question of m (the read pump's) and, unless the client
// asks faster than MaxQuestions per second, passes it to the session.
func (c *client) question(m *protocol.ClientMsg) {
	if !c.questions.allow(time.Now()) {
		c.reply(c.srv.counted(refuseQuestionRate(c.srv.cfg.MaxQuestions)).reply(m.ID))
		return
	}
	var q question
	var err error
	switch m.Type {
	case protocol.TypeExplain:
		q, err = protocol.ParseExplain(m)
	case protocol.TypeWalk:
		q, err = protocol.ParseWalk(m)
	case protocol.TypeGradCheck:
		q, err = protocol.ParseGradCheck(m)
	case protocol.TypeLook:
		q, err = protocol.ParseLook(m)
	}
	if err != nil {
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, err.Error()))
		return
	}
	c.sess.send(sessionMsg{kind: msgQuestion, c: c, id: m.ID, q: q})
}

// answer answers a question in the session goroutine: to the asker alone,
// with the answer or an error, changing nothing. A look (of the owner) is
// acknowledged and sent to every page of the session.
func (s *session) answer(m *sessionMsg) {
	if s.room == nil {
		s.lastCmd = time.Now() // a lab's or fork's page in use (see endInactive)
	}
	var reply []byte
	var err error
	switch q := m.q.(type) {
	case protocol.ExplainRequest:
		reply, err = s.explain(q, m.id)
	case protocol.WalkRequest:
		reply, err = s.walk(q, m.id)
	case protocol.GradCheckRequest:
		if s.mode != modePaused {
			m.c.reply(protocol.ErrorReply(m.id, protocol.CodePlaying, msgGradCheckPlaying))
			return
		}
		reply, err = s.gradCheck(q, m.id)
	case protocol.LookRequest:
		s.look(m, q)
		return
	}
	if err != nil {
		m.c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
		return
	}
	m.c.reply(reply)
}

func (s *session) explain(q protocol.ExplainRequest, id json.RawMessage) ([]byte, error) {
	e, err := s.t.Explain(engine.ExplainQuery{Layer: q.Layer, Tensor: q.Tensor, Index: q.Index, Sample: q.Sample, Probe: q.Probe})
	if err != nil {
		return nil, err
	}
	out := toWireExplanation(&e, q.Limit)
	out.ID, out.Step = id, s.t.Step()
	out.Done, _ = s.phases()
	return protocol.Marshal(out), nil
}

func (s *session) walk(q protocol.WalkRequest, id json.RawMessage) ([]byte, error) {
	w, err := s.t.WalkConv(q.Layer, q.Grad, q.Filter, q.Channel, engine.TraceOptions{Sample: q.Sample, Probe: q.Probe})
	if err != nil {
		return nil, err
	}
	out := toWireWalk(&w)
	out.ID, out.Step = id, s.t.Step()
	out.Done, _ = s.phases()
	return protocol.Marshal(out), nil
}

func (s *session) gradCheck(q protocol.GradCheckRequest, id json.RawMessage) ([]byte, error) {
	param := 0
	if q.Param == protocol.ParamB {
		param = 1
	}
	r, err := s.t.GradCheck(q.Layer, param, q.Index, q.H)
	if err != nil {
		return nil, err
	}
	out := toWireGradCheck(&r)
	out.ID, out.Step = id, s.t.Step()
	out.Done, _ = s.phases()
	return protocol.Marshal(out), nil
}

// look checks the owner's look as an explanation of the cell (of sample 0)
// would be checked, acknowledges it and sends it to every page of the
// session, the asker's included.
func (s *session) look(m *sessionMsg, q protocol.LookRequest) {
	if !s.mayDrive(m.c) {
		m.c.reply(refuseForbiddenLook().reply(m.id))
		return
	}
	if _, err := s.t.Explain(engine.ExplainQuery{Layer: q.Layer, Tensor: q.Tensor, Index: q.Index}); err != nil {
		m.c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
		return
	}
	m.c.reply(protocol.Ack(m.id))
	b := protocol.Marshal(protocol.Look{Type: protocol.TypeLook, V: protocol.Version,
		Layer: q.Layer, Tensor: q.Tensor, Index: slices.Clone(q.Index)})
	for _, c := range s.clients {
		c.reply(b)
	}
}
