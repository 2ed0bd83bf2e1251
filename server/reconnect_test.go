package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestReconnectNeverStartsAFreshSession: a page's automatic reconnection
// (resume=TOKEN&reconnect=1) to a session that has ended is refused with a
// message that says so; no session is started in its place, for a lab or a
// fork. A page opened anew (no reconnect=1) starts one as before.
func TestReconnectNeverStartsAFreshSession(t *testing.T) {
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{IdleTimeout: time.Minute}})
	lab := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	var w protocol.Welcome
	lab.expect("welcome", &w)
	lab.reply(lab.cmd("step_batch", nil))
	now := time.Now()
	srv.endInactive(now)
	if n := srv.endInactive(now.Add(2 * time.Minute)); n != 1 {
		t.Fatalf("idle sweep ended %d sessions, want 1", n)
	}
	lab.expect("bye", nil)
	waitFor(t, "the session ended", func() bool { return srv.sessions.count() == 0 })

	again := dial(t, ts, "resume="+w.Resume+"&reconnect=1")
	var r protocol.Reply
	again.expect("error", &r)
	if r.Code != protocol.CodeNotFound || r.Message != msgSessionEnded {
		t.Errorf("reconnection to an ended session: %+v, want %s %q", r, protocol.CodeNotFound, msgSessionEnded)
	}
	if n := srv.sessions.count(); n != 0 {
		t.Errorf("%d sessions after the refused reconnection, want 0", n)
	}

	// A fork's page reconnecting with its ended fork's token is refused
	// too, rather than forking the room anew.
	room := newRoom(t, srv, "")
	fork := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, nil)
	var fw protocol.Welcome
	fork.expect("welcome", &fw)
	sess := srv.sessions.lookup(fw.Resume)
	srv.sessions.end(sess, "test")
	before := srv.sessions.count()
	re := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code+"?resume="+fw.Resume+"&reconnect=1", http.Header{})
	re.expect("error", &r)
	if r.Message != msgSessionEnded {
		t.Errorf("fork's reconnection: %+v", r)
	}
	if n := srv.sessions.count(); n != before {
		t.Errorf("sessions %d after the fork's refused reconnection, want %d", n, before)
	}

	// Opened anew (a reload: no reconnect=1), the page starts a lab.
	fresh := dial(t, ts, "resume="+w.Resume)
	var fw2 protocol.Welcome
	fresh.expect("welcome", &fw2)
	if fw2.Resumed {
		t.Errorf("a new page resumed an ended session")
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("waiting for %s", what)
}
