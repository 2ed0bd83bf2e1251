package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// remoteRoom is the mirror of a room homed on another replica: it serves
// this replica's pages of the room as the room's session would. Its
// goroutine (run) holds the pages; what the home publishes (states,
// charts, welcomes, the frames of the pages' subscription keys) arrives
// through NATS and goes into the pages' mailboxes; it tells the home which
// subscription keys its pages need and how many students watch; the
// owner's commands go to the home, students' are refused here. The pages'
// clients send to sess, a session without a trainer whose messages run
// reads.
type remoteRoom struct {
	cs      *clusterState
	code    string
	home    string // the home replica
	room    *Room
	sess    *session
	in      chan *nats.Msg   // events and frames from NATS
	results chan func()      // answers of requests, run in run
	cmds    chan cmdJob      // owners' commands, sent one at a time by forward
	answers []chan answerJob // students' answers, by student (cluster_prompt.go)
	stop    chan struct{}    // closed by close
	ready   chan struct{}    // closed when open has returned (err set)
	err     error
	evSub   *nats.Subscription

	mu     sync.Mutex
	tokens map[*client]string // the owner tokens of the pages that carry one
	ended  bool               // no page may attach any more

	// Owned by run.
	clients      []*client
	owners       map[*client]bool
	hashes       map[*client]string // each page's subscription key hash
	keys         map[string]*mirrorKey
	waiting      map[string][]*client // keyframe requests in flight, by key hash
	looking      map[*client]int      // looks of an owner's page in flight (see ask)
	held         map[*client][][]byte // looks for such a page, held until its ack
	welcome      []byte               // with this replica's limits
	state        []byte
	history      []protocol.MetricsPoint
	tests        []protocol.TestPoint
	sample       int
	probe        bool
	prompt       []byte // the prompt on the pages, nil if none (cluster_prompt.go)
	interestDue  bool
	interestBusy bool
	interestAt   time.Time // last sent
	misses       int       // heartbeats unanswered in a row
	idleSince    time.Time // when the last page left; zero while there are pages
}

// mirrorKey is one subscription key of the mirror's pages.
type mirrorKey struct {
	sub   protocol.Subscription
	pages int
	nsub  *nats.Subscription // its frames
}

// cmdJob is an owner's command waiting to be forwarded to the home.
type cmdJob struct {
	c   *client
	req cmdReq
}

// mirror returns the mirror of the room of code, opening it if this
// replica has none: errNoRoom if no live room has the code.
func (cs *clusterState) mirror(code string) (*remoteRoom, error) {
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		return nil, errNoRoom
	}
	rr := cs.mirrors[code]
	if rr == nil {
		rr = &remoteRoom{cs: cs, code: code, in: make(chan *nats.Msg, 4096), results: make(chan func(), 256),
			cmds: make(chan cmdJob, 32), stop: make(chan struct{}), ready: make(chan struct{}),
			tokens: map[*client]string{}, owners: map[*client]bool{}, hashes: map[*client]string{},
			keys: map[string]*mirrorKey{}, waiting: map[string][]*client{},
			looking: map[*client]int{}, held: map[*client][][]byte{}}
		rr.answers = make([]chan answerJob, answerWorkers)
		for i := range rr.answers {
			rr.answers[i] = make(chan answerJob, answerQueue)
		}
		cs.mirrors[code] = rr
		cs.mu.Unlock()
		rr.err = rr.open()
		if rr.err != nil {
			cs.forget(rr)
		}
		close(rr.ready)
	} else {
		cs.mu.Unlock()
		<-rr.ready
	}
	if rr.err != nil {
		return nil, rr.err
	}
	return rr, nil
}

// dropMirror ends the mirror of code, if any, telling its pages that the
// room's server went away.
func (cs *clusterState) dropMirror(code string) {
	cs.mu.Lock()
	rr := cs.mirrors[code]
	cs.mu.Unlock()
	if rr == nil {
		return
	}
	<-rr.ready
	if rr.err != nil {
		return
	}
	select {
	case rr.results <- rr.goneAway:
	case <-rr.sess.done:
	}
	<-rr.sess.done
}

