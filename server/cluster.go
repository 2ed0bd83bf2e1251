package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/protocol"
)

// Several replicas share their rooms through NATS (package cluster). A
// room lives on one replica, its home, which runs its trainer, claims its
// code in the directory, saves its model now and then, and answers the
// other replicas' requests (cluster_home.go); in the room's session, a
// relay client stands for the pages of the other replicas
// (cluster_relay.go). A replica with pages of a room homed elsewhere
// serves them from a mirror of the room (cluster_mirror.go): states,
// charts and frames arrive through NATS into the same mailboxes, the
// owner's commands go to the home. A room whose home went away can be
// resumed by its owner from its saved model (cluster_resume.go). A server
// alone needs none of it: s.cluster is nil.

// Timing of the cluster.
var (
	// mirrorHeartbeat is how often a mirror tells the home it is there
	// (its interest); a home forgets a replica after interestTTL without
	// one.
	mirrorHeartbeat = 2 * time.Second
	interestTTL     = 10 * time.Second
	// mirrorMisses is how many heartbeats in a row may go unanswered
	// before a mirror tells its pages that the room's server went away (a
	// heartbeat nobody listens to tells it at once).
	mirrorMisses = 3
	// mirrorIdle is how long a mirror without pages is kept.
	mirrorIdle = time.Minute
	// rpcWait bounds the requests of a mirror; cmdWait a command (a test
	// of 10000 images takes seconds).
	rpcWait = 5 * time.Second
	cmdWait = 2 * time.Minute
)

// clusterState is a replica's part of the cluster.
type clusterState struct {
	srv  *Server
	link *cluster.Link
	log  *slog.Logger

	mu      sync.Mutex
	closed  bool
	homes   map[string]*homeRoom   // rooms homed here, by code
	mirrors map[string]*remoteRoom // rooms homed elsewhere with pages here, by code
	ending  sync.WaitGroup         // rooms homed here that have not ended
}

// startCluster connects s to the cluster of its configuration.
func startCluster(s *Server) (*clusterState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	link, err := cluster.Connect(ctx, s.cfg.Cluster, s.log, s.metrics.reg)
	if err != nil {
		return nil, err
	}
	s.cfg.Cluster = link.Config()
	return &clusterState{srv: s, link: link, log: s.log.With("replica", link.Replica()),
		homes: map[string]*homeRoom{}, mirrors: map[string]*remoteRoom{}}, nil
}

// createRoomCode registers a new room of sess with a fresh code: in a
// cluster, one that no other replica's room has.
func (s *Server) createRoomCode(name string, sess *session) (*Room, error) {
	for range 8 {
		room, err := s.class.rooms.create(name, sess, s.class.now())
		if err != nil || s.cluster == nil {
			return room, err
		}
		ok, err := s.cluster.claim(room)
		if ok {
			return room, nil
		}
		s.class.rooms.remove(room)
		if err != nil {
			return nil, err
		}
	}
	return nil, errors.New("create room: no free join code in the cluster")
}

// clusterRoomOpened starts serving a room of this replica to the cluster.
func (s *Server) clusterRoomOpened(room *Room) {
	if s.cluster != nil {
		s.cluster.startHome(room)
	}
}

// clusterRoomEnded stops serving a room of this replica to the cluster:
// when the server shuts down its model is saved for resuming elsewhere;
// when the room closes its saved model is deleted.
func (s *Server) clusterRoomEnded(room *Room) {
	if s.cluster == nil {
		return
	}
	s.mu.Lock()
	shutdown := s.closing
	s.mu.Unlock()
	s.cluster.endHome(room, shutdown)
}

// attachRoom attaches the page c, whose request is r, to the room's
// session: in the registry for a room of this replica, to its mirror for a
// room homed on another. It reports false if the room has closed.
func (s *Server) attachRoom(room *Room, c *client, r *http.Request) bool {
	if room.mirror != nil {
		return room.mirror.admit(c, ownerTokenOf(r, room.Code))
	}
	return s.sessions.attach(room.session)
}

