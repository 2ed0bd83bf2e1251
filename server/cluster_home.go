package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// maxRemoteKeys bounds the subscription keys a room encodes for other
// replicas' pages, and maxRequests the requests a room serves at once.
const (
	maxRemoteKeys = 512
	maxRequests   = 64
)

// homeRoom is a room of this replica, served to the cluster: its
// directory entry, its saved model, the other replicas' interest in it
// and the relays that serve them.
type homeRoom struct {
	cs   *clusterState
	room *Room
	sess *session
	rec  cluster.RoomRecord
	rev  uint64 // of the directory entry

	rpc      *nats.Subscription
	kick     chan struct{} // the interests changed
	stop     chan struct{} // closed by end
	finished chan struct{} // closed when loop returns
	requests chan struct{} // a token per request being served

	mu        sync.Mutex
	interests map[string]*interest // by replica

	// Owned by the session goroutine (see setRelays).
	roomRelay *client
	relays    map[string]*client // by key hash

	// Owned by loop.
	count countMsg // last published
	saved int      // step of the last saved model; -1: none
}

// interest is what one other replica's pages of the room need.
type interest struct {
	subs    map[string]protocol.Subscription // by key hash
	viewers int
	seen    time.Time
}

// claim claims room's code in the directory; false if another replica's
// room has it.
func (cs *clusterState) claim(room *Room) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcWait)
	defer cancel()
	rec := cluster.RoomRecord{Code: room.Code, Name: room.Name, Replica: cs.link.Replica(),
		OwnerSHA256: cluster.OwnerHash(room.ownerToken), Created: room.Created}
	rev, ok, err := cs.link.Claim(ctx, rec)
	if err != nil || !ok {
		return false, err
	}
	cs.mu.Lock()
	cs.homes[room.Code] = &homeRoom{cs: cs, room: room, sess: room.session, rec: rec, rev: rev,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), finished: make(chan struct{}),
		requests: make(chan struct{}, maxRequests), interests: map[string]*interest{},
		relays: map[string]*client{}, saved: -1}
	cs.mu.Unlock()
	return true, nil
}

// startHome starts answering the cluster for a room whose code claim
// registered.
func (cs *clusterState) startHome(room *Room) {
	cs.mu.Lock()
	h := cs.homes[room.Code]
	if h == nil || h.room != room {
		cs.mu.Unlock()
		cs.log.Error("room opened without a claimed code", "room", room.Code)
		return
	}
	cs.ending.Add(1)
	cs.mu.Unlock()
	sub, err := cs.link.Subscribe(cs.link.RPCs(room.Code), h.request)
	if err != nil {
		cs.log.Error("room requests", "room", room.Code, "err", err)
	}
	h.rpc = sub
	go h.loop()
}

// endHome stops serving a room of this replica that has ended. At
// shutdown the room's final model is saved and the other replicas are
// told that it can be resumed; a room that closed is forgotten.
func (cs *clusterState) endHome(room *Room, shutdown bool) {
	cs.mu.Lock()
	h := cs.homes[room.Code]
	if h == nil || h.room != room {
		cs.mu.Unlock()
		return
	}
	delete(cs.homes, room.Code)
	cs.mu.Unlock()
	defer cs.ending.Done()
	close(h.stop)
	<-h.finished
	if h.rpc != nil {
		h.rpc.Unsubscribe()
	}
	for _, c := range h.relayClients() {
		c.relay.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gone := goneMsg{Closed: !shutdown, Step: h.saved}
	if shutdown {
		// The session has returned: its trainer is ours to read.
		if step, err := h.save(ctx, func(f func()) bool { f(); return true }); err != nil {
			cs.log.Error("save room model", "room", room.Code, "err", err)
		} else {
			gone.Step = step
		}
	} else if err := cs.link.DeleteSnapshot(ctx, room.Code); err != nil {
		cs.log.Warn("delete room model", "room", room.Code, "err", err)
	}
	if b, err := json.Marshal(gone); err == nil {
		cs.link.Publish(cs.link.Event(room.Code, cluster.EvGone), b)
	}
	if err := cs.link.Release(ctx, room.Code, h.rev); err != nil {
		cs.log.Warn("release room code", "room", room.Code, "err", err)
	}
}

// loop keeps the directory entry alive, saves the model, forgets silent
// replicas, and adds and removes relays as the interests change.
func (h *homeRoom) loop() {
	defer close(h.finished)
	cfg := h.cs.link.Config()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	refresh := time.Now().Add(cfg.DirectoryTTL / 3)
	save := time.Now() // the first model is saved at once
	for {
		select {
		case <-h.stop:
			return
		case <-h.kick:
			h.reconcile()
		case now := <-tick.C:
			if h.expire(now) {
				h.reconcile()
			}
			h.publishCount()
			if !now.Before(refresh) {
				refresh = now.Add(cfg.DirectoryTTL / 3)
				h.refresh()
			}
			if !now.Before(save) {
				save = now.Add(cfg.SnapshotEvery)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				if _, err := h.save(ctx, h.sess.inSession); err != nil {
					h.cs.log.Warn("save room model", "room", h.room.Code, "err", err)
				}
				cancel()
			}
		}
	}
}

// refresh keeps the directory entry alive.
func (h *homeRoom) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), rpcWait)
	defer cancel()
	rev, err := h.cs.link.Refresh(ctx, h.rec, h.rev)
	switch {
	case errors.Is(err, cluster.ErrLost):
		h.cs.log.Error("another replica holds this room's code; pages of other replicas reach that room", "room", h.room.Code)
	case err != nil:
		h.cs.log.Warn("refresh room code", "room", h.room.Code, "err", err)
	default:
		h.rev = rev
	}
}

