package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
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
	done      chan struct{}
}

func dialClient(d *websocket.Dialer, url, name string, clk *clock) (*client, error) {
	conn, resp, err := d.Dial(url, nil)
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

func (c *client) send(m map[string]any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.id++
	m["v"], m["id"] = 1, c.id
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	c.conn.WriteJSON(m)
}

func (c *client) cmd(name string, args map[string]any) {
	m := map[string]any{"type": "cmd", "cmd": name}
	for k, v := range args {
		m[k] = v
	}
	c.send(m)
}

func (c *client) close() {
	c.conn.Close()
	<-c.done
}

// frameHeader is the part of a frame header the load reads.
type frameHeader struct {
	Seq       uint64 `json:"seq"`
	Step      int    `json:"step"`
	Published int64  `json:"published_unix_ms"`
}

func (c *client) read() {
	defer close(c.done)
	var pre [8]byte
	hbuf := make([]byte, 0, 4096)
	for {
		mt, r, err := c.conn.NextReader()
		if err != nil {
			return
		}
		at := time.Now()
		if mt == websocket.TextMessage {
			b, _ := io.ReadAll(r)
			var m struct {
				Type    string `json:"type"`
				Code    string `json:"code"`
				Message string `json:"message"`
				Reason  string `json:"reason"`
			}
			if json.Unmarshal(b, &m) == nil && (m.Type == "error" || m.Type == "bye") {
				c.mu.Lock()
				c.errors = append(c.errors, m.Type+" "+m.Code+m.Reason+": "+m.Message)
				c.mu.Unlock()
			}
			continue
		}
		if _, err := io.ReadFull(r, pre[:]); err != nil {
			return
		}
		n := int(binary.LittleEndian.Uint32(pre[4:]))
		hbuf = hbuf[:0]
		if cap(hbuf) < n {
			hbuf = make([]byte, 0, n)
		}
		hbuf = hbuf[:n]
		if _, err := io.ReadFull(r, hbuf); err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
		var h frameHeader
		if err := json.Unmarshal(hbuf, &h); err != nil {
			continue
		}
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
