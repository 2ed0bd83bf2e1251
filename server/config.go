package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Config configures a Server. The zero value of a field means its default;
// the defaults suit a 2-core machine serving one classroom.
type Config struct {
	// Addr is the listen address, used by the command that runs the server:
	// default "127.0.0.1:8080" (this machine only); ":8080" serves a
	// classroom network.
	Addr string
	// Version is shown on the pages; default "dev".
	Version string
	// DevStatic, if set, serves the static files from this directory on
	// disk instead of the embedded copy (for front-end development).
	DevStatic string

	// MaxSessions bounds the trainers kept at once: rooms, forks and labs,
	// attached or waiting to be resumed; default 32. At the cap a new lab
	// or fork replaces the lab or fork that has had no page for the longest
	// time; if every one has a page, the new tab gets the error "full".
	MaxSessions int
	// MaxSessionsPerAddr bounds the labs and forks started from one
	// network address (see ClientAddr) that are kept at once; default 32,
	// as many as MaxSessions, so a class behind one NAT can fork freely.
	// At the cap a new one replaces that address's own lab or fork that
	// has had no page for the longest time, never another address's; if
	// each has a page, the tab gets the error "full". Behind a school's
	// NAT a whole class shares one address: raise it to the forks the
	// class will make, or name the reverse proxy with TrustedProxies.
	MaxSessionsPerAddr int
	// MaxConns bounds the open websockets; default 256.
	MaxConns int
	// MaxFPS bounds the trace frames per second sent to one client while
	// playing; default 30.
	MaxFPS int
	// MaxMessage is the largest client message in bytes; a larger one (up
	// to 64 KiB) is answered with "too_large" and the connection stays
	// open; default 16 KiB.
	MaxMessage int
	// CmdRate bounds the messages per second a client may send (bursts of
	// twice as many); more get "rate_limited"; default 40.
	CmdRate float64
	// MaxBatch bounds the batch size a client may choose; default 128
	// (engine.MaxBatchSize at most).
	MaxBatch int
	// MaxTestImages bounds the test images of one "test" command; default
	// 10000.
	MaxTestImages int
	// MaxRate bounds the speed a client may choose, in units per second;
	// default 1000 (0, as fast as the CPU allows, is always allowed).
	MaxRate float64
	// ResumeGrace is how long a session without any client is kept so that
	// a reopened tab can resume it with its token; default 10 minutes.
	// After it the session is evicted.
	ResumeGrace time.Duration
	// ShapesTrain and ShapesTest are the sizes of the procedural shapes
	// set; defaults 5000 and 1000.
	ShapesTrain, ShapesTest int

	// Rooms and classroom limits.
	ClassroomConfig
}

// Defaults.
const (
	DefaultAddr               = "127.0.0.1:8080"
	defaultMaxSessions        = 32
	defaultMaxSessionsPerAddr = 32
	defaultMaxConns           = 256
	defaultMaxFPS             = 30
	defaultMaxMessage         = 16 << 10
	defaultCmdRate            = 40
	defaultMaxBatch           = 128
	defaultMaxTest            = 10000
	defaultMaxRate            = 1000
	defaultGrace              = 10 * time.Minute
	defaultShapesTrain        = 5000
	defaultShapesTest         = 1000
)

// withDefaults fills zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxSessions, defaultMaxSessions)
	def(&c.MaxSessionsPerAddr, defaultMaxSessionsPerAddr)
	def(&c.MaxConns, defaultMaxConns)
	def(&c.MaxFPS, defaultMaxFPS)
	def(&c.MaxMessage, defaultMaxMessage)
	def(&c.MaxBatch, defaultMaxBatch)
	def(&c.MaxTestImages, defaultMaxTest)
	def(&c.ShapesTrain, defaultShapesTrain)
	def(&c.ShapesTest, defaultShapesTest)
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.CmdRate == 0 {
		c.CmdRate = defaultCmdRate
	}
	if c.MaxRate == 0 {
		c.MaxRate = defaultMaxRate
	}
	if c.ResumeGrace == 0 {
		c.ResumeGrace = defaultGrace
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.MaxSessions > 0, "max sessions %d: want > 0", c.MaxSessions)
	check(c.MaxSessionsPerAddr > 0, "max sessions per address %d: want > 0", c.MaxSessionsPerAddr)
	check(c.MaxConns > 0, "max connections %d: want > 0", c.MaxConns)
	check(c.MaxFPS > 0 && c.MaxFPS <= 120, "max fps %d: want 1 … 120", c.MaxFPS)
	check(c.MaxMessage >= 1024 && c.MaxMessage <= hardReadLimit, "max message %d bytes: want 1024 … %d", c.MaxMessage, hardReadLimit)
	check(c.CmdRate > 0, "command rate %v: want > 0", c.CmdRate)
	check(c.MaxBatch > 0 && c.MaxBatch <= engine.MaxBatchSize, "max batch %d: want 1 … %d", c.MaxBatch, engine.MaxBatchSize)
	check(c.MaxTestImages > 0, "max test images %d: want > 0", c.MaxTestImages)
	check(c.MaxRate > 0, "max rate %v: want > 0", c.MaxRate)
	check(c.ResumeGrace > 0, "resume grace %v: want > 0", c.ResumeGrace)
	check(c.ShapesTrain > 0 && c.ShapesTest > 0, "shapes set sizes %d, %d: want > 0", c.ShapesTrain, c.ShapesTest)
	cc, err := c.ClassroomConfig.withDefaults()
	c.ClassroomConfig = cc
	errs = append(errs, err)
	return c, errors.Join(errs...)
}

// limits are the limits a client is told in the welcome.
func (c *Config) limits() protocol.Limits {
	return protocol.Limits{MaxFPS: c.MaxFPS, MaxMessage: c.MaxMessage, MaxBatch: c.MaxBatch,
		MaxTestImages: c.MaxTestImages, MaxRate: c.MaxRate, CmdRate: c.CmdRate}
}
