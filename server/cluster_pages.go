package server

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// What a mirror does for its pages: welcome them, file them under their
// subscription keys, ask the home for keyframes, forward the owner's
// commands, and pass on what the home publishes.

// handle runs a message of one of the mirror's pages, as session.handle
// does in a room's session.
func (rr *remoteRoom) handle(m sessionMsg) {
	switch m.kind {
	case msgAttach:
		rr.attach(m.c)
	case msgDetach:
		rr.detach(m.c)
	case msgSubscribe:
		m.c.sub, m.c.subKey = m.sub, m.sub.Key()
		m.c.reply(protocol.Ack(m.id))
		rr.setKey(m.c)
		rr.keyframe(m.c)
	case msgCmd:
		rr.command(m)
	case msgRun:
		m.fn()
	case msgQuestion:
		rr.ask(m)
	case msgKeyframe:
		m.c.reply(protocol.Ack(m.id))
		rr.keyframe(m.c)
	}
}

// attach adds a page and sends it what a page of the room's session gets:
// welcome, state, charts and a keyframe.
func (rr *remoteRoom) attach(c *client) {
	rr.clients = append(rr.clients, c)
	rr.owners[c] = rr.cs.srv.class.isOwnerClient(rr.room, c)
	rr.idleSince = time.Time{}
	c.sub = protocol.DefaultSubscription()
	c.sub.Sample, c.sub.Probe = rr.sample, rr.probe
	c.subKey = c.sub.Key()
	c.reply(rr.welcome)
	c.mb.putState(rr.state)
	c.mb.putMetrics(true, rr.history, rr.tests)
	rr.setKey(c)
	rr.keyframe(c)
	rr.interestDue = true
}

func (rr *remoteRoom) detach(c *client) {
	if !slices.Contains(rr.clients, c) {
		return
	}
	rr.clients = slices.DeleteFunc(rr.clients, func(x *client) bool { return x == c })
	rr.dropKey(c)
	delete(rr.owners, c)
	delete(rr.looking, c)
	delete(rr.held, c)
	rr.mu.Lock()
	delete(rr.tokens, c)
	rr.mu.Unlock()
	if len(rr.clients) == 0 {
		rr.idleSince = time.Now()
	}
	rr.interestDue = true
}

// setKey files page c under its subscription key, subscribing to the
// key's frames if it is new here.
func (rr *remoteRoom) setKey(c *client) {
	h := cluster.KeyHash(c.subKey)
	if old, ok := rr.hashes[c]; ok {
		if old == h {
			return
		}
		rr.dropKey(c)
	}
	rr.hashes[c] = h
	k := rr.keys[h]
	if k == nil {
		k = &mirrorKey{sub: c.sub}
		sub, err := rr.cs.link.Subscribe(rr.cs.link.Frames(rr.code, h), rr.receive)
		if err != nil {
			rr.sess.log.Warn("subscribe to frames", "err", err)
		}
		k.nsub = sub
		rr.keys[h] = k
		rr.interestDue = true
	}
	k.pages++
}

// dropKey removes page c from its key, and the key when no page has it.
func (rr *remoteRoom) dropKey(c *client) {
	h, ok := rr.hashes[c]
	if !ok {
		return
	}
	delete(rr.hashes, c)
	if k := rr.keys[h]; k != nil {
		if k.pages--; k.pages == 0 {
			if k.nsub != nil {
				k.nsub.Unsubscribe()
			}
			delete(rr.keys, h)
			rr.interestDue = true
		}
	}
}

// keyframe asks the home for an exact keyframe of c's subscription; the
// pages of the same key that ask meanwhile share it.
func (rr *remoteRoom) keyframe(c *client) {
	h := rr.hashes[c]
	if w, ok := rr.waiting[h]; ok {
		if !slices.Contains(w, c) {
			rr.waiting[h] = append(w, c)
		}
		return
	}
	rr.waiting[h] = []*client{c}
	b, _ := json.Marshal(keyframeReq{Replica: rr.cs.link.Replica(), Sub: c.sub})
	rr.request(cluster.RPCKeyframe, b, rpcWait, func(m *nats.Msg, err error) {
		waiting := rr.waiting[h]
		delete(rr.waiting, h)
		if err != nil {
			rr.failed(err)
			return
		}
		if !validFrame(m.Data) {
			rr.cs.link.Dropped("malformed")
			return
		}
		rr.deliver(m.Data, func(c *client) bool { return slices.Contains(waiting, c) && rr.hashes[c] == h })
	})
}

