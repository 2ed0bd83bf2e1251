package server

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// Timing and size constants of one websocket connection.
const (
	// writeWait is the time allowed to write one message, or one chunk
	// (chunkSize) of a large one. A client that reads nothing for this long
	// is disconnected: its socket buffers are full and the write times out.
	// The time allowed between two messages (or pongs) from the client is
	// Config.KeepAlive; the server pings at 9/10 of it.
	writeWait = 10 * time.Second
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

	// Owned by the read pump: the questions this client may still ask
	// (see client.question).
	questions *rateBucket

	// Owned by the session goroutine.
	sub    protocol.Subscription
	subKey string

	// student is the student of a room's page (nil: the owner's, a lab's,
	// a fork's); set before the read pump starts.
	student *student

	// relay is set on the clients that stand for other replicas' pages in
	// a room's session (cluster_relay.go); such a client has no conn.
	relay *relay

	// flow paces the frames to the page's link (flow.go).
	flow flow
	// ping ticks when the write pump should ping; owned by the write pump.
	ping *time.Ticker
}

// writePump writes what the mailbox holds, and pings. It is the only writer
// of the connection.
func (c *client) writePump() {
	c.ping = time.NewTicker(c.srv.cfg.KeepAlive * 9 / 10)
	defer func() {
		c.ping.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case <-c.mb.notify:
			if !c.flush() {
				return
			}
		case <-c.ping.C:
			if !c.sendPing() {
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *client) sendPing() bool {
	return c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)) == nil
}

// flush writes what the mailbox holds and the link may take now (see
// flow): replies first, then the newest state, the merged metrics and the
// newest frame. It reports false when the connection is finished.
func (c *client) flush() bool {
	for {
		b := c.mb.take(c.flow.takeWhat())
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
			msg := protocol.AppendMetrics(nil, b.metrics.reset, b.metrics.points, b.metrics.tests)
			if !c.write(websocket.TextMessage, msg) {
				return false
			}
		}
		if b.frame != nil && !c.writeFrame(b.frame, b.frameB) {
			return false
		}
	}
}

// writeFrame writes a trace frame: the prepared message (compressed once
// for every client of the frame), or, when writing it may take long (see
// flow.longWrite), its bytes in chunks (compressed for this client alone),
// so that pings go out between them and the write deadline follows
// progress.
func (c *client) writeFrame(pm *websocket.PreparedMessage, b []byte) bool {
	m := c.srv.metrics
	// in flight from now: the page may acknowledge it before the write
	// returns
	c.flow.sent(len(b), time.Now())
	if c.flow.longWrite(len(b)) {
		if !c.writeChunks(websocket.BinaryMessage, b, true) {
			return false
		}
		m.chunkedWrites.Inc()
	} else {
		c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		c.conn.EnableWriteCompression(true) // compressed once, shared by the frame's clients
		if err := c.conn.WritePreparedMessage(pm); err != nil {
			c.log.Debug("write frame", "err", err)
			return false
		}
	}
	m.framesSent.Inc()
	m.bytesSent.Add(float64(len(b)))
	return true
}

// write writes a JSON message; one larger than two chunks is written in
// chunks, compressed (a chart history, a walk-through).
func (c *client) write(mt int, data []byte) bool {
	if len(data) > 2*chunkSize {
		if !c.writeChunks(mt, data, true) {
			return false
		}
		c.srv.metrics.chunkedWrites.Inc()
	} else {
		c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		c.conn.EnableWriteCompression(false) // small JSON: not worth a compressor each
		if err := c.conn.WriteMessage(mt, data); err != nil {
			c.log.Debug("write message", "err", err)
			return false
		}
	}
	c.srv.metrics.bytesSent.Add(float64(len(data)))
	return true
}

