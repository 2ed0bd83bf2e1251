package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The plain HTTP side of the server: timeouts, body limits and a cap on the
// TCP connections of one address, so idle keep-alives, trickled requests and
// one address's flood of connections cannot hold the server's sockets.
// Websockets have their own limits (conn.go, limits.go); the timeouts here
// end when a websocket is upgraded (gorilla/websocket clears the
// connection's deadlines after hijacking it).

// HTTPConfig bounds plain HTTP connections. It is embedded in Config; a zero
// field means its default.
type HTTPConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers; default 10 s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included; default
	// 30 s. A websocket's deadline is cleared when it is upgraded.
	ReadTimeout time.Duration
	// HTTPIdleTimeout closes a keep-alive connection that sends no new
	// request for this long; default 60 s.
	HTTPIdleTimeout time.Duration
	// MaxBody bounds a request body (the pages' forms) in bytes; a larger
	// one is answered 413; default 16 KiB.
	MaxBody int64
	// MaxHTTPConnsPerAddr bounds the open TCP connections (pages, assets and
	// websockets) of one peer address; more are answered 503 and closed.
	// Trusted proxies are not counted. Default 1024: a class of 200 behind
	// one NAT holds about 200 websockets and a few keep-alive connections a
	// browser.
	MaxHTTPConnsPerAddr int
}

// HTTP defaults.
const (
	defaultReadHeaderTimeout   = 10 * time.Second
	defaultReadTimeout         = 30 * time.Second
	defaultHTTPIdleTimeout     = 60 * time.Second
	defaultMaxBody             = 16 << 10
	defaultMaxHTTPConnsPerAddr = 1024
)

// withDefaults fills zero fields and notes out-of-range ones in p.
func (h HTTPConfig) withDefaults(p *problems) HTTPConfig {
	def(&h.ReadHeaderTimeout, defaultReadHeaderTimeout)
	def(&h.ReadTimeout, defaultReadTimeout)
	def(&h.HTTPIdleTimeout, defaultHTTPIdleTimeout)
	def(&h.MaxBody, defaultMaxBody)
	def(&h.MaxHTTPConnsPerAddr, defaultMaxHTTPConnsPerAddr)
	p.check(h.ReadHeaderTimeout > 0, "read header timeout %v: want > 0", h.ReadHeaderTimeout)
	p.check(h.ReadTimeout >= h.ReadHeaderTimeout, "read timeout %v: want ≥ the read header timeout %v", h.ReadTimeout, h.ReadHeaderTimeout)
	p.check(h.HTTPIdleTimeout > 0, "HTTP idle timeout %v: want > 0", h.HTTPIdleTimeout)
	p.check(h.MaxBody >= 1024, "max body %d bytes: want ≥ 1024", h.MaxBody)
	p.check(h.MaxHTTPConnsPerAddr > 0, "max HTTP connections per address %d: want > 0", h.MaxHTTPConnsPerAddr)
	return h
}

// httpMetrics count what the HTTP limits did.
type httpMetrics struct {
	// closed counts connections the server closed by a timeout, by
	// reason: idle (a keep-alive without a new request), header (headers
	// too slow), body (a body too slow).
	closed *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bpv_http_timeouts_total",
			Help: "HTTP connections closed by a timeout, by reason: idle (no new request on a keep-alive connection), header or body (a request too slow)."},
			[]string{"reason"}),
	}
	for _, r := range []string{"idle", "header", "body"} {
		m.closed.WithLabelValues(r)
	}
	reg.MustRegister(m.closed)
	return m
}

// HTTPServer returns the http.Server for the handler of s, with the timeouts
// of its HTTPConfig. Serve it on LimitListener's listener.
func (s *Server) HTTPServer() *http.Server {
	h := s.cfg.HTTPConfig
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		IdleTimeout:       h.HTTPIdleTimeout,
		ConnState:         connState,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// LimitListener wraps ln: at most MaxHTTPConnsPerAddr connections of one
// peer address are open at once (trusted proxies are not counted); a
// connection beyond it is answered 503 with a message and closed. It also
// counts the connections HTTPServer's timeouts close.
func (s *Server) LimitListener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, s: s, open: newAddrCounter(s.cfg.MaxHTTPConnsPerAddr)}
}

