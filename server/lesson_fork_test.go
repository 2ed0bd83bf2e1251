package server

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
)

// lessonRoom starts a room of the tiny network on shapes from a lesson
// whose fork part is fork (JSON, "" for none).
func lessonRoom(t *testing.T, srv *Server, fork string) *Room {
	t.Helper()
	js := `{"title": "Tiny", "spec": "` + tinySpec + `", "data": "shapes", "hyper": {"batch": 4}`
	if fork != "" {
		js += `, "fork": ` + fork
	}
	l, err := lesson.Parse([]byte(js+`}`), nil, srv.cfg.MaxModel)
	if err != nil {
		t.Fatal(err)
	}
	room, err := srv.CreateRoomFromLesson("", l)
	if err != nil {
		t.Fatal(err)
	}
	return room
}

// TestLessonForkControls: a fork of a lesson's room accepts the commands of
// the controls the lesson gives and refuses the others with a message
// naming them, whatever its page shows; its page offers only those
// controls; a saved model is refused unless the lesson offers "spec".
func TestLessonForkControls(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := lessonRoom(t, srv, `{"allowed": true, "controls": ["step", "lr"]}`)
	fork := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, nil)
	var w protocol.Welcome
	fork.expect("welcome", &w)
	for _, tc := range []struct {
		cmd    string
		args   map[string]any
		refuse string // "" accepted, else the refusal's words
	}{
		{"step_phase", nil, ""},
		{"step_batch", nil, ""},
		{"set", map[string]any{"lr": 0.01}, ""},
		{"set", map[string]any{"decay": 0}, ""},
		{"set", map[string]any{"sample": "probe"}, ""},
		{"pause", nil, ""},
		{"play", nil, "play and the speed"},
		{"set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 1}}, "play and the speed"},
		{"set", map[string]any{"opt": "sgd"}, "the optimizer"},
		{"set", map[string]any{"batch": 2}, "the optimizer"},
		{"set", map[string]any{"lr": 0.02, "momentum": 0.5}, "the optimizer"},
		{"reset", map[string]any{"seed": 3}, "reset and the seed"},
		{"set", map[string]any{"seed": 3}, "reset and the seed"},
		{"set", map[string]any{"spec": "dense(5)"}, "another network"},
		{"set", map[string]any{"data": "mnist"}, "another data set"},
	} {
		r := fork.reply(fork.cmd(tc.cmd, tc.args))
		switch {
		case tc.refuse == "" && r.Type != "ack":
			t.Errorf("%s %v: %+v, want ack", tc.cmd, tc.args, r)
		case tc.refuse != "" && (r.Type != "error" || r.Code != protocol.CodeForbidden || !strings.Contains(r.Message, tc.refuse)):
			t.Errorf("%s %v: %+v, want forbidden naming %q", tc.cmd, tc.args, r, tc.refuse)
		}
	}
	// The refused commands changed nothing: the fork trained at lr 0.01
	// with the lesson's batch.
	var st testState
	fork.reply(fork.cmd("pause", nil))
	for st.Hyper.LR == 0 {
		fork.expect("state", &st)
	}
	if st.Hyper.LR != 0.01 || st.Hyper.Batch != 4 || st.Hyper.Opt != "adam" {
		t.Errorf("fork's hyper %+v, want lr 0.01, batch 4, adam", st.Hyper)
	}
	// A saved model would replace the network: refused.
	req, _ := http.NewRequest("POST", ts.URL+"/model?resume="+w.Resume, strings.NewReader("{}"))
	req.Header.Set("Origin", ts.URL)
	if p := do(t, req); p.status != http.StatusForbidden || !strings.Contains(p.body, "another network") {
		t.Errorf("POST /model into the fork: %d %s", p.status, p.body)
	}
	// The fork's page offers stepping and the learning rate only.
	req, _ = http.NewRequest("GET", ts.URL+"/r/"+room.Code+"/fork", nil)
	p := do(t, req)
	if p.status != http.StatusOK {
		t.Fatalf("fork page: %d", p.status)
	}
	for _, id := range []string{`id="step-phase"`, `id="step-batch"`, `id="lr"`, `id="decay"`, `id="sample"`} {
		if !strings.Contains(p.body, id) {
			t.Errorf("fork page lacks %s", id)
		}
	}
	for _, id := range []string{`id="play"`, `id="speed"`, `id="step-epoch"`, `id="opt"`, `id="batch"`, `id="momentum"`, `id="reset"`, `id="seed"`, `id="dataset"`, `id="data"`, `id="apply-spec"`, `id="spec-form"`} {
		if strings.Contains(p.body, id) {
			t.Errorf("fork page offers %s, which the lesson does not give", id)
		}
	}
}

// TestLessonForkWithoutLimits: a lesson without fork controls gives every
// control a fork has; a lesson that does not allow forking starts with
// forking locked.
func TestLessonForkWithoutLimits(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := lessonRoom(t, srv, "")
	fork := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, nil)
	fork.expect("welcome", nil)
	for _, c := range []struct {
		cmd  string
		args map[string]any
	}{{"set", map[string]any{"opt": "sgd", "lr": 0.01}}, {"reset", map[string]any{"seed": 2}}, {"set", map[string]any{"spec": "dense(5)"}}} {
		if r := fork.reply(fork.cmd(c.cmd, c.args)); r.Type != "ack" {
			t.Errorf("%s %v: %+v, want ack", c.cmd, c.args, r)
		}
	}
	p := do(t, mustRequest(t, "GET", ts.URL+"/r/"+room.Code+"/fork"))
	for _, id := range []string{`id="play"`, `id="opt"`, `id="reset"`, `id="apply-spec"`} {
		if !strings.Contains(p.body, id) {
			t.Errorf("fork page lacks %s", id)
		}
	}

	locked := lessonRoom(t, srv, `{"allowed": false}`)
	if locked.roster.forksAllowed() {
		t.Fatal("a lesson with fork.allowed false: forking allowed")
	}
	req := mustRequest(t, "POST", ts.URL+"/r/"+locked.Code+"/fork")
	req.Header.Set("Origin", ts.URL)
	if p := do(t, req); p.status == http.StatusSeeOther || !strings.Contains(html.UnescapeString(p.body), msgForksLocked) {
		t.Errorf("fork of a locked lesson room: %d %.300s", p.status, p.body)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
