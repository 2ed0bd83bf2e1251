package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/gorilla/websocket"
)

// Timing and size constants of one websocket connection.
const (
	// writeWait is the time allowed to write one message. A client that
	// reads nothing for this long is disconnected: its socket buffers are
	// full and the write times out.
	writeWait = 10 * time.Second
	// pongWait is the time allowed between two messages (or pongs) from the
	// client. Browsers answer pings by themselves, so only a dead peer or
	// a broken network path hits it.
	pongWait = 60 * time.Second
	// pingPeriod is how often the server pings; it must be less than
	// pongWait so a live client always answers in time.
	pingPeriod = pongWait * 9 / 10
	// hardReadLimit is the largest message read at all; a longer one closes
	// the connection (close code 1009). Messages between Config.MaxMessage
	// and this are read, discarded and answered with too_large.
	hardReadLimit = 64 << 10
	// maxPendingReplies bounds the replies waiting for one client. Replies
	// are never dropped, so a client that sends commands but does not read
	// is closed when it reaches this many.
	maxPendingReplies = 256
)

// client is one websocket connection: a read pump (the handler's goroutine)
// and a write pump. It is attached to one session.
type client struct {
	srv  *Server
	conn *websocket.Conn
	mb   *mailbox
	log  *slog.Logger
	sess *session      // set before the pumps start
	done chan struct{} // closed when the read pump ends

	// Owned by the session goroutine.
	sub    Subscription
	subKey string
}

// writePump writes what the mailbox holds, and pings. It is the only writer
// of the connection.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case <-c.mb.notify:
			if !c.flush() {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}

// flush writes everything in the mailbox: replies first, then the newest
// state, the merged metrics and the newest frame. It reports false when the
// connection is finished.
func (c *client) flush() bool {
	m := c.srv.metrics
	for {
		b := c.mb.take()
		if b.empty() {
			return true
		}
		for _, r := range b.replies {
			if !c.write(websocket.TextMessage, r) {
				return false
			}
		}
		if b.overflow {
			c.log.Info("closing a client that does not read its replies")
			c.closeWith(websocket.ClosePolicyViolation, "too many unread replies")
			return false
		}
		if b.closing != nil { // the last reply (bye, error) is the last message
			c.closeWith(b.closing.code, b.closing.text)
			return false
		}
		if b.state != nil && !c.write(websocket.TextMessage, b.state) {
			return false
		}
		if b.metrics != nil {
			msg := appendMetricsMsg(nil, b.metrics.reset, b.metrics.points, b.metrics.tests)
			if !c.write(websocket.TextMessage, msg) {
				return false
			}
		}
		if b.frame != nil {
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			c.conn.EnableWriteCompression(true) // compressed once, shared by the frame's clients
			if err := c.conn.WritePreparedMessage(b.frame); err != nil {
				c.log.Debug("write frame", "err", err)
				return false
			}
			m.framesSent.Inc()
			m.bytesSent.Add(float64(b.frameLen))
		}
	}
}

func (c *client) write(mt int, data []byte) bool {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	c.conn.EnableWriteCompression(false) // small JSON: not worth a compressor each
	if err := c.conn.WriteMessage(mt, data); err != nil {
		c.log.Debug("write message", "err", err)
		return false
	}
	c.srv.metrics.bytesSent.Add(float64(len(data)))
	return true
}

func (c *client) closeWith(code int, text string) {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, text))
}

// readPump reads client messages until the connection fails. A message
// longer than Config.MaxMessage is discarded and answered with too_large;
// the connection stays open.
func (c *client) readPump() {
	c.conn.SetReadLimit(hardReadLimit)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		return nil
	})
	limit := newTokenBucket(c.srv.cfg.CmdRate, int(2*c.srv.cfg.CmdRate), time.Now())
	buf := make([]byte, c.srv.cfg.MaxMessage+1)
	for {
		// A client that sends faster than it reads waits here (and its
		// sends back up in TCP) instead of piling up replies.
		if !c.mb.waitReplies(replyBacklog) {
			return
		}
		mt, r, err := c.conn.NextReader()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				c.log.Debug("read", "err", err)
			}
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		n, err := io.ReadFull(r, buf)
		switch {
		case err == nil: // longer than MaxMessage
			if _, err := io.Copy(io.Discard, r); err != nil {
				return // past hardReadLimit: gorilla closes with 1009
			}
			c.srv.metrics.limitHits.WithLabelValues("message_size").Inc()
			c.reply(errorMsg(nil, codeTooLarge, fmt.Sprintf("message larger than %d bytes", c.srv.cfg.MaxMessage)))
			continue
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		default:
			return
		}
		if mt != websocket.TextMessage {
			c.reply(errorMsg(nil, codeBadMessage, "binary messages are not accepted; send JSON text"))
			continue
		}
		if !limit.allow(time.Now()) {
			c.srv.metrics.limitHits.WithLabelValues("message_rate").Inc()
			c.reply(errorMsg(idOf(buf[:n]), codeRateLimited, fmt.Sprintf("more than %v messages per second", c.srv.cfg.CmdRate)))
			continue
		}
		c.handle(buf[:n])
	}
}

// idOf extracts the id of a message for an error reply, if it has one.
func idOf(b []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	json.Unmarshal(b, &m)
	return m.ID
}

func (c *client) reply(b []byte) {
	// Past maxPendingReplies the write pump sends what is queued, then a
	// close frame (1008 "too many unread replies").
	c.mb.reply(b)
}

