package server

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"time"

	"github.com/backpropviz/backpropviz/cluster"
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
	// Version is shown on the pages and in bpv_build_info; default
	// BuildVersion().
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
	// network address (see ClientAddr; an IPv6 address's /64, see addrKey)
	// that are kept at once; default max(2, MaxSessions/8), so that one
	// address cannot take every slot of the server. At the cap a new one replaces that address's own lab or fork that
	// has had no page for the longest time, never another address's; if
	// each has a page, the tab gets the error "full". Behind a school's
	// NAT a whole class shares one address: raise it to the forks the
	// class will make, or name the reverse proxy with TrustedProxies.
	MaxSessionsPerAddr int
	// MaxMemory bounds the memory of all sessions' trainers together, in
	// bytes: each is estimated before it is built (engine.EstimateMemory),
	// and a new lab, fork or room, or a change of network, data set,
	// batch size or optimizer that would go beyond it first evicts labs
	// and forks without a page and otherwise is refused. Default
	// DefaultMaxMemory(): half of the machine's or the container's memory.
	MaxMemory int64
	// TimelineBytes bounds the history of training each session keeps (see
	// timeline.go), in bytes; it grows only into free room of MaxMemory.
	// Default DefaultTimelineBytes; negative: no history.
	TimelineBytes int64
	// MaxConns bounds the open websockets; default 256.
	MaxConns int
	// MaxFPS bounds the trace frames per second sent to one client while
	// playing; default 30.
	MaxFPS int
	// KeepAlive is how long a websocket may stay silent (no message, no
	// pong) before it is closed; the server pings at 9/10 of it, and pages
	// send a heartbeat. Default 60 s.
	KeepAlive time.Duration
	// SendBuffer is the kernel send buffer of a websocket's TCP connection,
	// in bytes (the kernel may double it): little waits below the mailbox,
	// so a slow page's frames stay fresh. Default 64 KiB.
	SendBuffer int
	// MaxMessage is the largest client message in bytes; a larger one (up
	// to 64 KiB) is answered with "too_large" and the connection stays
	// open; default 16 KiB.
	MaxMessage int
	// CmdRate bounds the messages per second a client may send (bursts of
	// twice as many); more get "rate_limited"; default 40.
	CmdRate float64
	// MaxQuestions bounds the questions (explain, walk, gradcheck, look)
	// per second one client may ask, in bursts of as many (rounded up);
	// more get "rate_limited". They count against CmdRate too. Default 10.
	MaxQuestions float64
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

	// Data sets beyond MNIST and shapes (data.go).
	DataConfig
	// Rooms and classroom limits.
	ClassroomConfig
	// Timeouts and limits of plain HTTP (httpserver.go).
	HTTPConfig

	// Cluster, if its URL is set, shares rooms with the other replicas
	// connected to the same NATS server (cluster.go). Default: none.
	Cluster cluster.Config
}

// Defaults.
const (
	DefaultAddr         = "127.0.0.1:8080"
	defaultMaxSessions  = 32
	defaultMaxConns     = 256
	defaultMaxFPS       = 30
	defaultMaxMessage   = 16 << 10
	defaultKeepAlive    = 60 * time.Second
	defaultSendBuffer   = 64 << 10
	defaultCmdRate      = 40
	defaultMaxQuestions = 10
	defaultMaxBatch     = 128
	defaultMaxTest      = 10000
	defaultMaxRate      = 1000
	defaultGrace        = 10 * time.Minute
	defaultShapesTrain  = 5000
	defaultShapesTest   = 1000
	// DefaultTimelineBytes is the history's budget of a session: 32 MiB.
	DefaultTimelineBytes = 32 << 20
)

