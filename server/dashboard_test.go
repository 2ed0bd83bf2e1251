package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// studentHeader is the cookies of a student's browser in the room: its id
// and, if not "", the nickname typed when joining.
func studentHeader(room *Room, id, nick string) http.Header {
	ck := studentCookie(room.Code) + "=" + id
	if nick != "" {
		ck += "; " + nickCookie(room.Code) + "=" + url.QueryEscape(nick)
	}
	return http.Header{"Cookie": {ck}}
}

// expectDashboard reads the owner's dashboards until one satisfies pred.
func (c *wsClient) expectDashboard(pred func(protocol.Dashboard) bool) protocol.Dashboard {
	c.t.Helper()
	var d protocol.Dashboard
	for range 1000 {
		c.expect("dashboard", &d)
		if pred(d) {
			return d
		}
	}
	c.t.Fatalf("no such dashboard; last %+v", d)
	return d
}

func rowOf(d protocol.Dashboard, id string) *protocol.StudentRow {
	for i := range d.Students {
		if d.Students[i].ID == id {
			return &d.Students[i]
		}
	}
	return nil
}

// TestDashboard: the owner's dashboard lists the students by nickname
// (or "student N"), what each does and where each fork is; students never
// receive it; each action of the teacher reaches the pages concerned
// (the time each took is reported).
func TestDashboard(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Dashboard")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	ids := []string{"0123456789abcdef", "1123456789abcdef", "2123456789abcdef"}
	nicks := []string{"Ada", "Grace <b>", ""}
	var students []*wsClient
	for i := range ids {
		c := dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, studentHeader(room, ids[i], nicks[i]))
		c.expect("welcome", nil)
		students = append(students, c)
	}
	d := owner.expectDashboard(func(d protocol.Dashboard) bool { return len(d.Students) == 3 })
	for i, want := range []string{"Ada", "Grace <b>", "student 3"} {
		r := rowOf(d, ids[i])
		if r == nil || r.Nick != want || r.Status != protocol.StudentWatching || r.Fork != nil {
			t.Errorf("student %d's row %+v, want %q watching without a fork", i, r, want)
		}
	}
	if !d.Forks {
		t.Errorf("forks locked at the start")
	}
	// Students never see the list (nor each other's names).
	for i, c := range students {
		c.send(map[string]any{"type": "ping"})
		for {
			m := c.next()
			if m.typ == "dashboard" {
				t.Fatalf("student %d received the dashboard", i)
			}
			if m.typ == "pong" {
				break
			}
		}
	}

	// Ada forks and steps: the dashboard shows her fork's step and loss.
	fork := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, studentHeader(room, ids[0], ""))
	fork.expect("welcome", nil)
	fork.reply(fork.cmd("step_batch", nil))
	d = owner.expectDashboard(func(d protocol.Dashboard) bool {
		r := rowOf(d, ids[0])
		return r.Status == protocol.StudentFork && r.Fork != nil && r.Fork.Step == 1 && r.Fork.Loss != nil
	})

	act := func(action, student string) time.Time {
		args := map[string]any{"action": action}
		if student != "" {
			args["student"] = student
		}
		start := time.Now()
		if r := owner.reply(owner.cmd("class", args)); r.Type != "ack" {
			t.Fatalf("class %s: %+v", action, r)
		}
		return start
	}

	// Bring everyone back: Ada's fork page is told to go back to the room.
	start := act(protocol.ClassBringBack, "")
	var cm protocol.Class
	fork.expect("class", &cm)
	t.Logf("bring everyone back reached the fork's page in %v", time.Since(start))
	if cm.Action != "back" || cm.To != "/r/"+room.Code || cm.Message != msgBroughtBack {
		t.Errorf("bring back: %+v", cm)
	}

	// Lock forking: every student's page is told, and a fork is refused.
	start = act(protocol.ClassLockForks, "")
	for i, c := range students {
		var m protocol.Room
		for {
			c.expect("room", &m)
			if !m.Forks {
				break
			}
		}
		if i == 0 {
			t.Logf("lock forking reached the students' pages in %v", time.Since(start))
		}
	}
	locked := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, studentHeader(room, ids[1], ""))
	if r := locked.expectError(); r.Message != msgForksLocked {
		t.Errorf("fork while locked: %+v", r)
	}
	owner.expectDashboard(func(d protocol.Dashboard) bool { return !d.Forks })
	act(protocol.ClassAllowForks, "")
	owner.expectDashboard(func(d protocol.Dashboard) bool { return d.Forks })

	// End Ada's fork: her fork's page goes back, and the fork has ended.
	start = act(protocol.ClassEndFork, ids[0])
	fork.expect("class", &cm)
	t.Logf("end a fork reached the fork's page in %v", time.Since(start))
	if cm.Message != msgForkEnded {
		t.Errorf("end fork: %+v", cm)
	}
	owner.expectDashboard(func(d protocol.Dashboard) bool { return rowOf(d, ids[0]).Fork == nil })

	// Remove Grace: her page is told and closed, and she cannot come back.
	start = act(protocol.ClassRemove, ids[1])
	var bye protocol.Reply
	students[1].expect("bye", &bye)
	t.Logf("remove a student reached the student's page in %v", time.Since(start))
	if bye.Reason != msgRemoved {
		t.Errorf("remove: bye %+v", bye)
	}
	again := dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, studentHeader(room, ids[1], ""))
	if r := again.expectError(); r.Code != protocol.CodeForbidden {
		t.Errorf("a removed student rejoined: %+v", r)
	}
	d = owner.expectDashboard(func(d protocol.Dashboard) bool { return rowOf(d, ids[1]) == nil })
	if r := rowOf(d, ids[2]); r == nil || r.Status != protocol.StudentWatching {
		t.Errorf("the third student's row %+v", r)
	}

	// An action needs a known student; a student may not act.
	if r := owner.reply(owner.cmd("class", map[string]any{"action": "remove", "student": "nobody"})); r.Type != "error" {
		t.Errorf("remove nobody: %+v", r)
	}
	if r := students[2].reply(students[2].cmd("class", map[string]any{"action": "bring_back"})); r.Code != protocol.CodeForbidden {
		t.Errorf("a student's class command: %+v", r)
	}
	b, _ := json.Marshal(d)
	t.Logf("dashboard of %d students: %d bytes", len(d.Students), len(b))
}

