package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/internal/natstest"
	"github.com/backpropviz/backpropviz/protocol"
)

// untilDashboard reads until a dashboard message for which ok holds.
func (c *wsClient) untilDashboard(what string, ok func(protocol.Dashboard) bool) protocol.Dashboard {
	c.t.Helper()
	var last protocol.Dashboard
	for range 100000 {
		m := c.next()
		if m.typ != protocol.TypeDashboard {
			continue
		}
		json.Unmarshal(m.raw, &last)
		if ok(last) {
			return last
		}
	}
	c.t.Fatalf("no dashboard with %s; last %+v", what, last)
	return last
}

// TestClusterDashboard: the teacher's dashboard lists the students whose
// pages another replica serves, with their nicknames and what they do, on
// the owner's pages of the room's home and of other replicas; the
// teacher's lock and removal reach that replica's students; a student
// whose page closes there is gone.
func TestClusterDashboard(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, tsA := newReplica(t, natsURL, "a")
	_, tsB := newReplica(t, natsURL, "b")
	_, tsC := newReplica(t, natsURL, "c")
	room := newRoom(t, a, "Biology 3B")
	ownerA := joinAsOwner(t, tsA, room)
	ownerA.expect("welcome", nil)
	ownerC := ownerOn(t, tsC, room)
	ownerC.expect("welcome", nil)

	const ada, cy = "00000000000000ad", "00000000000000c1"
	cookies := func(id, nick string) http.Header {
		h := http.Header{}
		h.Add("Cookie", studentCookie(room.Code)+"="+id)
		if nick != "" {
			h.Add("Cookie", nickCookie(room.Code)+"="+nick)
		}
		return h
	}
	student := dialPath(t, websocket.DefaultDialer, tsB, "/ws/room/"+room.Code, cookies(ada, "Ada"))
	student.expect("welcome", nil)
	local := dialPath(t, websocket.DefaultDialer, tsA, "/ws/room/"+room.Code, cookies(cy, ""))
	local.expect("welcome", nil)

	both := func(d protocol.Dashboard) bool {
		r, l := rowOf(d, ada), rowOf(d, cy)
		return r != nil && r.Nick == "Ada" && r.Status == protocol.StudentWatching && l != nil && l.Status == protocol.StudentWatching
	}
	for name, owner := range map[string]*wsClient{"A (home)": ownerA, "C": ownerC} {
		d := owner.untilDashboard("Ada on B and the student on A watching, seen from "+name, both)
		if len(d.Students) != 2 || rowOf(d, cy).Nick == "" {
			t.Errorf("dashboard on %s: %+v", name, d.Students)
		}
	}

	// The teacher locks forking on C: the student on B is told, and B
	// refuses the fork.
	if r := ownerC.reply(ownerC.cmd("class", map[string]any{"action": "lock_forks"})); r.Type != protocol.TypeAck {
		t.Fatalf("lock_forks: %+v", r)
	}
	for {
		var rm protocol.Room
		student.expect("room", &rm)
		if !rm.Forks {
			break
		}
	}
	fork := dialPath(t, websocket.DefaultDialer, tsB, "/ws/fork/"+room.Code, cookies(ada, ""))
	var refused protocol.Reply
	fork.expect("error", &refused)
	if refused.Code != protocol.CodeForbidden {
		t.Errorf("fork on B after lock_forks: %+v, want forbidden", refused)
	}

	// The teacher removes Ada from A: her page on B gets bye, and her row
	// goes from the dashboards.
	if r := ownerA.reply(ownerA.cmd("class", map[string]any{"action": "remove", "student": ada})); r.Type != protocol.TypeAck {
		t.Fatalf("remove: %+v", r)
	}
	student.expect("bye", nil)
	for name, owner := range map[string]*wsClient{"A (home)": ownerA, "C": ownerC} {
		owner.untilDashboard("Ada removed, seen from "+name, func(d protocol.Dashboard) bool { return rowOf(d, ada) == nil && !d.Forks })
	}

	// A student whose page on B closes is gone.
	const bo = "00000000000000b0"
	other := dialPath(t, websocket.DefaultDialer, tsB, "/ws/room/"+room.Code, cookies(bo, "Bo"))
	other.expect("welcome", nil)
	ownerA.untilDashboard("Bo watching", func(d protocol.Dashboard) bool {
		r := rowOf(d, bo)
		return r != nil && r.Status == protocol.StudentWatching
	})
	other.conn.Close()
	gone := func(d protocol.Dashboard) bool {
		r := rowOf(d, bo)
		return r != nil && r.Status == protocol.StudentGone
	}
	ownerA.untilDashboard("Bo gone", gone)
	ownerC.untilDashboard("Bo gone, seen from C", gone)
}
