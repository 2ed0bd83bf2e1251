package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// ClassroomConfig configures rooms and the limits that keep one machine
// fair to a class. It is embedded in Config; a zero field means its default,
// sized for a 2-core machine and a class of up to 200 students.
type ClassroomConfig struct {
	// MaxRooms bounds the rooms hosted at once; default 4.
	MaxRooms int
	// MaxViewers bounds the students watching one room; default 250.
	MaxViewers int
	// MaxConnsPerAddr bounds the open websockets of one network address;
	// default 240, so a class of 200 behind one school NAT fits while one
	// address cannot take every connection of the server.
	MaxConnsPerAddr int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; from any other peer the header is ignored. Default none.
	TrustedProxies []netip.Prefix
	// AllowedOrigins may open websockets besides this host itself, e.g.
	// "https://viz.school.example" behind a reverse proxy that rewrites
	// Host. Default none.
	AllowedOrigins []string
	// JoinRate is the wrong join codes per second one address may try
	// (bursts of JoinBurst); defaults 0.2 and 30. JoinRateTotal and
	// JoinBurstTotal bound all addresses together; defaults 2 and 100.
	// Only wrong codes are charged, and other addresses' wrong codes
	// never refuse a right code: an address over its own budget (or,
	// while the total budget is used up, an address that tried wrong codes
	// itself) may still look up 5×JoinRate codes per second (bursts of
	// JoinBurst/3), and a right one passes; beyond that it is refused
	// before its code is looked up. The owner token, and an address that
	// found the room before, are never refused. See joinBudget and
	// findRoom.
	JoinRate       float64
	JoinBurst      int
	JoinRateTotal  float64
	JoinBurstTotal int
	// ForkRate bounds the optimizer steps per second a student's fork may
	// play at (and forks may not run whole epochs at full speed), so 30
	// forks share two cores and the room stays smooth; default 5.
	ForkRate float64
	// IdleTimeout ends a private session (a lab or a fork) whose pages have
	// sent no command for this long, telling them why; default 30 minutes.
	// Rooms are not ended while a page is connected.
	IdleTimeout time.Duration
	// RoomKey, if set, must be typed to create a room from the page (rooms
	// named with -room at start-up need none). Default: anyone may create
	// one, up to MaxRooms.
	RoomKey string
}

// probeRatio is how many times JoinRate a suspect address may look codes
// up (see joinBudget): fast enough for a class behind one NAT, slow enough
// that guessing one of 8.9·10⁸ codes takes years.
const probeRatio = 5

// Classroom defaults.
const (
	defaultMaxRooms        = 4
	defaultMaxViewers      = 250
	defaultMaxConnsPerAddr = 240
	defaultJoinRate        = 0.2
	defaultJoinBurst       = 30
	defaultJoinRateTotal   = 2
	defaultJoinBurstTotal  = 100
	defaultForkRate        = 5
	defaultIdleTimeout     = 30 * time.Minute
)

// withDefaults fills zero fields and checks the others.
func (c ClassroomConfig) withDefaults() (ClassroomConfig, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defF := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxRooms, defaultMaxRooms)
	def(&c.MaxViewers, defaultMaxViewers)
	def(&c.MaxConnsPerAddr, defaultMaxConnsPerAddr)
	def(&c.JoinBurst, defaultJoinBurst)
	def(&c.JoinBurstTotal, defaultJoinBurstTotal)
	defF(&c.JoinRate, defaultJoinRate)
	defF(&c.JoinRateTotal, defaultJoinRateTotal)
	defF(&c.ForkRate, defaultForkRate)
	if c.IdleTimeout == 0 {
		c.IdleTimeout = defaultIdleTimeout
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.MaxRooms > 0, "max rooms %d: want > 0", c.MaxRooms)
	check(c.MaxViewers > 0, "max viewers %d: want > 0", c.MaxViewers)
	check(c.MaxConnsPerAddr > 0, "max connections per address %d: want > 0", c.MaxConnsPerAddr)
	check(c.JoinRate > 0 && c.JoinBurst > 0, "join rate %v, burst %d: want > 0", c.JoinRate, c.JoinBurst)
	check(c.IdleTimeout > 0, "idle timeout %v: want > 0", c.IdleTimeout)
	check(c.ForkRate > 0, "fork rate %v: want > 0 steps per second", c.ForkRate)
	check(c.JoinRateTotal > 0 && c.JoinBurstTotal > 0, "total join rate %v, burst %d: want > 0", c.JoinRateTotal, c.JoinBurstTotal)
	for _, o := range c.AllowedOrigins {
		_, ok := normalizeOrigin(o)
		check(ok, "allowed origin %q: want scheme://host[:port]", o)
	}
	return c, errors.Join(errs...)
}

