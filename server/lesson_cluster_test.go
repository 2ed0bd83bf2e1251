package server

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/internal/natstest"
	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
)

// TestClusterLessonRoom: a lesson's room homed on A, served by B: the
// owner's page on B shows the lesson's prompts, and a fork made on B
// accepts and offers only the lesson's controls.
func TestClusterLessonRoom(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, _ := newReplica(t, natsURL, "a")
	_, tsB := newReplica(t, natsURL, "b")
	l, err := lesson.Parse([]byte(`{"title": "Across", "spec": "`+tinySpec+`", "data": "shapes", "hyper": {"batch": 4},
		"fork": {"controls": ["step"]}, "prompts": [{"kind": "pool_switch", "question": "Which cell wins?", "layer": 2}]}`), nil, a.cfg.MaxModel)
	if err != nil {
		t.Fatal(err)
	}
	room, err := a.CreateRoomFromLesson("", l)
	if err != nil {
		t.Fatal(err)
	}
	owner := do(t, mustRequest(t, "GET", tsB.URL+"/r/"+room.Code+"?owner="+url.QueryEscape(room.OwnerToken())))
	if body := html.UnescapeString(owner.body); !strings.Contains(body, `data-testid="lesson-title">Across<`) || !strings.Contains(body, "Which cell wins?") {
		t.Errorf("owner page on B lacks the lesson: %d %.3000s", owner.status, body)
	}

	fork := dialPath(t, websocket.DefaultDialer, tsB, "/ws/fork/"+room.Code, nil)
	fork.expect("welcome", nil)
	if r := fork.reply(fork.cmd("step_batch", nil)); r.Type != protocol.TypeAck {
		t.Errorf("step_batch in a fork on B: %+v", r)
	}
	for _, c := range []struct {
		cmd  string
		args map[string]any
	}{{"play", nil}, {"set", map[string]any{"lr": 0.1}}, {"reset", map[string]any{"seed": 2}}} {
		if r := fork.reply(fork.cmd(c.cmd, c.args)); r.Type != protocol.TypeError || r.Code != protocol.CodeForbidden {
			t.Errorf("%s %v in a fork on B: %+v, want forbidden", c.cmd, c.args, r)
		}
	}
	page := do(t, mustRequest(t, "GET", tsB.URL+"/r/"+room.Code+"/fork"))
	if !strings.Contains(page.body, `id="step-phase"`) || strings.Contains(page.body, `id="play"`) || strings.Contains(page.body, `id="lr"`) {
		t.Errorf("fork page on B offers other controls than the lesson's")
	}
}
