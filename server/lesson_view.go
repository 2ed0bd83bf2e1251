package server

import (
	"fmt"
	"strings"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/web"
)

// The lesson as the owner's page shows it: its title, what the students'
// forks offer, and its prompts in order, each in words.

// promptWords are each prompt kind's name and its own question, asked
// when the lesson gives none.
var promptWords = map[string][2]string{
	protocol.PromptPoolSwitch: {"pooling switch", "Which cell of this pooling window receives the gradient?"},
	protocol.PromptConvReach:  {"conv reach", "Which cells of this conv's input get no gradient?"},
	protocol.PromptClass:      {"predicted class", "Which class will the network predict for this sample?"},
	protocol.PromptWeightSign: {"weight after the update", "Will this weight go up or down after the update, and by about how much?"},
	protocol.PromptChoice:     {"choice", "Which is right?"},
}

// lessonMenu is the create-room form's menu of embedded lessons.
func lessonMenu() []web.Option {
	var out []web.Option
	for _, l := range lesson.Embedded() {
		out = append(out, web.Option{Value: l.Name, Label: l.Title})
	}
	return out
}

// lessonView is the lesson panel of the room's owner page, or nil if the
// room was not started from a lesson.
func lessonView(room *Room) *web.LessonView {
	l := room.Lesson()
	if l == nil {
		return nil
	}
	var layers []engine.LayerInfo
	if room.session != nil && room.mirror == nil { // a mirror's trainer is on the room's home
		room.session.inSession(func() { layers = room.session.t.Layers() })
	}
	vm := &web.LessonView{Title: l.Title, Description: l.Description, Forks: forksInWords(l.Fork), Specs: l.Prompts}
	if vm.Specs == nil {
		vm.Specs = []protocol.PromptSpec{}
	}
	for i, p := range l.Prompts {
		w := promptWords[p.Kind]
		q := p.Question
		if q == "" {
			q = w[1]
		}
		if p.Kind == protocol.PromptChoice {
			q += " (" + strings.Join(p.Options, " · ") + ")"
		}
		vm.Prompts = append(vm.Prompts, web.LessonPrompt{Index: i, Kind: p.Kind, KindWord: w[0], Question: q, Where: promptWhere(p, layers)})
	}
	return vm
}

// promptWhere says which layer and cell a prompt points at ("" for none).
func promptWhere(p protocol.PromptSpec, layers []engine.LayerInfo) string {
	name := fmt.Sprintf("layer %d", p.Layer)
	if p.Layer < len(layers) {
		name = layers[p.Layer].Name
	}
	switch p.Kind {
	case protocol.PromptPoolSwitch:
		return fmt.Sprintf("%s, channel %d, window at row %d, column %d", name, p.Channel, p.Row, p.Col)
	case protocol.PromptConvReach:
		return fmt.Sprintf("%s, input channel %d", name, p.Channel)
	case protocol.PromptWeightSign:
		return fmt.Sprintf("%s, filter %d, input channel %d, tap (%d, %d)", name, p.Channel, p.In, p.Row, p.Col)
	}
	return ""
}

// forksInWords says what students may do with the room.
func forksInWords(f lesson.Fork) string {
	switch {
	case !f.Allowed:
		return "Forking starts locked (the dashboard can allow it)."
	case f.Controls == nil:
		return "Students' forks offer every control."
	case len(f.Controls) == 0:
		return "Students' forks only watch: no control."
	}
	return "Students' forks offer: " + strings.Join(f.Controls, ", ") + "."
}
