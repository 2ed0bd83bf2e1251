package lesson

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

const good = `{"title": "T", "spec": "conv(2,3,s2,p0) relu maxpool(2,s2,p0) dense(10)"`

// TestParseErrors: each bad field is refused with an error naming it.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json, field, says string
	}{
		{"not json", `{"title": `, "", "cut short"},
		{"syntax", `{"title": "T",}`, "", "not valid JSON"},
		{"trailing", good + `} {}`, "", "after the lesson's closing brace"},
		{"unknown field", good + `, "colour": 1}`, "colour", "no such field"},
		{"wrong type", good + `, "seed": "one"}`, "seed", "wants int64"},
		{"no title", `{"spec": "dense(10)"}`, "title", "missing"},
		{"long title", `{"title": "` + strings.Repeat("a", MaxTitleRunes+1) + `", "spec": "dense(10)"}`, "title", "at most"},
		{"long description", good + `, "description": "` + strings.Repeat("d", MaxDescriptionRunes+1) + `"}`, "description", "at most"},
		{"no spec", `{"title": "T"}`, "spec", "missing"},
		{"bad spec", `{"title": "T", "spec": "conv(2) dense(10)"}`, "spec", "layer 1"},
		{"bad data", good + `, "data": "MN IST"}`, "data", "data set's name"},
		{"bad lr", good + `, "hyper": {"lr": 50}}`, "hyper", "learning rate 50"},
		{"bad optimizer", good + `, "hyper": {"opt": "lbfgs"}}`, "hyper", "lbfgs"},
		{"bad batch", good + `, "hyper": {"batch": 0}}`, "hyper", "batch size 0"},
		{"nesterov without momentum", good + `, "hyper": {"opt": "sgd", "nesterov": true}}`, "hyper.nesterov", "momentum"},
		{"bad hyper type", good + `, "hyper": {"lr": "fast"}}`, "hyper.lr", "wants float64"},
		{"bad speed unit", good + `, "speed": {"unit": "epoch", "rate": 1}}`, "speed.unit", "want"},
		{"bad speed rate", good + `, "speed": {"unit": "step", "rate": -1}}`, "speed.rate", "want 0"},
		{"bad control", good + `, "fork": {"controls": ["play", "teleport"]}}`, "fork.controls[1]", "teleport"},
		{"bad fork allowed", good + `, "fork": {"allowed": "yes"}}`, "fork.allowed", "wants bool"},
		{"two models", good + `, "model": "m.json", "model_base64": "e30="}`, "model", "not both"},
		{"model path upward", good + `, "model": "../m.json"}`, "model", "inside it"},
		{"model missing", good + `, "model": "missing.json"}`, "model", "cannot be read"},
		{"model bad base64", good + `, "model_base64": "%%%"}`, "model_base64", "base64"},
		{"model too large", good + `, "model_base64": "` + base64.StdEncoding.EncodeToString(make([]byte, 2000)) + `"}`, "model_base64", "at most 1024"},
		{"prompt kind", good + `, "prompts": [{"kind": "guess"}]}`, "prompts[0]", "prompt kind"},
		{"prompt negative", good + `, "prompts": [{"kind": "class"}, {"kind": "pool_switch", "layer": -1}]}`, "prompts[1]", "negative"},
		{"prompt choice", good + `, "prompts": [{"kind": "choice", "options": ["only one"]}]}`, "prompts[0]", "options"},
		{"prompt layer range", good + `, "prompts": [{"kind": "pool_switch", "layer": 4}]}`, "prompts[0].layer", "network of 4 layers"},
		{"prompt pool kind", good + `, "prompts": [{"kind": "pool_switch", "layer": 0}]}`, "prompts[0].layer", "layer 0 is conv"},
		{"prompt conv kind", good + `, "prompts": [{"kind": "conv_reach", "layer": 2}]}`, "prompts[0].layer", "layer 2 is maxpool"},
		{"prompt weight kind", good + `, "prompts": [{"kind": "weight_sign", "layer": 1}]}`, "prompts[0].layer", "layer 1 is relu"},
		{"too many prompts", good + `, "prompts": [` + strings.Repeat(`{"kind": "class"},`, MaxPrompts) + `{"kind": "class"}]}`, "prompts", "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, p)) }
			l, err := Parse([]byte(tc.json), read, 1024)
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("Parse(%s) = %v, %v; want an *Error", tc.json, l, err)
			}
			if le.Field != tc.field || !strings.Contains(le.Msg, tc.says) {
				t.Errorf("Parse(%.80s…): field %q, %q; want field %q saying %q", tc.json, le.Field, le.Msg, tc.field, tc.says)
			}
		})
	}
}

