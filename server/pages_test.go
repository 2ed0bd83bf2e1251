package server

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type page struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, ts *httptest.Server, path string, cookies ...*http.Cookie) page {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return do(t, req)
}

func postForm(t *testing.T, ts *httptest.Server, path string, form url.Values, origin string) page {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return do(t, req)
}

func cookieOf(t *testing.T, p page, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cookie %s in %v", name, p.header["Set-Cookie"])
	return nil
}

func TestJoinPage(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "")
	wrong := "222222"
	if wrong == room.Code {
		wrong = "333333"
	}
	tests := []struct {
		name     string
		query    string
		status   int
		location string
		message  string
	}{
		{"the form", "", http.StatusOK, "", ""},
		{"the code, typed loosely", "?code=" + url.QueryEscape(strings.ToLower(room.Code[:3]+" "+room.Code[3:])), http.StatusSeeOther, "/r/" + room.Code, ""},
		{"a code no room has", "?code=" + wrong, http.StatusOK, "", msgNoRoom},
		{"not a code", "?code=" + url.QueryEscape("<b>hi</b>"), http.StatusOK, "", msgBadCode},
	}
	for _, tt := range tests {
		p := get(t, ts, "/join"+tt.query)
		if p.status != tt.status || p.header.Get("Location") != tt.location {
			t.Errorf("%s: status %d location %q, want %d %q", tt.name, p.status, p.header.Get("Location"), tt.status, tt.location)
		}
		if tt.status == http.StatusSeeOther {
			continue
		}
		if !strings.Contains(p.body, `data-testid="join-code"`) {
			t.Errorf("%s: the page has no code field", tt.name)
		}
		if tt.message != "" && !strings.Contains(p.body, html.EscapeString(tt.message)) {
			t.Errorf("%s: the page lacks the message %q", tt.name, tt.message)
		}
		if !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: no Content-Security-Policy", tt.name)
		}
	}
	// What the user typed is shown back escaped.
	p := get(t, ts, "/join?code="+url.QueryEscape(`"><script>alert(1)</script>`))
	if strings.Contains(p.body, "<script>alert(1)") || !strings.Contains(p.body, "&lt;script&gt;alert(1)") {
		t.Errorf("typed code not escaped in the join page:\n%s", p.body)
	}
}

func TestCreateRoomPage(t *testing.T) {
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{MaxRooms: 1}})
	name := `<script>alert("pwned")</script> & Co`
	p := postForm(t, ts, "/rooms", url.Values{"name": {name}}, ts.URL)
	if p.status != http.StatusSeeOther {
		t.Fatalf("POST /rooms: status %d, want 303\n%s", p.status, p.body)
	}
	rooms := srv.roomsOf()
	if len(rooms) != 1 {
		t.Fatalf("%d rooms, want 1", len(rooms))
	}
	room := rooms[0]
	if want := "/r/" + room.Code + "?owner=" + room.OwnerToken(); p.header.Get("Location") != want {
		t.Fatalf("POST /rooms: location %q, want %q", p.header.Get("Location"), want)
	}

	// The owner link makes this browser the owner (a cookie the room's
	// websocket reads) and shows the room, its name escaped.
	owner := get(t, ts, p.header.Get("Location"))
	ck := cookieOf(t, owner, ownerCookie(room.Code))
	if ck.Value != room.OwnerToken() || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("owner cookie %+v, want the token, HttpOnly, SameSite=Strict", ck)
	}
	for _, want := range []string{`data-role="owner"`, html.EscapeString(name), `"ws":"/ws/room/` + room.Code + `"`} {
		if !strings.Contains(owner.body, want) {
			t.Errorf("owner's room page lacks %q", want)
		}
	}
	if strings.Contains(owner.body, "<script>alert") {
		t.Errorf("room name shown unescaped")
	}
	// The owner page's websocket drives the room with the cookie.
	c := dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, http.Header{"Cookie": {ck.Name + "=" + ck.Value}})
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Errorf("owner's step_batch: %+v", r)
	}

	// A student's page: no token anywhere, a fork button.
	viewer := get(t, ts, "/r/"+room.Code)
	if viewer.status != http.StatusOK || !strings.Contains(viewer.body, `data-role="viewer"`) || !strings.Contains(viewer.body, `action="/r/`+room.Code+`/fork"`) {
		t.Errorf("viewer's room page: status %d, want 200 with role viewer and a fork form", viewer.status)
	}
	if strings.Contains(viewer.body, room.OwnerToken()) {
		t.Errorf("viewer's room page carries the owner token")
	}
	if !strings.Contains(viewer.header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("room page without Content-Security-Policy")
	}

	// The cap of rooms is told on the page.
	p = postForm(t, ts, "/rooms", url.Values{"name": {"second"}}, "")
	full := "This server already hosts as many rooms as it allows (1). A room closes once no page has been open on it for 10 minutes; try again then, or ask the server&#39;s operator to raise -max-rooms."
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, full) {
		t.Errorf("second room of 1: status %d, want 503 with %q", p.status, full)
	}
	// A form posted from another site is refused.
	p = postForm(t, ts, "/rooms", url.Values{"name": {"x"}}, "https://evil.example")
	if p.status != http.StatusForbidden {
		t.Errorf("cross-site POST /rooms: status %d, want 403", p.status)
	}
}

func TestCreateRoomKey(t *testing.T) {
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{RoomKey: "s3cret"}})
	p := postForm(t, ts, "/rooms", url.Values{"name": {"x"}, "key": {"guess"}}, "")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "Wrong room key") || len(srv.roomsOf()) != 0 {
		t.Errorf("wrong key: status %d, %d rooms, want 403 and none", p.status, len(srv.roomsOf()))
	}
	p = postForm(t, ts, "/rooms", url.Values{"name": {"x"}, "key": {"s3cret"}}, "")
	if p.status != http.StatusSeeOther || len(srv.roomsOf()) != 1 {
		t.Errorf("right key: status %d, %d rooms, want 303 and 1", p.status, len(srv.roomsOf()))
	}
}

func TestForkPage(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Chemistry")
	p := postForm(t, ts, "/r/"+room.Code+"/fork", nil, ts.URL)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/r/"+room.Code+"/fork" {
		t.Fatalf("POST fork: status %d location %q", p.status, p.header.Get("Location"))
	}
	ck := cookieOf(t, p, forkCookie(room.Code))
	page := get(t, ts, "/r/"+room.Code+"/fork", ck)
	if page.status != http.StatusOK || !strings.Contains(page.body, `data-role="fork"`) || !strings.Contains(page.body, `"ws":"/ws/fork/`+room.Code+`"`) {
		t.Errorf("fork page: status %d, want 200 with role fork and its websocket", page.status)
	}
	// The fork page's websocket (with the cookie) is the fork made by the POST.
	c := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, http.Header{"Cookie": {ck.Name + "=" + ck.Value}})
	var w protocol.Welcome
	c.expect("welcome", &w)
	if !w.Resumed || w.Resume != ck.Value {
		t.Errorf("fork page's websocket: resumed %v token %q, want the fork of the cookie", w.Resumed, w.Resume)
	}
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Errorf("the student drives the fork: %+v", r)
	}
}
