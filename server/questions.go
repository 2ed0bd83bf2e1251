package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Questions: a page asks how a number was computed (explain), for a conv
// layer's backward convolution step by step (walk) or for a gradient check
// (gradcheck), and the session's owner points every page at a cell (look).
// The read pump parses them and bounds how fast one client asks (see
// client.question); the session computes the engine's answer in its
// goroutine, from the trainer as it stands, and hands it back; the read
// pump writes it to JSON and replies, to the asker alone. So the session
// spends on a question only the engine's work (on the default network,
// 0.02–0.1 ms for an explanation or a walk-through of conv 2, 1–4 ms for a
// gradient check; the JSON, 0.3–1 ms, is the asker's; see BenchmarkAnswer), and
// answering never changes the trainer: a room's viewers ask about the
// room's state without changing or stalling it. A look is answered and sent
// to every page by the session.

// question is a parsed question: one of the protocol's ExplainRequest,
// WalkRequest, GradCheckRequest or LookRequest.
type question any

// answer is the session's answer to a question: one of the engine's
// results, where the trainer stood, or the error to reply.
type answer struct {
	explanation *engine.Explanation
	limit       int // of the explanation's terms
	walk        *engine.ConvWalk
	check       *engine.GradCheckResult
	step        int
	done        *protocol.Phase
	code, msg   string // an error: the reply's code and message
	raw         []byte // the whole reply, as the room's home wrote it (on a mirror, see remoteRoom.ask)
}

// msgGradCheckPlaying is told to a gradient check while the session plays.
const msgGradCheckPlaying = "Pause training to run a gradient check."

// question parses a question of m (the read pump's) and, unless the client
// asks faster than MaxQuestions per second, has the session answer it. It
// waits for the answer: a client's questions are answered one at a time.
func (c *client) question(m *protocol.ClientMsg) {
	if !c.questions.allow(time.Now()) {
		c.reply(c.srv.counted(refuseQuestionRate(c.srv.cfg.MaxQuestions)).reply(m.ID))
		return
	}
	q, err := parseQuestion(m)
	if err != nil {
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, err.Error()))
		return
	}
	if _, ok := q.(protocol.LookRequest); ok { // answered by the session
		c.sess.send(sessionMsg{kind: msgQuestion, c: c, id: m.ID, q: q, msg: m})
		return
	}
	ans := make(chan answer, 1)
	if !c.sess.send(sessionMsg{kind: msgQuestion, c: c, id: m.ID, q: q, msg: m, answer: ans}) {
		return
	}
	select {
	case a := <-ans:
		c.reply(a.reply(m.ID))
	case <-c.sess.done:
	}
}

// parseQuestion reads a question message (explain, walk, gradcheck or
// look); the error is the reply's message (invalid).
func parseQuestion(m *protocol.ClientMsg) (question, error) {
	switch m.Type {
	case protocol.TypeExplain:
		return protocol.ParseExplain(m)
	case protocol.TypeWalk:
		return protocol.ParseWalk(m)
	case protocol.TypeGradCheck:
		return protocol.ParseGradCheck(m)
	case protocol.TypeLook:
		return protocol.ParseLook(m)
	}
	return nil, fmt.Errorf("%q is not a question", m.Type)
}

// reply is the message that answers request id.
func (a *answer) reply(id json.RawMessage) []byte {
	switch {
	case a.raw != nil:
		return a.raw
	case a.code != "":
		return protocol.ErrorReply(id, a.code, a.msg)
	case a.explanation != nil:
		out := toWireExplanation(a.explanation, a.limit)
		out.ID, out.Step, out.Done = id, a.step, a.done
		return protocol.Marshal(out)
	case a.walk != nil:
		out := toWireWalk(a.walk)
		out.ID, out.Step, out.Done = id, a.step, a.done
		return protocol.Marshal(out)
	}
	out := toWireGradCheck(a.check)
	out.ID, out.Step, out.Done = id, a.step, a.done
	return protocol.Marshal(out)
}

// question answers a question in the session goroutine, changing nothing:
// the engine's result goes back to the asker's read pump (m.answer); a look
// (of the owner) is acknowledged and sent to every page of the session.
func (s *session) question(m *sessionMsg) {
	if s.room == nil {
		s.lastCmd = time.Now() // a lab's or fork's page in use (see endInactive)
	}
	if q, ok := m.q.(protocol.LookRequest); ok {
		s.look(m, q)
		return
	}
	m.answer <- s.ask(m.q)
}

// ask computes the engine's answer to q (not a look).
func (s *session) ask(q question) answer {
	a := answer{step: s.t.Step()}
	a.done, _ = s.phases()
	var err error
	switch q := q.(type) {
	case protocol.ExplainRequest:
		var e engine.Explanation
		e, err = s.t.Explain(engine.ExplainQuery{Layer: q.Layer, Tensor: q.Tensor, Index: q.Index, Sample: q.Sample, Probe: q.Probe})
		a.explanation, a.limit = &e, q.Limit
	case protocol.WalkRequest:
		var w engine.ConvWalk
		w, err = s.t.WalkConv(q.Layer, q.Grad, q.Filter, q.Channel, engine.TraceOptions{Sample: q.Sample, Probe: q.Probe})
		a.walk = &w
	case protocol.GradCheckRequest:
		if s.mode != modePaused {
			return answer{code: protocol.CodePlaying, msg: msgGradCheckPlaying}
		}
		param := 0
		if q.Param == protocol.ParamB {
			param = 1
		}
		var r engine.GradCheckResult
		r, err = s.t.GradCheck(q.Layer, param, q.Index, q.H)
		a.check = &r
	}
	if err != nil {
		return answer{code: protocol.CodeInvalid, msg: err.Error()}
	}
	return a
}

// look checks the owner's look as an explanation of the cell (of sample 0)
// would be checked, acknowledges it and sends it to every page of the
// session, the asker's included.
func (s *session) look(m *sessionMsg, q protocol.LookRequest) {
	if !s.mayDrive(m.c) {
		m.c.reply(refuseForbiddenLook().reply(m.id))
		return
	}
	s.pointAt(m, q)
}

// pointAt runs a look whose sender may drive the session (checked by
// look, or by the home for an owner's page on another replica). The look
// goes to every page of the session: to those of other replicas through
// the room's relay, which publishes it on the room's event subject
// (cluster.EvReply), and every mirror gives it to all its pages.
func (s *session) pointAt(m *sessionMsg, q protocol.LookRequest) {
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
