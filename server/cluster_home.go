package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
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
