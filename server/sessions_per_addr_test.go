package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestSessionsPerAddress: one address that opens 40 websockets to a
// room's fork gets MaxSessionsPerAddr (default 8) forks and a clear "full"
// for the rest; it evicts at most that many of other addresses' abandoned
// sessions, and once its own are abandoned it replaces its own, never
// another address's.
func TestSessionsPerAddress(t *testing.T) {
	const others, perAddr = 10, 8
	// The room and 10 abandoned labs of 10 addresses: 11 of 12 sessions.
	srv, ts := newTestServer(t, Config{MaxSessions: others + 2, MaxSessionsPerAddr: perAddr})
	room := newRoom(t, srv, "")
	var abandoned []string
	for i := range others {
		c := dialWith(t, newFrom(fmt.Sprintf("127.0.0.%d", 40+i)).ws, ts, shapesQuery)
		var w protocol.Welcome
		c.expect("welcome", &w)
		c.conn.Close()
		waitDetached(t, srv, w.Resume)
		abandoned = append(abandoned, w.Resume)
	}
	kept := func() int {
		n := 0
		for _, tok := range abandoned {
			if srv.sessions.lookup(tok) != nil {
				n++
			}
		}
		return n
	}
	evicted0 := counterValue(t, srv.metrics.evicted.WithLabelValues(evictLimit))

	burst := newFrom("127.0.0.10")
	var welcomed []*wsClient
	var refused int
	for i := range 40 {
		c := dialPath(t, burst.ws, ts, "/ws/fork/"+room.Code, nil)
		m := c.next()
		switch m.typ {
		case "welcome":
			welcomed = append(welcomed, c)
		case "error":
			var r protocol.Reply
			if err := json.Unmarshal(m.raw, &r); err != nil || r.Code != protocol.CodeFull || r.Message != msgSessionsPerAddr(perAddr) {
				t.Fatalf("fork %d refused with %s, want %s %q", i, m.raw, protocol.CodeFull, msgSessionsPerAddr(perAddr))
			}
			refused++
		default:
			t.Fatalf("fork %d: first message %q, want welcome or error", i, m.typ)
		}
	}
	if len(welcomed) != perAddr || refused != 40-perAddr {
		t.Errorf("40 forks from one address: %d welcomed, %d refused; want %d, %d", len(welcomed), refused, perAddr, 40-perAddr)
	}
	// 11 + 8 sessions in 12: 7 of the others' abandoned labs made room.
	if got, want := counterValue(t, srv.metrics.evicted.WithLabelValues(evictLimit))-evicted0, 7.0; got != want {
		t.Errorf("evicted %v sessions, want %v", got, want)
	}
	if got := kept(); got != others-7 {
		t.Errorf("%d of the other addresses' abandoned labs kept, want %d", got, others-7)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("sessions_per_address")); got != 32 {
		t.Errorf("sessions_per_address limit hits = %v, want 32", got)
	}

	// The address closes its forks and opens 8 labs: they replace its own
	// abandoned forks, not the others' labs.
	for _, c := range welcomed {
		c.conn.Close()
	}
	var mine []string
	for _, sess := range srv.sessions.private() {
		if sess.perAddr && sess.addr.String() == "127.0.0.10" {
			mine = append(mine, sess.token)
		}
	}
	for _, tok := range mine {
		waitDetached(t, srv, tok)
	}
	for i := range perAddr {
		c := dialWith(t, burst.ws, ts, shapesQuery)
		var w protocol.Welcome
		c.expect("welcome", &w)
		if w.Resumed {
			t.Fatalf("lab %d resumed a session", i)
		}
	}
	if got := kept(); got != others-7 {
		t.Errorf("after the address's own forks were replaced, %d of the others' labs kept, want %d", got, others-7)
	}
	// A ninth lab of the address, with all 8 watched: refused.
	c := dialWith(t, burst.ws, ts, shapesQuery)
	if r := c.expectError(); r.Code != protocol.CodeFull || r.Message != msgSessionsPerAddr(perAddr) {
		t.Errorf("ninth lab: %s %q, want %s %q", r.Code, r.Message, protocol.CodeFull, msgSessionsPerAddr(perAddr))
	}
	// Another address still gets a fork (an abandoned lab makes room).
	o := dialPath(t, newFrom("127.0.0.60").ws, ts, "/ws/fork/"+room.Code, nil)
	o.expect("welcome", nil)
}

// TestHead: HEAD is answered like GET, without a body.
func TestHead(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for _, path := range []string{"/healthz", "/", "/join"} {
		req, _ := http.NewRequest("HEAD", ts.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("HEAD %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) != 0 {
			t.Errorf("HEAD %s: status %d, %d bytes of body; want 200, 0", path, resp.StatusCode, len(b))
		}
		get, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		get.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: Content-Type %q, GET's %q", path, ct, get.Header.Get("Content-Type"))
		}
	}
}
