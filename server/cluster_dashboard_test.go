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
// the owner's pages of the room's home and of other replicas; a student
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

	student.conn.Close()
	gone := func(d protocol.Dashboard) bool {
		r := rowOf(d, ada)
		return r != nil && r.Status == protocol.StudentGone
	}
	ownerA.untilDashboard("Ada gone", gone)
	ownerC.untilDashboard("Ada gone, seen from C", gone)
}