// forget removes rr from the mirrors.
func (cs *clusterState) forget(rr *remoteRoom) {
	cs.mu.Lock()
	if cs.mirrors[rr.code] == rr {
		delete(cs.mirrors, rr.code)
	}
	cs.mu.Unlock()
}

// open finds the room's home in the directory, subscribes to its events,
// and fetches what its pages need first.
func (rr *remoteRoom) open() error {
	link := rr.cs.link
	ctx, cancel := context.WithTimeout(context.Background(), rpcWait)
	defer cancel()
	rec, ok, err := link.Lookup(ctx, rr.code)
	if err != nil {
		return err
	}
	if !ok || rec.Replica == link.Replica() { // this replica's own entry: a room it no longer has
		return errNoRoom
	}
	rr.home = rec.Replica
	rr.sess = &session{id: "mirror", srv: rr.cs.srv, log: rr.cs.log.With("room", rr.code, "home", rec.Replica),
		cmds: make(chan sessionMsg, 16), quit: make(chan struct{}), done: make(chan struct{}), mirror: rr}
	rr.room = &Room{Code: rr.code, Name: cleanRoomName(rec.Name), Created: rec.Created,
		ownerHash: rec.OwnerSHA256, mirror: rr, session: rr.sess}
	if rr.evSub, err = link.Subscribe(link.Events(rr.code), rr.receive); err != nil {
		return err
	}
	req, _ := json.Marshal(syncReq{Replica: link.Replica()})
	m, err := link.Request(ctx, link.RPC(rr.code, cluster.RPCSync), req)
	if err == nil && cluster.ReplyError(m) != "" {
		err = errors.New(cluster.ReplyError(m))
	}
	var sync syncReply
	if err == nil && json.Unmarshal(m.Data, &sync) != nil {
		link.Dropped("malformed")
		err = errMalformed
	}
	if err == nil {
		err = rr.applySync(sync)
	}
	if err != nil {
		rr.evSub.Unsubscribe()
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, errEnded) || err.Error() == errEnded.Error() {
			return errNoRoom // the home went away (its entry expires soon)
		}
		return err
	}
	go rr.run()
	go rr.forward()
	for _, jobs := range rr.answers {
		go rr.forwardAnswers(jobs) // cluster_prompt.go
	}
	rr.sess.log.Info("room mirrored")
	return nil
}

// applySync takes what the home sent for a new mirror.
func (rr *remoteRoom) applySync(s syncReply) error {
	w, ok := rr.cs.patchWelcome(s.Welcome)
	var charts protocol.Metrics
	if !ok || typeOf(s.State) != protocol.TypeState || json.Unmarshal(s.Metrics, &charts) != nil ||
		s.Sample < 0 || s.Sample >= engine.MaxBatchSize {
		rr.cs.link.Dropped("malformed")
		return errMalformed
	}
	rr.welcome, rr.state = w, s.State
	rr.history, rr.tests = charts.Points, charts.Test
	rr.sample, rr.probe = s.Sample, s.Probe
	if typeOf(s.Prompt) == protocol.TypePrompt {
		rr.prompt = s.Prompt
	}
	if l := s.Lesson.lesson(); l != nil {
		rr.room.lesson.Store(l) // lesson_cluster.go
	}
	return nil
}

// patchWelcome is a welcome of the home with this replica's limits, which
// its pages live by.
func (cs *clusterState) patchWelcome(b []byte) ([]byte, bool) {
	var w protocol.Welcome
	if json.Unmarshal(b, &w) != nil || w.Type != protocol.TypeWelcome {
		return nil, false
	}
	w.Limits = cs.srv.cfg.limits()
	return protocol.Marshal(w), true
}

// receive passes a message from NATS to run; if run is that far behind,
// the message is dropped (a newer state or frame follows).
func (rr *remoteRoom) receive(m *nats.Msg) {
	select {
	case rr.in <- m:
	default:
		rr.cs.link.Dropped("full")
	}
}

