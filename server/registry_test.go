package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestResume closes a tab and resumes its session with the token.
func TestResume(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	var w protocol.Welcome
	c.expect("welcome", &w)
	for range 3 {
		c.reply(c.cmd("step_batch", nil))
	}
	c.conn.Close()
	waitDetached(t, srv, w.Resume)

	c2 := dial(t, ts, "resume="+w.Resume)
	var w2 protocol.Welcome
	c2.expect("welcome", &w2)
	if w2.Session != w.Session || !w2.Resumed || w2.Config.Spec != tinySpec {
		t.Fatalf("resumed welcome %+v, want session %s", w2, w.Session)
	}
	var st testState
	c2.expect("state", &st)
	if st.Step != 3 {
		t.Errorf("resumed at step %d, want 3", st.Step)
	}
	var m struct {
		Reset  bool         `json:"reset"`
		Points [][3]float64 `json:"points"`
	}
	c2.expect("metrics", &m)
	if !m.Reset || len(m.Points) != 3 || m.Points[2][0] != 3 {
		t.Errorf("metrics on resume %+v, want reset and steps 1 … 3", m)
	}

	// An unknown token starts a new session.
	c3 := dial(t, ts, "resume=nope")
	var w3 protocol.Welcome
	c3.expect("welcome", &w3)
	if w3.Resumed || w3.Session == w.Session {
		t.Errorf("unknown token: welcome %+v, want a new session", w3)
	}
}

// waitDetached waits until the server has released every connection of the
// session with token.
func waitDetached(t *testing.T, srv *Server, token string) {
	t.Helper()
	for range 1000 {
		srv.sessions.mu.Lock()
		sess := srv.sessions.byToken[token]
		n := -1
		if sess != nil {
			n = sess.attached
		}
		srv.sessions.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("session %s still attached", token)
}

// TestShutdownSendsBye: every websocket receives bye and a close frame.
func TestShutdownSendsBye(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	var clients []*wsClient
	for range 2 {
		c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
		c.expect("welcome", nil)
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, c := range clients {
		var bye protocol.Reply
		c.expect("bye", &bye)
		if bye.Reason == "" {
			t.Errorf("client %d: bye without a reason", i)
		}
		c.conn.SetReadDeadline(time.Now().Add(readTimeout))
		_, _, err := c.conn.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("client %d: after bye %v, want close 1001", i, err)
		}
	}
}