// TestDashboardAnswered: while a prompt is on the pages, each row of the
// owner's dashboard says whether the student answered it (never what),
// live; after the reveal, whether they were right; once the prompt is
// closed, nothing.
func TestDashboardAnswered(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Dashboard")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	const ada, bo, cy = "00000000000000ad", "00000000000000b0", "00000000000000c1"
	students := map[string]*wsClient{}
	for _, id := range []string{ada, bo, cy} {
		students[id] = dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, studentHeader(room, id, ""))
		students[id].expect("welcome", nil)
	}
	answers := func(want map[string]string) {
		t.Helper()
		var last []byte
		for range 1000 {
			last = owner.expect(protocol.TypeDashboard, nil)
			var d protocol.Dashboard
			json.Unmarshal(last, &d)
			ok := len(d.Students) == len(want)
			for id, w := range want {
				r := rowOf(d, id)
				ok = ok && r != nil && r.Answer == w
			}
			if ok {
				return
			}
		}
		t.Fatalf("no dashboard with answers %v; last %s", want, last)
	}
	none := protocol.AnswerNone
	answers(map[string]string{ada: "", bo: "", cy: ""}) // no prompt: no answer column

	ask := map[string]any{"prompt": map[string]any{"kind": "choice", "options": []string{"x", "y"}, "answer": 1}}
	if r := owner.reply(owner.cmd(protocol.CmdPrompt, ask)); r.Type != protocol.TypeAck {
		t.Fatalf("prompt: %+v", r)
	}
	answers(map[string]string{ada: none, bo: none, cy: none})
	answer := func(id string, choice int) {
		t.Helper()
		c := students[id]
		if r := c.reply(c.send(map[string]any{"type": "answer", "prompt_id": 1, "pick": map[string]any{"choice": choice}})); r.Type != protocol.TypeAck {
			t.Fatalf("%s's answer: %+v", id, r)
		}
	}
	answer(ada, 1)
	answers(map[string]string{ada: protocol.AnswerGiven, bo: none, cy: none})
	answer(bo, 1)
	answer(bo, 0) // a change of mind: still answered, the last counts
	answers(map[string]string{ada: protocol.AnswerGiven, bo: protocol.AnswerGiven, cy: none})

	if r := owner.reply(owner.cmd(protocol.CmdReveal, nil)); r.Type != protocol.TypeAck {
		t.Fatalf("reveal: %+v", r)
	}
	answers(map[string]string{ada: protocol.AnswerRight, bo: protocol.AnswerWrong, cy: none})
	if r := owner.reply(owner.cmd(protocol.CmdPromptClose, nil)); r.Type != protocol.TypeAck {
		t.Fatalf("close_prompt: %+v", r)
	}
	answers(map[string]string{ada: "", bo: "", cy: ""})
}
