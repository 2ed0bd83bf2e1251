package server

import (
	"bytes"
	"image/png"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// ownerPage is the owner's room page of room, as the owner link opens it.
func ownerPage(t *testing.T, base string, room *Room) page {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/r/"+room.Code+"?owner="+room.OwnerToken(), nil)
	return do(t, req)
}

func TestScopeOf(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		scope listenScope
		port  string
	}{
		{":8080", scopeAll, "8080"},
		{"0.0.0.0:8080", scopeAll, "8080"},
		{"[::]:9000", scopeAll, "9000"},
		{"127.0.0.1:8080", scopeLoopback, "8080"},
		{"localhost:8080", scopeLoopback, "8080"},
		{"[::1]:8080", scopeLoopback, "8080"},
		{"192.0.2.7:8080", scopeOne, "8080"},
	} {
		scope, port := scopeOf(tc.addr)
		if scope != tc.scope || port != tc.port {
			t.Errorf("scopeOf(%q) = %v, %q, want %v, %q", tc.addr, scope, port, tc.scope, tc.port)
		}
	}
}

// TestNetworkLinks: listening on every interface, the links are the
// machine's own non-loopback addresses (as net.Interfaces lists them);
// on loopback there are none.
func TestNetworkLinks(t *testing.T) {
	if got := NetworkLinks("127.0.0.1:8080"); len(got) != 0 {
		t.Errorf("NetworkLinks(loopback) = %q, want none", got)
	}
	if got := NetworkLinks("192.0.2.7:8080"); len(got) != 1 || got[0] != "http://192.0.2.7:8080" {
		t.Errorf("NetworkLinks(one address) = %q", got)
	}
	want := map[string]bool{}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		as, _ := ifc.Addrs()
		for _, a := range as {
			p, err := netip.ParsePrefix(a.String())
			if err != nil || p.Addr().IsLinkLocalUnicast() || p.Addr().IsLoopback() {
				continue
			}
			want["http://"+net.JoinHostPort(p.Addr().Unmap().String(), "8080")] = true
		}
	}
	got := NetworkLinks(":8080")
	if len(got) != len(want) {
		t.Fatalf("NetworkLinks(:8080) = %q, want the %d addresses of the interfaces %v", got, len(want), want)
	}
	for _, l := range got {
		if !want[l] {
			t.Errorf("NetworkLinks(:8080) has %q, not an address of an interface", l)
		}
		if strings.Contains(l, "127.0.0.1") || strings.Contains(l, "[::1]") {
			t.Errorf("NetworkLinks(:8080) has a loopback link %q", l)
		}
	}
	t.Logf("join links on this machine: %q", got)
}

// TestOwnerPageOnLoopback: a server listening on 127.0.0.1 tells the
// owner plainly that students cannot reach it and gives the command that
// serves the network; no QR code is offered.
func TestOwnerPageOnLoopback(t *testing.T) {
	srv, ts := newTestServer(t, Config{Addr: "127.0.0.1:8080"})
	room := newRoom(t, srv, "Physics")
	p := ownerPage(t, ts.URL, room)
	if !strings.Contains(p.body, `data-testid="room-unreachable"`) || !strings.Contains(p.body, "Students cannot reach this room") {
		t.Fatalf("owner page on loopback does not say students cannot reach it")
	}
	port := portOf(strings.TrimPrefix(ts.URL, "http://"))
	want := "go run ./cmd/vizserver -addr 0.0.0.0:" + port + " -room &#39;Physics&#39;"
	if !strings.Contains(p.body, want) {
		t.Errorf("owner page does not give the command %q", want)
	}
	if strings.Contains(p.body, `data-testid="join-qr"`) {
		t.Errorf("owner page on loopback offers a QR code of a link students cannot open")
	}
	if q := get(t, ts, "/r/"+room.Code+"/qr.png?owner="+room.OwnerToken()); q.status != http.StatusNotFound {
		t.Errorf("QR code on loopback: status %d, want 404", q.status)
	}
	// A student's page never shows any of it.
	if v := get(t, ts, "/r/"+room.Code); strings.Contains(v.body, "room-unreachable") || strings.Contains(v.body, "join-qr") {
		t.Errorf("student page shows the owner's reach notes")
	}
}

