package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestEvictIdle evicts a session without clients after the grace period.
func TestEvictIdle(t *testing.T) {
	srv, ts := newTestServer(t, Config{ResumeGrace: time.Hour})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	var w protocol.Welcome
	c.expect("welcome", &w)
	c.conn.Close()
	waitDetached(t, srv, w.Resume)
	now := time.Now()
	if n := srv.sessions.evictIdle(now.Add(30*time.Minute), srv.cfg.ResumeGrace); n != 0 {
		t.Errorf("evicted %d sessions within the grace period", n)
	}
	if n := srv.sessions.evictIdle(now.Add(2*time.Hour), srv.cfg.ResumeGrace); n != 1 {
		t.Errorf("evicted %d sessions after the grace period, want 1", n)
	}
	if got := metricsLine(t, ts, `bpv_sessions_evicted_total{reason="abandoned"}`); got != "1" {
		t.Errorf(`/metrics: bpv_sessions_evicted_total{reason="abandoned"} %s, want 1`, got)
	}
	c2 := dial(t, ts, "resume="+w.Resume)
	var w2 protocol.Welcome
	c2.expect("welcome", &w2)
	if w2.Resumed {
		t.Errorf("resumed an evicted session")
	}
}

func TestIdleSessionsEnded(t *testing.T) {
	const idle = 30 * time.Minute
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{IdleTimeout: idle}})
	room := newRoom(t, srv, "")
	viewer := joinAsViewer(t, ts, room)
	viewer.expect("welcome", nil)
	quiet := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	quiet.expect("welcome", nil)
	busy := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	busy.expect("welcome", nil)
	busy.reply(busy.cmd("step_batch", nil)) // a command now

	now := time.Now()
	// First sweep, just before the timeout: nothing is idle yet; the quiet
	// session (no command ever) is counted from here.
	if n := srv.endInactive(now.Add(idle - time.Minute)); n != 0 {
		t.Fatalf("first sweep ended %d sessions, want 0", n)
	}
	// Past the busy session's timeout, before the quiet one's.
	if n := srv.endInactive(now.Add(idle + time.Second)); n != 1 {
		t.Fatalf("second sweep ended %d sessions, want 1 (the busy one)", n)
	}
	var bye protocol.Reply
	busy.expect("bye", &bye)
	if bye.Reason != msgIdle {
		t.Errorf("bye reason %q, want %q", bye.Reason, msgIdle)
	}
	if _, _, err := busy.conn.ReadMessage(); err == nil {
		t.Errorf("idle session's page not closed")
	}
	// Rooms are not ended for inactivity while a page is connected.
	if n := srv.endInactive(now.Add(10 * idle)); n != 1 {
		t.Errorf("third sweep ended %d sessions, want 1 (the quiet one)", n)
	}
	if got := metricsLine(t, ts, `bpv_sessions_evicted_total{reason="idle"}`); got != "2" {
		t.Errorf(`/metrics: bpv_sessions_evicted_total{reason="idle"} %s, want 2`, got)
	}
	if got := metricsLine(t, ts, `bpv_sessions_evicted_total{reason="abandoned"}`); got != "0" {
		t.Errorf(`/metrics: bpv_sessions_evicted_total{reason="abandoned"} %s, want 0`, got)
	}
	viewer.send(map[string]any{"type": "ping"})
	viewer.expect("pong", nil)
	if len(srv.roomsOf()) != 1 {
		t.Errorf("the room was ended")
	}
}

// metricsLine returns the value /metrics of ts gives the series named
// (with its labels), "" if there is none.
func metricsLine(t *testing.T, ts *httptest.Server, series string) string {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	return ""
}
