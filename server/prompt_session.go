package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
)

// The room's side of predict, then reveal: asking a prompt pauses the room
// before the phase that answers it; the reveal runs that phase and reads
// the truth from the engine's trace; both run in the room's session
// goroutine, which owns the trainer. Answers never reach that goroutine:
// a student's read pump counts them (client.answer).

// msgPromptBack is told to the students in their forks when a prompt is
// asked: their pages go back to the room, where it is shown.
const msgPromptBack = "The teacher asks the class a question: back to the room."

// askPrompt asks spec in the room r: checked against the network (the
// error says what is wrong, and nothing changes), the room paused before
// the phase that answers it, the prompt shown on every page. A lesson
// calls it as the teacher's page does with the "prompt" command.
func (r *Room) askPrompt(spec protocol.PromptSpec) error {
	var err error
	if !r.session.inSession(func() { err = r.session.askPrompt(spec) }) {
		return errRoomClosed
	}
	return err
}

// revealPrompt runs the phase that answers the room's open prompt and
// sends the truth (see session.revealPrompt).
func (r *Room) revealPrompt() error {
	var err error
	if !r.session.inSession(func() { err = r.session.revealPrompt() }) {
		return errRoomClosed
	}
	return err
}

// promptCommand runs the owner's prompt, reveal and close_prompt commands.
func (s *session) promptCommand(m *sessionMsg) {
	var err error
	switch m.cmd {
	case protocol.CmdPrompt:
		if m.args.Prompt == nil {
			err = errors.New("prompt: which question? (args.prompt)")
		} else {
			err = s.askPrompt(*m.args.Prompt)
		}
	case protocol.CmdReveal:
		err = s.revealPrompt()
	case protocol.CmdPromptClose:
		err = s.closePrompt()
	}
	if err != nil {
		m.c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
		return
	}
	m.c.reply(protocol.Ack(m.id))
}

// traceOptions are the room's visualized sample: the one its prompts are
// about.
func (s *session) traceOptions() engine.TraceOptions {
	return engine.TraceOptions{Sample: s.params.Sample, Probe: s.params.Probe}
}

// askPrompt runs in the session goroutine (see Room.askPrompt).
func (s *session) askPrompt(spec protocol.PromptSpec) error {
	if s.room == nil {
		return errors.New("prompt: only a room asks its class")
	}
	plan, err := planPrompt(s.t, spec)
	if err != nil {
		return err
	}
	plan.lesson, plan.lessonOf = lessonNumber(s.room.Lesson(), spec)
	s.mode = modePaused
	ran, err := s.runTo(func() bool { return s.t.Next() == plan.phase }, plan.hasPhase)
	if ran > 0 || err != nil {
		s.publishState()
		s.publishFrames(s.clients, true, false)
	}
	if err != nil {
		return err
	}
	msg, err := s.room.prompts.open(plan, s.t, s.t.Trace(s.traceOptions()), time.Now())
	if err != nil {
		return err
	}
	s.srv.metrics.prompts.Inc()
	b := protocol.Marshal(msg)
	s.srv.class.toAll(s.room, b)
	for _, id := range s.room.roster.watching() {
		s.room.roster.toStudent(id, s.room.prompts.mine(id))
	}
	s.srv.clusterPrompt(s.room, msg, b, nil) // cluster_prompt.go
	s.srv.bringBack(s.room, msgPromptBack)
	s.srv.clusterBringBack(s.room, msgPromptBack) // cluster_dashboard.go
	return nil
}

// lessonNumber is spec's number among the prompts of the room's lesson l
// (1, 2, …; 0 when it is not one of them, or there is no lesson) and how
// many prompts the lesson has: a class reads a lesson's questions by the
// lesson's numbers, whichever order they are asked in.
func lessonNumber(l *lesson.Lesson, spec protocol.PromptSpec) (int, int) {
	if l == nil {
		return 0, 0
	}
	for i, p := range l.Prompts {
		if samePrompt(p, spec) {
			return i + 1, len(l.Prompts)
		}
	}
	return 0, 0
}