// withDefaults fills zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	def(&c.MaxSessions, defaultMaxSessions)
	def(&c.MaxSessionsPerAddr, max(2, c.MaxSessions/8))
	def(&c.MaxConns, defaultMaxConns)
	if c.MaxMemory == 0 {
		c.MaxMemory = DefaultMaxMemory()
	}
	def(&c.MaxFPS, defaultMaxFPS)
	def(&c.MaxMessage, defaultMaxMessage)
	def(&c.KeepAlive, defaultKeepAlive)
	def(&c.SendBuffer, defaultSendBuffer)
	def(&c.MaxBatch, defaultMaxBatch)
	def(&c.MaxTestImages, defaultMaxTest)
	def(&c.ShapesTrain, defaultShapesTrain)
	def(&c.ShapesTest, defaultShapesTest)
	def(&c.Version, BuildVersion())
	def(&c.Addr, DefaultAddr)
	def(&c.CmdRate, defaultCmdRate)
	def(&c.MaxQuestions, defaultMaxQuestions)
	def(&c.MaxRate, defaultMaxRate)
	def(&c.ResumeGrace, defaultGrace)
	def(&c.MaxModel, defaultMaxModel)
	def(&c.MaxLesson, defaultMaxLesson)
	def(&c.MaxImage, defaultMaxImage)
	def(&c.MaxImageSide, defaultMaxImageSide)
	def(&c.TimelineBytes, DefaultTimelineBytes)
	var p problems
	check := p.check
	check(c.MaxSessions > 0, "max sessions %d: want > 0", c.MaxSessions)
	check(c.MaxSessionsPerAddr > 0, "max sessions per address %d: want > 0", c.MaxSessionsPerAddr)
	check(c.MaxMemory >= 16<<20, "max memory %d bytes: want at least 16 MiB", c.MaxMemory)
	check(c.MaxConns > 0, "max connections %d: want > 0", c.MaxConns)
	check(c.MaxFPS > 0 && c.MaxFPS <= 120, "max fps %d: want 1 … 120", c.MaxFPS)
	check(c.MaxMessage >= 1024 && c.MaxMessage <= hardReadLimit, "max message %d bytes: want 1024 … %d", c.MaxMessage, hardReadLimit)
	check(c.KeepAlive >= time.Second, "websocket keep-alive %v: want ≥ 1s", c.KeepAlive)
	check(c.SendBuffer >= 4096, "websocket send buffer %d bytes: want ≥ 4096", c.SendBuffer)
	check(c.CmdRate > 0, "command rate %v: want > 0", c.CmdRate)
	check(c.MaxQuestions > 0, "questions per second %v: want > 0", c.MaxQuestions)
	check(c.MaxBatch > 0 && c.MaxBatch <= engine.MaxBatchSize, "max batch %d: want 1 … %d", c.MaxBatch, engine.MaxBatchSize)
	check(c.MaxTestImages > 0, "max test images %d: want > 0", c.MaxTestImages)
	check(c.MaxRate > 0, "max rate %v: want > 0", c.MaxRate)
	check(c.ResumeGrace > 0, "resume grace %v: want > 0", c.ResumeGrace)
	check(c.MaxModel >= 1024, "max model %d bytes: want ≥ 1024", c.MaxModel)
	check(c.MaxLesson >= 1024, "max lesson %d bytes: want ≥ 1024", c.MaxLesson)
	check(c.MaxImage >= 1024, "max image %d bytes: want ≥ 1024", c.MaxImage)
	check(c.MaxImageSide >= 28, "max image side %d pixels: want ≥ 28", c.MaxImageSide)
	check(c.ShapesTrain > 0 && c.ShapesTest > 0, "shapes set sizes %d, %d: want > 0", c.ShapesTrain, c.ShapesTest)
	c.HTTPConfig = c.HTTPConfig.withDefaults(&p)
	cc, err := c.ClassroomConfig.withDefaults()
	c.ClassroomConfig = cc
	return c, errors.Join(append(p, err)...)
}

// limits are the limits a client is told in the welcome.
func (c *Config) limits() protocol.Limits {
	return protocol.Limits{MaxFPS: c.MaxFPS, MaxMessage: c.MaxMessage, MaxBatch: c.MaxBatch,
		MaxTestImages: c.MaxTestImages, MaxRate: c.MaxRate, CmdRate: c.CmdRate, QuestionRate: c.MaxQuestions}
}

