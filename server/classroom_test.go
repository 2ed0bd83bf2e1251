package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// tinyRoomParams are lab settings small enough for fast room tests.
func tinyRoomParams(t *testing.T) LabParams {
	t.Helper()
	p := DefaultLabParams()
	p.Data = protocol.DataShapes
	p.Config.Spec = tinySpec
	return p
}

// newRoom creates a room with tinyRoomParams on srv.
func newRoom(t *testing.T, srv *Server, name string) *Room {
	t.Helper()
	room, err := srv.CreateRoom(name, tinyRoomParams(t))
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return room
}

// dialPath dials a websocket path of ts with optional headers.
func dialPath(t *testing.T, d *websocket.Dialer, ts *httptest.Server, path string, h http.Header) *wsClient {
	t.Helper()
	conn, err := dialRaw(d, ts, path, h)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func dialRaw(d *websocket.Dialer, ts *httptest.Server, path string, h http.Header) (*websocket.Conn, error) {
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+path, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return conn, err
}

func joinAsOwner(t *testing.T, ts *httptest.Server, room *Room) *wsClient {
	t.Helper()
	return dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code+"?owner="+room.OwnerToken(), nil)
}

func joinAsViewer(t *testing.T, ts *httptest.Server, room *Room) *wsClient {
	t.Helper()
	return dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, nil)
}

// expectRoom reads until a room message with the given viewer count.
func (c *wsClient) expectRoom(viewers int) protocol.Room {
	c.t.Helper()
	for range 100 {
		var m protocol.Room
		c.expect("room", &m)
		if m.Viewers == viewers {
			return m
		}
	}
	c.t.Fatalf("no room message with %d viewers", viewers)
	return protocol.Room{}
}

// expectError reads until an error message and returns it.
func (c *wsClient) expectError() protocol.Reply {
	c.t.Helper()
	var r protocol.Reply
	c.expect("error", &r)
	return r
}

func TestRoomViewerCannotDrive(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Biology")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	if m := owner.expectRoom(0); m.Role != "owner" || m.Code != room.Code || m.Name != "Biology" {
		t.Fatalf("owner's room message %+v", m)
	}
	viewer := joinAsViewer(t, ts, room)
	var w protocol.Welcome
	viewer.expect("welcome", &w)
	if w.Resume != "" {
		t.Errorf("a viewer was handed the room session's token %q", w.Resume)
	}
	if m := viewer.expectRoom(1); m.Role != "viewer" {
		t.Fatalf("viewer's room message %+v, want role viewer", m)
	}
	owner.expectRoom(1)

	cmds := []struct {
		cmd  string
		args map[string]any
	}{
		{"play", nil},
		{"step_phase", nil},
		{"step_batch", nil},
		{"step_epoch", nil},
		{"reset", map[string]any{"seed": 7}},
		{"set", map[string]any{"lr": 0.5}},
		{"test", nil},
		{"undo", nil},
	}
	for _, c := range cmds {
		r := viewer.reply(viewer.cmd(c.cmd, c.args))
		if r.Type != "error" || r.Code != protocol.CodeForbidden || r.Message != msgForbidden {
			t.Errorf("viewer's %s: reply %+v, want error %s %q", c.cmd, r, protocol.CodeForbidden, msgForbidden)
		}
	}
	// A viewer chooses what to inspect.
	if r := viewer.reply(viewer.send(map[string]any{"type": "subscribe", "sample": 1, "exact": true})); r.Type != "ack" {
		t.Errorf("viewer's subscribe: reply %+v, want ack", r)
	}
	// Nothing the viewer sent reached the trainer: the owner's step is the first.
	if r := owner.reply(owner.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("owner's step_batch: %+v", r)
	}
	var st testState
	for st.Step != 1 {
		owner.expect("state", &st)
		if st.Step > 1 || st.Hyper.LR == 0.5 || st.Playing {
			t.Fatalf("owner's state %+v after the viewer's commands", st)
		}
	}
	// The owner's step reaches the viewer.
	for {
		f := viewer.frame()
		if f.Header.Step == 1 {
			if f.Header.Sample != 1 {
				t.Errorf("viewer's frame sample %d, want its own choice 1", f.Header.Sample)
			}
			break
		}
	}
	// The owner's settings reach the viewer.
	owner.reply(owner.cmd("set", map[string]any{"lr": 0.02}))
	for st.Hyper.LR != 0.02 {
		viewer.expect("state", &st)
	}
}

