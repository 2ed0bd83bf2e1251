package server

import (
	"bytes"
	"net"
	"sync"
	"time"

	"github.com/backpropviz/backpropviz/protocol"
)

// Flow control of one page's trace frames, so that a page on a slow link
// gets fresh frames at the rate its link carries instead of a backlog.
//
// A page that connects with acks=1 acknowledges every frame it receives
// ("received"). While its link is busy — a frame unacknowledged and the
// frames in flight worth more than linkQueue of the link's measured rate —
// the write pump writes only replies: the newest frame, state and charts
// wait in the mailbox (which keeps the newest only) and go out with the
// next acknowledgement. So at most about linkQueue of frames is queued
// below the mailbox, wherever the link's buffers are, and the frame rate
// falls to what the link carries. The rate measured from the
// acknowledgements also picks the detail: on a link slower than slowLink a
// page gets 8-bit frames while the session plays, even for keyframes and
// exact subscriptions (see session.publishFrames), and writes of large
// messages are cut into chunks with pings between them (client.writeChunks).
//
// A page without acks=1 (an older client) is written to as fast as its
// socket takes it, through a small kernel send buffer (Config.SendBuffer).
type flow struct {
	mu       sync.Mutex
	acks     bool // the page acknowledges frames
	off      bool // the page wants no frames (a hidden tab)
	inflight []sentFrame
	bytes    int       // of inflight
	rate     float64   // the link's measured bytes per second; 0: not known yet
	lastAck  time.Time // when the last acknowledgement came
}

// sentFrame is a frame written and not yet acknowledged.
type sentFrame struct {
	n  int       // bytes
	at time.Time // when its write started
}

const (
	// linkQueue is how much of the link's time the frames in flight may
	// take: a second frame is written before the first is acknowledged
	// only on a link that carries both in this time.
	linkQueue = 250 * time.Millisecond
	// maxInflight bounds the frames in flight on any link.
	maxInflight = 4
	// slowLink is the link rate in bytes per second below which a page
	// gets 8-bit frames while playing (about 4 Mbit/s: an exact frame of
	// the default network takes longer than half a second).
	slowLink = 512 << 10
	// chunkSize is the part of a large message written under one write
	// deadline (writeWait); pings go out between chunks.
	chunkSize = 16 << 10
	// rateWeight is the weight of a new sample in the link's rate.
	rateWeight = 0.3
)

// takeWhat says what the write pump may take from the mailbox now.
func (f *flow) takeWhat() takeWhat {
	f.mu.Lock()
	defer f.mu.Unlock()
	busy := f.acks && len(f.inflight) > 0 &&
		(len(f.inflight) >= maxInflight || f.rate <= 0 || float64(f.bytes) >= f.rate*linkQueue.Seconds())
	switch {
	case busy:
		return takeReplies
	case f.off:
		return takeNoFrame
	}
	return takeAll
}

// sent records a frame of n bytes whose write started at t.
func (f *flow) sent(n int, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.acks {
		f.inflight = append(f.inflight, sentFrame{n, t})
		f.bytes += n
	}
}

// acked records the acknowledgement of the oldest frame in flight, at
// now. It reports false if no frame was in flight (the message is then
// charged to the client's message rate).
func (f *flow) acked(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.acks || len(f.inflight) == 0 {
		return false
	}
	s := f.inflight[0]
	f.inflight = f.inflight[1:]
	f.bytes -= s.n
	// The link carried the frame from when its write started, or when
	// the frame before it arrived if that was later.
	start := s.at
	if f.lastAck.After(start) {
		start = f.lastAck
	}
	f.lastAck = now
	if d := now.Sub(start).Seconds(); d > 0 {
		sample := float64(s.n) / max(d, 1e-4)
		switch {
		case f.rate == 0:
			f.rate = sample
		default:
			// A page that was busy reads several frames at once and
			// acknowledges them together: the rate may at most double
			// at one sample, so that such a burst does not open the
			// window to frames the link cannot carry.
			f.rate += rateWeight * (min(sample, 2*f.rate) - f.rate)
		}
	}
	return true
}

// setFrames turns the page's frames on or off.
func (f *flow) setFrames(on bool) {
	f.mu.Lock()
	f.off = !on
	f.mu.Unlock()
}

// framesOff reports whether the page wants no frames.
func (f *flow) framesOff() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.off
}

// slow reports whether the page's link was measured slower than slowLink.
func (f *flow) slow() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acks && f.rate > 0 && f.rate < slowLink
}

// longWrite reports whether a frame of n bytes is written in chunks: on a
// page that acknowledges frames, a large frame when the link's rate is not
// known yet (the first keyframe) or when the link takes more than a
// quarter of writeWait to carry it.
func (f *flow) longWrite(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acks && n > 2*chunkSize && (f.rate <= 0 || float64(n)/f.rate > writeWait.Seconds()/4)
}

// setSendBuffer sets the kernel send buffer of the TCP connection under c
// (unwrapping the listener's connections), so that little is queued below
// the mailbox. It reports whether it could.
func setSendBuffer(c net.Conn, n int) bool {
	for range 4 {
		switch x := c.(type) {
		case interface{ SetWriteBuffer(int) error }:
			return x.SetWriteBuffer(n) == nil
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return false
		}
	}
	return false
}

// received takes a page's acknowledgement of a frame: it reports true if b
// is one and a frame was in flight, and lets the write pump go on.
func (c *client) received(b []byte) bool {
	if !bytes.Contains(b, []byte(`"`+protocol.TypeReceived+`"`)) {
		return false
	}
	m, err := protocol.DecodeClientMsg(b)
	if err != nil || m.Type != protocol.TypeReceived || !c.flow.acked(time.Now()) {
		return false
	}
	c.mb.wake()
	return true
}

// setFrames turns the page's frames off (a hidden tab: the frame waiting is
// dropped and no more are encoded for it) or on again, with a keyframe.
func (c *client) setFrames(m *protocol.ClientMsg) {
	if m.Send == nil {
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, "send: want true or false"))
		return
	}
	c.flow.setFrames(*m.Send)
	if !*m.Send {
		c.mb.dropFrame()
		c.reply(protocol.Ack(m.ID))
		return
	}
	c.sess.send(sessionMsg{kind: msgKeyframe, c: c, id: m.ID})
}