// samePrompt reports whether a and b ask the same question.
func samePrompt(a, b protocol.PromptSpec) bool {
	return a.Kind == b.Kind && a.Question == b.Question && a.Layer == b.Layer && a.Channel == b.Channel && a.In == b.In &&
		a.Row == b.Row && a.Col == b.Col && a.Answer == b.Answer && slices.Equal(a.Options, b.Options)
}

// runTo runs phases until done reports true (if run is set; at most two
// steps' worth) and returns how many ran; a divergence pauses the room and
// is the error.
func (s *session) runTo(done func() bool, run bool) (int, error) {
	if !run {
		return 0, nil
	}
	for n := range 2 * (2*len(s.t.Layers()) + 2) {
		if done() {
			return n, nil
		}
		start := time.Now()
		p, err := s.t.StepPhase()
		s.trained(start)
		if err != nil {
			s.mode = modePaused
			return n, fmt.Errorf("the network diverged on the way to the question's phase: %w", err)
		}
		if p.Kind == engine.PhaseUpdate {
			s.stepDone()
		}
	}
	return 0, errors.New("the question's phase never came")
}

// answered reports whether the phase of a prompt asked at step has run in
// that step (for the update: the step it ended).
func (s *session) answered(p *roomPrompt) bool {
	done, ok := s.t.Done()
	if !ok {
		return false
	}
	if p.plan.phase.Kind == engine.PhaseUpdate {
		return s.t.Step() == p.step+1 && done.Kind == engine.PhaseUpdate
	}
	return s.t.Step() == p.step && done.Kind != engine.PhaseUpdate && phasePos(done, len(s.t.Layers())) >= phasePos(p.plan.phase, len(s.t.Layers()))
}

// phasePos is the place of phase p within a step of a network of L layers.
func phasePos(p engine.Phase, L int) int {
	switch p.Kind {
	case engine.PhaseForward:
		return p.Layer
	case engine.PhaseLoss:
		return L
	case engine.PhaseBackward:
		return 2*L - p.Layer
	}
	return 2*L + 1
}

// revealPrompt runs in the session goroutine (see Room.revealPrompt).
func (s *session) revealPrompt() error {
	if s.room == nil {
		return errors.New("reveal: only a room asks its class")
	}
	p := s.room.prompts.openPrompt()
	if p == nil {
		return errors.New("reveal: no question is open")
	}
	if p.plan.hasPhase && netOf(s.t) != p.net {
		return fmt.Errorf("reveal: the network has changed since the question was asked (now %s); ask it again", netOf(s.t))
	}
	s.mode = modePaused
	ran := 0
	if p.plan.hasPhase && !s.answered(p) {
		if s.t.Step() != p.step {
			return fmt.Errorf("reveal: the room has trained past step %d, which the question was about; ask it again", p.step)
		}
		var err error
		ran, err = s.runTo(func() bool { return s.answered(p) }, true)
		if ran > 0 || err != nil {
			s.publishState()
			s.publishFrames(s.clients, true, false)
		}
		if err != nil {
			return err
		}
	}
	truth, err := p.plan.truth(s.t.Trace(s.traceOptions()))
	if err != nil {
		return err
	}
	msg, mine, err := s.room.prompts.reveal(p, truth, s.room.allViewers())
	if err != nil {
		return err
	}
	b := protocol.Marshal(msg)
	s.srv.class.toAll(s.room, b)
	for _, id := range s.room.roster.watching() {
		s.room.roster.toStudent(id, mineOrNone(mine, id, msg.PromptID))
	}
	s.srv.clusterPrompt(s.room, msg, b, mine) // cluster_prompt.go
	return nil
}

// mineOrNone is student id's answer message of mine (as promptBox.reveal
// returns them), or, without an answer, the message that says so.
func mineOrNone(mine map[string][]byte, id string, promptID int) []byte {
	if b := mine[id]; b != nil {
		return b
	}
	return protocol.Marshal(protocol.PromptMine{Type: protocol.TypePromptMine, V: protocol.Version, PromptID: promptID})
}