// Messages of the classroom shown to users.
const (
	msgForbidden = "Only the teacher drives this room. Fork it to experiment on your own copy."
	msgNoRoom    = "No room has this code. Check the code on the board."
	msgBadCode   = "A join code is 6 characters, letters and digits (no 0, O, 1, I or L)."
	msgRoomEnded = "The teacher's room has closed."
)

// classroom is the server's rooms and classroom limits.
type classroom struct {
	cfg   ClassroomConfig
	rooms *roomRegistry
	conns *addrCounter // websockets per address
	joins *joinBudget  // wrong join codes per address and in all
	now   func() time.Time

	metrics classroomMetrics

	mu      sync.Mutex
	members map[*Room]map[*client]bool // connected clients of each room: true for the owner's
}

type classroomMetrics struct {
	rooms      prometheus.Gauge
	viewers    prometheus.Gauge
	joinFailed prometheus.Counter
	forks      prometheus.Counter
}

func newClassroom(cfg ClassroomConfig, reg prometheus.Registerer) *classroom {
	now := time.Now
	c := &classroom{
		cfg:   cfg,
		rooms: newRoomRegistry(cfg.MaxRooms),
		conns: newAddrCounter(cfg.MaxConnsPerAddr),
		joins: newJoinBudget(cfg.JoinRate, cfg.JoinBurst, cfg.JoinRateTotal, cfg.JoinBurstTotal,
			probeRatio*cfg.JoinRate, max(1, cfg.JoinBurst/3), now()),
		now:     now,
		members: map[*Room]map[*client]bool{},
		metrics: classroomMetrics{
			rooms: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_rooms",
				Help: "Classroom rooms open."}),
			viewers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_room_viewers",
				Help: "Students connected to rooms (owners' pages excluded)."}),
			joinFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_join_failures_total",
				Help: "Join attempts with a code no room has, or malformed."}),
			forks: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_forks_total",
				Help: "Private sessions forked from a room."}),
		},
	}
	reg.MustRegister(c.metrics.rooms, c.metrics.viewers, c.metrics.joinFailed, c.metrics.forks)
	return c
}

// RoomInfo is what the pages show about a room.
type RoomInfo struct {
	Code    string
	Name    string
	Viewers int
	Owner   bool // the request carries the owner token
}

// ownerCookie names the cookie that carries a room's owner token, set when
// the owner opens the owner link; the room's websocket reads it.
func ownerCookie(code string) string { return "bpv_owner_" + code }

// forkCookie names the cookie that carries the resume token of a student's
// fork of a room, so a reopened tab comes back to it.
func forkCookie(code string) string { return "bpv_fork_" + code }

// ownerTokenOf returns the owner token a request carries: the "owner" query
// parameter, else the owner cookie of the room.
func ownerTokenOf(r *http.Request, code string) string {
	if t := r.URL.Query().Get("owner"); t != "" {
		return t
	}
	if ck, err := r.Cookie(ownerCookie(code)); err == nil {
		return ck.Value
	}
	return ""
}

// CreateRoom starts a room named name with the lab settings p (see
// ParseLabParams; DefaultLabParams for the defaults), registers it and
// returns it, paused at step 0; its owner link is /r/CODE?owner=TOKEN.
// Errors: errRoomsFull or errFull at the caps of rooms or sessions, or the
// settings do not fit the data.
func (s *Server) CreateRoom(name string, p LabParams) (*Room, error) {
	data, err := s.data.get(p.Data)
	if err != nil {
		return nil, err
	}
	t, err := engine.NewTrainer(p.Config, data)
	if err != nil {
		return nil, err
	}
	p.Config = t.Config()
	// Attached until it is the room's, so that no new session evicts it
	// as an abandoned private one.
	sess, err := s.startSession(t, p, 1, netip.Addr{}, false)
	if err != nil {
		return nil, err
	}
	room, err := s.class.rooms.create(name, sess, s.class.now())
	if err != nil {
		s.stopSession(sess)
		return nil, err
	}
	s.mu.Lock()
	sess.room = room
	sess.attached--
	sess.detachedAt = time.Now()
	s.mu.Unlock()
	s.class.metrics.rooms.Set(float64(s.class.rooms.len()))
	s.log.Info("room created", "room", room.Code, "session", sess.id)
	go func() {
		<-sess.done // evicted after the grace period without clients, or shutdown
		if s.class.rooms.remove(room) {
			s.log.Info("room closed", "room", room.Code)
		}
		s.class.metrics.rooms.Set(float64(s.class.rooms.len()))
	}()
	return room, nil
}

