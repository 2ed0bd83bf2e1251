package server

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backpropviz/backpropviz/engine"
)

// Errors of starting a session at its caps.
var (
	errFull            = errors.New("too many sessions")
	errSessionsPerAddr = errors.New("too many sessions from one network address")
)

// registry is the one register of the server's sessions — labs, rooms'
// trainers and forks alike — by resume token. It counts the connections
// attached to each, keeps MaxSessions and MaxSessionsPerAddr by evicting
// abandoned sessions, and is the only place a session is registered or
// unregistered: every session it ends, it also stops.
type registry struct {
	max, maxPerAddr int
	sessions        prometheus.Gauge       // bpv_sessions
	evicted         *prometheus.CounterVec // bpv_sessions_evicted_total{reason}
	maxMem          int64                  // the memory budget of all trainers (memory.go)
	memInUse        prometheus.Gauge       // bpv_memory_in_use_bytes

	mu      sync.Mutex          // guards these and each session's attached, detachedAt and room
	closed  bool                // set by close: no more sessions
	byToken map[string]*session // by resume token
	memUsed int64               // bytes of the budget the sessions' trainers and reservations hold
}

func newRegistry(cfg Config, m *serverMetrics) *registry {
	return &registry{max: cfg.MaxSessions, maxPerAddr: cfg.MaxSessionsPerAddr,
		sessions: m.sessions, evicted: m.evicted, maxMem: cfg.MaxMemory, memInUse: m.memInUse,
		byToken: map[string]*session{}}
}

// newSession returns a session of trainer t with settings p, started from
// network address from (perAddr: a lab or a fork, counted against
// MaxSessionsPerAddr), not yet registered: registry.add starts it.
func (s *Server) newSession(t *engine.Trainer, p LabParams, from netip.Addr, perAddr bool) *session {
	sess := &session{id: randomHex(8), token: randomHex(16), srv: s, cmds: make(chan sessionMsg, 16),
		quit: make(chan struct{}), done: make(chan struct{}), t: t, params: p, addr: from, perAddr: perAddr}
	sess.log = s.log.With("session", sess.id)
	return sess
}

// mayAdd reports, without changing anything, the error add would return
// now for a session started from address from (perAddr: a lab or a fork).
func (g *registry) mayAdd(from netip.Addr, perAddr bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	atAddrCap := perAddr && g.countOf(from) >= g.maxPerAddr
	if atAddrCap && g.oldestDetached(startedFrom(from)) == nil {
		return errSessionsPerAddr
	}
	if !atAddrCap && len(g.byToken) >= g.max && g.oldestDetached(nil) == nil {
		return errFull
	}
	return nil
}

// add registers sess with attached connections about to attach (0: its
// resume grace period starts now) and starts its goroutine. sess.mem must
// be reserved (see reserve); if add fails it is given back. At the caps it
// first evicts an abandoned session (see makeRoom), or fails with
// errSessionsPerAddr or errFull; after close it fails with errFull.
func (g *registry) add(sess *session, attached int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errFull // close zeroed the budget in use
	}
	if err := g.makeRoom(sess.addr, sess.perAddr); err != nil {
		g.memUsed -= sess.mem
		g.memInUse.Set(float64(g.memUsed))
		return err
	}
	sess.attached = attached
	if attached == 0 {
		sess.detachedAt = time.Now()
	}
	g.byToken[sess.token] = sess
	g.sessions.Set(float64(len(g.byToken)))
	go sess.run()
	return nil
}

// makeRoom makes room for one more session started from address from
// (perAddr: a lab or a fork, counted against MaxSessionsPerAddr). At
// MaxSessionsPerAddr it evicts that address's own lab or fork that has had
// no client for the longest time (errSessionsPerAddr if each has one): one
// address never evicts more of other addresses' sessions than its own cap.
// At MaxSessions it evicts the private session that has had no client for
// the longest time (errFull if every one has one). g.mu is held.
func (g *registry) makeRoom(from netip.Addr, perAddr bool) error {
	if perAddr && g.countOf(from) >= g.maxPerAddr {
		old := g.oldestDetached(startedFrom(from))
		if old == nil {
			return errSessionsPerAddr
		}
		g.endLocked(old, evictLimit)
	}
	if len(g.byToken) >= g.max {
		old := g.oldestDetached(nil)
		if old == nil {
			return errFull
		}
		g.endLocked(old, evictLimit)
	}
	return nil
}

// Why a session is evicted: the reason label of bpv_sessions_evicted_total.
const (
	evictAbandoned = "abandoned" // no page for the resume grace period
	evictLimit     = "limit"     // without a page, replaced by a new session at MaxSessions or MaxSessionsPerAddr
	evictIdle      = "idle"      // no command for IdleTimeout
	evictMemory    = "memory"    // without a page, replaced by a new session at the memory budget
)

