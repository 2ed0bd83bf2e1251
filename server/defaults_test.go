package server

import (
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestOneAddressCannotTakeEverySlot: by default one address keeps at most
// max(2, MaxSessions/8) labs with pages; the next is refused "full" and
// another address still gets a lab.
func TestOneAddressCannotTakeEverySlot(t *testing.T) {
	srv, ts := newTestServer(t, Config{MaxSessions: 32})
	perAddr := srv.Config().MaxSessionsPerAddr
	if perAddr != 4 {
		t.Fatalf("default sessions per address with 32 sessions: %d, want 4", perAddr)
	}
	one := newFrom("127.0.0.60")
	for i := range perAddr {
		c := dialWith(t, one.ws, ts, shapesQuery)
		c.expect("welcome", nil)
		_ = i
	}
	c := dialWith(t, one.ws, ts, shapesQuery)
	e := c.expectError()
	if e.Code != protocol.CodeFull || e.Message != msgSessionsPerAddr(perAddr) {
		t.Errorf("lab %d of one address: %+v, want %q %q", perAddr+1, e, protocol.CodeFull, msgSessionsPerAddr(perAddr))
	}
	other := dialWith(t, newFrom("127.0.0.61").ws, ts, shapesQuery)
	other.expect("welcome", nil)
	if cfg, _ := (Config{MaxSessions: 8}).withDefaults(); cfg.MaxSessionsPerAddr != 2 {
		t.Errorf("default sessions per address with 8 sessions: %d, want 2", cfg.MaxSessionsPerAddr)
	}
}

// TestAddressesOfOneIPv6Slash64CountAsOne: every per-address limit counts
// the addresses of one IPv6 /64 as one address, and IPv4 addresses each
// on their own.
func TestAddressesOfOneIPv6Slash64CountAsOne(t *testing.T) {
	a1 := netip.MustParseAddr("2001:db8:1:2::1")
	a2 := netip.MustParseAddr("2001:db8:1:2:ffff:ffff:ffff:fffe")
	b := netip.MustParseAddr("2001:db8:1:3::1")
	if addrKey(a1) != addrKey(a2) || addrKey(a1) == addrKey(b) {
		t.Errorf("addrKey: %v %v %v; want the first two equal, the third other", addrKey(a1), addrKey(a2), addrKey(b))
	}
	v4a, v4b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if addrKey(v4a) == addrKey(v4b) {
		t.Errorf("two IPv4 addresses counted as one")
	}

	// Connections per address (websockets and HTTP connections).
	conns := newAddrCounter(2)
	if !conns.acquire(a1) || !conns.acquire(a2) || conns.acquire(a1) {
		t.Errorf("connections: a /64 got more than 2")
	}
	if !conns.acquire(b) {
		t.Errorf("connections: another /64 refused")
	}

	// Join budget: wrong codes from any address of the /64 use one budget.
	now := time.Unix(1e9, 0)
	j := newJoinBudget(0.2, 4, 0, 0, 1, 1, now)
	for i := range 4 {
		j.wrong(netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+10)), now)
	}
	j.admit(a2, now) // the one look-up of a suspect address
	if why, _ := j.admit(a2, now); why != joinAddrOver {
		t.Errorf("join budget: an address of a /64 that tried 4 wrong codes is not over its budget")
	}
	if why, _ := j.admit(b, now); why != joinAllowed {
		t.Errorf("join budget: another /64 is refused")
	}

	// Labs and forks per address.
	srv, _ := newTestServer(t, Config{MaxSessions: 8, MaxSessionsPerAddr: 1})
	mk := func(a netip.Addr) error {
		sess := srv.newSession(shapesTrainer(t, srv, tinyConfig()), DefaultLabParams(), a, true)
		return srv.sessions.add(sess, 1)
	}
	if err := mk(a1); err != nil {
		t.Fatal(err)
	}
	if err := mk(a2); err != errSessionsPerAddr {
		t.Errorf("a second lab of the same /64: %v, want %v", err, errSessionsPerAddr)
	}
	if err := mk(b); err != nil {
		t.Errorf("a lab of another /64: %v", err)
	}

	// A room remembers a /64 that found it.
	room := newRoom(t, srv, "")
	room.remember(a1)
	if !room.knows(a2) || room.knows(b) {
		t.Errorf("room: knows another address of the /64 %v, another /64 %v; want true, false", room.knows(a2), room.knows(b))
	}
}