// startSession registers and starts a session running t with settings p;
// attached is the number of connections about to attach (0: the grace
// period starts now). from is the network address that started it and
// perAddr whether it counts against MaxSessionsPerAddr (a fork; a room's
// session does not). At the caps it evicts an abandoned session, or fails
// with errSessionsPerAddr or errFull (see makeRoomLocked).
func (s *Server) startSession(t *engine.Trainer, p LabParams, attached int, from netip.Addr, perAddr bool) (*session, error) {
	sess := &session{id: randomHex(8), token: randomHex(16), srv: s, cmds: make(chan sessionMsg, 16),
		quit: make(chan struct{}), done: make(chan struct{}), t: t, params: p, attached: attached,
		addr: from, perAddr: perAddr}
	sess.log = s.log.With("session", sess.id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, errFull
	}
	if err := s.makeRoomLocked(from, perAddr); err != nil {
		return nil, err
	}
	if attached == 0 {
		sess.detachedAt = time.Now()
	}
	s.sessions[sess.token] = sess
	s.metrics.sessions.Set(float64(len(s.sessions)))
	go sess.run()
	return sess, nil
}

// stopSession unregisters and stops a session no client has seen.
func (s *Server) stopSession(sess *session) {
	s.mu.Lock()
	mine := s.sessions[sess.token] == sess
	if mine {
		delete(s.sessions, sess.token)
		s.metrics.sessions.Set(float64(len(s.sessions)))
	}
	s.mu.Unlock()
	if mine {
		close(sess.quit)
	}
}

// inSession runs f in the session's goroutine (where its trainer may be
// touched) and waits for it. It reports false if the session has ended.
func (sess *session) inSession(f func()) bool {
	done := make(chan struct{})
	if !sess.send(sessionMsg{kind: msgRun, fn: func() { f(); close(done) }}) {
		return false
	}
	select {
	case <-done:
		return true
	case <-sess.done:
		return false
	}
}

// Fork starts a private session from the room's trainer as it is now: its
// weights, optimizer state, hyperparameters, step and data cursor (a step
// in progress starts anew), paused, for a student at network address from
// (counted against MaxSessionsPerAddr). The returned session has no client
// yet; it waits the resume grace period for one. Errors: errRoomClosed,
// errSessionsPerAddr, errFull.
func (s *Server) Fork(room *Room, from netip.Addr) (*session, error) {
	rs := room.session
	if rs == nil || room.closed.Load() {
		return nil, errRoomClosed
	}
	var t *engine.Trainer
	var p LabParams
	var history []protocol.MetricsPoint
	var tests []protocol.TestPoint
	if !rs.inSession(func() {
		t, p = rs.t.Clone(), rs.params
		// The fork's charts go on from the room's.
		history, tests = slices.Clone(rs.history), slices.Clone(rs.tests)
	}) {
		return nil, errRoomClosed
	}
	p.Speed = capSpeed(p.Speed, s.cfg.ForkRate, len(t.Layers()))
	sess, err := s.startSession(t, p, 0, from, true)
	if err != nil {
		return nil, err
	}
	sess.maxRate = s.cfg.ForkRate             // before any client: run has not read it
	sess.history, sess.tests = history, tests // likewise: read when a client attaches
	s.class.metrics.forks.Inc()
	s.log.Info("room forked", "room", room.Code, "session", sess.id, "step", t.Step())
	return sess, nil
}

// admit checks a command before the session runs it: in a room only the
// owner's pages may command; a fork's training rate is bounded. It returns
// the error code and message of a refusal, or "". It runs in the session
// goroutine and notes the time of the command (see evictInactive).
func (sess *session) admit(m *sessionMsg) (code, message string) {
	if !sess.mayDrive(m.c) {
		return protocol.CodeForbidden, msgForbidden
	}
	if msg := sess.forkLimit(m); msg != "" {
		return protocol.CodeRateLimited, msg
	}
	sess.lastCmd = time.Now()
	return "", ""
}