// evictReasons are the reasons, each with what the log says.
var evictReasons = map[string]string{
	evictAbandoned: "no page for the resume grace period",
	evictLimit:     "making room for a new session at the cap of sessions",
	evictIdle:      "no command for the idle timeout",
	evictMemory:    "making room for a new session within the memory budget",
}

// end unregisters sess, if it is still registered, and stops it (without
// waiting for it). A reason (one of evictReasons) counts sess as evicted
// and is logged; "" ends a session no client has seen. It reports whether sess was registered
// (else whoever unregistered it has stopped it).
func (g *registry) end(sess *session, reason string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.endLocked(sess, reason)
}

// endLocked is end with g.mu held.
func (g *registry) endLocked(sess *session, reason string) bool {
	if g.byToken[sess.token] != sess {
		return false
	}
	delete(g.byToken, sess.token)
	g.sessions.Set(float64(len(g.byToken)))
	g.memUsed -= sess.mem + sess.tlMem // its trainer's and its history's (timeline_session.go)
	sess.tlMem = 0
	g.memInUse.Set(float64(g.memUsed))
	close(sess.quit)
	if reason != "" {
		g.evicted.WithLabelValues(reason).Inc()
		sess.log.Info("session evicted", "reason", reason, "why", evictReasons[reason])
	}
	return true
}

// evictIdle ends the sessions that have had no client since before
// now − grace and returns how many.
func (g *registry) evictIdle(now time.Time, grace time.Duration) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, sess := range g.byToken {
		if sess.attached == 0 && now.Sub(sess.detachedAt) >= grace {
			g.endLocked(sess, evictAbandoned)
			n++
		}
	}
	return n
}

// close refuses new sessions, unregisters every session and stops it, and
// returns them (to wait for them).
func (g *registry) close() []*session {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	all := make([]*session, 0, len(g.byToken))
	for _, sess := range g.byToken {
		all = append(all, sess)
		close(sess.quit)
	}
	clear(g.byToken)
	g.sessions.Set(0)
	g.memUsed = 0
	g.memInUse.Set(0)
	return all
}

// count is the number of sessions.
func (g *registry) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.byToken)
}

// lookup returns the session of a resume token, or nil.
func (g *registry) lookup(token string) *session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byToken[token]
}

// resume finds the session of a resume token and attaches one connection
// to it (see release); nil if there is none.
func (g *registry) resume(token string) *session {
	if token == "" {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	sess := g.byToken[token]
	if sess != nil {
		sess.attached++
	}
	return sess
}

// attach counts one more connection of sess (see release); it reports
// false if sess is no longer registered.
func (g *registry) attach(sess *session) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if sess == nil || g.byToken[sess.token] != sess {
		return false
	}
	sess.attached++
	return true
}

// release detaches a connection from its session; the session waits the
// resume grace period for another.
func (g *registry) release(sess *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sess.attached--
	if sess.attached == 0 {
		sess.detachedAt = time.Now()
	}
}

// makeRoomSession makes sess the trainer of room r and releases the
// connection add counted for it, so that no new session evicted it as an
// abandoned private one meanwhile.
func (g *registry) makeRoomSession(sess *session, r *Room) {
	g.mu.Lock()
	sess.room = r
	g.mu.Unlock()
	g.release(sess)
}

// private returns the labs and forks (the sessions that are not a room's).
func (g *registry) private() []*session {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*session
	for _, sess := range g.byToken {
		if sess.room == nil {
			out = append(out, sess)
		}
	}
	return out
}

// oldestDetached returns the private session (not a room's) that has had
// no client for the longest time, or nil if every one has a client. If
// only is not nil, only the sessions it accepts are considered. g.mu is
// held.
func (g *registry) oldestDetached(only func(*session) bool) *session {
	var old *session
	for _, sess := range g.byToken {
		if only != nil && !only(sess) {
			continue
		}
		if sess.attached == 0 && sess.room == nil && (old == nil || sess.detachedAt.Before(old.detachedAt)) {
			old = sess
		}
	}
	return old
}

// countOf is the number of labs and forks started from address a. g.mu is
// held.
func (g *registry) countOf(a netip.Addr) int {
	n := 0
	for _, sess := range g.byToken {
		if startedFrom(a)(sess) {
			n++
		}
	}
	return n
}

// startedFrom accepts the labs and forks started from address a (its /64
// for IPv6, see addrKey).
func startedFrom(a netip.Addr) func(*session) bool {
	a = addrKey(a)
	return func(sess *session) bool { return sess.perAddr && addrKey(sess.addr) == a }
}
