// Package server is backpropviz's realtime layer: private sessions (one
// engine.Trainer each, owned by one goroutine), the websocket protocol of
// docs/protocol.md (JSON control messages and binary trace frames), limits,
// Prometheus metrics, and the chi router that mounts the pages and the
// websocket endpoint.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/web"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves the lab: pages, the websocket endpoint and metrics.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *serverMetrics
	class   *classroom
	data    *dataSets
	site    *web.Site // the pages
	router  chi.Router
	up      websocket.Upgrader
	quit    chan struct{} // closed by Shutdown
	conns   sync.WaitGroup

	mu       sync.Mutex
	closing  bool
	sessions map[string]*session // by resume token
	clients  map[*client]struct{}
}

// New builds a Server. It returns an error if a field of cfg is out of
// range; zero fields take their defaults (see Config).
func New(cfg Config, log *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, log: log, metrics: newServerMetrics(),
		data:     &dataSets{shapesTrain: cfg.ShapesTrain, shapesTest: cfg.ShapesTest},
		up:       websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 32 << 10},
		quit:     make(chan struct{}),
		sessions: map[string]*session{},
		clients:  map[*client]struct{}{},
	}
	s.class = newClassroom(cfg.ClassroomConfig, s.metrics.reg)
	s.site = web.New(web.Config{Version: cfg.Version, DevStatic: cfg.DevStatic,
		RoomKeyRequired: cfg.RoomKey != "", Logger: log})
	s.up.CheckOrigin = OriginChecker(cfg.AllowedOrigins)
	// permessage-deflate when the browser offers it: a prepared frame is
	// compressed once for all the pages that share it.
	s.up.EnableCompression = true
	s.router = s.routes()
	go s.evictInactive() // classroom.go
	go s.janitor()
	return s, nil
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.router }

// Config returns the configuration with its defaults filled in.
func (s *Server) Config() Config { return s.cfg }

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	// GetHead answers HEAD like GET (without the body) on every GET route.
	r.Use(middleware.RequestID, s.logRequests, middleware.Recoverer, SecurityHeaders, middleware.GetHead)

	// GET /ws: the websocket of one lab page (docs/protocol.md).
	r.With(s.limitConnsPerAddr).Get("/ws", s.serveWS)
	// Rooms, join, fork and their websockets (classroom_http.go).
	s.classroomRoutes(r)
	// GET /healthz: 200 "ok" while the server accepts connections (HEAD too).
	r.Get("/healthz", s.serveHealth)
	// GET /metrics: Prometheus metrics (sessions, frames, bytes, steps, limits).
	r.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	// GET / and /static/*: the lab page and the front end (package web).
	s.site.Mount(r)
	return r
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// logRequests logs each request when it ends (for /ws: when the websocket
// closes).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		s.log.Info("request", "id", middleware.GetReqID(r.Context()), "method", r.Method,
			"path", r.URL.Path, "status", ww.Status(), "bytes", ww.BytesWritten(),
			"duration", time.Since(start))
	})
}

// serveWS upgrades to a websocket, creates or resumes a private session
// and runs the connection until it closes.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := ClientAddr(r, s.cfg.TrustedProxies)
	s.runClient(w, r, func(c *client) (*session, bool, string, string) {
		if sess := s.resume(q.Get("resume")); sess != nil {
			return sess, true, "", ""
		}
		sess, err := s.newSession(q, a)
		switch {
		case errors.Is(err, errSessionsPerAddr):
			s.metrics.limitHits.WithLabelValues("sessions_per_address").Inc()
			return nil, false, protocol.CodeFull, msgSessionsPerAddr(s.cfg.MaxSessionsPerAddr)
		case errors.Is(err, errFull):
			s.metrics.limitHits.WithLabelValues("sessions").Inc()
			return nil, false, protocol.CodeFull, "the server is running as many sessions as it can; try again later"
		case err != nil:
			c.log.Error("new session", "err", err)
			return nil, false, protocol.CodeInvalid, "the session could not be created"
		}
		return sess, false, "", ""
	}, nil, nil)
}

