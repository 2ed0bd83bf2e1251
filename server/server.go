// Package server is backpropviz's realtime layer: sessions (one
// engine.Trainer each, owned by one goroutine) kept in one registry, rooms
// and forks of the classroom, the websockets that speak package protocol,
// limits and their refusals, Prometheus metrics, and the chi router that
// mounts the pages of package web.
//
// One idea a file:
//
//	server.go      the Server: routes, health, Shutdown
//	config.go      Config and ClassroomConfig, defaults and checks
//	registry.go    every session: create, attach, release, evict, count
//	janitor.go     the goroutine that ends abandoned and inactive sessions
//	session.go     the goroutine that owns a trainer
//	commands.go    what it does with each command
//	questions.go   questions (explain, walk, gradcheck) and the owner's look
//	publish.go     what it sends: welcome, state, charts, frames
//	wire.go        engine types as the protocol's wire types
//	ws.go          the websocket endpoints: a lab's, a room's, a fork's
//	conn.go        one websocket: read pump, write pump
//	mailbox.go     what waits to be written to one websocket
//	room.go        rooms: join codes, owner tokens, the room directory
//	classroom.go   creating rooms, finding them by code, who is in each
//	fork.go        forks of a room
//	cluster*.go    rooms shared by several replicas over NATS (package cluster)
//	admission.go   who may command a session, and how fast a fork trains
//	limits.go      client addresses, connection and join budgets
//	refusal.go     every refusal, worded once
//	pages.go       the classroom's pages (rendered by package web)
//	reach.go, qr.go  how students reach a room: network links, a QR code
//	params.go      lab settings: URL parameters and "set"
//	data.go, metrics.go, security.go: data sets, Prometheus, headers
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/web"
)

// Server serves the lab: pages, the websocket endpoints and metrics.
type Server struct {
	cfg      Config
	log      *slog.Logger
	metrics  *serverMetrics
	httpm    *httpMetrics
	draining atomic.Bool
	cmdtime  *prometheus.HistogramVec
	sessions *registry // every session: labs, rooms' trainers, forks
	class    *classroom
	data     *dataSets
	site     *web.Site // the pages
	router   chi.Router
	cluster  *clusterState // nil for a server alone (cluster.go)
	up       websocket.Upgrader
	forms    *http.CrossOriginProtection // the forms' origin check (security.go)
	quit     chan struct{}               // closed by Shutdown
	conns    sync.WaitGroup

	mu      sync.Mutex
	closing bool
	clients map[*client]struct{}

	// tlBytes is the memory the sessions' histories hold (timeline_session.go)
	tlBytes prometheus.Gauge
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
		up:      websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 32 << 10, Subprotocols: []string{wsProtocol}},
		quit:    make(chan struct{}),
		clients: map[*client]struct{}{},
	}
	if s.data, err = newDataSets(cfg); err != nil {
		return nil, err
	}
	s.httpm = newHTTPMetrics(s.metrics.reg)
	registerBuildInfo(s.metrics.reg, cfg.Version)
	s.cmdtime = newCommandLatency(s.metrics.reg)
	s.tlBytes = newTimelineGauge(s.metrics.reg)
	s.sessions = newRegistry(cfg, s.metrics)
	s.metrics.memBudget.Set(float64(cfg.MaxMemory))
	s.class = newClassroom(cfg.ClassroomConfig, s.metrics.reg)
	if cfg.Cluster.Enabled() {
		if s.cluster, err = startCluster(s); err != nil {
			return nil, err
		}
	}
	s.site = web.New(web.Config{Version: cfg.Version, DevStatic: cfg.DevStatic,
		RoomKeyRequired: cfg.RoomKey != "", Logger: log, Datasets: s.data.menu(), Lessons: lessonMenu()})
	s.up.CheckOrigin = s.checkOrigin
	s.forms = newFormGuard(cfg.AllowedOrigins)
	// permessage-deflate when the browser offers it: a prepared frame is
	// compressed once for all the pages that share it.
	s.up.EnableCompression = true
	s.router = s.routes()
	if cfg.RoomKey == "" && !s.roomsOpen() {
		log.Info("rooms can be created from the page only with -room-key or -open-rooms on this address (-room NAME opens one at start-up)", "addr", cfg.Addr)
	}
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
	r.Use(middleware.RequestID, s.logRequests, middleware.Recoverer, SecurityHeaders, middleware.GetHead, s.limitBody,
		// gzip or deflate for text (pages, scripts, styles) when the browser asks.
		middleware.Compress(5))

	// GET /ws: the websocket of one lab page (docs/protocol.md).
	ws := r.With(s.limitConnsPerAddr)
	ws.Get("/ws", s.serveWS)
	// GET /ws/room/{code}: the websocket of a room's page (owner or viewer).
	ws.Get("/ws/room/{code}", s.serveRoomWS)
	// GET /ws/fork/{code}: the websocket of a student's fork of a room.
	ws.Get("/ws/fork/{code}", s.serveForkWS)

	// The classroom's pages (pages.go).
	// GET /join: the join page; ?code=… looks the code up and goes to the room.
	r.Get("/join", s.serveJoin)
	// POST /rooms: create a room (form: name, key); goes to its owner link.
	r.Post("/rooms", s.serveCreateRoom)
	// GET /r/{code}: a room's page; ?owner=TOKEN makes this browser its owner.
	r.Get("/r/{code}", s.serveRoomPage)
	// POST /r/{code}/fork: fork the room into a private session of this browser.
	r.Post("/r/{code}/fork", s.serveFork)
	// GET /r/{code}/fork: the page of this browser's fork of the room.
	r.Get("/r/{code}/fork", s.serveForkPage)
	// GET /r/{code}/qr.png: a QR code of the room's join link (qr.go).
	r.Get("/r/{code}/qr.png", s.serveRoomQR)
	// GET /r/{code}/answers.csv: the answers to the room's prompts, for its owner (prompt_http.go).
	r.Get("/r/{code}/answers.csv", s.serveAnswersCSV)
	// POST /r/{code}/resume: the owner resumes here a room whose replica went away.
	r.Post("/r/{code}/resume", s.serveResume)

	// GET /model: download a session's saved model; POST /model: load one
	// into it (model_http.go).
	r.Get(modelPath, s.serveModel)
	r.Post(modelPath, s.serveLoadModel)
	// POST /probe: the user's drawing or image as the probe (probe_input.go).
	r.Post(probePath, s.serveProbe)

	// GET /healthz: 200 "ok" while the server accepts connections (HEAD too).
	r.Get("/healthz", s.serveHealth)
	// GET /metrics: Prometheus metrics (sessions, frames, bytes, steps, limits).
	r.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	// GET / and /static/*: the lab page and the front end (package web).
	s.site.Mount(r)
	// Any other path: a page that says so and links to the lab and the join page.
	r.NotFound(s.site.NotFound)
	return r
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if s.shuttingDown(w) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// shuttingDown answers 503 and reports true once Drain or Shutdown has
// begun.
func (s *Server) shuttingDown(w http.ResponseWriter) bool {
	s.mu.Lock()
	closing := s.closing || s.draining.Load()
	s.mu.Unlock()
	if closing {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	}
	return closing
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
	s.mu.Unlock()

	for _, c := range clients {
		c.mb.close(protocol.Bye("the server is shutting down"), websocket.CloseGoingAway, "server shutting down")
	}
	sessions := s.sessions.close()
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
		return s.closeCluster(ctx)
	case <-ctx.Done():
		for _, c := range clients {
			c.conn.Close()
		}
		s.closeCluster(ctx)
		return ctx.Err()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