// writeChunks writes one message in chunks of chunkSize, each under its own
// write deadline, with a ping between two chunks when one is due: a
// message that takes a slow link a minute neither times out nor holds up
// the keep-alive.
func (c *client) writeChunks(mt int, data []byte, compress bool) bool {
	c.conn.EnableWriteCompression(compress)
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	w, err := c.conn.NextWriter(mt)
	if err != nil {
		return false
	}
	for len(data) > 0 {
		k := min(len(data), chunkSize)
		c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		if _, err := w.Write(data[:k]); err != nil {
			c.log.Debug("write chunk", "err", err)
			return false
		}
		data = data[k:]
		select {
		case <-c.ping.C: // a control frame may come between a message's frames
			if !c.sendPing() {
				return false
			}
		default:
		}
	}
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return w.Close() == nil
}

func (c *client) closeWith(code int, text string) {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, text))
}

// readPump reads client messages until the connection fails. A message
// longer than Config.MaxMessage is discarded and answered with too_large;
// the connection stays open.
func (c *client) readPump() {
	keepAlive := c.srv.cfg.KeepAlive
	c.conn.SetReadLimit(hardReadLimit)
	c.conn.SetReadDeadline(time.Now().Add(keepAlive))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(keepAlive))
		return nil
	})
	limit := newTokenBucket(c.srv.cfg.CmdRate, int(2*c.srv.cfg.CmdRate), time.Now())
	c.questions = newTokenBucket(c.srv.cfg.MaxQuestions, c.srv.cfg.questionBurst(), time.Now())
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
		// Any message is a sign of life: a page's heartbeat (ping) or
		// acknowledgement keeps it connected even while a pong waits
		// behind a large message.
		c.conn.SetReadDeadline(time.Now().Add(keepAlive))
		n, err := io.ReadFull(r, buf)
		switch {
		case err == nil: // longer than MaxMessage
			if _, err := io.Copy(io.Discard, r); err != nil {
				return // past hardReadLimit: gorilla closes with 1009
			}
			c.reply(c.srv.counted(refuseTooLarge(c.srv.cfg.MaxMessage)).reply(nil))
			continue
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		default:
			return
		}
		if mt != websocket.TextMessage {
			c.reply(protocol.ErrorReply(nil, protocol.CodeBadMessage, "binary messages are not accepted; send JSON text"))
			continue
		}
		if c.received(buf[:n]) { // an acknowledged frame: not charged
			continue
		}
		if !limit.allow(time.Now()) {
			c.reply(c.srv.counted(refuseMessageRate(c.srv.cfg.CmdRate)).reply(protocol.IDOf(buf[:n])))
			continue
		}
		c.handle(buf[:n])
	}
}

func (c *client) reply(b []byte) {
	// Past maxPendingReplies the write pump sends what is queued, then a
	// close frame (1008 "too many unread replies").
	c.mb.reply(b)
}

// handle decodes one message and passes it on.
func (c *client) handle(b []byte) {
	m, err := protocol.DecodeClientMsg(b)
	if err != nil {
		var e *protocol.MsgError
		if errors.As(err, &e) {
			c.reply(e.Reply())
		}
		return
	}
	switch m.Type {
	case protocol.TypePing:
		c.reply(protocol.Pong(m.ID))
	case protocol.TypeReceived:
		// a frame that was not in flight (charged to the message rate)
	case protocol.TypeFrames:
		c.setFrames(&m)
	case protocol.TypeCmd:
		if m.Cmd == protocol.CmdClass && c.classCommand(&m) { // dashboard.go
			return
		}
		c.sess.send(sessionMsg{kind: msgCmd, c: c, id: m.ID, cmd: m.Cmd, args: m.Arguments()})
	case protocol.TypeSubscribe:
		sub, err := protocol.ParseSubscription(&m)
		if err != nil {
			c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, err.Error()))
			return
		}
		c.sess.send(sessionMsg{kind: msgSubscribe, c: c, id: m.ID, sub: sub})
	case protocol.TypeExplain, protocol.TypeWalk, protocol.TypeGradCheck, protocol.TypeLook:
		c.question(&m) // questions.go
	case protocol.TypeTimeline:
		c.timeline(&m) // timeline_session.go
	case protocol.TypeAnswer:
		c.answer(&m) // prompt_session.go
	}
}
