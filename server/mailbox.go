package server

import (
	"sync"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// mailbox is what waits to be written to one client. The session puts, the
// client's write pump takes; putting never blocks. Replies (welcome, ack,
// error, pong) are kept in order and never dropped; of the trace frames and
// the states only the newest is kept; metrics points are merged. A client
// that does not read therefore costs a bounded amount of memory and never
// slows the session.
type mailbox struct {
	notify  chan struct{} // one token: something is waiting
	taken   chan struct{} // one token: the write pump took what was waiting
	stopped chan struct{} // closed when the write pump has stopped

	mu       sync.Mutex
	replies  [][]byte
	overflow bool // more than maxPendingReplies replies: the client is stuck
	state    []byte
	metrics  *pendingMetrics
	frame    *websocket.PreparedMessage
	frameB   []byte // the frame's bytes, for a write in chunks (see client.writeFrame)
	closing  *closeNote
}

// pendingMetrics are chart points not yet written.
type pendingMetrics struct {
	reset  bool // the client should clear its charts first
	points []protocol.MetricsPoint
	tests  []protocol.TestPoint
}

// closeNote asks the write pump to send a close frame after everything
// queued before it.
type closeNote struct {
	code int
	text string
}

func newMailbox() *mailbox {
	return &mailbox{notify: make(chan struct{}, 1), taken: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// replyBacklog is how many unwritten replies make the read pump wait (see
// waitReplies) before it reads the client's next message. Each message
// read adds at most a few replies (those of the commands queued in the
// session on top), so a client that sends faster than it reads stays far
// below maxPendingReplies: it is slowed down, not disconnected.
const replyBacklog = 64

// waitReplies waits until fewer than n replies wait to be written. It
// reports false if the write pump stops first.
func (m *mailbox) waitReplies(n int) bool {
	for {
		m.mu.Lock()
		pending := len(m.replies)
		m.mu.Unlock()
		if pending < n {
			return true
		}
		select {
		case <-m.taken:
		case <-m.stopped:
			return false
		}
	}
}

// stop tells waitReplies that nothing will be taken any more. It is called
// once, when the write pump has returned.
func (m *mailbox) stop() { close(m.stopped) }

func (m *mailbox) wake() {
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// reply queues a message that is never dropped. It reports false when the
// client has let too many pile up.
func (m *mailbox) reply(b []byte) bool {
	m.mu.Lock()
	if len(m.replies) >= maxPendingReplies {
		m.overflow = true
	} else {
		m.replies = append(m.replies, b)
	}
	ok := !m.overflow
	m.mu.Unlock()
	m.wake()
	return ok
}

// putState replaces the waiting state.
func (m *mailbox) putState(b []byte) {
	m.mu.Lock()
	m.state = b
	m.mu.Unlock()
	m.wake()
}

// putMetrics merges chart points into the waiting ones; reset drops those.
func (m *mailbox) putMetrics(reset bool, points []protocol.MetricsPoint, tests []protocol.TestPoint) {
	m.mu.Lock()
	if m.metrics == nil || reset {
		m.metrics = &pendingMetrics{reset: reset || (m.metrics != nil && m.metrics.reset)}
	}
	m.metrics.points = append(m.metrics.points, points...)
	m.metrics.tests = append(m.metrics.tests, tests...)
	m.mu.Unlock()
	m.wake()
}

// putFrame replaces the waiting trace frame (pm, prepared from b) and
// reports whether an older one was dropped.
func (m *mailbox) putFrame(pm *websocket.PreparedMessage, b []byte) (dropped bool) {
	m.mu.Lock()
	dropped = m.frame != nil
	m.frame, m.frameB = pm, b
	m.mu.Unlock()
	m.wake()
	return dropped
}

// dropFrame drops the waiting trace frame.
func (m *mailbox) dropFrame() {
	m.mu.Lock()
	m.frame, m.frameB = nil, nil
	m.mu.Unlock()
}

// close queues last (if not nil) as a final reply and asks for a close
// frame after it; later puts are still accepted but the write pump stops at
// the close.
func (m *mailbox) close(last []byte, code int, text string) {
	m.mu.Lock()
	if m.closing == nil {
		if last != nil {
			m.replies = append(m.replies, last)
		}
		m.closing = &closeNote{code, text}
	}
	m.mu.Unlock()
	m.wake()
}

// takeWhat is what take takes.
type takeWhat int

const (
	takeAll takeWhat = iota
	takeNoFrame
	takeReplies
)

// batch is everything taken from a mailbox at once, written in this order.
type batch struct {
	replies  [][]byte
	overflow bool
	state    []byte
	metrics  *pendingMetrics
	frame    *websocket.PreparedMessage
	frameB   []byte
	closing  *closeNote
}

func (b *batch) empty() bool {
	return len(b.replies) == 0 && !b.overflow && b.state == nil && b.metrics == nil && b.frame == nil && b.closing == nil
}

// take empties the mailbox: all of it (takeAll), or the replies and the
// close only while the client's link is busy (takeReplies: the newest
// state, charts and frame wait, see flow), or all but the frame while the
// client wants no frames (takeNoFrame).
func (m *mailbox) take(what takeWhat) batch {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := batch{replies: m.replies, overflow: m.overflow, closing: m.closing}
	m.replies = nil
	if what != takeReplies {
		b.state, b.metrics = m.state, m.metrics
		m.state, m.metrics = nil, nil
	}
	if what == takeAll {
		b.frame, b.frameB = m.frame, m.frameB
		m.frame, m.frameB = nil, nil
	}
	select {
	case m.taken <- struct{}{}:
	default:
	}
	return b
}