// closeCluster, at shutdown, stops the mirrors, waits for the rooms of
// this replica to be saved and announced gone, and closes the link.
func (s *Server) closeCluster(ctx context.Context) error {
	cs := s.cluster
	if cs == nil {
		return nil
	}
	cs.mu.Lock()
	cs.closed = true
	mirrors := make([]*remoteRoom, 0, len(cs.mirrors))
	for _, rr := range cs.mirrors {
		mirrors = append(mirrors, rr)
	}
	cs.mu.Unlock()
	for _, rr := range mirrors {
		rr.close()
	}
	ended := make(chan struct{})
	go func() {
		cs.ending.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-ctx.Done():
		cs.log.Warn("shutdown: rooms not saved in time")
	}
	return cs.link.Close(ctx)
}

// findRoom looks up a code no room of this replica has: a room homed on
// another replica (its mirror here), or, for a room whose replica went
// away, a *roomGone that says it can be resumed. A code no room has is
// errNoRoom; the directory failing to answer, errLookup.
func (cs *clusterState) findRoom(r *http.Request, typed string) (*Room, error) {
	code, ok := NormalizeJoinCode(typed)
	if !ok {
		return nil, errBadCode
	}
	rr, err := cs.mirror(code)
	if err == nil {
		return rr.room, nil
	}
	if !errors.Is(err, errNoRoom) {
		cs.log.Warn("room lookup", "room", code, "err", err)
		return nil, errLookup
	}
	ctx, cancel := context.WithTimeout(context.Background(), rpcWait)
	defer cancel()
	info, ok, err := cs.link.Snapshot(ctx, code)
	if err != nil {
		cs.log.Warn("room lookup", "room", code, "err", err)
		return nil, errLookup
	}
	if !ok {
		return nil, errNoRoom
	}
	return nil, &roomGone{info: info, owner: cluster.IsOwner(info.OwnerSHA256, ownerTokenOf(r, code))}
}

// Messages of the cluster shown to users.
const (
	msgRoomGoneViewer    = "The room's server went away. Your teacher can resume the room on another server; this page comes back to it then."
	msgRoomGoneOwner     = "The room's server went away. Its last saved state is from step %d (saved %s). Reload this page to resume the room from it on this server."
	msgRoomWentAway      = "the room's server went away; your teacher can resume the room, and this page comes back to it then"
	msgRoomWentAwayOwner = "the room's server went away; reload this page to resume the room from its last saved state"
	msgLookup            = "The room could not be looked up just now (the servers cannot reach each other). Try again in a moment."
	msgRemoteGone        = "the room's server went away"
	msgRemoteSlow        = "the room's server did not answer in time; try again"
	msgRemoteBusy        = "too many commands wait for the room's server; try again"
	msgRemoteBusyHome    = "the room's server is answering many requests just now; try again"
)

// roomGone is the answer to the code of a room whose home replica went
// away: its owner may resume it from its saved model.
type roomGone struct {
	info  cluster.SnapshotInfo
	owner bool // the request carries the owner token
}

func (e *roomGone) Error() string { return "the room's server went away" }

// Unwrap is the refusal the user is told (see refusalOf).
func (e *roomGone) Unwrap() error {
	msg := msgRoomGoneViewer
	if e.owner {
		msg = fmt.Sprintf(msgRoomGoneOwner, e.info.Step, savedAt(e.info.Saved))
	}
	return refusal{"", protocol.CodeNotFound, msg, websocket.ClosePolicyViolation}
}

// errLookup: the directory did not answer; the code may be right.
var errLookup error = refusal{"", protocol.CodeFull, msgLookup, websocket.CloseTryAgainLater}

// uncharged reports whether err answers a code that may be right (its
// room went away, or the directory did not answer), which the join budget
// does not charge.
func uncharged(err error) bool {
	var gone *roomGone
	return errors.As(err, &gone) || errors.Is(err, errLookup)
}

// savedAt writes when a model was saved, for people: "at 14:03:12 UTC,
// 4 minutes ago".
func savedAt(t time.Time) string {
	ago := time.Since(t).Round(time.Second)
	when := "just now"
	switch {
	case ago >= 2*time.Minute:
		when = fmt.Sprintf("%d minutes ago", int(ago/time.Minute))
	case ago >= 2*time.Second:
		when = fmt.Sprintf("%d seconds ago", int(ago/time.Second))
	}
	return fmt.Sprintf("at %s UTC, %s", t.UTC().Format("15:04:05"), when)
}