// commands accepted in a "cmd" message.
var commands = []string{"play", "pause", "step_phase", "step_batch", "step_epoch", "reset", "set", "test"}

// handle decodes one message and passes it on.
func (c *client) handle(b []byte) {
	var m clientMsg
	if err := json.Unmarshal(b, &m); err != nil {
		if msg, ok := typeErrorMessage(err); ok { // decode.go
			c.reply(errorMsg(idOf(b), typeErrorCode(msg), msg))
			return
		}
		c.reply(errorMsg(idOf(b), codeBadMessage, "malformed JSON: "+err.Error()))
		return
	}
	if m.V != nil && *m.V != protocolVersion {
		c.reply(errorMsg(m.ID, codeBadVersion, fmt.Sprintf("protocol version %d: this server speaks version %d", *m.V, protocolVersion)))
		return
	}
	switch m.Type {
	case "ping":
		c.reply(mustJSON(replyMsg{Type: "pong", V: protocolVersion, ID: m.ID}))
	case "cmd":
		if !slices.Contains(commands, m.Cmd) {
			c.reply(errorMsg(m.ID, codeBadMessage, fmt.Sprintf("unknown command %q", m.Cmd)))
			return
		}
		args := m.cmdArgs
		if m.Args != nil {
			args = *m.Args
		}
		c.sess.send(sessionMsg{kind: msgCmd, c: c, id: m.ID, cmd: m.Cmd, args: args})
	case "subscribe":
		sub, err := parseSubscription(&m)
		if err != nil {
			c.reply(errorMsg(m.ID, codeInvalid, err.Error()))
			return
		}
		c.sess.send(sessionMsg{kind: msgSubscribe, c: c, id: m.ID, sub: sub})
	default:
		c.reply(errorMsg(m.ID, codeBadMessage, fmt.Sprintf("unknown message type %q", m.Type)))
	}
}

// parseSubscription reads a subscribe message; absent fields take the
// defaults (sample 0, all layers, every kind but gradin, q8 while playing).
func parseSubscription(m *clientMsg) (Subscription, error) {
	sub := DefaultSubscription()
	if len(m.Sample) > 0 {
		n, probe, err := parseSample(m.Sample)
		if err != nil {
			return sub, err
		}
		sub.Sample, sub.Probe = n, probe
	}
	if m.Probe != nil && *m.Probe {
		sub.Probe = true
	}
	if m.Exact != nil {
		sub.Exact = *m.Exact
	}
	if m.Kinds != nil {
		sub.Kinds = 0
		for _, k := range m.Kinds {
			b, ok := kindBit(k)
			if !ok {
				return sub, fmt.Errorf("tensor kind %q: want one of %v", k, allKinds)
			}
			sub.Kinds |= b
		}
	}
	if len(m.Layers) > 0 && string(m.Layers) != `"all"` && string(m.Layers) != "null" {
		layers, err := parseLayers(m.Layers, sub.Kinds)
		if err != nil {
			return sub, err
		}
		sub.Layers = layers
	}
	return sub, nil
}

// maxChannel bounds the channel numbers of a subscription.
const maxChannel = 1 << 16

// parseLayers reads the "layers" of a subscribe message: a list whose
// items are layer indices (kinds: the message's kinds, all channels) or
// objects {"layer":0,"kinds":["act","grad"],"channels":[0,4]} (kinds absent:
// the message's kinds; channels absent: all; [from, to) otherwise). The
// result is normalized (see normalizeLayers).
func parseLayers(raw json.RawMessage, kinds kindMask) ([]LayerSub, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("layers %.100s: want \"all\" or a list of layer indices or {layer, kinds, channels}", raw)
	}
	out := make([]LayerSub, 0, len(items))
	for _, it := range items {
		var l LayerSub
		var idx int
		if err := json.Unmarshal(it, &idx); err == nil {
			l = LayerSub{Layer: idx, Kinds: kinds}
		} else {
			var o struct {
				Layer    *int     `json:"layer"`
				Kinds    []string `json:"kinds"`
				Channels []int    `json:"channels"`
			}
			if err := json.Unmarshal(it, &o); err != nil || o.Layer == nil {
				return nil, fmt.Errorf("layers item %.100s: want a layer index or {\"layer\":i,\"kinds\":[…],\"channels\":[from,to]}", it)
			}
			l = LayerSub{Layer: *o.Layer, Kinds: kinds}
			if o.Kinds != nil {
				l.Kinds = 0
				for _, k := range o.Kinds {
					b, ok := kindBit(k)
					if !ok {
						return nil, fmt.Errorf("layer %d: tensor kind %q: want one of %v", *o.Layer, k, allKinds)
					}
					l.Kinds |= b
				}
			}
			if o.Channels != nil {
				if len(o.Channels) != 2 || o.Channels[0] < 0 || o.Channels[1] <= o.Channels[0] || o.Channels[1] > maxChannel {
					return nil, fmt.Errorf("layer %d: channels %v: want [from, to] with 0 ≤ from < to ≤ %d", *o.Layer, o.Channels, maxChannel)
				}
				l.From, l.To = o.Channels[0], o.Channels[1]
			}
		}
		if l.Layer < -1 || l.Layer > 1000 {
			return nil, fmt.Errorf("layer %d: want −1 (the input) or a layer index", l.Layer)
		}
		out = append(out, l)
	}
	return normalizeLayers(out), nil
}