// admit lets page c, carrying owner token tok ("" for none), attach to
// the mirror; it reports false once the mirror has ended.
func (rr *remoteRoom) admit(c *client, tok string) bool {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.ended {
		return false
	}
	if tok != "" && rr.room.IsOwner(tok) {
		rr.tokens[c] = tok
	}
	return true
}

// close stops the mirror at shutdown (its pages are told by Shutdown).
func (rr *remoteRoom) close() {
	rr.mu.Lock()
	first := !rr.ended
	rr.ended = true
	rr.mu.Unlock()
	if first {
		close(rr.stop)
	}
	<-rr.sess.done
}

// run is the mirror's goroutine.
func (rr *remoteRoom) run() {
	defer rr.finish()
	tick := time.NewTicker(mirrorHeartbeat / 10)
	defer tick.Stop()
	for {
		select {
		case m := <-rr.sess.cmds:
			rr.handle(m)
		case m := <-rr.in:
			if rr.event(m) {
				return
			}
		case f := <-rr.results:
			f()
		case now := <-tick.C:
			if rr.tick(now) {
				return
			}
		case <-rr.stop:
			return
		}
		if rr.room.closed.Load() {
			return
		}
	}
}

// finish ends the mirror: no page attaches any more; the home hears that
// this replica needs nothing.
func (rr *remoteRoom) finish() {
	rr.mu.Lock()
	rr.ended = true
	rr.mu.Unlock()
	rr.room.closed.Store(true)
	rr.cs.forget(rr)
	rr.evSub.Unsubscribe()
	for _, k := range rr.keys {
		k.nsub.Unsubscribe()
	}
	b, _ := json.Marshal(interestMsg{Replica: rr.cs.link.Replica()}) // needs nothing any more
	rr.cs.link.Publish(rr.cs.link.RPC(rr.code, cluster.RPCInterest), b)
	close(rr.sess.done)
	rr.sess.log.Info("room mirror ended")
}

// tick sends the interest when due, forgets a mirror long without pages,
// and reports whether the mirror ends.
func (rr *remoteRoom) tick(now time.Time) bool {
	if len(rr.clients) == 0 && !rr.idleSince.IsZero() && now.Sub(rr.idleSince) >= mirrorIdle {
		return true
	}
	if rr.interestBusy || !(rr.interestDue && now.Sub(rr.interestAt) >= mirrorHeartbeat/20 || now.Sub(rr.interestAt) >= mirrorHeartbeat) {
		return false
	}
	rr.interestBusy, rr.interestDue, rr.interestAt = true, false, now
	m := interestMsg{Replica: rr.cs.link.Replica(), Pages: len(rr.clients)}
	for _, k := range rr.keys {
		m.Subs = append(m.Subs, k.sub)
	}
	for _, c := range rr.clients {
		if !rr.owners[c] {
			m.Viewers++
		}
	}
	m.Students = rr.room.roster.studentsForHome(now) // cluster_dashboard.go
	b, _ := json.Marshal(m)
	rr.request(cluster.RPCInterest, b, mirrorHeartbeat, func(_ *nats.Msg, err error) {
		rr.interestBusy = false
		switch {
		case err == nil:
			rr.misses = 0
		case errors.Is(err, nats.ErrNoResponders):
			rr.goneAway()
		default:
			if rr.misses++; rr.misses >= mirrorMisses {
				rr.sess.log.Warn("the room's home does not answer", "err", err)
				rr.goneAway()
			}
		}
	})
	return false
}

// goneAway tells the pages that the room's server went away and ends the
// mirror (run returns: the room is closed).
func (rr *remoteRoom) goneAway() {
	if rr.room.closed.Swap(true) {
		return
	}
	rr.mu.Lock()
	rr.ended = true
	rr.mu.Unlock()
	bye, ownerBye := protocol.Bye(msgRoomWentAway), protocol.Bye(msgRoomWentAwayOwner)
	for _, c := range rr.clients {
		b := bye
		if rr.owners[c] {
			b = ownerBye
		}
		c.mb.close(b, websocket.CloseGoingAway, "the room's server went away")
	}
	rr.sess.log.Info("the room's server went away")
}
