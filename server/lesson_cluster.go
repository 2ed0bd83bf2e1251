package server

import (
	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
)

// A lesson's room across replicas: the home sends a new mirror the lesson
// with the room (syncReply), so the owner's page shows its prompts and the
// students' forks follow its controls on every replica.

// lessonWire is the part of a lesson a mirror needs.
type lessonWire struct {
	Title       string                `json:"title"`
	Description string                `json:"description"`
	ForkAllowed bool                  `json:"fork_allowed"`
	Controls    []string              `json:"controls"` // null: every control
	Prompts     []protocol.PromptSpec `json:"prompts"`
}

// toLessonWire is l for a mirror (nil for none).
func toLessonWire(l *lesson.Lesson) *lessonWire {
	if l == nil {
		return nil
	}
	return &lessonWire{Title: l.Title, Description: l.Description, ForkAllowed: l.Fork.Allowed, Controls: l.Fork.Controls, Prompts: l.Prompts}
}

// lesson is the lesson a mirror keeps (nil for none): a control the
// mirror does not know is left out, so a fork gets no more than the
// lesson gives.
func (w *lessonWire) lesson() *lesson.Lesson {
	if w == nil {
		return nil
	}
	l := &lesson.Lesson{Title: w.Title, Description: w.Description, Prompts: w.Prompts, Fork: lesson.Fork{Allowed: w.ForkAllowed}}
	if w.Controls != nil {
		l.Fork.Controls = []string{}
		for _, c := range w.Controls {
			if _, ok := controlWords[c]; ok {
				l.Fork.Controls = append(l.Fork.Controls, c)
			}
		}
	}
	return l
}

// mirrorOf is this replica's mirror of the room of join code code, or nil.
func (cs *clusterState) mirrorOf(code string) *Room {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if rr := cs.mirrors[code]; rr != nil {
		return rr.room
	}
	return nil
}
