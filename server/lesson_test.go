package server

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
)

// memInUse is the memory budget in use.
func memInUse(srv *Server) int64 {
	srv.sessions.mu.Lock()
	defer srv.sessions.mu.Unlock()
	return srv.sessions.memUsed
}

// roomState reads the room's trainer settings, step and trace.
func roomState(t *testing.T, room *Room) (LabParams, engine.Config, int, *engine.Trace) {
	t.Helper()
	var p LabParams
	var cfg engine.Config
	var step int
	var tr *engine.Trace
	if !room.session.inSession(func() {
		p, cfg, step = room.session.params, room.session.t.Config(), room.session.t.Step()
		tr = room.session.t.Trace(engine.TraceOptions{})
	}) {
		t.Fatal("the room's session has ended")
	}
	return p, cfg, step, tr
}

// TestRoomFromEmbeddedLessons: each embedded lesson starts a room with its
// spec, data, seed, hyperparameters, speed, fork rule and model, named
// after its title; the room keeps the lesson.
func TestRoomFromEmbeddedLessons(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	for _, info := range lesson.Embedded() {
		l, err := lesson.LoadEmbedded(info.Name, srv.cfg.MaxModel)
		if err != nil {
			t.Fatal(err)
		}
		room, err := srv.CreateRoomFromLesson("", l)
		if err != nil {
			t.Fatalf("%s: %v", info.Name, err)
		}
		p, cfg, step, tr := roomState(t, room)
		base := engine.DefaultHyper()
		wantStep := 0
		if l.Model != nil {
			loaded, err := engine.Load(bytes.NewReader(l.Model), mustMNIST(t, srv))
			if err != nil {
				t.Fatal(err)
			}
			base, wantStep = loaded.Config().Hyper, loaded.Step()
			lt := loaded.Trace(engine.TraceOptions{})
			for i, lay := range lt.Layers {
				if lay.Weights != nil && !slices.Equal(lay.Weights.Data, tr.Layers[i].Weights.Data) {
					t.Errorf("%s: layer %d's weights differ from the model's", info.Name, i)
				}
			}
		}
		if room.Name != l.Title || room.Lesson() != l || room.roster.forksAllowed() != l.Fork.Allowed {
			t.Errorf("%s: room %q, lesson %p, forks %v", info.Name, room.Name, room.Lesson(), room.roster.forksAllowed())
		}
		if cfg.Spec != l.Spec || p.Data != l.Data || cfg.Seed != *l.Seed || step != wantStep {
			t.Errorf("%s: spec %q data %q seed %d step %d; want %q %q %d %d", info.Name, cfg.Spec, p.Data, cfg.Seed, step, l.Spec, l.Data, *l.Seed, wantStep)
		}
		if want := l.Hyper.Over(base); cfg.Hyper != want || p.Config.Hyper != want {
			t.Errorf("%s: hyper %+v, want %+v", info.Name, cfg.Hyper, want)
		}
		if p.Speed != *l.Speed {
			t.Errorf("%s: speed %+v, want %+v", info.Name, p.Speed, *l.Speed)
		}
	}
}

