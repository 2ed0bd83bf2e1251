package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// The requests other replicas send a room's home (see package cluster's
// subjects), and the relays that serve their pages.

// Errors of a request.
var (
	errMalformed    = errors.New("malformed request")
	errEnded        = errors.New("the room has ended")
	errAnswerTooBig = errors.New("the answer is larger than the NATS server accepts in one message (raise its max_payload)")
	errModelTooBig  = errors.New("the room's model is larger than the NATS server accepts in one message (raise its max_payload)")
)

// replyBusy is the error a home answers a request with when maxRequests
// are already in flight; the asking replica tells its page to try again.
const replyBusy = "busy"

// request serves one request of another replica, in a goroutine of its
// own (a long command does not hold up the others), at most maxRequests
// at once.
func (h *homeRoom) request(m *nats.Msg) {
	select {
	case h.requests <- struct{}{}:
	default:
		h.cs.link.Dropped("full")
		h.cs.link.Respond(m, nil, replyBusy)
		return
	}
	go func() {
		defer func() { <-h.requests }()
		h.serve(m)
	}()
}

func (h *homeRoom) serve(m *nats.Msg) {
	link := h.cs.link
	var data []byte
	var err error
	switch cluster.LastToken(m.Subject) {
	case cluster.RPCPing:
		data = []byte("ok")
	case cluster.RPCSync:
		data, err = h.sync(m.Data)
	case cluster.RPCInterest:
		data, err = h.interest(m.Data)
	case cluster.RPCKeyframe:
		data, err = h.keyframe(m.Data)
	case cluster.RPCCmd:
		data, err = h.command(m.Data)
	case cluster.RPCFork:
		data, err = h.fork()
	case cluster.RPCAsk:
		data, err = h.ask(m.Data)
	case cluster.RPCAnswer:
		data, err = h.answer(m.Data) // cluster_prompt.go
	default:
		err = errMalformed
	}
	switch {
	case errors.Is(err, errMalformed):
		link.Dropped("malformed")
		h.cs.log.Debug("malformed request", "subject", m.Subject)
		link.Respond(m, nil, err.Error())
	case err != nil:
		link.Respond(m, nil, err.Error())
	default:
		link.Respond(m, data, "")
	}
}

// sync answers RPCSync: the room's relay publishes all that follows it.
func (h *homeRoom) sync(b []byte) ([]byte, error) {
	var req syncReq
	if json.Unmarshal(b, &req) != nil || req.Replica == "" || req.Replica == h.cs.link.Replica() {
		return nil, errMalformed
	}
	want := h.note(req.Replica, nil)
	var rep syncReply
	if !h.sess.inSession(func() {
		h.setRelays(want, true, false)
		s := h.sess
		s.flushPoints()
		rep = syncReply{Welcome: s.welcome(true), State: s.stateJSON(), Metrics: s.chartHistory(),
			Sample: s.params.Sample, Probe: s.params.Probe, Lesson: toLessonWire(h.room.Lesson())}
		if _, msg := h.room.prompts.current(); msg.Type != "" {
			rep.Prompt = protocol.Marshal(msg)
		}
	}) {
		return nil, errEnded
	}
	return json.Marshal(rep)
}

// interest answers RPCInterest: it notes what the replica's pages need;
// the loop adds the relays.
func (h *homeRoom) interest(b []byte) ([]byte, error) {
	var m interestMsg
	if json.Unmarshal(b, &m) != nil || m.Replica == "" || m.Replica == h.cs.link.Replica() || m.Viewers < 0 {
		return nil, errMalformed
	}
	subs := map[string]protocol.Subscription{}
	for _, sub := range m.Subs {
		if checkSub(&sub) != nil {
			return nil, errMalformed
		}
		subs[cluster.KeyHash(sub.Key())] = sub
	}
	h.mu.Lock()
	if m.Pages == 0 {
		delete(h.interests, m.Replica)
		m.Students = nil
	} else {
		h.interests[m.Replica] = &interest{subs: subs, viewers: m.Viewers, seen: time.Now()}
	}
	h.mu.Unlock()
	h.room.roster.setElsewhere(m.Replica, m.Students) // cluster_dashboard.go
	select {
	case h.kick <- struct{}{}:
	default:
	}
	return []byte("ok"), nil
}

// expire forgets the replicas not heard from for interestTTL; it reports
// whether there were any.
func (h *homeRoom) expire(now time.Time) bool {
	h.mu.Lock()
	var gone []string
	maps.DeleteFunc(h.interests, func(replica string, in *interest) bool {
		if now.Sub(in.seen) > interestTTL {
			gone = append(gone, replica)
			return true
		}
		return false
	})
	h.mu.Unlock()
	for _, replica := range gone {
		h.room.roster.setElsewhere(replica, nil) // cluster_dashboard.go
	}
	return len(gone) > 0
}

