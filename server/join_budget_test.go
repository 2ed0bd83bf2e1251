package server

import (
	"context"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// from is a client whose connections leave from the loopback address ip
// (any of 127.0.0.0/8 works on Linux), so the server sees distinct
// network addresses.
type from struct {
	http *http.Client
	ws   *websocket.Dialer
}

func newFrom(ip string) from {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return from{
		http: &http.Client{
			Transport:     &http.Transport{DialContext: dial, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ws: &websocket.Dialer{NetDialContext: dial, HandshakeTimeout: readTimeout},
	}
}

func (f from) get(t *testing.T, ts *httptest.Server, path string) page {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return page{resp.StatusCode, resp.Header, b.String()}
}

// TestWrongCodesDoNotLockOutTheClass: wrong codes from a few addresses use
// up the server's join budget and their own, yet the right code passes —
// from a fresh address, from an address where a prankster typed wrong
// codes (a school's NAT), by the owner link and for students reconnecting —
// while wrong codes from the guessing addresses are refused before they are
// looked up. Real HTTP and websockets on loopback, distinct addresses.
func TestWrongCodesDoNotLockOutTheClass(t *testing.T) {
	// Defaults: 30 wrong codes per address (0.2 per second), 100 for all
	// together (2 per second); a suspect address 1 look-up per second,
	// bursts of 10. The clock stands still, so no budget refills.
	srv, ts := newTestServer(t, Config{})
	t0 := time.Unix(1e9, 0)
	srv.class.now = func() time.Time { return t0 }
	room := newRoom(t, srv, "Biology")
	wrongCode := func(i int) string {
		c := "ZZZZ" + string(joinCodeAlphabet[i/31%31]) + string(joinCodeAlphabet[i%31])
		if c == room.Code {
			c = "YYYYYY"
		}
		return c
	}

	// A student joined from 127.0.0.20 before the guessing.
	early := newFrom("127.0.0.20")
	if p := early.get(t, ts, "/join?code="+room.Code); p.status != http.StatusSeeOther {
		t.Fatalf("early student: status %d, want 303", p.status)
	}

	type outcome struct{ found, notFound, addrLimited, serverLimited int }
	want := map[string]outcome{
		// The global budget of 100 lasts for 3⅓ addresses.
		"127.0.0.10": {notFound: 30},
		"127.0.0.11": {notFound: 30},
		"127.0.0.12": {notFound: 30},
		// 10 within the global budget, then 10 look-ups as a suspect.
		"127.0.0.13": {notFound: 20, serverLimited: 10},
		// 1 look-up as an address that tried no wrong code yet, then 10.
		"127.0.0.14": {notFound: 11, serverLimited: 19},
	}
	n := 0
	for _, ip := range []string{"127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"} {
		f := newFrom(ip)
		var got outcome
		for range 30 {
			p := f.get(t, ts, "/join?code="+wrongCode(n))
			n++
			switch {
			case p.status == http.StatusSeeOther:
				got.found++
			case p.status == http.StatusTooManyRequests && strings.Contains(p.body, html.EscapeString(msgJoinRateServer(time.Second))):
				got.serverLimited++
			case p.status == http.StatusTooManyRequests && strings.Contains(p.body, html.EscapeString(msgJoinRate(time.Second))):
				got.addrLimited++
			case strings.Contains(p.body, html.EscapeString(msgNoRoom)):
				got.notFound++
			default:
				t.Fatalf("%s: wrong code: status %d, unexpected page", ip, p.status)
			}
		}
		if got != want[ip] {
			t.Errorf("%s: 30 wrong codes gave %+v, want %+v", ip, got, want[ip])
		}
	}

	// The right code passes from everywhere, each step as asked.
	owner := room.OwnerToken()
	steps := []struct {
		name, ip, path string
		status         int
		location       string
	}{
		{"fresh address, /join", "127.0.0.30", "/join?code=" + strings.ToLower(room.Code), http.StatusSeeOther, "/r/" + room.Code},
		{"fresh address, room page", "127.0.0.30", "/r/" + room.Code, http.StatusOK, ""},
		{"another fresh address, room link", "127.0.0.31", "/r/" + room.Code, http.StatusOK, ""},
		// 127.0.0.13 used its look-ups as a suspect: a guess is refused
		// before it is looked up, but the owner link passes.
		{"guessing address, owner link", "127.0.0.13", "/r/" + room.Code + "?owner=" + owner, http.StatusOK, ""},
		{"guessing address, wrong code", "127.0.0.13", "/join?code=" + wrongCode(n), http.StatusTooManyRequests, ""},
		{"early student, room page", "127.0.0.20", "/r/" + room.Code, http.StatusOK, ""},
	}
	for _, s := range steps {
		p := newFrom(s.ip).get(t, ts, s.path)
		if p.status != s.status || p.header.Get("Location") != s.location {
			t.Errorf("%s: status %d, location %q; want %d, %q", s.name, p.status, p.header.Get("Location"), s.status, s.location)
		}
	}

	// Websockets: the early student reconnects, the owner's page connects
	// from a guessing address, a fresh student connects.
	ws := []struct{ name, ip, path string }{
		{"early student reconnects", "127.0.0.20", "/ws/room/" + room.Code},
		{"owner from a guessing address", "127.0.0.14", "/ws/room/" + room.Code + "?owner=" + owner},
		{"fresh student", "127.0.0.32", "/ws/room/" + room.Code},
	}
	for _, w := range ws {
		c := dialPath(t, newFrom(w.ip).ws, ts, w.path, nil)
		var m protocol.Welcome
		c.expect("welcome", &m)
	}
	if got := counterValue(t, srv.class.metrics.joinFailed); got != 121 {
		t.Errorf("join failures = %v, want 121 (the wrong codes looked up)", got)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("join_attempts_total")); got != 30 {
		t.Errorf("join_attempts_total limit hits = %v, want 30", got)
	}
}

// TestPranksterBehindNATDoesNotStopTheClass: one address (a school's NAT)
// types 30 wrong codes and more; the class behind it still joins with the
// right code, by page and by websocket, and the prankster's next guesses
// are refused before they are looked up.
func TestPranksterBehindNATDoesNotStopTheClass(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	t0 := time.Unix(1e9, 0)
	srv.class.now = func() time.Time { return t0 }
	room := newRoom(t, srv, "")
	nat := newFrom("127.0.0.10")
	wrong := "222222"
	if wrong == room.Code {
		wrong = "333333"
	}
	// A prankster types 30 wrong codes: the address's budget is used up.
	for i := range 30 {
		if p := nat.get(t, ts, "/join?code="+wrong); !strings.Contains(p.body, html.EscapeString(msgNoRoom)) {
			t.Fatalf("wrong code %d: status %d, want the page saying no room has it", i+1, p.status)
		}
	}
	// 30 students behind the same address type the right code, then their
	// pages open the room and its websocket. (The first one's look-up is
	// one of the address's look-ups as a suspect; then the address is
	// known to have found the room.)
	for i := range 30 {
		if p := nat.get(t, ts, "/join?code="+room.Code); p.status != http.StatusSeeOther {
			t.Fatalf("student %d: /join status %d, want 303", i, p.status)
		}
		if p := nat.get(t, ts, "/r/"+room.Code); p.status != http.StatusOK {
			t.Fatalf("student %d: room page status %d, want 200", i, p.status)
		}
	}
	for range 3 {
		c := dialPath(t, nat.ws, ts, "/ws/room/"+room.Code, nil)
		c.expect("welcome", nil)
	}
	// The prankster goes on: the 9 look-ups left (bursts of 30/3, one used
	// by the class), then guesses are refused before they are looked up.
	for i := range 10 {
		p := nat.get(t, ts, "/join?code="+wrong)
		limited := p.status == http.StatusTooManyRequests && strings.Contains(p.body, html.EscapeString(msgJoinRate(time.Second)))
		if limited != (i == 9) {
			t.Fatalf("guess %d after the class joined: status %d, rate limited %v, want %v", i+1, p.status, limited, i == 9)
		}
	}
	// The class still reconnects.
	c := dialPath(t, nat.ws, ts, "/ws/room/"+room.Code, nil)
	c.expect("welcome", nil)
}

// TestWrongCodeKeepsTheName: a mistyped code is said on the join page,
// which shows back both the code and the name typed, so the student
// fixes the code without typing the name again.
func TestWrongCodeKeepsTheName(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "")
	wrong := "222222"
	if wrong == room.Code {
		wrong = "333333"
	}
	p := newFrom("127.0.0.40").get(t, ts, "/join?code="+wrong+"&nick="+url.QueryEscape("Ana <3"))
	if !strings.Contains(p.body, html.EscapeString(msgNoRoom)) {
		t.Fatalf("wrong code: status %d, want the page saying no room has it", p.status)
	}
	for _, want := range []string{`value="` + wrong + `"`, `value="Ana &lt;3"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the join page after a wrong code lacks %s", want)
		}
	}
}