func TestRoomResumeTokenDoesNotGrantControl(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "")
	// Even the room session's own token, used on the private endpoint,
	// gives only a viewer's rights.
	sess := room.session
	c := dial(t, ts, "resume="+sess.token)
	c.expect("welcome", nil)
	if r := c.reply(c.cmd("step_batch", nil)); r.Code != protocol.CodeForbidden {
		t.Errorf("step_batch through the room's token: %+v, want forbidden", r)
	}
}

func TestRoomReconnect(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	owner.reply(owner.cmd("step_batch", nil))
	owner.reply(owner.cmd("step_batch", nil))
	owner.conn.Close()
	viewer := joinAsViewer(t, ts, room)
	viewer.expect("welcome", nil)
	viewer.conn.Close()
	waitDetached(t, srv, room.session.token)

	// The owner's page comes back with the owner cookie and drives on.
	h := http.Header{"Cookie": {ownerCookie(room.Code) + "=" + room.OwnerToken()}}
	owner = dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, h)
	var st testState
	owner.expect("state", &st)
	if st.Step != 2 {
		t.Fatalf("owner back at step %d, want 2", st.Step)
	}
	if r := owner.reply(owner.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("owner's step after reconnecting: %+v", r)
	}
	viewer = joinAsViewer(t, ts, room)
	for st.Step != 3 {
		viewer.expect("state", &st)
	}
}

func TestRoomSlowViewerDoesNotSlowRoom(t *testing.T) {
	srv, err := New(Config{ShapesTrain: 400, ShapesTest: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The server's socket send buffers are tiny, so a viewer that does not
	// read blocks the server's writes to it after a few frames.
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener = smallSendBufferListener{ts.Listener}
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	room := newRoom(t, srv, "")
	slow := dialPath(t, smallBufferDialer, ts, "/ws/room/"+room.Code, nil)
	// The slow viewer asks for everything, exact, and then never reads.
	slow.send(map[string]any{"type": "subscribe", "exact": true, "kinds": protocol.Kinds})

	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	const steps = 60
	for i := range steps {
		if r := owner.reply(owner.cmd("step_batch", nil)); r.Type != "ack" {
			t.Fatalf("step %d: %+v", i, r)
		}
	}
	for f := owner.frame(); f.Header.Step != steps; f = owner.frame() {
	}
	if d := counterValue(t, srv.metrics.framesDropped); d == 0 {
		t.Errorf("no frame was dropped for the viewer that does not read")
	}
}

// smallSendBufferListener gives every accepted connection a 4 KiB kernel
// send buffer.
type smallSendBufferListener struct{ net.Listener }

func (l smallSendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

func TestJoinWrongCode(t *testing.T) {
	// 3 wrong codes per address; over budget, one look-up per 200 s.
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{JoinBurst: 3, JoinRate: 0.001}})
	t0 := time.Unix(1e9, 0)
	srv.class.now = func() time.Time { return t0 }
	room := newRoom(t, srv, "")
	wrong := "222222"
	if wrong == room.Code {
		wrong = "333333"
	}
	tests := []struct {
		path, code, message string
	}{
		{"/ws/room/" + wrong, protocol.CodeNotFound, msgNoRoom},
		{"/ws/room/0OI1", protocol.CodeNotFound, msgBadCode},
		{"/ws/fork/" + wrong, protocol.CodeNotFound, msgNoRoom},
		// Three wrong codes used the address's budget: the right code still
		// passes (the address's one look-up while over budget) ...
		{"/ws/room/" + room.Code, "", ""},
		// ... but another code is refused before it is looked up, so
		// trying tells nothing.
		{"/ws/room/" + wrong, protocol.CodeRateLimited, msgJoinRate(200 * time.Second)},
		// The room's code was found from this address: a reconnect passes.
		{"/ws/room/" + room.Code, "", ""},
	}
	for _, tt := range tests {
		c := dialPath(t, websocket.DefaultDialer, ts, tt.path, nil)
		if tt.code == "" {
			c.expect("welcome", nil)
			continue
		}
		r := c.expectError()
		if r.Code != tt.code || r.Message != tt.message {
			t.Errorf("%s: error %s %q, want %s %q", tt.path, r.Code, r.Message, tt.code, tt.message)
		}
	}
	if got := counterValue(t, srv.class.metrics.joinFailed); got != 3 {
		t.Errorf("join failures = %v, want 3", got)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("join_attempts")); got != 1 {
		t.Errorf("join_attempts limit hits = %v, want 1", got)
	}
}

func TestClassroomLimits(t *testing.T) {
	t.Run("connections per address", func(t *testing.T) {
		_, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{MaxConnsPerAddr: 2}})
		a := dial(t, ts, "data=shapes")
		a.expect("welcome", nil)
		b := dial(t, ts, "data=shapes")
		b.expect("welcome", nil)
		c := dial(t, ts, "data=shapes")
		r := c.expectError()
		if r.Code != protocol.CodeFull || r.Message != msgConnsPerAddr(2) {
			t.Errorf("third connection: %s %q, want %s %q", r.Code, r.Message, protocol.CodeFull, msgConnsPerAddr(2))
		}
		a.conn.Close()
		// The slot comes back once the server has seen the close.
		for i := 0; ; i++ {
			conn, err := dialRaw(websocket.DefaultDialer, ts, "/ws?data=shapes", nil)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(readTimeout))
			_, msg, err := conn.ReadMessage()
			conn.Close()
			if err == nil && strings.Contains(string(msg), `"welcome"`) {
				break
			}
			if i > 200 {
				t.Fatalf("no slot after closing a connection: %s %v", msg, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("viewers per room", func(t *testing.T) {
		srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{MaxViewers: 1}})
		room := newRoom(t, srv, "")
		v1 := joinAsViewer(t, ts, room)
		v1.expect("welcome", nil)
		v2 := joinAsViewer(t, ts, room)
		r := v2.expectError()
		if r.Code != protocol.CodeFull || r.Message != msgViewersFull(1) {
			t.Errorf("second viewer: %s %q, want %s %q", r.Code, r.Message, protocol.CodeFull, msgViewersFull(1))
		}
		// The owner is always let in.
		o := joinAsOwner(t, ts, room)
		o.expect("welcome", nil)
	})
	t.Run("rooms", func(t *testing.T) {
		srv, _ := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{MaxRooms: 1}})
		newRoom(t, srv, "")
		if _, err := srv.CreateRoom("", tinyRoomParams(t)); err != errRoomsFull {
			t.Errorf("second room: err %v, want errRoomsFull", err)
		}
	})
	t.Run("sessions", func(t *testing.T) {
		srv, ts := newTestServer(t, Config{MaxSessions: 1})
		room := newRoom(t, srv, "") // the room's session is the one
		c := dialPath(t, websocket.DefaultDialer, ts, "/ws/fork/"+room.Code, nil)
		r := c.expectError()
		if r.Code != protocol.CodeFull {
			t.Errorf("fork beyond the session cap: %+v, want %s", r, protocol.CodeFull)
		}
	})
}

