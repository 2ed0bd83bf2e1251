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

	// Owned by the read pump: the questions this client may still ask
	// (see client.question).
	questions *rateBucket

	// Owned by the session goroutine.
	sub    protocol.Subscription
	subKey string

	// relay is set on the clients that stand for other replicas' pages in
	// a room's session (cluster_relay.go); such a client has no conn.
	relay *relay
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
			msg := protocol.AppendMetrics(nil, b.metrics.reset, b.metrics.points, b.metrics.tests)
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
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
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
	case protocol.TypeCmd:
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
	}
}
