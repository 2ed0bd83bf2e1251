package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// tinySpec is a network small enough for the shapes set to make tests fast.
const tinySpec = "conv(2,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"

// readTimeout only keeps a broken test from hanging; no assertion depends
// on it.
const readTimeout = 30 * time.Second

func newTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.ShapesTrain == 0 {
		cfg.ShapesTrain, cfg.ShapesTest = 400, 100
	}
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	return srv, ts
}

// wsClient is a test client of the protocol.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	id   int
}

// message is one message from the server: JSON (typ, raw) or a frame.
type message struct {
	typ   string
	raw   []byte
	frame *protocol.Frame
}

func dial(t testing.TB, ts *httptest.Server, query string) *wsClient {
	t.Helper()
	return dialWith(t, websocket.DefaultDialer, ts, query)
}

func dialWith(t testing.TB, d *websocket.Dialer, ts *httptest.Server, query string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	if query != "" {
		url += "?" + query
	}
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

// send writes a JSON message, adding v and a fresh id; it returns the id.
func (c *wsClient) send(msg map[string]any) int {
	c.t.Helper()
	c.id++
	msg["v"] = 1
	msg["id"] = c.id
	if err := c.conn.WriteJSON(msg); err != nil {
		c.t.Fatalf("write %v: %v", msg, err)
	}
	return c.id
}

func (c *wsClient) cmd(name string, args map[string]any) int {
	c.t.Helper()
	m := map[string]any{"type": "cmd", "cmd": name}
	for k, v := range args {
		m[k] = v
	}
	return c.send(m)
}

func (c *wsClient) next() message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(readTimeout))
	mt, b, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if mt == websocket.BinaryMessage {
		f, err := protocol.DecodeFrame(b)
		if err != nil {
			c.t.Fatalf("DecodeFrame: %v", err)
		}
		return message{frame: f}
	}
	var h struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		c.t.Fatalf("server sent bad JSON %q: %v", b, err)
	}
	return message{typ: h.Type, raw: b}
}

// expect reads until a JSON message of type typ, decodes it into v (if not
// nil) and returns the raw text. Frames and other types are skipped.
func (c *wsClient) expect(typ string, v any) []byte {
	c.t.Helper()
	for range 10000 {
		m := c.next()
		if m.typ == typ {
			if v != nil {
				if err := json.Unmarshal(m.raw, v); err != nil {
					c.t.Fatalf("decode %s: %v", m.raw, err)
				}
			}
			return m.raw
		}
		if m.typ == "error" && typ != "error" {
			c.t.Fatalf("unexpected error while waiting for %s: %s", typ, m.raw)
		}
	}
	c.t.Fatalf("no %s message", typ)
	return nil
}

// frame reads until a trace frame.
func (c *wsClient) frame() *protocol.Frame {
	c.t.Helper()
	for range 10000 {
		if m := c.next(); m.frame != nil {
			return m.frame
		}
	}
	c.t.Fatalf("no frame")
	return nil
}

// reply reads until the ack or error of request id.
func (c *wsClient) reply(id int) protocol.Reply {
	c.t.Helper()
	for range 10000 {
		m := c.next()
		if m.typ != "ack" && m.typ != "error" && m.typ != "pong" {
			continue
		}
		var r protocol.Reply
		json.Unmarshal(m.raw, &r)
		if string(r.ID) == itoa(id) {
			return r
		}
	}
	c.t.Fatalf("no reply to %d", id)
	return protocol.Reply{}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// testState is the part of a state message the tests read.
type testState struct {
	Step    int             `json:"step"`
	Epoch   int             `json:"epoch"`
	Playing bool            `json:"playing"`
	Mode    string          `json:"mode"`
	Done    *protocol.Phase `json:"done"`
	Next    *protocol.Phase `json:"next"`
	Hyper   protocol.Hyper  `json:"hyper"`
	Speed   protocol.Speed  `json:"speed"`
	Loss    *float64        `json:"loss"`
	Error   *string         `json:"error"`
	Spec    string          `json:"spec"`
	Undo    int             `json:"undo"`

	EpochDone *float64 `json:"epoch_done"`
	EpochLeft *float64 `json:"epoch_left"`
	Stopped   string   `json:"stopped"`
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// shapesTrainer builds the reference trainer a session of the test server
// builds for the same parameters.
func shapesTrainer(t *testing.T, srv *Server, cfg engine.Config) *engine.Trainer {
	t.Helper()
	data, err := srv.data.get(protocol.DataShapes)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := engine.NewTrainer(cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// smallBufferDialer dials with a tiny kernel receive buffer, so a client
// that stops reading stalls the server's writes quickly.
var smallBufferDialer = &websocket.Dialer{
	NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	},
	HandshakeTimeout: 10 * time.Second,
}