type limitListener struct {
	net.Listener
	s    *Server
	open *addrCounter
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a := peerAddr(c.RemoteAddr().String())
		tc := &trackedConn{Conn: c, m: l.s.httpm}
		if a.IsValid() && !trusted(a, l.s.cfg.TrustedProxies) {
			if !l.open.acquire(a) {
				l.s.metrics.limitHits.WithLabelValues("http_connections_per_address").Inc()
				l.s.log.Debug("refuse connection", "addr", a, "limit", "http_connections_per_address")
				go refuseConn(c, msgHTTPConnsPerAddr(l.s.cfg.MaxHTTPConnsPerAddr))
				continue
			}
			tc.release = func() { l.open.release(a) }
		}
		return tc, nil
	}
}

// msgHTTPConnsPerAddr is the body of the 503 a connection beyond the cap
// gets.
func msgHTTPConnsPerAddr(max int) string {
	return fmt.Sprintf("Too many open connections from your network address (at most %d). Close some tabs and try again.\n", max)
}

// refuseConn answers a connection with 503 and msg, and closes it.
func refuseConn(c net.Conn, msg string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Connection: close\r\nRetry-After: 10\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
}

// trackedConn is an accepted connection: it gives back its address's slot
// when closed, and counts a read cut by a timeout, by what the connection
// was waiting for.
type trackedConn struct {
	net.Conn
	m       *httpMetrics
	release func() // nil if not counted

	state     atomic.Int32 // http.ConnState
	readSince atomic.Bool  // bytes read since the last state change
	timedOut  atomic.Bool  // a timeout was counted (a connection is counted once)
	aborted   atomic.Bool  // the read deadline was set in the past: a read stopped on purpose
	once      sync.Once
}

// connState is the http.Server's ConnState hook: it tells a trackedConn
// what it is waiting for.
func connState(c net.Conn, st http.ConnState) {
	if tc, ok := c.(*trackedConn); ok {
		tc.state.Store(int32(st))
		tc.readSince.Store(false)
	}
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.readSince.Store(true)
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.m != nil && !c.aborted.Load() && c.timedOut.CompareAndSwap(false, true) {
		// net/http marks a connection active only once it has read a
		// request's headers; idle is waiting for the next request.
		switch st := http.ConnState(c.state.Load()); {
		case st == http.StateActive:
			c.m.closed.WithLabelValues("body").Inc()
		case st == http.StateIdle && !c.readSince.Load():
			c.m.closed.WithLabelValues("idle").Inc()
		case st == http.StateNew || st == http.StateIdle:
			c.m.closed.WithLabelValues("header").Inc()
		}
	}
	return n, err
}

// SetReadDeadline notes whether t is in the past: net/http stops its
// background read that way, which is no timeout.
func (c *trackedConn) SetReadDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	return c.Conn.SetReadDeadline(t)
}

func (c *trackedConn) SetDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	return c.Conn.SetDeadline(t)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		if c.release != nil {
			c.release()
		}
	})
	return c.Conn.Close()
}

// NetConn returns the connection this one wraps.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

// limitBody bounds the body of a request with one to MaxBody bytes and
// reads a form body at once, so a body too large or too slow is answered
// here (413, 408) and the handlers see a parsed form.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A model file has a limit of its own (model_http.go).
		if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead || ownBodyLimit(r) {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			var ne net.Error
			switch {
			case errors.As(err, &tooLarge):
				s.metrics.limitHits.WithLabelValues("request_body").Inc()
				http.Error(w, fmt.Sprintf("The request is larger than this server accepts (%d bytes at most).", s.cfg.MaxBody), http.StatusRequestEntityTooLarge)
			case errors.As(err, &ne) && ne.Timeout():
				w.Header().Set("Connection", "close")
				http.Error(w, "The request arrived too slowly; try again.", http.StatusRequestTimeout)
			default:
				http.Error(w, "The form could not be read.", http.StatusBadRequest)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}
