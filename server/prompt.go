package server

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Predict, then reveal: the prompts of a room and the students' answers,
// kept in memory (at most Config.MaxPromptAnswers answers a room), one
// answer per student per prompt (keyed by the student's cookie, not the
// page), which the student may change until the reveal. The owner's pages
// get the tally at most every dashboardEvery (see Server.dashboards);
// nobody else sees who answered what.

// maxPrompts bounds the prompts a room remembers.
const maxPrompts = 500

// promptAnswer is one student's answer to one prompt.
type promptAnswer struct {
	pick    protocol.PromptPick
	at      time.Time // when it was last changed
	correct *bool     // after the reveal
}

// roomPrompt is one prompt asked in a room.
type roomPrompt struct {
	plan    *promptPlan
	msg     protocol.Prompt // as the pages show it (Truth and Tally after the reveal)
	step    int             // t.Step() when it was asked
	net     string          // the network's spec and data then: the plan holds for it alone
	asked   time.Time
	answers map[string]*promptAnswer // by student id
	order   []string                 // student ids, by first answer
}

// promptBox is a room's prompts. Guarded by mu.
type promptBox struct {
	mu    sync.Mutex
	all   []*roomPrompt // asked, in order; the last may be on the pages
	cur   *roomPrompt   // on the pages (nil: none)
	kept  int           // answers kept, all prompts together
	dirty bool          // the tally changed since it was last sent
}

// Errors of answers; their text is shown to the student.
var (
	errNoPrompt     = errors.New("no question is open in this room right now")
	errPromptClosed = errors.New("this question is closed: the answer has been revealed")
	errOnlyStudents = errors.New("only students answer the teacher's questions")
)

func refusePromptAnswers(max int) refusal {
	return refusal{"prompt_answers", protocol.CodeFull,
		fmt.Sprintf("This room keeps at most %d answers and has them all: your answer was not counted. The teacher can download the answers and open a new room.", max), 0}
}

// open puts a new prompt of plan on the pages (the last one, if any, is
// closed) and returns its message. It fails after maxPrompts prompts.
func (b *promptBox) open(plan *promptPlan, t *engine.Trainer, tr *engine.Trace, now time.Time) (protocol.Prompt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.all) >= maxPrompts {
		return protocol.Prompt{}, fmt.Errorf("this room has asked %d questions, as many as it keeps; open a new room", maxPrompts)
	}
	p := &roomPrompt{plan: plan, step: t.Step(), net: netOf(t), asked: now, answers: map[string]*promptAnswer{}}
	p.msg = plan.message(len(b.all)+1, t, tr)
	b.all = append(b.all, p)
	b.cur, b.dirty = p, true
	return p.msg, nil
}

// netOf names the network a prompt's plan holds for: its spec and data.
func netOf(t *engine.Trainer) string { return t.Config().Spec + " on " + t.Data().Name }

// current is the prompt on the pages and its message (nil: none).
func (b *promptBox) current() (*roomPrompt, protocol.Prompt) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return nil, protocol.Prompt{}
	}
	return b.cur, b.cur.msg
}

// openPrompt is the prompt taking answers (nil: none).
func (b *promptBox) openPrompt() *roomPrompt {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil || b.cur.msg.Status != protocol.PromptOpen {
		return nil
	}
	return b.cur
}

// answer counts (or changes) student's answer to prompt id; max bounds the
// answers kept. The error is what to tell the student.
func (b *promptBox) answer(student string, id int, pick protocol.PromptPick, now time.Time, max int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.cur
	switch {
	case p == nil || p.msg.Status == protocol.PromptClosed:
		return errNoPrompt
	case p.msg.PromptID != id:
		return fmt.Errorf("question %d is no longer open; answer question %d", id, p.msg.PromptID)
	case p.msg.Status != protocol.PromptOpen:
		return errPromptClosed
	}
	if err := pick.CheckPick(p.plan.spec.Kind, p.plan.n); err != nil {
		return err
	}
	if p.plan.spec.Kind == protocol.PromptConvReach {
		pick.Cells = slices.Compact(slices.Sorted(slices.Values(pick.Cells)))
	}
	a := p.answers[student]
	if a == nil {
		if b.kept >= max {
			return refusePromptAnswers(max)
		}
		b.kept++
		a = &promptAnswer{}
		p.answers[student] = a
		p.order = append(p.order, student)
	}
	a.pick, a.at = pick, now
	b.dirty = true
	return nil
}

// mine is student's answer to the current prompt as the student's pages
// show it (nil if no prompt is on the pages).
func (b *promptBox) mine(student string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return nil
	}
	m := protocol.PromptMine{Type: protocol.TypePromptMine, V: protocol.Version, PromptID: b.cur.msg.PromptID}
	if a := b.cur.answers[student]; a != nil {
		pick := a.pick
		m.Pick, m.Correct = &pick, a.correct
	}
	return protocol.Marshal(m)
}

// answerStates are, for the teacher's dashboard, what each student who
// answered the prompt on the pages did: answered or, after the reveal,
// right or wrong (a poll's stay answered). Nil while no prompt is on the
// pages; a student it does not list has not answered.
func (b *promptBox) answerStates() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return nil
	}
	states := make(map[string]string, len(b.cur.answers))
	for id, a := range b.cur.answers {
		switch {
		case a.correct == nil:
			states[id] = protocol.AnswerGiven
		case *a.correct:
			states[id] = protocol.AnswerRight
		default:
			states[id] = protocol.AnswerWrong
		}
	}
	return states
}