// mayDrive reports whether client c may send commands to the session: in
// a room only the owner's pages may.
func (sess *session) mayDrive(c *client) bool {
	if sess.room == nil {
		return true
	}
	return sess.srv.class.isOwnerClient(sess.room, c)
}

func (cl *classroom) isOwnerClient(r *Room, c *client) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.members[r][c]
}

// join adds c to the room's members; it reports false if the room has
// MaxViewers viewers already (owners are always let in).
func (cl *classroom) join(r *Room, c *client, owner bool) bool {
	cl.mu.Lock()
	m := cl.members[r]
	if m == nil {
		m = map[*client]bool{}
		cl.members[r] = m
	}
	if !owner && int(r.viewers.Load()) >= cl.cfg.MaxViewers {
		cl.mu.Unlock()
		return false
	}
	m[c] = owner
	if owner {
		r.owners.Add(1)
	} else {
		r.viewers.Add(1)
		cl.metrics.viewers.Inc()
	}
	cl.mu.Unlock()
	return true
}

// leave removes c from the room's members.
func (cl *classroom) leave(r *Room, c *client) {
	cl.mu.Lock()
	m := cl.members[r]
	owner, ok := m[c]
	if ok {
		delete(m, c)
		if owner {
			r.owners.Add(-1)
		} else {
			r.viewers.Add(-1)
			cl.metrics.viewers.Dec()
		}
		if len(m) == 0 {
			delete(cl.members, r)
		}
	}
	cl.mu.Unlock()
	if ok {
		cl.announce(r)
	}
}

// announce sends every member of r the room message with the current
// viewer count.
func (cl *classroom) announce(r *Room) {
	cl.mu.Lock()
	members := make([]*client, 0, len(cl.members[r]))
	roles := make([]bool, 0, len(cl.members[r]))
	for c, owner := range cl.members[r] {
		members = append(members, c)
		roles = append(roles, owner)
	}
	cl.mu.Unlock()
	n := r.Viewers()
	var ownerMsg, viewerMsg []byte
	for i, c := range members {
		if roles[i] {
			if ownerMsg == nil {
				ownerMsg = protocol.Marshal(protocol.Room{Type: protocol.TypeRoom, V: protocol.Version, Code: r.Code, Name: r.Name, Role: protocol.RoleOwner, Viewers: n})
			}
			c.mb.reply(ownerMsg)
		} else {
			if viewerMsg == nil {
				viewerMsg = protocol.Marshal(protocol.Room{Type: protocol.TypeRoom, V: protocol.Version, Code: r.Code, Name: r.Name, Role: protocol.RoleViewer, Viewers: n})
			}
			c.mb.reply(viewerMsg)
		}
	}
}

// refuseWS upgrades the connection only to tell the page why it is refused
// (an error message it can show, then a close frame) and closes it. A page
// cannot read an HTTP error status of a failed websocket handshake.
func (s *Server) refuseWS(w http.ResponseWriter, r *http.Request, code, message string, closeCode int) {
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	refuse(conn, code, message, closeCode)
}

// limitConnsPerAddr refuses a websocket beyond MaxConnsPerAddr from one
// client address (see ClientAddr) and holds a slot while it is open.
func (s *Server) limitConnsPerAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := ClientAddr(r, s.cfg.TrustedProxies)
		if !s.class.conns.acquire(a) {
			s.metrics.limitHits.WithLabelValues("connections_per_address").Inc()
			s.log.Info("connection refused", "limit", "connections_per_address", "addr", a)
			s.refuseWS(w, r, protocol.CodeFull, msgConnsPerAddr(s.cfg.MaxConnsPerAddr), websocket.CloseTryAgainLater)
			return
		}
		defer s.class.conns.release(a)
		next.ServeHTTP(w, r)
	})
}

// findRoom looks up the room of a code typed by the user who sent r. Only
// wrong codes are charged to the join budget of the user's address (see
// joinBudget), and no budget refuses a right code that the request proves
// it knows: the owner token (owner link or cookie), or an address that
// found the room before (a reload, a student reconnecting, a classmate
// behind the same NAT). Any other code is looked up only if the address
// may look one up now; a right one then passes. It returns the error code
// and message to show when it fails.
func (s *Server) findRoom(r *http.Request, typed string) (room *Room, code, message string) {
	a := ClientAddr(r, s.cfg.TrustedProxies)
	room, err := s.class.rooms.lookup(typed)
	if err == nil && (room.knows(a) || room.IsOwner(ownerTokenOf(r, room.Code))) {
		return room, "", ""
	}
	now := s.class.now()
	switch why, wait := s.class.joins.admit(a, now); why {
	case joinAddrOver:
		s.metrics.limitHits.WithLabelValues("join_attempts").Inc()
		return nil, protocol.CodeRateLimited, msgJoinRate(wait)
	case joinServerOver:
		s.metrics.limitHits.WithLabelValues("join_attempts_total").Inc()
		return nil, protocol.CodeRateLimited, msgJoinRateServer(wait)
	}
	if err == nil {
		room.remember(a)
		return room, "", ""
	}
	s.class.joins.wrong(a, now)
	s.class.metrics.joinFailed.Inc()
	if errors.Is(err, errBadCode) {
		return nil, protocol.CodeNotFound, msgBadCode
	}
	return nil, protocol.CodeNotFound, msgNoRoom
}