// closePrompt takes the room's prompt off every page (its answers stay in
// the room's record).
func (s *session) closePrompt() error {
	if s.room == nil {
		return errors.New("close_prompt: only a room asks its class")
	}
	msg, ok := s.room.prompts.close()
	if !ok {
		return errors.New("close_prompt: no question is on the pages")
	}
	b := protocol.Marshal(msg)
	s.srv.class.toAll(s.room, b)
	s.srv.clusterPrompt(s.room, msg, b, nil) // cluster_prompt.go
	return nil
}

// promptHold refuses a room's command that would run the phase an open
// prompt waits for (nil if none would).
func (s *session) promptHold(m *sessionMsg) error {
	if s.room == nil {
		return nil
	}
	if why := s.room.prompts.holds(m.cmd, s.t.Next()); why != "" {
		return refusal{"", protocol.CodeInvalid, why, 0}
	}
	return nil
}

// bringBack sends every student's fork page back to the room, saying why.
func (s *Server) bringBack(room *Room, message string) {
	b := backMessage(room, message)
	g := &room.roster
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, st := range g.byID {
		st.sendBack(b)
	}
}

// backMessage tells a fork's page to go back to the room, saying why.
func backMessage(room *Room, message string) []byte {
	return protocol.Marshal(protocol.Class{Type: protocol.TypeClass, V: protocol.Version, Action: "back", To: "/r/" + room.Code, Message: message})
}

// sendBack sends b (backMessage) to the student's fork pages; the caller
// holds the roster's lock.
func (st *student) sendBack(b []byte) {
	for c := range st.forkPage {
		c.mb.reply(b)
	}
}

// answer counts a student's answer (an "answer" message) in the read
// pump: it never waits for the room's trainer. A page of a room homed on
// another replica hands the answer to the mirror, which forwards it.
func (c *client) answer(m *protocol.ClientMsg) {
	room := c.sess.room
	if (room == nil && c.sess.mirror == nil) || c.student == nil {
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeForbidden, errOnlyStudents.Error()))
		return
	}
	if m.PromptID == nil || m.Pick == nil {
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, "answer: prompt_id and pick are needed"))
		return
	}
	if rr := c.sess.mirror; rr != nil {
		rr.answer(c, m) // cluster_prompt.go
		return
	}
	reply, mine := c.srv.countAnswer(room, c.student.id, m.ID, *m.PromptID, *m.Pick)
	c.reply(reply)
	if mine != nil {
		room.roster.toStudent(c.student.id, mine) // the student's other tabs too
	}
}

// countAnswer counts student's answer pick to the prompt promptID of room
// (on this replica, its home) and returns the reply to the page's request
// id and, if it counted, the student's answer as their pages show it.
func (s *Server) countAnswer(room *Room, student string, id json.RawMessage, promptID int, pick protocol.PromptPick) (reply, mine []byte) {
	err := room.prompts.answer(student, promptID, pick, time.Now(), s.cfg.MaxPromptAnswers)
	var r refusal
	switch {
	case errors.As(err, &r):
		return s.counted(r).reply(id), nil
	case err != nil:
		return protocol.ErrorReply(id, protocol.CodeInvalid, err.Error()), nil
	}
	s.metrics.promptAnswers.Inc()
	return protocol.Ack(id), room.prompts.mine(student)
}

// promptOnAttach shows a page that opens the room's current prompt and,
// for a student, their answer; for the owner, the class's tally so far
// (a reload before the reveal keeps it).
func (s *Server) promptOnAttach(room *Room, c *client, owner bool) {
	if room.mirror != nil {
		room.mirror.promptOnAttach(c) // cluster_prompt.go
		return
	}
	_, msg := room.prompts.current()
	if msg.Type == "" {
		return
	}
	c.mb.reply(protocol.Marshal(msg))
	if c.student != nil {
		c.mb.reply(room.prompts.mine(c.student.id))
	}
	if owner {
		if b := room.prompts.tallyNow(room.allViewers()); b != nil {
			c.mb.reply(b)
		}
	}
}
