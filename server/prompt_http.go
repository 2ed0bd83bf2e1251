package server

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/backpropviz/backpropviz/protocol"
)

// GET /r/{code}/answers.csv: the answers to a room's prompts, for its owner
// (owner cookie or ?owner=): one row per student and prompt, with the
// nickname the dashboard shows, the prompt, the answer in words, whether
// it was right (empty before the reveal and for a poll), when it was
// last changed (UTC, RFC 3339) and, for a question of the room's lesson,
// its number there as the class saw it ("2 of 5").

// answersCSVHeader is the first row of the CSV.
var answersCSVHeader = []string{"nickname", "prompt", "question", "answer", "correct", "time", "lesson_question"}

func (s *Server) serveAnswersCSV(w http.ResponseWriter, r *http.Request) {
	room, err := s.findRoom(r, chi.URLParam(r, "code"))
	if err != nil {
		rf := s.counted(s.refusalOf(err))
		http.Error(w, rf.message, rf.status())
		return
	}
	if !room.IsOwner(ownerTokenOf(r, room.Code)) {
		http.Error(w, "Only the room's owner may download its answers.", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="answers-%s.csv"`, room.Code))
	w.Header().Set("Cache-Control", "no-store")
	if err := room.writeAnswersCSV(w); err != nil {
		s.log.Debug("write answers", "room", room.Code, "err", err)
	}
}

// writeAnswersCSV writes the room's answers as CSV.
func (r *Room) writeAnswersCSV(w io.Writer) error {
	type row struct {
		student string
		fields  []string
	}
	var rows []row
	b := &r.prompts
	b.mu.Lock()
	for _, p := range b.all {
		for _, id := range p.order {
			a := p.answers[id]
			correct := ""
			if a.correct != nil {
				correct = map[bool]string{true: "yes", false: "no"}[*a.correct]
			}
			lq := ""
			if p.msg.Lesson > 0 {
				lq = fmt.Sprintf("%d of %d", p.msg.Lesson, p.msg.LessonOf)
			}
			rows = append(rows, row{id, []string{fmt.Sprint(p.msg.PromptID), p.msg.Question,
				answerText(p, a.pick), correct, a.at.UTC().Format(time.RFC3339), lq}})
		}
	}
	b.mu.Unlock()
	cw := csv.NewWriter(w)
	cw.Write(answersCSVHeader)
	for _, rw := range rows {
		cw.Write(append([]string{safeCell(r.roster.nickOf(rw.student))}, mapSafe(rw.fields)...))
	}
	cw.Flush()
	return cw.Error()
}

// safeCell keeps a spreadsheet from reading a cell typed by a user as a
// formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func mapSafe(f []string) []string {
	for i := range f {
		f[i] = safeCell(f[i])
	}
	return f
}

// answerText says an answer in words.
func answerText(p *roomPrompt, a protocol.PromptPick) string {
	switch p.plan.spec.Kind {
	case protocol.PromptPoolSwitch:
		kw := p.plan.geo.KW
		return fmt.Sprintf("window cell %d (row %d, column %d)", *a.Choice, *a.Choice/kw, *a.Choice%kw)
	case protocol.PromptClass:
		return "class " + p.plan.classes[*a.Choice]
	case protocol.PromptChoice:
		return p.plan.spec.Options[*a.Choice]
	case protocol.PromptWeightSign:
		return fmt.Sprintf("%s, %s", a.Sign, protocol.WeightBucketNames[*a.Size])
	case protocol.PromptConvReach:
		if len(a.Cells) == 0 {
			return "every cell receives a gradient"
		}
		w := p.plan.layer.InShape[2]
		cells := make([]string, len(a.Cells))
		for i, c := range a.Cells {
			cells[i] = fmt.Sprintf("(%d,%d)", c/w, c%w)
		}
		return "no gradient at " + strings.Join(cells, " ")
	}
	return ""
}
