package server

import (
	"errors"
	"github.com/backpropviz/backpropviz/engine"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backpropviz/backpropviz/protocol"
)

// probeRatio is how many times JoinRate a suspect address may look codes
// up (see joinBudget): fast enough for a class behind one NAT, slow enough
// that guessing one of 8.9·10⁸ codes takes years.
const probeRatio = 5

// classroom is the server's rooms, who is in each, and the classroom's
// limits.
type classroom struct {
	cfg   ClassroomConfig
	rooms *roomRegistry
	conns *addrCounter // websockets per address
	joins *joinBudget  // wrong join codes per address and in all
	now   func() time.Time

	metrics    classroomMetrics
	forkBudget *forkBudget // the forks' steps per second (forkbudget.go)

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
	c.joins.maxAddrs = cfg.JoinAddrs
	c.forkBudget = newForkBudget(cfg.ForkBudget, reg)
	reg.MustRegister(c.metrics.rooms, c.metrics.viewers, c.metrics.joinFailed, c.metrics.forks,
		c.joins.tracked, c.joins.overflow)
	return c
}

// ownerCookie names the cookie that carries a room's owner token, set when
// the owner opens the owner link; the room's websocket reads it.
func ownerCookie(code string) string { return "bpv_owner_" + code }

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
	t, mem, err := s.buildTrainer(p.Config, data, nil)
	if err != nil {
		return nil, err
	}
	return s.createRoomWith(name, t, mem, p)
}

// createRoomWith starts a room named name whose trainer is t, holding
// mem bytes of the memory budget, with the lab settings p.
func (s *Server) createRoomWith(name string, t *engine.Trainer, mem int64, p LabParams) (*Room, error) {
	p.Config = t.Config()
	// Attached until it is the room's, so that no new session evicts it
	// as an abandoned private one.
	sess := s.newSession(t, p, netip.Addr{}, false)
	sess.mem = mem
	if err := s.sessions.add(sess, 1); err != nil {
		return nil, err
	}
	room, err := s.createRoomCode(name, sess) // cluster.go: a code unique in the cluster
	if err != nil {
		s.sessions.end(sess, "")
		return nil, err
	}
	s.roomOpened(room, sess)
	var join []string // the links students open, on this machine's network addresses
	for _, l := range NetworkLinks(s.cfg.Addr) {
		join = append(join, l+"/r/"+room.Code)
	}
	if join == nil {
		s.log.Info("room created; students cannot reach it: the server listens on this machine only",
			"room", room.Code, "session", sess.id, "run instead", ListenCommand(portOfAddr(s.cfg.Addr), ""))
	} else {
		s.log.Info("room created", "room", room.Code, "session", sess.id, "join", join)
	}
	return room, nil
}

// roomOpened makes sess the trainer of the registered room, and closes the
// room when sess ends.
func (s *Server) roomOpened(room *Room, sess *session) {
	s.sessions.makeRoomSession(sess, room)
	s.class.metrics.rooms.Set(float64(s.class.rooms.len()))
	s.clusterRoomOpened(room)
	go s.dashboards(room, sess.done) // dashboard.go
	go func() {
		<-sess.done // evicted after the grace period without clients, or shutdown
		if s.class.rooms.remove(room) {
			s.log.Info("room closed", "room", room.Code)
		}
		s.class.metrics.rooms.Set(float64(s.class.rooms.len()))
		s.clusterRoomEnded(room)
	}()
}

// roomsOf lists the rooms, for logs and tests.
func (s *Server) roomsOf() []*Room {
	rs := s.class.rooms.all()
	slices.SortFunc(rs, func(a, b *Room) int { return a.Created.Compare(b.Created) })
	return rs
}

// findRoom looks up the room of a code typed by the user who sent r. Only
// wrong codes are charged to the join budget of the user's address (see
// joinBudget), and no budget refuses a right code that the request proves
// it knows: the owner token (owner link or cookie), or an address that
// found the room before (a reload, a student reconnecting, a classmate
// behind the same NAT). Any other code is looked up only if the address
// may look one up now; a right one then passes. The error is what to tell
// the user (see refusalOf).
func (s *Server) findRoom(r *http.Request, typed string) (*Room, error) {
	a := ClientAddr(r, s.cfg.TrustedProxies)
	room, err := s.class.rooms.lookup(typed)
	if errors.Is(err, errNoRoom) && s.cluster != nil {
		room, err = s.cluster.findRoom(r, typed) // another replica's room (cluster.go)
	}
	if err == nil && (room.knows(a) || room.IsOwner(ownerTokenOf(r, room.Code))) {
		return room, nil
	}
	now, refused := s.admitLookup(a)
	if refused != nil {
		return nil, refused
	}
	if err == nil {
		room.remember(a)
		return room, nil
	}
	if uncharged(err) { // a right code of a room that went away (cluster.go)
		return nil, err
	}
	s.chargeWrong(a, now)
	return nil, err // errBadCode or errNoRoom
}

// admitLookup is asked before a code typed at address a, that a does not
// prove it knows, is looked up (or anything else tells whether it exists):
// the refusal if a's join budget refuses it now (see joinBudget.admit).
func (s *Server) admitLookup(a netip.Addr) (time.Time, error) {
	now := s.class.now()
	switch why, wait := s.class.joins.admit(a, now); why {
	case joinAddrOver:
		return now, refuseJoinRate(wait)
	case joinServerOver:
		return now, refuseJoinRateServer(wait)
	}
	return now, nil
}

// chargeWrong charges a wrong code typed at address a to the join budget.
func (s *Server) chargeWrong(a netip.Addr, now time.Time) {
	s.class.joins.wrong(a, now)
	s.class.metrics.joinFailed.Inc()
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
	n := r.allViewers()
	msg := map[bool][]byte{} // by role: true for the owner's
	for i, c := range members {
		b := msg[roles[i]]
		if b == nil {
			role := protocol.RoleViewer
			if roles[i] {
				role = protocol.RoleOwner
			}
			b = protocol.Marshal(protocol.Room{Type: protocol.TypeRoom, V: protocol.Version, Code: r.Code, Name: r.Name, Role: role, Viewers: n, Forks: r.roster.forksAllowed()})
			msg[roles[i]] = b
		}
		c.mb.reply(b)
	}
}