// tallyOf counts p's answers (held under b.mu).
func (p *roomPrompt) tallyOf(students int) protocol.PromptTally {
	t := protocol.PromptTally{PromptID: p.msg.PromptID, Answered: len(p.answers), Students: students}
	kind := p.plan.spec.Kind
	switch kind {
	case protocol.PromptConvReach:
		t.Cells = make([]int, p.plan.n)
	case protocol.PromptWeightSign:
		t.Counts, t.Sizes = make([]int, len(protocol.Signs)), make([]int, p.plan.n)
	default:
		t.Counts = make([]int, p.plan.n)
	}
	right := 0
	for _, a := range p.answers {
		switch kind {
		case protocol.PromptConvReach:
			for _, c := range a.pick.Cells {
				t.Cells[c]++
			}
		case protocol.PromptWeightSign:
			t.Counts[slices.Index(protocol.Signs, a.pick.Sign)]++
			t.Sizes[*a.pick.Size]++
		default:
			t.Counts[*a.pick.Choice]++
		}
		if a.correct != nil && *a.correct {
			right++
		}
	}
	if tr := p.msg.Truth; tr != nil && (kind != protocol.PromptChoice || tr.Choice != nil) {
		t.Right = &right
	}
	return t
}

// tallyMsg is p's tally as the owner's pages' message.
func (p *roomPrompt) tallyMsg(students int) []byte {
	return protocol.Marshal(protocol.PromptTallyMsg{Type: protocol.TypePromptTally, V: protocol.Version, PromptTally: p.tallyOf(students)})
}

// tallyDue is the tally message for the owner's pages if the answers
// changed since it was last sent (nil if not).
func (b *promptBox) tallyDue(students int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.dirty || b.cur == nil {
		return nil
	}
	b.dirty = false
	return b.cur.tallyMsg(students)
}

// tallyNow is the tally message of the current prompt (nil if none): what
// an owner's page that opens shows until the next tallyDue.
func (b *promptBox) tallyNow(students int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return nil
	}
	return b.cur.tallyMsg(students)
}

// reveal grades p's answers against truth and returns the prompt's
// message with the truth and the class's tally, and each student's
// answer message.
func (b *promptBox) reveal(p *roomPrompt, truth protocol.PromptTruth, students int) (protocol.Prompt, map[string][]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur != p || p.msg.Status != protocol.PromptOpen {
		return protocol.Prompt{}, nil, errors.New("reveal: the question is no longer open")
	}
	mine := map[string][]byte{}
	for id, a := range p.answers {
		a.correct = grade(p.plan.spec.Kind, a.pick, &truth)
		pick := a.pick
		mine[id] = protocol.Marshal(protocol.PromptMine{Type: protocol.TypePromptMine, V: protocol.Version,
			PromptID: p.msg.PromptID, Pick: &pick, Correct: a.correct})
	}
	p.msg.Status, p.msg.Truth = protocol.PromptRevealed, &truth
	tally := p.tallyOf(students)
	p.msg.Tally = &tally
	b.dirty = true
	return p.msg, mine, nil
}

// close takes the current prompt off the pages; its answers are kept.
func (b *promptBox) close() (protocol.Prompt, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return protocol.Prompt{}, false
	}
	m := b.cur.msg
	m.Status = protocol.PromptClosed
	b.cur = nil
	return m, true
}

// holds says why the room's command cmd may not run while a prompt waits
// for its reveal: it would run the phase that answers it ("" if it may).
func (b *promptBox) holds(cmd string, next engine.Phase) string {
	p := b.openPrompt()
	if p == nil || !p.plan.hasPhase {
		return ""
	}
	switch cmd {
	case protocol.CmdPlay, protocol.CmdStepBatch, protocol.CmdStepEpoch:
	case protocol.CmdStepPhase:
		if next != p.plan.phase {
			return ""
		}
	default:
		return ""
	}
	return fmt.Sprintf("A question is open: Reveal runs %s, which answers it (or close the question first).", p.msg.Phase)
}

// toAll puts b into the mailboxes of every page of the room on this
// server (the owner's and the students').
func (cl *classroom) toAll(r *Room, b []byte) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for c := range cl.members[r] {
		c.mb.reply(b)
	}
}

// toStudent puts b into the mailboxes of the pages of the student of id
// watching the room.
func (g *roster) toStudent(id string, b []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st := g.byID[id]; st != nil {
		for c := range st.room {
			c.mb.reply(b)
		}
	}
}

// watching are the ids of the students with a page watching the room.
func (g *roster) watching() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var ids []string
	for id, st := range g.byID {
		if len(st.room) > 0 && !st.removed {
			ids = append(ids, id)
		}
	}
	return ids
}

// nickOf is the name the teacher's dashboard shows for the student of id.
func (g *roster) nickOf(id string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.byID[id]
	switch {
	case st == nil:
		return "unknown"
	case st.nick != "":
		return st.nick
	}
	return fmt.Sprintf("student %d", st.seen)
}