// serveRoomWS is the websocket of a room's page: the owner (who carries
// the owner token, see ownerTokenOf) drives the room's session; everyone
// else watches it and may only subscribe.
func (s *Server) serveRoomWS(w http.ResponseWriter, r *http.Request) {
	room, code, msg := s.findRoom(r, chi.URLParam(r, "code"))
	if room == nil {
		s.refuseWS(w, r, code, msg, websocket.ClosePolicyViolation)
		return
	}
	owner := room.IsOwner(ownerTokenOf(r, room.Code))
	if !owner && room.Viewers() >= s.cfg.MaxViewers {
		s.metrics.limitHits.WithLabelValues("viewers").Inc()
		s.refuseWS(w, r, protocol.CodeFull, msgViewersFull(s.cfg.MaxViewers), websocket.CloseTryAgainLater)
		return
	}
	sess := room.session
	s.runClient(w, r, func(c *client) (*session, bool, string, string) {
		if !s.attachTo(sess) {
			return nil, false, protocol.CodeNotFound, msgRoomEnded
		}
		if !s.class.join(room, c, owner) {
			s.release(sess)
			s.metrics.limitHits.WithLabelValues("viewers").Inc()
			return nil, false, protocol.CodeFull, msgViewersFull(s.cfg.MaxViewers)
		}
		return sess, true, "", ""
	}, func(*client) { s.class.announce(room) }, func(c *client) { s.class.leave(room, c) })
}

// serveForkWS is the websocket of a student's fork of a room: it resumes
// the fork named by the resume parameter or the fork cookie, or else forks
// the room now.
func (s *Server) serveForkWS(w http.ResponseWriter, r *http.Request) {
	typed := chi.URLParam(r, "code")
	tok := r.URL.Query().Get("resume")
	if tok == "" {
		if code, ok := NormalizeJoinCode(typed); ok {
			if ck, err := r.Cookie(forkCookie(code)); err == nil {
				tok = ck.Value
			}
		}
	}
	if sess := s.resume(tok); sess != nil && sess.room == nil {
		s.runClient(w, r, func(*client) (*session, bool, string, string) { return sess, true, "", "" }, nil, nil)
		return
	} else if sess != nil {
		s.release(sess) // a room's token is not a fork's
	}
	room, code, msg := s.findRoom(r, typed)
	if room == nil {
		s.refuseWS(w, r, code, msg, websocket.ClosePolicyViolation)
		return
	}
	sess, err := s.Fork(room, ClientAddr(r, s.cfg.TrustedProxies))
	if err != nil {
		s.refuseSession(w, r, err)
		return
	}
	s.runClient(w, r, func(*client) (*session, bool, string, string) {
		if !s.attachTo(sess) {
			return nil, false, protocol.CodeNotFound, msgRoomEnded
		}
		return sess, false, "", ""
	}, nil, nil)
}

// refuseSession tells the page why no session could be started.
func (s *Server) refuseSession(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errSessionsPerAddr):
		s.metrics.limitHits.WithLabelValues("sessions_per_address").Inc()
		s.refuseWS(w, r, protocol.CodeFull, msgSessionsPerAddr(s.cfg.MaxSessionsPerAddr), websocket.CloseTryAgainLater)
	case errors.Is(err, errFull):
		s.metrics.limitHits.WithLabelValues("sessions").Inc()
		s.refuseWS(w, r, protocol.CodeFull, "The server is running as many sessions as it can; try again later.", websocket.CloseTryAgainLater)
	case errors.Is(err, errRoomClosed):
		s.refuseWS(w, r, protocol.CodeNotFound, msgRoomEnded, websocket.ClosePolicyViolation)
	default:
		s.log.Error("start session", "err", err)
		s.refuseWS(w, r, protocol.CodeInvalid, "The session could not be started.", websocket.CloseInternalServerErr)
	}
}