func TestOriginRefused(t *testing.T) {
	_, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{AllowedOrigins: []string{"https://viz.school.example"}}})
	host := strings.TrimPrefix(ts.URL, "http://")
	tests := []struct {
		origin string
		ok     bool
	}{
		{"https://evil.example", false},
		{"http://" + host, true},
		{"https://viz.school.example", true},
		{"", true},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		conn, resp, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws?data=shapes", h)
		if conn != nil {
			conn.Close()
		}
		if tt.ok != (err == nil) {
			t.Errorf("Origin %q: dial err %v, want ok %v", tt.origin, err, tt.ok)
		}
		if !tt.ok && (resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("Origin %q: response %v, want 403", tt.origin, resp)
		}
	}
}

func TestCSPHeaderServed(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for _, path := range []string{"/healthz", "/"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q, want default-src 'self'", path, got)
		}
	}
}

func TestRoomNameEscapedInRoomMessage(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, `<img src=x onerror="alert(1)">`)
	c := joinAsViewer(t, ts, room)
	raw := c.expect("room", nil)
	if strings.Contains(string(raw), "<img") {
		t.Errorf("room message %s carries markup unescaped", raw)
	}
	var m protocol.Room
	json.Unmarshal(raw, &m)
	if m.Name != room.Name {
		t.Errorf("room name %q, want %q", m.Name, room.Name)
	}
}

func TestRoomFrameCarriesPublishTime(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "")
	v := joinAsViewer(t, ts, room)
	before := time.Now().UnixMilli()
	owner := joinAsOwner(t, ts, room)
	owner.reply(owner.cmd("step_batch", nil))
	f := v.frame()
	for f.Header.Step != 1 {
		f = v.frame()
	}
	if p := f.Header.Published; p < before || p > time.Now().UnixMilli() {
		t.Errorf("published_unix_ms %d, want within [%d, now]", p, before)
	}
}