// TestJoinBudgetMapIsBounded: wrong codes from more addresses than
// JoinAddrs keep at most JoinAddrs budgets; the addresses beyond share one
// budget, which runs out for all of them together, and the gauge and the
// overflow counter say so.
func TestJoinBudgetMapIsBounded(t *testing.T) {
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{JoinAddrs: 3, JoinBurst: 3}})
	t0 := time.Unix(1e9, 0)
	srv.class.now = func() time.Time { return t0 }
	room := newRoom(t, srv, "")
	wrong := "ZZZZZZ"
	if wrong == room.Code {
		wrong = "YYYYYY"
	}
	notFound, limited := 0, 0
	for i := range 10 {
		p := newFrom(fmt.Sprintf("127.0.1.%d", i+1)).get(t, ts, "/join?code="+wrong)
		switch {
		case p.status == http.StatusTooManyRequests:
			limited++
		case strings.Contains(p.body, html.EscapeString(msgNoRoom)):
			notFound++
		}
	}
	if n := len(srv.class.joins.addrs); n > 3 {
		t.Errorf("join budgets of %d addresses kept, want at most 3", n)
	}
	if got := gaugeValue(t, srv.class.joins.tracked); got != 3 {
		t.Errorf("bpv_join_budget_addresses %v, want 3", got)
	}
	if got := counterValue(t, srv.class.joins.overflow); got != 7 {
		t.Errorf("bpv_join_budget_overflow_total %v, want 7", got)
	}
	// 3 addresses with budgets of their own, 7 sharing one of 3 wrong codes
	// and then 1 look-up (a third of the burst): 3+3+1 wrong codes looked
	// up, 3 refused.
	if notFound != 7 || limited != 3 {
		t.Errorf("10 addresses, one wrong code each: %d looked up, %d refused; want 7, 3", notFound, limited)
	}
}

// TestRoomCreationNeedsAKeyBeyondLoopback: without a room key, the page may
// create rooms only on a server listening on a loopback address, or with
// OpenRooms; otherwise the refusal says how to proceed.
func TestRoomCreationNeedsAKeyBeyondLoopback(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    Config
		status int
	}{
		{"loopback (the default address)", Config{}, http.StatusSeeOther},
		{"loopback IPv6", Config{Addr: "[::1]:8080"}, http.StatusSeeOther},
		{"every interface", Config{Addr: ":8080"}, http.StatusForbidden},
		{"a network address", Config{Addr: "192.0.2.7:8080"}, http.StatusForbidden},
		{"every interface, open rooms", Config{Addr: ":8080", ClassroomConfig: ClassroomConfig{OpenRooms: true}}, http.StatusSeeOther},
		{"every interface, a room key", Config{Addr: ":8080", ClassroomConfig: ClassroomConfig{RoomKey: "k"}}, http.StatusSeeOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, ts := newTestServer(t, c.cfg)
			p := postForm(t, ts, "/rooms", url.Values{"name": {"Biology"}, "key": {"k"}}, ts.URL)
			if p.status != c.status {
				t.Fatalf("POST /rooms: status %d, want %d", p.status, c.status)
			}
			if c.status == http.StatusForbidden {
				if !strings.Contains(p.body, html.EscapeString("-room-key")) || !strings.Contains(p.body, "-open-rooms") {
					t.Errorf("the refusal does not say how to proceed:\n%s", p.body)
				}
				if len(srv.roomsOf()) != 0 {
					t.Errorf("a room was created")
				}
				if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("rooms_closed")); got != 1 {
					t.Errorf("rooms_closed limit hits %v, want 1", got)
				}
			}
		})
	}
}
