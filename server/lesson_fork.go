package server

import (
	"fmt"
	"net/http"

	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
)

// A lesson says which controls its students get in their forks
// (lesson.Fork): the fork refuses the others' commands, and the fork's
// page does not show them.

// controlWords name each control in a refusal.
var controlWords = map[string]string{
	lesson.ControlPlay:      "play and the speed",
	lesson.ControlStep:      "stepping",
	lesson.ControlLR:        "the learning rate",
	lesson.ControlOptimizer: "the optimizer and its settings",
	lesson.ControlReset:     "reset and the seed",
	lesson.ControlSpec:      "another network or a saved model",
	lesson.ControlData:      "another data set",
}

func refuseLessonControl(control string) refusal {
	return refusal{"", protocol.CodeForbidden, fmt.Sprintf("This lesson's forks do not offer %s.", controlWords[control]), 0}
}

// controlsOf lists the lesson controls a command uses: none for pause,
// test, the sample shown and what no lesson restricts.
func controlsOf(cmd string, a *protocol.CmdArgs) []string {
	switch cmd {
	case protocol.CmdPlay:
		return []string{lesson.ControlPlay}
	case protocol.CmdStepPhase, protocol.CmdStepBatch, protocol.CmdStepEpoch:
		return []string{lesson.ControlStep}
	case protocol.CmdReset:
		return []string{lesson.ControlReset}
	case protocol.CmdSet:
	default:
		return nil
	}
	var cs []string
	add := func(given bool, c string) {
		if given {
			cs = append(cs, c)
		}
	}
	add(a.Speed != nil, lesson.ControlPlay)
	add(a.LR != nil || a.Decay != nil, lesson.ControlLR)
	add(a.Opt != nil || a.Momentum != nil || a.Nesterov != nil || a.WD != nil || a.Beta1 != nil || a.Beta2 != nil ||
		a.Eps != nil || a.Alpha != nil || a.Centered != nil || a.Batch != nil, lesson.ControlOptimizer)
	add(a.Seed != nil, lesson.ControlReset)
	add(a.Spec != nil, lesson.ControlSpec)
	add(a.Data != nil, lesson.ControlData)
	return cs
}

// lessonLimit refuses a command of a lesson's fork that uses a control the
// lesson does not give its students.
func (sess *session) lessonLimit(m *sessionMsg) error {
	f := sess.lessonFork
	if f == nil {
		return nil
	}
	for _, c := range controlsOf(m.cmd, &m.args) {
		if !f.Allows(c) {
			return refuseLessonControl(c)
		}
	}
	return nil
}

// lessonModelLoad refuses loading a saved model into a lesson's fork that
// does not offer another network (nil: it may).
func (sess *session) lessonModelLoad() *modelError {
	if f := sess.lessonFork; f != nil && !f.Allows(lesson.ControlSpec) {
		return &modelError{http.StatusForbidden, refuseLessonControl(lesson.ControlSpec).message}
	}
	return nil
}

// forkOffers is the controls the fork page of the room of join code code
// offers: nil for all (no lesson, or no such room here).
func (s *Server) forkOffers(code string) []string {
	room, err := s.class.rooms.lookup(code)
	if err != nil && s.cluster != nil {
		room = s.cluster.mirrorOf(code) // lesson_cluster.go
	}
	if room == nil || room.Lesson() == nil {
		return nil
	}
	return room.Lesson().Fork.Controls
}
