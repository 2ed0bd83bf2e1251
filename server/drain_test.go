package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestDrain: while draining, /healthz answers 503 (it does not refuse the
// connection), a new websocket is refused, and an open one goes on.
func TestDrain(t *testing.T) {
	srv, addr := serveTCP(t, Config{})
	c := &wsClient{t: t}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c.conn = conn
	c.expect("welcome", nil)

	srv.Drain()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz while draining: %v, want 503", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz while draining: %d, want 503", resp.StatusCode)
	}
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("new websocket while draining: %v, want refused with 503", err)
	}
	if r := c.reply(c.cmd("step_phase", nil)); r.Type != "ack" {
		t.Errorf("open websocket while draining: %+v, want ack", r)
	}
}