// runClient upgrades to a websocket and runs one client of the session
// chosen by pick (which may refuse with an error code and message), until
// the connection closes. attached (if not nil) is called once the client
// has its welcome, leave (if not nil) when the connection has closed.
func (s *Server) runClient(w http.ResponseWriter, r *http.Request,
	pick func(c *client) (sess *session, resumed bool, code, message string), attached, leave func(c *client)) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{srv: s, conn: conn, mb: newMailbox(), done: make(chan struct{}),
		log: s.log.With("req", middleware.GetReqID(r.Context()))}
	// Refusals are written here, before the write pump starts, so the
	// error always arrives, followed by a close frame.
	if !s.addClient(c) {
		s.metrics.limitHits.WithLabelValues("connections").Inc()
		refuse(conn, protocol.CodeFull, "the server has too many open connections; try again later", websocket.CloseTryAgainLater)
		return
	}
	defer s.removeClient(c)
	sess, resumed, code, msg := pick(c)
	if sess == nil {
		closeCode := websocket.ClosePolicyViolation
		switch code {
		case protocol.CodeFull:
			closeCode = websocket.CloseTryAgainLater
		case protocol.CodeInvalid:
			closeCode = websocket.CloseInternalServerErr
		}
		refuse(conn, code, msg, closeCode)
		return
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer c.mb.stop()
		c.writePump()
	}()
	defer func() {
		close(c.done)
		<-writerDone
	}()
	if leave != nil {
		defer leave(c)
	}
	c.sess = sess
	c.log = c.log.With("session", sess.id)
	defer s.release(sess)
	if !sess.send(sessionMsg{kind: msgAttach, c: c, resumed: resumed}) {
		return
	}
	if attached != nil {
		sess.inSession(func() { attached(c) }) // after the welcome
	}
	c.readPump()
	sess.send(sessionMsg{kind: msgDetach, c: c})
}

func (s *Server) addClient(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) >= s.cfg.MaxConns || s.closing {
		return false
	}
	s.clients[c] = struct{}{}
	s.conns.Add(1)
	s.metrics.conns.Set(float64(len(s.clients)))
	return true
}

func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c)
	s.conns.Done()
	s.metrics.conns.Set(float64(len(s.clients)))
}

// Errors of starting a session at its caps.
var (
	errFull            = errors.New("too many sessions")
	errSessionsPerAddr = errors.New("too many sessions from one network address")
)

// newSession creates a session from the lab's URL parameters for a page at
// network address from. Invalid parameters are reported to the client in
// the welcome sequence and left at their defaults; the valid ones apply.
// At the caps an abandoned session is evicted to make room, or the error
// is errSessionsPerAddr or errFull (see makeRoomLocked).
func (s *Server) newSession(q map[string][]string, from netip.Addr) (*session, error) {
	s.mu.Lock()
	err := s.mayStartLocked(from, true)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}

	var problems []string
	p, err := ParseLabParams(q, s.cfg.limits())
	if err != nil {
		problems = append(problems, err.Error())
	}
	data, err := s.data.get(p.Data)
	if err != nil {
		return nil, err
	}
	t, err := engine.NewTrainer(p.Config, data)
	if err != nil && p.Config.Spec != DefaultSpecFor(p.Data) {
		// The spec does not fit the data (or this server): the data set's
		// own network instead, with the other parameters kept.
		problems = append(problems, err.Error())
		p.Config.Spec = DefaultSpecFor(p.Data)
		t, err = engine.NewTrainer(p.Config, data)
	}
	if err != nil {
		problems = append(problems, err.Error())
		p = DefaultLabParams()
		if data, err = s.data.get(p.Data); err != nil {
			return nil, err
		}
		if t, err = engine.NewTrainer(p.Config, data); err != nil {
			return nil, err
		}
	}
	var paramErr string
	if len(problems) > 0 {
		paramErr = "URL parameters: " + strings.Join(problems, "; ") + " (left at the defaults; the other parameters apply)"
	}
	p.Config = t.Config()
	sess := &session{id: randomHex(8), token: randomHex(16), srv: s, cmds: make(chan sessionMsg, 16),
		quit: make(chan struct{}), done: make(chan struct{}), t: t, params: p, paramErr: paramErr, attached: 1,
		addr: from, perAddr: true}
	sess.log = s.log.With("session", sess.id)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.makeRoomLocked(from, true); err != nil {
		return nil, err
	}
	s.sessions[sess.token] = sess
	s.metrics.sessions.Set(float64(len(s.sessions)))
	go sess.run()
	sess.log.Info("session started", "spec", p.Config.Spec, "data", p.Data)
	return sess, nil
}

// resume finds the session of a resume token and attaches to it.
func (s *Server) resume(token string) *session {
	if token == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[token]
	if sess != nil {
		sess.attached++
	}
	return sess
}

// release detaches a connection from its session; the session waits
// ResumeGrace for another.
func (s *Server) release(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.attached--
	if sess.attached == 0 {
		sess.detachedAt = time.Now()
	}
}

