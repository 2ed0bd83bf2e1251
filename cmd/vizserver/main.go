// Command vizserver serves backpropviz: the live lab pages, the websocket
// that streams training traces, and Prometheus metrics.
//
// Every flag has an environment variable (BPV_ADDR for -addr, ...); a flag
// given on the command line wins.
//
//	vizserver                      # http://127.0.0.1:8080, this machine only
//	vizserver -addr :8080          # a classroom: every machine of the network
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/backpropviz/backpropviz/server"
)

// version, if set at build time (go build -ldflags "-X main.version=v1.2.0"),
// is the version shown on the pages and in /metrics; else the server takes
// it from the build information (server.BuildVersion).
var version string

// shutdownTimeout bounds the graceful shutdown: connections still open
// after it are closed abruptly.
const shutdownTimeout = 10 * time.Second

func main() {
	err := run(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp): // -h or -help: the usage was printed
	case err != nil:
		fmt.Fprintln(os.Stderr, "vizserver:", err)
		os.Exit(1)
	}
}

// options are what the command line and the environment ask for.
type options struct {
	cfg      server.Config
	room     string // a room to open at start-up, "" for none
	load     string // a saved model the start-up room starts from, "" for none
	lesson   string // a lesson the start-up room starts from (a file or an embedded lesson's name), "" for none
	logLevel string
	drain    time.Duration // how long /healthz answers 503 before the server closes
}