// TestParseDefaultsAndFields: what a lesson gives is kept; what it leaves
// out takes the documented defaults.
func TestParseDefaultsAndFields(t *testing.T) {
	l, err := Parse([]byte(good+`}`), nil, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if l.Data != protocol.DataMNIST || l.Seed != nil || l.Speed != nil || !l.Fork.Allowed || l.Fork.Controls != nil || l.Model != nil {
		t.Errorf("defaults: %+v", l)
	}
	for _, c := range Controls {
		if !l.Fork.Allows(c) {
			t.Errorf("a lesson without fork.controls refuses %q", c)
		}
	}
	l, err = Parse([]byte(good+`, "data": "Shapes", "seed": 9, "hyper": {"opt": "rmsprop", "lr": 0.01, "centered": true},
		"speed": {"unit": "phase", "rate": 3}, "fork": {"allowed": false, "controls": []}, "model_base64": "e30="}`), nil, 1024)
	if err != nil {
		t.Fatal(err)
	}
	h := l.Hyper.Over(engine.DefaultHyper())
	if l.Data != "shapes" || *l.Seed != 9 || *l.Speed != (protocol.Speed{Unit: "phase", Rate: 3}) || l.Fork.Allowed ||
		string(l.Model) != "{}" || h.Optimizer != "rmsprop" || h.LearningRate != 0.01 || !h.Centered || h.Beta2 != engine.DefaultHyper().Beta2 {
		t.Errorf("fields: %+v, hyper %+v", l, h)
	}
	for _, c := range Controls {
		if l.Fork.Allows(c) {
			t.Errorf("fork.controls [] allows %q", c)
		}
	}
	if _, err := Parse([]byte(good+`, "model": "m.json"}`), nil, 1024); err == nil || !strings.Contains(err.Error(), "uploaded lesson cannot name a file") {
		t.Errorf("an upload naming a model file: %v", err)
	}
}

// TestCheckPromptsAgainstNetwork: a prompt's channel, row and column must
// be inside its layer's tensors, which only the built network knows.
func TestCheckPromptsAgainstNetwork(t *testing.T) {
	data := mnist(t)
	for _, tc := range []struct{ prompt, field, says string }{
		{`{"kind": "pool_switch", "layer": 2, "channel": 2}`, "prompts[0].channel", "2 channels"},
		{`{"kind": "pool_switch", "layer": 2, "row": 6}`, "prompts[0].row", "6 output rows"},
		{`{"kind": "pool_switch", "layer": 2, "col": 9}`, "prompts[0].col", "6 output columns"},
		{`{"kind": "conv_reach", "layer": 0, "channel": 1}`, "prompts[0].channel", "1 input channels"},
		{`{"kind": "weight_sign", "layer": 0, "channel": 2}`, "prompts[0].channel", "2 filters"},
		{`{"kind": "weight_sign", "layer": 0, "in": 1}`, "prompts[0].in", "1 input channels"},
		{`{"kind": "weight_sign", "layer": 0, "row": 3}`, "prompts[0].row", "3 kernel rows"},
		{`{"kind": "weight_sign", "layer": 0, "col": 3}`, "prompts[0].col", "3 kernel columns"},
	} {
		l, err := Parse([]byte(good+`, "prompts": [`+tc.prompt+`]}`), nil, 1024)
		if err != nil {
			t.Fatalf("%s: %v", tc.prompt, err)
		}
		tr, err := engine.NewTrainer(engine.Config{Spec: l.Spec, Seed: 1, Hyper: engine.DefaultHyper()}, data)
		if err != nil {
			t.Fatal(err)
		}
		err = l.CheckPrompts(tr.Layers())
		var le *Error
		if !errors.As(err, &le) || le.Field != tc.field || !strings.Contains(le.Msg, tc.says) {
			t.Errorf("%s: %v; want field %q saying %q", tc.prompt, err, tc.field, tc.says)
		}
	}
}

// TestEmbeddedLessonsParse: every embedded lesson parses and checks
// against its network, with a title, prompts and a description.
func TestEmbeddedLessonsParse(t *testing.T) {
	ents, err := embedded.ReadDir("lessons")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.Contains(name, ".") {
			continue
		}
		n++
		l, err := LoadEmbedded(name, 1<<30)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if l.Name != name || l.Title == "" || l.Description == "" || len(l.Prompts) == 0 {
			t.Errorf("%s: %+v", name, l)
		}
		// the card asks to mark the cells that get no gradient: so does
		// the lesson's question
		for i, p := range l.Prompts {
			if p.Kind == protocol.PromptConvReach && p.Question != "" && !strings.Contains(p.Question, "no gradient") {
				t.Errorf("%s: prompt %d asks %q, not about the cells that get no gradient", name, i, p.Question)
			}
		}
		trainerOf(t, l, mnist(t))
	}
	if got := len(Embedded()); n != 3 || got != n {
		t.Errorf("%d embedded lesson files, Embedded lists %d; want 3", n, got)
	}
	if _, err := LoadEmbedded("nope", 1<<30); err == nil || !strings.Contains(err.Error(), "sgd-vs-adam") {
		t.Errorf("an unknown name: %v, want the names listed", err)
	}
}

// TestOpenFile: -lesson FILE reads the model file beside it; a name opens
// an embedded lesson; a file over the limit is refused.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	model, _ := embedded.ReadFile("lessons/conv-pool-backward.model.json")
	if err := os.WriteFile(filepath.Join(dir, "m.json"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "l.json")
	if err := os.WriteFile(p, []byte(`{"title": "From a file", "model": "m.json"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(p, 1<<20, 1<<20)
	if err != nil || string(l.Model) != string(model) || l.Title != "From a file" || l.Spec != "" || l.Data != "" {
		t.Fatalf("Open(%s) = %+v, %v", p, l, err)
	}
	if _, err := Open(p, 10, 1<<20); err == nil || !strings.Contains(err.Error(), "at most 10") {
		t.Errorf("over -max-lesson: %v", err)
	}
	if l, err := Open("dying-relu", 1<<20, 1<<20); err != nil || l.Name != "dying-relu" {
		t.Errorf("Open(dying-relu) = %v, %v", l, err)
	}
	if _, err := Open(filepath.Join(dir, "none.json"), 1<<20, 1<<20); err == nil || !strings.Contains(err.Error(), "embedded lesson") {
		t.Errorf("a missing file: %v", err)
	}
}