// evictIdle stops the sessions that have had no client since before
// now − ResumeGrace and returns how many.
func (s *Server) evictIdle(now time.Time) int {
	s.mu.Lock()
	var evicted []*session
	for tok, sess := range s.sessions {
		if sess.attached == 0 && now.Sub(sess.detachedAt) >= s.cfg.ResumeGrace {
			delete(s.sessions, tok)
			evicted = append(evicted, sess)
		}
	}
	s.metrics.sessions.Set(float64(len(s.sessions)))
	s.mu.Unlock()
	for _, sess := range evicted {
		close(sess.quit)
		sess.log.Info("session evicted")
	}
	s.metrics.evicted.Add(float64(len(evicted)))
	return len(evicted)
}

// oldestDetached returns the private session (not a room's) that has had
// no client for the longest time, or nil if every one has a client. If
// only is not nil, only the sessions it accepts are considered. s.mu is
// held.
func (s *Server) oldestDetached(only func(*session) bool) *session {
	var old *session
	for _, sess := range s.sessions {
		if only != nil && !only(sess) {
			continue
		}
		if sess.attached == 0 && sess.room == nil && (old == nil || sess.detachedAt.Before(old.detachedAt)) {
			old = sess
		}
	}
	return old
}

// sessionsOf is the number of labs and forks started from address a. s.mu
// is held.
func (s *Server) sessionsOf(a netip.Addr) int {
	n := 0
	for _, sess := range s.sessions {
		if startedFrom(a)(sess) {
			n++
		}
	}
	return n
}

// startedFrom accepts the labs and forks started from address a.
func startedFrom(a netip.Addr) func(*session) bool {
	return func(sess *session) bool { return sess.perAddr && sess.addr == a }
}

// mayStartLocked reports, without changing anything, the error
// makeRoomLocked would return now. s.mu is held.
func (s *Server) mayStartLocked(from netip.Addr, perAddr bool) error {
	atAddrCap := perAddr && s.sessionsOf(from) >= s.cfg.MaxSessionsPerAddr
	if atAddrCap && s.oldestDetached(startedFrom(from)) == nil {
		return errSessionsPerAddr
	}
	if !atAddrCap && len(s.sessions) >= s.cfg.MaxSessions && s.oldestDetached(nil) == nil {
		return errFull
	}
	return nil
}

// makeRoomLocked makes room for one more session started from address from
// (perAddr: a lab or a fork, counted against MaxSessionsPerAddr). At
// MaxSessionsPerAddr it evicts that address's own lab or fork that has had
// no client for the longest time (errSessionsPerAddr if each has one):
// one address never evicts more of other addresses' sessions than its
// own cap. At MaxSessions it evicts the private session that has had no
// client for the longest time (errFull if every one has one). s.mu is
// held.
func (s *Server) makeRoomLocked(from netip.Addr, perAddr bool) error {
	if perAddr && s.sessionsOf(from) >= s.cfg.MaxSessionsPerAddr {
		old := s.oldestDetached(startedFrom(from))
		if old == nil {
			return errSessionsPerAddr
		}
		s.evictLocked(old, "making room for a new session of the same address")
	}
	if len(s.sessions) >= s.cfg.MaxSessions {
		old := s.oldestDetached(nil)
		if old == nil {
			return errFull
		}
		s.evictLocked(old, "making room for a new session")
	}
	return nil
}

// evictLocked unregisters sess (which has no client) and stops it, counting
// it as evicted. s.mu is held; stopping does not wait for the session.
func (s *Server) evictLocked(sess *session, reason string) {
	delete(s.sessions, sess.token)
	s.metrics.sessions.Set(float64(len(s.sessions)))
	s.metrics.evicted.Inc()
	close(sess.quit)
	sess.log.Info("session evicted", "reason", reason)
}

// janitor evicts idle sessions until Shutdown.
func (s *Server) janitor() {
	tick := time.NewTicker(min(time.Minute, s.cfg.ResumeGrace/4+time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			s.evictIdle(now)
		case <-s.quit:
			return
		}
	}
}

// Shutdown sends "bye" to every websocket, closes them and stops every
// session. (http.Server.Shutdown does not wait for websockets: they are
// hijacked connections.) It returns ctx.Err() if ctx ends first; the
// remaining connections are then closed abruptly.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	close(s.quit)
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	clear(s.sessions)
	s.metrics.sessions.Set(0)
	s.mu.Unlock()

	for _, c := range clients {
		c.mb.close(protocol.Bye("the server is shutting down"), websocket.CloseGoingAway, "server shutting down")
	}
	for _, sess := range sessions {
		close(sess.quit)
	}
	idle := make(chan struct{})
	go func() {
		s.conns.Wait()
		for _, sess := range sessions {
			<-sess.done
		}
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		for _, c := range clients {
			c.conn.Close()
		}
		return ctx.Err()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