// save saves the room's model if its step changed since the last save,
// reading the session through in (its inSession, or a direct call once
// it has returned). It returns the step saved.
func (h *homeRoom) save(ctx context.Context, in func(func()) bool) (int, error) {
	var model bytes.Buffer
	var meta savedRoom
	var step int
	var err error
	if !in(func() {
		s := h.sess
		step = s.t.Step()
		if step == h.saved {
			return
		}
		if err = s.t.Save(&model); err != nil {
			return
		}
		meta = savedRoom{Params: paramsOf(s.params), Metrics: s.chartHistory()}
	}) {
		return h.saved, nil // ended meanwhile: endHome saves it
	}
	if err != nil || model.Len() == 0 {
		return h.saved, err
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return h.saved, err
	}
	data, err := cluster.Pack(mb, model.Bytes())
	if err != nil {
		return h.saved, err
	}
	info := cluster.SnapshotInfo{Code: h.room.Code, Name: h.room.Name, Replica: h.cs.link.Replica(),
		OwnerSHA256: h.rec.OwnerSHA256, Step: step, Saved: time.Now().UTC()}
	if err := h.cs.link.SaveSnapshot(ctx, info, data); err != nil {
		return h.saved, err
	}
	h.saved = step
	return step, nil
}

// chartHistory is the session's charts as one metrics message with
// reset. It runs in the session goroutine (or after it returned).
func (s *session) chartHistory() []byte {
	return protocol.AppendMetrics(nil, true, slices.Concat(s.history, s.pending), s.tests)
}

// request serves one request of another replica, in a goroutine of its
// own (a long command does not hold up the others), at most maxRequests
// at once.
func (h *homeRoom) request(m *nats.Msg) {
	select {
	case h.requests <- struct{}{}:
	default:
		h.cs.link.Dropped("full")
		h.cs.link.Respond(m, nil, "busy")
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

// Errors of a request.
var (
	errMalformed   = errors.New("malformed request")
	errEnded       = errors.New("the room has ended")
	errModelTooBig = errors.New("the room's model is larger than the NATS server accepts in one message (raise its max_payload)")
)

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
			Sample: s.params.Sample, Probe: s.params.Probe}
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
	} else {
		h.interests[m.Replica] = &interest{subs: subs, viewers: m.Viewers, seen: time.Now()}
	}
	h.mu.Unlock()
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
	defer h.mu.Unlock()
	n := len(h.interests)
	maps.DeleteFunc(h.interests, func(_ string, in *interest) bool { return now.Sub(in.seen) > interestTTL })
	return len(h.interests) != n
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
	sess.clients = append(sess.clients, added...)
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
		for _, r := range c.mb.take().replies {
			rep.Replies = append(rep.Replies, r)
		}
		rep.Sub = c.sub
	}) {
		return nil, errEnded
	}
	return json.Marshal(rep)
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