// attachTo counts one more connection of sess (see release); it reports
// false if sess has been evicted.
func (s *Server) attachTo(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess == nil || s.sessions[sess.token] != sess {
		return false
	}
	sess.attached++
	return true
}

// roomsOf lists the rooms, for logs and tests.
func (s *Server) roomsOf() []*Room {
	rs := s.class.rooms.all()
	slices.SortFunc(rs, func(a, b *Room) int { return a.Created.Compare(b.Created) })
	return rs
}

// phasesPerStep is the phases of one optimizer step of a network of n
// layers: n forward, the loss, n backward, the update.
func phasesPerStep(n int) float64 { return float64(2*n + 2) }

// stepRate is a speed in optimizer steps per second (+Inf for rate 0, as
// fast as the CPU allows).
func stepRate(sp protocol.Speed, layers int) float64 {
	if sp.Rate == 0 {
		return math.Inf(1)
	}
	if sp.Unit == protocol.UnitPhase {
		return sp.Rate / phasesPerStep(layers)
	}
	return sp.Rate
}

// capSpeed returns sp slowed to at most maxRate optimizer steps per second.
func capSpeed(sp protocol.Speed, maxRate float64, layers int) protocol.Speed {
	if stepRate(sp, layers) <= maxRate {
		return sp
	}
	if sp.Unit == protocol.UnitPhase {
		sp.Rate = maxRate * phasesPerStep(layers)
	} else {
		sp.Unit, sp.Rate = protocol.UnitStep, maxRate
	}
	return sp
}

// forkLimit checks a command against the session's training rate bound
// (forks only): it returns the message of a refusal, or "".
func (sess *session) forkLimit(m *sessionMsg) string {
	if sess.maxRate == 0 {
		return ""
	}
	switch {
	case m.cmd == protocol.CmdStepEpoch:
		return fmt.Sprintf("Forks cannot run a whole epoch at full speed on this server (the class shares its CPU); press play, at most %g steps per second.", sess.maxRate)
	case m.cmd == protocol.CmdSet && m.args.Speed != nil:
		sp := *m.args.Speed
		if sp.Unit == "" {
			sp.Unit = sess.params.Speed.Unit
		}
		if stepRate(sp, len(sess.t.Layers())) > sess.maxRate*(1+1e-9) {
			return fmt.Sprintf("Forks play at most %g optimizer steps per second on this server (the class shares its CPU); choose a slower speed.", sess.maxRate)
		}
	}
	return ""
}

// msgIdle is the bye of a session ended for inactivity.
const msgIdle = "this session was idle (no command) for too long and was closed to free the server; reload the page to start again"

// evictInactive ends, until Shutdown, the private sessions whose pages have
// sent no command for IdleTimeout, checking a few times per timeout.
func (s *Server) evictInactive() {
	tick := time.NewTicker(min(time.Minute, s.cfg.IdleTimeout/4+time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			s.endInactive(now)
		case <-s.quit:
			return
		}
	}
}

// endInactive ends the private sessions that have had no command since
// before now − IdleTimeout: each page is sent "bye" and closed. It returns
// how many.
func (s *Server) endInactive(now time.Time) int {
	s.mu.Lock()
	var all []*session
	for _, sess := range s.sessions {
		if sess.room == nil {
			all = append(all, sess)
		}
	}
	s.mu.Unlock()
	n := 0
	for _, sess := range all {
		var idle bool
		sess.inSession(func() {
			if sess.lastCmd.IsZero() {
				sess.lastCmd = now // first seen: count from here
			}
			idle = now.Sub(sess.lastCmd) >= s.cfg.IdleTimeout
			if !idle {
				return
			}
			bye := protocol.Bye(msgIdle)
			for _, c := range sess.clients {
				c.mb.close(bye, websocket.CloseGoingAway, "idle")
			}
		})
		if !idle {
			continue
		}
		s.mu.Lock()
		mine := s.sessions[sess.token] == sess
		if mine {
			delete(s.sessions, sess.token)
			s.metrics.sessions.Set(float64(len(s.sessions)))
		}
		s.mu.Unlock()
		if mine { // else evicted meanwhile, and stopped by whoever did
			close(sess.quit)
			s.metrics.evicted.Inc()
			sess.log.Info("session ended", "reason", "idle")
			n++
		}
	}
	return n
}