func mustMNIST(t *testing.T, srv *Server) engine.Data {
	t.Helper()
	d, err := srv.data.get(protocol.DataMNIST)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLessonRefusedByServer: a lesson the parser accepts but this server
// cannot run is refused with the field named, and nothing is started.
func TestLessonRefusedByServer(t *testing.T) {
	srv, _ := newTestServer(t, Config{MaxBatch: 16, MaxRate: 5})
	cp, _ := lesson.LoadEmbedded("conv-pool-backward", srv.cfg.MaxModel)
	withModel := func(extra string) []byte {
		return []byte(`{"title": "M", "model_base64": "` + b64(cp.Model) + `"` + extra + `}`)
	}
	for _, tc := range []struct {
		name  string
		json  []byte
		field string
		says  string
	}{
		{"no such data", []byte(`{"title": "T", "spec": "dense(5)", "data": "nosuch"}`), "data", "nosuch"},
		{"spec too big for the data", []byte(`{"title": "T", "spec": "conv(2,40) dense(10)", "data": "mnist"}`), "spec", "conv"},
		{"batch over the server's", []byte(`{"title": "T", "spec": "` + tinySpec + `", "data": "shapes", "hyper": {"batch": 32}}`), "hyper", "at most 16"},
		{"speed over the server's", []byte(`{"title": "T", "spec": "` + tinySpec + `", "data": "shapes", "speed": {"unit": "step", "rate": 10}}`), "speed", "speed rate 10"},
		{"prompt outside the network", []byte(`{"title": "T", "spec": "` + tinySpec + `", "data": "shapes", "prompts": [{"kind": "conv_reach", "layer": 0, "channel": 3}]}`), "prompts[0].channel", "input channels"},
		{"model's spec differs", withModel(`, "spec": "dense(10)"`), "spec", "differs from the model's"},
		{"model's seed differs", withModel(`, "seed": 99`), "seed", "differs from the model's"},
		{"model broken", []byte(`{"title": "T", "model_base64": "e30="}`), "model", ""},
		{"model with a batch over the server's", withModel(`, "hyper": {"batch": 17}`), "hyper", "at most 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := lesson.Parse(tc.json, nil, srv.cfg.MaxModel)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			before, rooms := memInUse(srv), len(srv.roomsOf())
			room, err := srv.CreateRoomFromLesson("", l)
			var le *lesson.Error
			if !errors.As(err, &le) || le.Field != tc.field || !strings.Contains(le.Msg, tc.says) {
				t.Fatalf("CreateRoomFromLesson = %v, %v; want field %q saying %q", room, err, tc.field, tc.says)
			}
			if memInUse(srv) != before || len(srv.roomsOf()) != rooms {
				t.Errorf("a refused lesson left memory %d (was %d), rooms %d (were %d)", memInUse(srv), before, len(srv.roomsOf()), rooms)
			}
		})
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestLessonPromptsKeepTheirNumbers: a lesson's prompt is shown with its
// number in the lesson, whichever order the teacher asks them in; a prompt
// of the teacher's own is numbered by the order asked in the room.
func TestLessonPromptsKeepTheirNumbers(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	l, err := lesson.LoadEmbedded("conv-pool-backward", srv.cfg.MaxModel)
	if err != nil {
		t.Fatal(err)
	}
	room, err := srv.CreateRoomFromLesson("", l)
	if err != nil {
		t.Fatal(err)
	}
	own := protocol.PromptSpec{Kind: protocol.PromptClass, Question: "Which digit is it?"}
	tests := []struct {
		name            string
		spec            protocol.PromptSpec
		id, lesson, ofN int
	}{
		{"the lesson's second first", l.Prompts[1], 1, 2, len(l.Prompts)},
		{"the lesson's fifth", l.Prompts[4], 2, 5, len(l.Prompts)},
		{"the teacher's own", own, 3, 0, 0},
		{"the lesson's first", l.Prompts[0], 4, 1, len(l.Prompts)},
	}
	for _, tc := range tests {
		if err := room.askPrompt(tc.spec); err != nil {
			t.Fatalf("%s: askPrompt: %v", tc.name, err)
		}
		_, msg := room.prompts.current()
		if msg.PromptID != tc.id || msg.Lesson != tc.lesson || msg.LessonOf != tc.ofN {
			t.Errorf("%s: prompt_id %d, lesson %d of %d; want %d, %d of %d", tc.name, msg.PromptID, msg.Lesson, msg.LessonOf, tc.id, tc.lesson, tc.ofN)
		}
	}
}

// TestAnswersCSVNumbersLessonQuestions: the CSV gives a lesson's question
// the number the class saw ("2 of 5"), beside the order asked.
func TestAnswersCSVNumbersLessonQuestions(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	l, err := lesson.LoadEmbedded("conv-pool-backward", srv.cfg.MaxModel)
	if err != nil {
		t.Fatal(err)
	}
	room, err := srv.CreateRoomFromLesson("", l)
	if err != nil {
		t.Fatal(err)
	}
	zero := 0
	for _, spec := range []protocol.PromptSpec{l.Prompts[1], {Kind: protocol.PromptClass, Question: "Which digit is it?"}} {
		if err := room.askPrompt(spec); err != nil {
			t.Fatal(err)
		}
		_, msg := room.prompts.current()
		if err := room.prompts.answer("a", msg.PromptID, protocol.PromptPick{Choice: &zero}, time.Now(), 100); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	if err := room.writeAnswersCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("answers.csv %q: %v", b.String(), err)
	}
	want := fmt.Sprintf("2 of %d", len(l.Prompts))
	if rows[0][6] != "lesson_question" || rows[1][1] != "1" || rows[1][6] != want || rows[2][1] != "2" || rows[2][6] != "" {
		t.Errorf("answers.csv rows %q, want the lesson's question %s, then the teacher's own without one", rows, want)
	}
}