// parseFlags reads the flags of args, each defaulting to its environment
// variable (see fromEnv). -h and -help print the usage on out and return
// flag.ErrHelp.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	cfg := &o.cfg
	fs := flag.NewFlagSet("vizserver", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "listen address; :8080 serves every machine of the network (env BPV_ADDR)")
	fs.StringVar(&cfg.DevStatic, "dev-static", "", "serve static files from this directory instead of the embedded copy (env BPV_DEV_STATIC)")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", 32, "trainers kept at once: rooms, forks and labs, with a page or waiting to be resumed (env BPV_MAX_SESSIONS)")
	fs.IntVar(&cfg.MaxSessionsPerAddr, "max-sessions-per-addr", 0, "labs and forks kept at once for one client address (an IPv6 address's /64); 0 is max(2, max-sessions/8); raise it for a class behind one NAT that forks, or name the proxy with -trusted-proxies (env BPV_MAX_SESSIONS_PER_ADDR)")
	cfg.MaxMemory = server.DefaultMaxMemory()
	fs.Var(byteSize{&cfg.MaxMemory}, "max-memory", "memory of all labs', forks' and rooms' networks together (each is estimated before it is built): a new one, or a larger network or batch size, beyond it is refused; default half of this machine's or container's memory (env BPV_MAX_MEMORY)")
	cfg.TimelineBytes = server.DefaultTimelineBytes
	fs.Var(byteSize{&cfg.TimelineBytes}, "timeline-budget", "memory of each session's history of training (the timeline), thinned geometrically to fit; it grows only into free room of -max-memory; 0 keeps no history (env BPV_TIMELINE_BUDGET)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 256, "open websockets (env BPV_MAX_CONNS)")
	fs.IntVar(&cfg.MaxFPS, "max-fps", 30, "trace frames per second per client while playing (env BPV_MAX_FPS)")
	fs.DurationVar(&cfg.KeepAlive, "ws-keepalive", 60*time.Second, "a websocket silent this long (no message, no pong) is closed; the server pings at 9/10 of it (env BPV_WS_KEEPALIVE)")
	fs.IntVar(&cfg.SendBuffer, "ws-send-buffer", 64<<10, "kernel send buffer of a websocket in bytes: little waits below the newest-frame mailbox (env BPV_WS_SEND_BUFFER)")
	fs.IntVar(&cfg.MaxMessage, "max-message", 16<<10, "largest client message in bytes (env BPV_MAX_MESSAGE)")
	fs.Float64Var(&cfg.CmdRate, "cmd-rate", 40, "client messages per second (env BPV_CMD_RATE)")
	fs.Float64Var(&cfg.MaxQuestions, "max-questions", 10, "questions (explain, walk, gradcheck, look) per second per client, in bursts of as many (env BPV_MAX_QUESTIONS)")
	fs.IntVar(&cfg.MaxBatch, "max-batch", 128, "largest batch size a client may choose (env BPV_MAX_BATCH)")
	fs.IntVar(&cfg.MaxTestImages, "max-test", 10000, "test images one test command may evaluate (env BPV_MAX_TEST)")
	fs.DurationVar(&cfg.ResumeGrace, "resume-grace", 10*time.Minute, "how long a session without a client can be resumed (env BPV_RESUME_GRACE)")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time to read a request's headers (env BPV_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", 30*time.Second, "time to read a whole request, body included; websockets are not bound by it (env BPV_READ_TIMEOUT)")
	fs.DurationVar(&cfg.HTTPIdleTimeout, "http-idle-timeout", 60*time.Second, "an idle keep-alive connection is closed after this long (env BPV_HTTP_IDLE_TIMEOUT)")
	fs.Int64Var(&cfg.MaxBody, "max-body", 16<<10, "largest request body in bytes (env BPV_MAX_BODY)")
	fs.IntVar(&cfg.MaxHTTPConnsPerAddr, "max-http-conns-per-addr", 1024, "open TCP connections of one peer address, websockets included; trusted proxies are not counted (env BPV_MAX_HTTP_CONNS_PER_ADDR)")
	fs.DurationVar(&o.drain, "drain", 3*time.Second, "on SIGTERM, how long /healthz answers 503 (and new websockets are refused) before the pages are closed; part of the 10 s shutdown (env BPV_DRAIN)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error (env BPV_LOG_LEVEL)")
	finishClassroom := classroomFlags(fs, cfg)
	clusterFlags(fs, cfg) // cluster.go
	dataFlags(fs, cfg)    // data.go
	fs.StringVar(&o.load, "load", "", "start the -room from this saved model (docs/model-format.md) instead of new weights (env BPV_LOAD)")
	lessonFlags(fs, cfg, &o.lesson) // lesson.go
	if err := fromEnv(fs); err != nil {
		return o, err
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if cfg.TimelineBytes == 0 {
		cfg.TimelineBytes = -1 // no history (the Config's zero is its default)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q (every setting is a flag; -h lists them)", fs.Args())
	}
	if o.drain < 0 || o.drain >= shutdownTimeout {
		return o, fmt.Errorf("drain %v: want 0 … %v (the whole shutdown takes at most %v)", o.drain, shutdownTimeout, shutdownTimeout)
	}
	var err error
	o.room, err = finishClassroom()
	if err == nil && o.load != "" && o.room == "" {
		err = errors.New("-load FILE starts a room: give its name with -room NAME")
	}
	if err == nil && o.load != "" && o.lesson != "" {
		err = errors.New("-load and -lesson: a lesson names its own starting model (docs/lessons.md)")
	}
	return o, err
}

func run(args []string) error {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	cfg, room, logLevel := o.cfg, o.room, o.logLevel
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if version != "" {
		cfg.Version = version
	}
	var model []byte
	if o.load != "" {
		if model, err = os.ReadFile(o.load); err != nil {
			return fmt.Errorf("-load: %w", err)
		}
	}
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	setMemoryLimit(srv.Config().MaxMemory, log)
	lsn, err := openLesson(o.lesson, srv.Config()) // lesson.go
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", srv.Config().Addr)
	if err != nil {
		return err
	}
	hs := srv.HTTPServer()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(srv.LimitListener(ln)) }()
	fmt.Printf("backpropviz listening on %s\n", listenURL(ln.Addr()))
	printReach(os.Stdout, ln.Addr().String())
	if room != "" || lsn != nil {
		if err := openRoom(os.Stdout, srv, room, model, lsn, listenURL(ln.Addr()), ln.Addr().String()); err != nil {
			return err
		}
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Drain: /healthz answers 503 (the listener stays open) so that a load
	// balancer stops sending pages before the connections are closed.
	srv.Drain()
	select {
	case <-time.After(o.drain):
	case err := <-errc:
		return err
	}
	err = errors.Join(hs.Shutdown(sctx), srv.Shutdown(sctx))
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// setMemoryLimit gives the Go runtime a soft memory limit a quarter above
// the networks' budget (at least 256 MiB above, for the data sets, pages
// and connections), so that the garbage collector runs before the
// process's memory grows far beyond what the budget admits; GOMEMLIMIT,
// if set, wins.
func setMemoryLimit(budget int64, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := budget + max(budget/4, 256<<20)
	debug.SetMemoryLimit(limit)
	log.Info("memory", "budget_bytes", budget, "go_memory_limit_bytes", limit)
}

// fromEnv sets each flag from its environment variable BPV_<NAME> (dashes
// as underscores), before the command line is parsed.
func fromEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "BPV_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

// listenURL is the URL to open: a wildcard address is shown as 127.0.0.1.
func listenURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "http://" + a.String()
	}
	return "http://" + net.JoinHostPort(host, port)
}