// reconcile makes the relays match the interests: a relay for every
// subscription key other replicas need, the room's relay while any replica
// is interested.
func (h *homeRoom) reconcile() {
	h.mu.Lock()
	want := map[string]protocol.Subscription{}
	elsewhere := 0
	for _, in := range h.interests {
		maps.Copy(want, in.subs)
		elsewhere += in.viewers
	}
	interested := len(h.interests) > 0
	h.mu.Unlock()
	h.room.elsewhere.Store(int64(elsewhere))
	var removed []*client
	h.sess.inSession(func() { removed = h.setRelays(want, interested, true) })
	for _, c := range removed {
		c.relay.close()
	}
}

// note records, before the reply to a request of replica, that it needs
// the subscription sub (if not nil), so that reconcile keeps its relay
// until the replica's next interest says otherwise.
func (h *homeRoom) note(replica string, sub *protocol.Subscription) map[string]protocol.Subscription {
	want := map[string]protocol.Subscription{}
	if sub != nil {
		want[cluster.KeyHash(sub.Key())] = *sub
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	in := h.interests[replica]
	if in == nil {
		in = &interest{subs: map[string]protocol.Subscription{}}
		h.interests[replica] = in
	}
	in.seen = time.Now()
	maps.Copy(in.subs, want)
	return want
}

// setRelays, in the session goroutine, adds a relay for each key of want
// and the room's relay if room; if prune, it removes the relays not
// wanted, and the room's relay unless room. A relay added there sees every
// publication from then on: a reply built in the same call (a sync, a
// keyframe) is followed by all that comes after it. The room's relay keeps
// the session attached, so a room watched only from other replicas is not
// closed as abandoned; a room nobody watches any more pauses. It returns
// the relays removed, to be closed.
func (h *homeRoom) setRelays(want map[string]protocol.Subscription, room, prune bool) (removed []*client) {
	s, link, sess := h.cs.srv, h.cs.link, h.sess
	var added []*client
	if room && h.roomRelay == nil {
		h.roomRelay = newRelay(s, link, h.room.Code, "", protocol.Subscription{Layers: []protocol.LayerSub{}})
		added = append(added, h.roomRelay)
		s.sessions.attach(sess) // released when the room's relay goes
	}
	for k, sub := range want {
		if h.relays[k] == nil && len(h.relays) < maxRemoteKeys {
			h.relays[k] = newRelay(s, link, h.room.Code, k, sub)
			added = append(added, h.relays[k])
		}
	}
	if prune {
		for k, c := range h.relays {
			if _, ok := want[k]; !ok {
				delete(h.relays, k)
				removed = append(removed, c)
			}
		}
		if !room && h.roomRelay != nil {
			removed = append(removed, h.roomRelay)
			h.roomRelay = nil
			s.sessions.release(sess)
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	sess.clients = slices.DeleteFunc(sess.clients, func(c *client) bool { return slices.Contains(removed, c) })
	// Relays first: what they publish has a hop to go, so they are woken
	// before the pages of this replica.
	sess.clients = append(added, sess.clients...)
	if len(sess.clients) == 0 && sess.mode != modePaused {
		sess.mode = modePaused // nobody watches: spend no CPU
		sess.publishState()
	}
	h.cs.log.Debug("relays", "room", h.room.Code, "added", len(added), "removed", len(removed), "keys", len(h.relays))
	return removed
}

// relayClients are the relays, for endHome once the session has returned.
func (h *homeRoom) relayClients() []*client {
	out := slices.Collect(maps.Values(h.relays))
	if h.roomRelay != nil {
		out = append(out, h.roomRelay)
	}
	return out
}

// publishCount tells every replica how many students watch, when it
// changed, and this replica's pages.
func (h *homeRoom) publishCount() {
	h.mu.Lock()
	by := map[string]int{h.cs.link.Replica(): h.room.Viewers()}
	total := h.room.Viewers()
	for r, in := range h.interests {
		by[r] = in.viewers
		total += in.viewers
	}
	h.mu.Unlock()
	if total == h.count.Total && maps.Equal(by, h.count.By) {
		return
	}
	h.count = countMsg{Total: total, By: by}
	h.cs.srv.class.announce(h.room)
	if b, err := json.Marshal(h.count); err == nil {
		h.cs.link.Publish(h.cs.link.Event(h.room.Code, cluster.EvCount), b)
	}
}

// keyframe answers RPCKeyframe with an exact keyframe for one
// subscription, encoded by the session as for a page of its own; the
// subscription's relay publishes the frames that follow it.
func (h *homeRoom) keyframe(b []byte) ([]byte, error) {
	var req keyframeReq
	if json.Unmarshal(b, &req) != nil || checkSub(&req.Sub) != nil || req.Replica == "" || req.Replica == h.cs.link.Replica() {
		return nil, errMalformed
	}
	want := h.note(req.Replica, &req.Sub)
	c := newRelay(h.cs.srv, nil, h.room.Code, "", req.Sub)
	if !h.sess.inSession(func() {
		h.setRelays(want, true, false)
		h.sess.publishFrames([]*client{c}, true, true)
	}) {
		return nil, errEnded
	}
	return c.relay.takeFrame(), nil
}

// command answers RPCCmd: the owner's page on another replica commands
// the room. The token is checked here as for a page of this replica; the
// command runs as if the page were here, and its replies go back.
func (h *homeRoom) command(b []byte) ([]byte, error) {
	var req cmdReq
	if json.Unmarshal(b, &req) != nil || checkSub(&req.Sub) != nil || !slices.Contains(protocol.Commands, req.Cmd) {
		return nil, errMalformed
	}
	var rep cmdReply
	if !h.sess.inSession(func() {
		s := h.sess
		c := &client{srv: s.srv, mb: newMailbox(), log: s.log, sub: req.Sub, subKey: req.Sub.Key()}
		m := sessionMsg{kind: msgCmd, c: c, id: req.ID, cmd: req.Cmd, args: req.Args}
		if !h.room.IsOwner(req.Token) {
			c.reply(refuseForbidden().reply(req.ID))
		} else {
			s.lastCmd = time.Now()
			s.command(&m)
		}
		for _, r := range c.mb.take(takeAll).replies {
			rep.Replies = append(rep.Replies, r)
		}
		rep.Sub = c.sub
	}) {
		return nil, errEnded
	}
	return json.Marshal(rep)
}

// ask answers RPCAsk: a page on another replica asks a question, or the
// owner's page there sends a look. The question is parsed and answered as
// for a page of this replica (the same engine call in the session, the same
// refusals, the same JSON); a look's token is checked here as for a
// command. The reply is the one message the page gets.
func (h *homeRoom) ask(b []byte) ([]byte, error) {
	var req askReq
	if len(b) > maxAskReq || json.Unmarshal(b, &req) != nil || req.Msg == nil {
		return nil, errMalformed
	}
	q, err := parseQuestion(req.Msg)
	if err != nil { // the other replica parsed it before sending it
		return nil, errMalformed
	}
	id := req.Msg.ID
	var out []byte
	if look, ok := q.(protocol.LookRequest); ok {
		if !h.sess.inSession(func() {
			s := h.sess
			c := &client{srv: s.srv, mb: newMailbox(), log: s.log}
			if h.room.IsOwner(req.Token) {
				s.pointAt(&sessionMsg{kind: msgQuestion, c: c, id: id, q: look}, look)
			} else {
				c.reply(refuseForbiddenLook().reply(id))
			}
			if r := c.mb.take(takeAll).replies; len(r) > 0 {
				out = r[0]
			}
		}) {
			return nil, errEnded
		}
	} else {
		var a answer
		if !h.sess.inSession(func() { a = h.sess.ask(q) }) {
			return nil, errEnded
		}
		out = a.reply(id)
	}
	if len(out) > h.cs.link.MaxPayload()-1024 {
		h.cs.link.Dropped("too_large")
		return nil, errAnswerTooBig
	}
	return out, nil
}

// fork answers RPCFork: the room's model as it is now, its settings and
// its charts, for a fork on another replica.
func (h *homeRoom) fork() ([]byte, error) {
	var model bytes.Buffer
	var meta savedRoom
	var err error
	if !h.sess.inSession(func() {
		s := h.sess
		if err = s.t.Save(&model); err == nil {
			meta = savedRoom{Params: paramsOf(s.params), Metrics: s.chartHistory()}
		}
	}) {
		return nil, errEnded
	}
	if err != nil {
		return nil, err
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	data, err := cluster.Pack(mb, model.Bytes())
	if err != nil {
		return nil, err
	}
	if len(data) > h.cs.link.MaxPayload()-1024 {
		h.cs.link.Dropped("too_large")
		return nil, errModelTooBig
	}
	return data, nil
}

// loadSaved reads a saved room (see cluster.Pack): its trainer, settings
// and charts.
func (s *Server) loadSaved(data []byte) (*engine.Trainer, LabParams, []protocol.MetricsPoint, []protocol.TestPoint, error) {
	mb, model, err := cluster.Unpack(data)
	if err != nil {
		return nil, LabParams{}, nil, nil, err
	}
	var meta savedRoom
	var charts protocol.Metrics
	if err := json.Unmarshal(mb, &meta); err != nil {
		return nil, LabParams{}, nil, nil, errMalformed
	}
	if err := json.Unmarshal(meta.Metrics, &charts); err != nil {
		return nil, LabParams{}, nil, nil, errMalformed
	}
	ds, err := s.data.get(meta.Params.Data)
	if err != nil {
		return nil, LabParams{}, nil, nil, err
	}
	t, err := engine.Load(bytes.NewReader(model), ds)
	if err != nil {
		return nil, LabParams{}, nil, nil, err
	}
	return t, meta.Params.labParams(t), charts.Points, charts.Test, nil
}