// event handles one message from NATS; it reports whether the mirror
// ends.
func (rr *remoteRoom) event(m *nats.Msg) bool {
	link := rr.cs.link
	kind := cluster.LastToken(m.Subject)
	if strings.HasSuffix(m.Subject, ".frame."+kind) {
		if !validFrame(m.Data) {
			link.Dropped("malformed")
			return false
		}
		rr.deliver(m.Data, func(c *client) bool { return rr.hashes[c] == kind })
		return false
	}
	switch kind {
	case cluster.EvState:
		if typeOf(m.Data) != protocol.TypeState {
			break
		}
		rr.state = m.Data
		for _, c := range rr.clients {
			c.mb.putState(m.Data)
		}
		return false
	case cluster.EvMetrics:
		var ms protocol.Metrics
		if json.Unmarshal(m.Data, &ms) != nil || ms.Type != protocol.TypeMetrics {
			break
		}
		points, tests := rr.addCharts(ms)
		for _, c := range rr.clients {
			c.mb.putMetrics(ms.Reset, points, tests)
		}
		return false
	case cluster.EvReply:
		t := typeOf(m.Data)
		if t == "" {
			break
		}
		msg := m.Data
		switch t {
		case protocol.TypeDashboard: // the owner's pages only
			rr.mirrorDashboard(msg) // cluster_dashboard.go
			return false
		case typeClassRelay: // the teacher's action, on this replica's students
			rr.classRelay(msg) // cluster_dashboard.go
			return false
		case protocol.TypePromptTally: // the owner's pages only
			rr.toOwners(msg)
			return false
		case protocol.TypePrompt: // every page; a student's, their answer
			rr.mirrorPrompt(msg) // cluster_prompt.go
			return false
		case typePromptMines: // each of this replica's students their own
			rr.mirrorMines(msg) // cluster_prompt.go
			return false
		case protocol.TypePromptMine: // one student's: never to every page
			link.Dropped("malformed")
			return false
		}
		if t == protocol.TypeWelcome { // the network was rebuilt
			w, ok := rr.cs.patchWelcome(m.Data)
			if !ok {
				break
			}
			rr.welcome, msg = w, w
		}
		for _, c := range rr.clients {
			if t == protocol.TypeLook && rr.looking[c] > 0 {
				rr.held[c] = append(rr.held[c], msg)
				continue
			}
			c.reply(msg)
		}
		return false
	case cluster.EvCount:
		var cm countMsg
		if json.Unmarshal(m.Data, &cm) != nil || cm.Total < 0 {
			break
		}
		rr.room.elsewhere.Store(int64(max(0, cm.Total-cm.By[link.Replica()])))
		rr.cs.srv.class.announce(rr.room)
		return false
	case cluster.EvGone:
		var g goneMsg
		if json.Unmarshal(m.Data, &g) != nil {
			break
		}
		rr.goneAway()
		return true
	}
	link.Dropped("malformed")
	rr.sess.log.Debug("malformed message", "subject", m.Subject)
	return false
}

// deliver puts a frame into the mailboxes of the pages to accepts; the
// frame is prepared (and compressed) once for all of them.
func (rr *remoteRoom) deliver(b []byte, to func(*client) bool) {
	var pm *websocket.PreparedMessage
	for _, c := range rr.clients {
		if !to(c) || c.flow.framesOff() {
			continue
		}
		if pm == nil {
			var err error
			if pm, err = websocket.NewPreparedMessage(websocket.BinaryMessage, b); err != nil {
				return
			}
		}
		if c.mb.putFrame(pm, b) {
			rr.cs.srv.metrics.framesDropped.Inc()
		}
	}
}

// addCharts adds chart points from the home to the mirror's history and
// returns those it did not have (a page that attached meanwhile got the
// others with the history).
func (rr *remoteRoom) addCharts(m protocol.Metrics) ([]protocol.MetricsPoint, []protocol.TestPoint) {
	if m.Reset {
		rr.history, rr.tests = nil, nil
	}
	last := math.MinInt
	if n := len(rr.history); n > 0 {
		last = rr.history[n-1].Step
	}
	var points []protocol.MetricsPoint
	for _, p := range m.Points {
		if p.Step > last {
			points = append(points, p)
			last = p.Step
		}
	}
	var tests []protocol.TestPoint
	for _, p := range m.Test {
		if !slices.ContainsFunc(rr.tests, func(q protocol.TestPoint) bool {
			return q.Step == p.Step && (q.Acc == p.Acc || math.IsNaN(q.Acc) && math.IsNaN(p.Acc))
		}) {
			tests = append(tests, p)
		}
	}
	rr.history = append(rr.history, points...)
	rr.tests = append(rr.tests, tests...)
	if len(rr.history) > maxHistory {
		kept := rr.history[:0]
		for i, p := range rr.history {
			if i%2 == 1 || i == len(rr.history)-1 {
				kept = append(kept, p)
			}
		}
		rr.history = slices.Clip(kept)
	}
	return points, tests
}

// forkState fetches the room's model, settings and charts from the home,
// for a fork on this replica.
func (rr *remoteRoom) forkState() (*engine.Trainer, LabParams, []protocol.MetricsPoint, []protocol.TestPoint, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*rpcWait)
	defer cancel()
	m, err := rr.cs.link.Request(ctx, rr.cs.link.RPC(rr.code, cluster.RPCFork), nil)
	if err == nil && cluster.ReplyError(m) != "" {
		err = errors.New(cluster.ReplyError(m))
	}
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || err.Error() == errEnded.Error() {
			return nil, LabParams{}, nil, nil, errRoomClosed
		}
		return nil, LabParams{}, nil, nil, err
	}
	t, p, history, tests, err := rr.cs.srv.loadSaved(m.Data)
	if errors.Is(err, errMalformed) {
		rr.cs.link.Dropped("malformed")
	}
	return t, p, history, tests, err
}