// TestListenCommandOpensTheRoomAgain: the command an owner on loopback is
// given opens the room as it was opened: a lesson's room from its lesson
// (an embedded lesson by name, a file by its path, quoted for the shell),
// not an empty room of the lesson's title.
func TestListenCommandOpensTheRoomAgain(t *testing.T) {
	srv, _ := newTestServer(t, Config{Addr: "127.0.0.1:8080"})
	room := lessonRoom(t, srv, "")
	if got := room.ListenCommand("8080"); got != "go run ./cmd/vizserver -addr 0.0.0.0:8080 -room 'Tiny'" {
		t.Errorf("an uploaded lesson's room: %q (the form opens it again)", got)
	}
	l := room.Lesson()
	l.Name = "conv-pool-backward"
	if got := room.ListenCommand("8080"); got != "go run ./cmd/vizserver -addr 0.0.0.0:8080 -room 'Tiny' -lesson conv-pool-backward" {
		t.Errorf("an embedded lesson's room: %q", got)
	}
	l.Name, l.Path = "my lesson.json", "lessons/my lesson.json"
	if got := room.ListenCommand("9000"); got != "go run ./cmd/vizserver -addr 0.0.0.0:9000 -room 'Tiny' -lesson 'lessons/my lesson.json'" {
		t.Errorf("a lesson file's room: %q", got)
	}
}

// TestOwnerPageOnEveryInterface: a server listening on every interface,
// opened by its owner on the machine itself (127.0.0.1), shows join links
// on the machine's network addresses and a QR code that encodes the first.
func TestOwnerPageOnEveryInterface(t *testing.T) {
	links := NetworkLinks(":8080")
	if len(links) == 0 {
		t.Skip("this machine has no network address besides loopback")
	}
	srv, ts := newTestServer(t, Config{Addr: ":0"})
	room := newRoom(t, srv, "Physics")
	port := portOf(strings.TrimPrefix(ts.URL, "http://"))
	p := ownerPage(t, ts.URL, room)
	if strings.Contains(p.body, "room-unreachable") {
		t.Errorf("owner page says students cannot reach a server listening on every interface")
	}
	first := strings.Replace(links[0], ":8080", ":"+port, 1) + "/r/" + room.Code
	if !strings.Contains(p.body, `data-testid="join-link">`+first+`<`) {
		t.Errorf("owner page has no join link %q", first)
	}
	if strings.Contains(p.body, `data-testid="join-link">http://127.0.0.1`) {
		t.Errorf("owner page offers students a loopback link")
	}
	q := get(t, ts, "/r/"+room.Code+"/qr.png?owner="+room.OwnerToken())
	if q.status != http.StatusOK || q.header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR code: status %d type %q", q.status, q.header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader([]byte(q.body)))
	if err != nil {
		t.Fatalf("QR code: %v", err)
	}
	if w := img.Bounds().Dx(); w < 400 {
		t.Errorf("QR code %d pixels wide, want at least 400 to scan from the back of a room", w)
	}
	// The owner's browser on another machine reached the server at an
	// address students can use too: that one is shown.
	req, _ := http.NewRequest("GET", ts.URL+"/r/"+room.Code+"?owner="+room.OwnerToken(), nil)
	req.Host = "viz.school.example"
	if p := do(t, req); !strings.Contains(p.body, `data-testid="join-link">http://viz.school.example/r/`+room.Code+`<`) {
		t.Errorf("owner page reached by name does not offer that name to students")
	}
}

// TestOwnerLinkSettings: the lab settings an owner link carries apply to
// the room, all or none, and the page says which; a student's link does
// not change the room.
func TestOwnerLinkSettings(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Settings")
	lrOf := func() float64 {
		var lr float64
		room.session.inSession(func() { lr = room.session.params.Config.Hyper.LearningRate })
		return lr
	}
	p := get(t, ts, "/r/"+room.Code+"?owner="+room.OwnerToken()+"&lr=0.05&batch=16")
	if !strings.Contains(p.body, "The link&#39;s settings apply: lr=0.05, batch=16.") {
		t.Errorf("owner link with settings: no note that they apply")
	}
	if lr := lrOf(); lr != 0.05 {
		t.Errorf("room's learning rate %v after the owner link, want 0.05", lr)
	}
	p = get(t, ts, "/r/"+room.Code+"?owner="+room.OwnerToken()+"&lr=fast&batch=4")
	if !strings.Contains(p.body, "settings were refused") || !strings.Contains(p.body, "the room is unchanged") {
		t.Errorf("owner link with a bad setting: no refusal")
	}
	if lr := lrOf(); lr != 0.05 {
		t.Errorf("a refused link changed the learning rate to %v", lr)
	}
	get(t, ts, "/r/"+room.Code+"?lr=0.9")
	if lr := lrOf(); lr != 0.05 {
		t.Errorf("a student's link changed the learning rate to %v", lr)
	}
}
