package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// countingConn counts the bytes read from the network: what the server
// sent, compressed or not, with websocket framing.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func countingDial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c}, nil
}

// clock keeps the first arrival of each frame of the room, the reference
// of latency when frames carry no publish time.
type clock struct {
	mu    sync.Mutex
	first map[uint64]time.Time // by seq
}

func (k *clock) saw(seq uint64, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.first == nil {
		k.first = map[uint64]time.Time{}
	}
	if t, ok := k.first[seq]; !ok || at.Before(t) {
		k.first[seq] = at
	}
}

func (k *clock) firstAt(seq uint64) (time.Time, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.first[seq]
	return t, ok
}

// arrival is one trace frame as received.
type arrival struct {
	seq       uint64
	step      int
	at        time.Time
	published int64 // server's publish time, Unix ms; 0 if the header has none
}

// client is one websocket of the load: it reads everything and keeps the
// frames that arrive within the measured window.
type client struct {
	name string
	conn *websocket.Conn
	wire *countingConn
	clk  *clock // nil: not a frame of the room
	id   int

	wmu sync.Mutex // writes

	mu        sync.Mutex
	measuring bool
	frames    []arrival
	wire0     int64
	wire1     int64
	errors    []string
	classAt   time.Time            // when the teacher's first "class" message came (a fork's page)
	acks      map[string]time.Time // when each request was acknowledged, by id
	students  int                  // the students of the last dashboard (the owner's page)
	prompt    promptSeen           // predict, then reveal (prompt.go)
	done      chan struct{}
}

// studentHeader is the cookies of student i's browser in the room code:
// its student id and its nickname, "student i" (see the teacher's
// dashboard, docs/protocol.md).
func studentHeader(code string, i int) http.Header {
	return http.Header{"Cookie": {fmt.Sprintf("bpv_student_%s=%016x; bpv_nick_%s=%s", code, i+1, code, url.QueryEscape(fmt.Sprintf("student %d", i)))}}
}

// dialClient connects as a page does: it acknowledges every frame (acks=1,
// see docs/protocol.md "Flow control"), so the server paces frames to what
// this client reads. h (if not nil) are the request's headers: a student's
// cookies.
func dialClient(d *websocket.Dialer, url, name string, clk *clock, h http.Header) (*client, error) {
	if strings.Contains(url, "?") {
		url += "&acks=1"
	} else {
		url += "?acks=1"
	}
	conn, resp, err := d.Dial(url, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s: %w", name, url, err)
	}
	c := &client{name: name, conn: conn, done: make(chan struct{})}
	c.wire, _ = conn.NetConn().(*countingConn)
	if name == "owner" || len(name) > 6 && name[:6] == "viewer" {
		c.clk = clk
	}
	go c.read()
	return c, nil
}

// send writes a request and returns its id.
func (c *client) send(m map[string]any) int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.id++
	m["v"], m["id"] = protocol.Version, c.id
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	c.conn.WriteJSON(m)
	return c.id
}

// received acknowledges a frame (seq nil: one that did not decode).
func (c *client) received(seq *uint64) {
	m := map[string]any{"type": protocol.TypeReceived, "v": protocol.Version}
	if seq != nil {
		m["seq"] = *seq
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	c.conn.WriteJSON(m)
}

// cmd sends a command and returns its id.
func (c *client) cmd(name string, args map[string]any) int {
	m := map[string]any{"type": protocol.TypeCmd, "cmd": name}
	for k, v := range args {
		m[k] = v
	}
	return c.send(m)
}

// ackedAt is when request id was acknowledged (zero: not yet).
func (c *client) ackedAt(id int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acks[fmt.Sprint(id)]
}

func (c *client) close() {
	c.conn.Close()
	<-c.done
}

func (c *client) read() {
	defer close(c.done)
	var buf bytes.Buffer // reused: a frame's bytes are read, its header decoded
	for {
		mt, r, err := c.conn.NextReader()
		if err != nil {
			return
		}
		at := time.Now()
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return
		}
		if mt == websocket.TextMessage {
			var m protocol.Reply
			if json.Unmarshal(buf.Bytes(), &m) == nil && (m.Type == protocol.TypeError || m.Type == protocol.TypeBye) {
				c.mu.Lock()
				c.errors = append(c.errors, m.Type+" "+m.Code+m.Reason+": "+m.Message)
				c.mu.Unlock()
			}
			if m.Type == protocol.TypeAck && len(m.ID) > 0 {
				c.mu.Lock()
				if c.acks == nil {
					c.acks = map[string]time.Time{}
				}
				c.acks[string(m.ID)] = at
				c.mu.Unlock()
			}
			c.class(m.Type, buf.Bytes(), at)
			continue
		}
		h, _, err := protocol.DecodeHeader(buf.Bytes())
		if err != nil {
			c.received(nil)
			continue
		}
		c.received(&h.Seq)
		if c.clk != nil {
			c.clk.saw(h.Seq, at)
		}
		c.mu.Lock()
		if c.measuring {
			c.frames = append(c.frames, arrival{seq: h.Seq, step: h.Step, at: at, published: h.Published})
		}
		c.mu.Unlock()
	}
}

func (c *client) wireBytes() int64 {
	if c.wire == nil {
		return 0
	}
	return c.wire.n.Load()
}

func (c *client) startWindow() {
	c.mu.Lock()
	c.measuring, c.wire0 = true, c.wireBytes()
	c.mu.Unlock()
}

func (c *client) endWindow() {
	c.mu.Lock()
	c.measuring, c.wire1 = false, c.wireBytes()
	c.mu.Unlock()
}

// class notes the teacher's messages: when a fork's page is first told to
// go back to the room, and how many students the owner's dashboard lists.
func (c *client) class(typ string, b []byte, at time.Time) {
	c.promptMsg(typ, b, at)
	switch typ {
	case protocol.TypeClass:
		c.mu.Lock()
		if c.classAt.IsZero() {
			c.classAt = at
		}
		c.mu.Unlock()
	case protocol.TypeDashboard:
		var d protocol.Dashboard
		if json.Unmarshal(b, &d) == nil {
			c.mu.Lock()
			c.students = len(d.Students)
			c.mu.Unlock()
		}
	}
}