// questionBurst is how many questions a client may ask at once: as many as
// it may ask per second, rounded up.
func (c *Config) questionBurst() int { return max(1, int(math.Ceil(c.MaxQuestions))) }

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
	// ForkBudget bounds the optimizer steps per second of all forks
	// together (of every room): a fork whose step would exceed it waits,
	// and its page is told that the class shares the server. Default 100
	// a core (GOMAXPROCS): 200 forks playing on two cores get about a step
	// a second each, and the teacher's actions still reach every page
	// within a second (bench/README.md).
	ForkBudget float64
	// IdleTimeout ends a private session (a lab or a fork) whose pages have
	// sent no command for this long, telling them why; default 30 minutes.
	// Rooms are not ended while a page is connected.
	IdleTimeout time.Duration
	// RoomKey, if set, must be typed to create a room from the page (rooms
	// named with -room at start-up need none). Without it, rooms may be
	// created from the page only if OpenRooms is set or the server listens
	// on a loopback address (Addr: this machine only); see mayCreateRooms.
	RoomKey string
	// OpenRooms lets anyone who reaches the server create rooms from the
	// page without a key, up to MaxRooms, on any listen address.
	OpenRooms bool
	// JoinAddrs bounds the addresses whose join budget is kept; beyond it
	// (addresses whose budget has not refilled) new addresses share one
	// budget; default 16384.
	JoinAddrs int
	// MaxPromptAnswers bounds the answers to the teacher's prompts one
	// room keeps (every prompt together; a changed answer counts once);
	// default 20000.
	MaxPromptAnswers int
}

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
	forkBudgetPerCore      = 100
	defaultIdleTimeout     = 30 * time.Minute
	defaultJoinAddrs       = 16384
	defaultPromptAnswers   = 20000
)

// defaultForkBudget is forkBudgetPerCore steps per second for each core
// the server may use.
func defaultForkBudget() float64 { return forkBudgetPerCore * float64(runtime.GOMAXPROCS(0)) }

// withDefaults fills zero fields and checks the others.
func (c ClassroomConfig) withDefaults() (ClassroomConfig, error) {
	def(&c.MaxRooms, defaultMaxRooms)
	def(&c.MaxViewers, defaultMaxViewers)
	def(&c.MaxConnsPerAddr, defaultMaxConnsPerAddr)
	def(&c.JoinBurst, defaultJoinBurst)
	def(&c.JoinBurstTotal, defaultJoinBurstTotal)
	def(&c.JoinRate, defaultJoinRate)
	def(&c.JoinRateTotal, defaultJoinRateTotal)
	def(&c.ForkRate, defaultForkRate)
	def(&c.ForkBudget, defaultForkBudget())
	def(&c.IdleTimeout, defaultIdleTimeout)
	def(&c.JoinAddrs, defaultJoinAddrs)
	def(&c.MaxPromptAnswers, defaultPromptAnswers)
	var p problems
	check := p.check
	check(c.MaxRooms > 0, "max rooms %d: want > 0", c.MaxRooms)
	check(c.MaxViewers > 0, "max viewers %d: want > 0", c.MaxViewers)
	check(c.MaxConnsPerAddr > 0, "max connections per address %d: want > 0", c.MaxConnsPerAddr)
	check(c.JoinRate > 0 && c.JoinBurst > 0, "join rate %v, burst %d: want > 0", c.JoinRate, c.JoinBurst)
	check(c.JoinAddrs > 0, "join budget addresses %d: want > 0", c.JoinAddrs)
	check(c.IdleTimeout > 0, "idle timeout %v: want > 0", c.IdleTimeout)
	check(c.MaxPromptAnswers > 0, "max prompt answers %d: want > 0", c.MaxPromptAnswers)
	check(c.ForkRate > 0, "fork rate %v: want > 0 steps per second", c.ForkRate)
	check(c.ForkBudget > 0, "fork budget %v: want > 0 steps per second", c.ForkBudget)
	check(c.JoinRateTotal > 0 && c.JoinBurstTotal > 0, "total join rate %v, burst %d: want > 0", c.JoinRateTotal, c.JoinBurstTotal)
	for _, o := range c.AllowedOrigins {
		_, ok := normalizeOrigin(o)
		check(ok, "allowed origin %q: want scheme://host[:port]", o)
	}
	return c, errors.Join(p...)
}

// def sets *v to d if *v is zero (a field left at its default).
func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// problems are what is wrong with a configuration.
type problems []error

// check notes a problem unless ok.
func (p *problems) check(ok bool, format string, args ...any) {
	if !ok {
		*p = append(*p, fmt.Errorf(format, args...))
	}
}
