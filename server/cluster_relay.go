package server

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/protocol"
)

// A relay is a client without a websocket in a room's session on its home
// replica: it stands for the pages of other replicas. The session treats
// it like any page — puts states, charts, welcomes and frames into its
// mailbox, never waiting — and the relay's goroutine publishes them on
// NATS. The room's relay (hash "") carries everything but frames; there is
// one more relay per subscription key some other replica's pages need,
// which carries that key's frames, encoded once in the session with the
// local pages of the same key.
type relay struct {
	link *cluster.Link
	code string
	hash string   // cluster.KeyHash of the subscription key; "" for the room's relay
	mb   *mailbox // its client's
	log  *slog.Logger

	mu       sync.Mutex
	frame    []byte // the newest frame not yet published
	warned   bool   // a frame too large for NATS was logged
	stop     chan struct{}
	finished chan struct{}
}

// newRelay returns the client of a relay for room code (hash "": the
// room's relay) with subscription sub, and starts the relay's goroutine
// unless link is nil (a relay that only captures one frame, see
// homeRoom.keyframe).
func newRelay(srv *Server, link *cluster.Link, code, hash string, sub protocol.Subscription) *client {
	c := &client{srv: srv, mb: newMailbox(), log: srv.log, sub: sub, subKey: sub.Key()}
	c.relay = &relay{link: link, code: code, hash: hash, mb: c.mb, log: srv.log, stop: make(chan struct{}), finished: make(chan struct{})}
	if link != nil {
		go c.relay.run()
	} else {
		close(c.relay.finished)
	}
	return c
}

// takesFrames reports whether the relay carries frames.
func (rl *relay) takesFrames() bool { return rl.hash != "" || rl.link == nil }

// putFrame replaces the frame waiting to be published (it never blocks).
func (rl *relay) putFrame(b []byte) {
	rl.mu.Lock()
	behind := rl.frame != nil
	rl.frame = b
	rl.mu.Unlock()
	if behind && rl.link != nil {
		rl.link.Dropped("behind")
	}
	rl.mb.wake()
}

// takeFrame returns the waiting frame, nil if none.
func (rl *relay) takeFrame() []byte {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	f := rl.frame
	rl.frame = nil
	return f
}

// close stops the relay's goroutine and waits for it.
func (rl *relay) close() {
	select {
	case <-rl.stop:
	default:
		close(rl.stop)
	}
	<-rl.finished
}

// run publishes what the session puts into the relay's mailbox.
func (rl *relay) run() {
	defer close(rl.finished)
	for {
		select {
		case <-rl.mb.notify:
		case <-rl.stop:
			return
		}
		b := rl.mb.take(takeAll)
		if rl.hash == "" {
			for _, r := range b.replies {
				rl.publish(rl.link.Event(rl.code, cluster.EvReply), r)
			}
			if b.state != nil {
				rl.publish(rl.link.Event(rl.code, cluster.EvState), b.state)
			}
			if m := b.metrics; m != nil {
				rl.publish(rl.link.Event(rl.code, cluster.EvMetrics), protocol.AppendMetrics(nil, m.reset, m.points, m.tests))
			}
		}
		if f := rl.takeFrame(); f != nil {
			rl.publish(rl.link.Frames(rl.code, rl.hash), f)
		}
	}
}

func (rl *relay) publish(subj string, b []byte) {
	err := rl.link.Publish(subj, b)
	if errors.Is(err, nats.ErrMaxPayload) && !rl.warned {
		rl.warned = true
		rl.log.Warn("a message is larger than the NATS server accepts; raise its max_payload",
			"room", rl.code, "bytes", len(b), "max", rl.link.MaxPayload())
	}
}
