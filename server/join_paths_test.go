package server

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// do sends a request from f with a cookie (if name is not empty) and
// optional form, and returns what came back.
func (f from) do(t *testing.T, ts *httptest.Server, method, path, cookie, value string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, ts.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookie, Value: value})
	}
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

// TestForkPageSpendsTheJoinBudget: a live token of one's own (here a fork
// of another room) as the fork cookie of a guessed code does not let the
// fork page tell, without spending the join budget, whether a room has the
// code: wrong guesses are charged like /join's, then refused before they
// are looked up, and the room's name is never shown to the guesser.
func TestForkPageSpendsTheJoinBudget(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	t0 := time.Unix(1e9, 0)
	srv.class.now = func() time.Time { return t0 } // no budget refills
	secret := newRoom(t, srv, "Secret Biology")
	other := newRoom(t, srv, "Open Chemistry")
	guesser := newFrom("127.0.0.40")
	a := peerAddr("127.0.0.40:1")
	fork, err := srv.Fork(other, a)
	if err != nil {
		t.Fatal(err)
	}
	wrong := func(i int) string {
		c := "ZZZZ" + string(joinCodeAlphabet[i/31%31]) + string(joinCodeAlphabet[i%31])
		if c == secret.Code || c == other.Code {
			c = "YYYYYY"
		}
		return c
	}
	// 30 wrong codes (the address's budget), then 10 look-ups as a
	// suspect (a third of the burst), then refusals.
	limited := 0
	for i := range 45 {
		code := wrong(i)
		p := guesser.do(t, ts, "GET", "/r/"+code+"/fork", forkCookie(code), fork.token, nil)
		switch {
		case p.status == http.StatusTooManyRequests && strings.Contains(p.body, html.EscapeString(msgJoinRate(time.Second))):
			limited++
		case !strings.Contains(p.body, html.EscapeString(msgNoRoom)):
			t.Fatalf("guess %d: the fork page of a code no room has: status %d, not the join page saying so", i+1, p.status)
		}
	}
	if limited != 5 {
		t.Errorf("45 guesses through the fork page: %d refused by the join budget, want 5", limited)
	}
	if got := counterValue(t, srv.class.metrics.joinFailed); got != 40 {
		t.Errorf("join failures = %v, want 40 (the wrong codes looked up)", got)
	}
	// The right code, guessed now, is refused too and the name is not shown.
	p := guesser.do(t, ts, "GET", "/r/"+secret.Code+"/fork", forkCookie(secret.Code), fork.token, nil)
	if p.status != http.StatusTooManyRequests || strings.Contains(p.body, "Secret Biology") {
		t.Errorf("right code after the budget: status %d, name shown %v; want 429 without the name",
			p.status, strings.Contains(p.body, "Secret Biology"))
	}
	// The resume form tells no more: refused before its code is looked up.
	p = guesser.do(t, ts, "POST", "/r/"+wrong(50)+"/resume", "", "", url.Values{"owner": {"x"}})
	if p.status != http.StatusTooManyRequests {
		t.Errorf("resume of a guessed code after the budget: status %d, want 429", p.status)
	}
	// The fork's own room still shows its fork page and name to its student.
	p = guesser.do(t, ts, "GET", "/r/"+other.Code+"/fork", forkCookie(other.Code), fork.token, nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Open Chemistry") {
		t.Errorf("own fork's page: status %d, name shown %v; want 200 with the name", p.status, strings.Contains(p.body, "Open Chemistry"))
	}
}

// TestForkPageHidesTheNameFromNonMembers: a student who has not joined a
// room (a fork of another room as cookie, a fresh address) is not shown the
// room's name by its fork page without looking its code up as a join; a
// lab's token is no fork of the room.
func TestForkPageHidesTheNameFromNonMembers(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	t0 := time.Unix(1e9, 0)
	srv.class.now = func() time.Time { return t0 }
	secret := newRoom(t, srv, "Secret Biology")
	other := newRoom(t, srv, "Open Chemistry")
	fork, err := srv.Fork(other, peerAddr("127.0.0.41:1"))
	if err != nil {
		t.Fatal(err)
	}
	if srv.forkOfRoom(fork.token, secret.Code) != nil {
		t.Fatal("a fork of one room counts as a fork of another")
	}
	if srv.forkOfRoom(fork.token, other.Code) != fork {
		t.Fatal("a fork is not found as its own room's")
	}
	// Each look-up through the fork page is a join: the first one of the
	// secret room is charged nothing, but is counted as looked up.
	before := counterValue(t, srv.class.metrics.joinFailed)
	newFrom("127.0.0.41").do(t, ts, "GET", "/r/ZZZZZZ/fork", forkCookie("ZZZZZZ"), fork.token, nil)
	if got := counterValue(t, srv.class.metrics.joinFailed); got != before+1 {
		t.Errorf("a wrong code through the fork page with another room's fork as cookie: join failures %v, want %v", got, before+1)
	}
}
