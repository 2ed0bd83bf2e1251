package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/protocol"
)

// A session is one trainer and the goroutine that owns it. Commands arrive
// on a channel; what leaves are immutable values (encoded frames, JSON
// messages) put into the mailboxes of the attached clients, which never
// block. Nothing in the session waits for a client.
type session struct {
	id    string // public, shown in logs
	token string // secret: resumes the session
	srv   *Server
	log   *slog.Logger
	cmds  chan sessionMsg
	quit  chan struct{} // closed to stop the session
	done  chan struct{} // closed when run has returned

	// Guarded by the registry (srv.sessions).
	attached   int       // connections attached
	detachedAt time.Time // when attached last dropped to 0

	addr    netip.Addr // the network address that started the session (labs and forks)
	perAddr bool       // counted against MaxSessionsPerAddr (a lab or a fork, not a room)
	room    *Room      // the room this session is the trainer of (set once, see registry.makeRoomSession); nil for a private session
	mem     int64      // bytes of the memory budget its trainer holds (see memory.go)
	tlMem   int64      // bytes of the memory budget its history holds (see timeline_session.go)
	forkOf  string     // a fork: the join code of the room it was forked from (set before run starts); "" for a lab or a room
	maxRate float64    // optimizer steps per second this session may play at; 0: no bound (see forkLimit)
	// A fork: the student whose it is, in the roster of the room (set
	// before run starts; see dashboard.go).
	student *student
	roster  *roster
	// A fork of a lesson's room: what its students may do (set before run
	// starts; see lesson_fork.go); nil: anything a fork may.
	lessonFork *lesson.Fork
	// A mirror's session: the mirror of a room homed on another replica,
	// which its pages' messages reach (cluster_mirror.go); nil otherwise.
	mirror *remoteRoom

	// Owned by run.
	lastCmd  time.Time // when a client last sent a command (see admit)
	t        *engine.Trainer
	params   LabParams
	clients  []*client
	mode     runMode
	epoch0   int       // the epoch a step_epoch started in
	nextDue  time.Time // when the next unit of play may start (Speed.Rate > 0)
	nextPub  time.Time // when playing, the time the next frames are due
	seq      uint64    // frames published
	pending  []protocol.MetricsPoint
	history  []protocol.MetricsPoint
	tests    []protocol.TestPoint
	enc      protocol.FrameEncoder
	paramErr string      // an error in the URL parameters, told in the first welcome
	stopped  string      // why Play or a step_epoch stopped when the last page left, told to the next
	undo     []undoPoint // a room's: what "undo" puts back, last last (undo.go)
	epochAt  time.Time   // when the step_epoch running started
	epochP0  float64     // the part of the epoch done then
	tl       tlState     // the history of training and the pages looking back (timeline_session.go)

	// budgetAt: when the forks' shared budget lets a fork's next step
	// start (zero: not reserved yet); forkShared: its last step waited
	// for it (forkbudget.go)
	budgetAt   time.Time
	forkShared bool
}

type runMode int

const (
	modePaused runMode = iota
	modePlay           // run at the session's speed until paused
	modeEpoch          // run batches at full speed until the epoch counter changes
)

func (m runMode) String() string {
	return [...]string{protocol.ModePaused, protocol.ModePlay, protocol.ModeEpoch}[m]
}

// maxHistory bounds the chart points a session keeps; beyond it every
// other point is dropped.
const maxHistory = 20000

// sessionMsg is one message to the session goroutine.
type sessionMsg struct {
	kind    msgKind
	c       *client
	id      json.RawMessage
	cmd     string
	args    protocol.CmdArgs
	sub     protocol.Subscription
	resumed bool                // attach: the client resumed with its token
	fn      func()              // run: called in the session goroutine
	q       question            // question: what is asked (see questions.go)
	msg     *protocol.ClientMsg // question: the page's message (a mirror forwards it to the room's home)
	answer  chan<- answer       // question: where the answer goes (but for a look)
}

type msgKind int

const (
	msgAttach msgKind = iota
	msgDetach
	msgCmd
	msgSubscribe
	msgRun      // call fn
	msgQuestion // answer q
	msgKeyframe // the client turned its frames on: ack id, send a keyframe
)

// send passes m to the session goroutine; it waits while the session is
// busy (a long test command), and gives up when the session has ended.
func (s *session) send(m sessionMsg) bool {
	select {
	case s.cmds <- m:
		return true
	case <-s.done:
		return false
	}
}

// inSession runs f in the session's goroutine (where its trainer may be
// touched) and waits for it. It reports false if the session has ended.
func (s *session) inSession(f func()) bool {
	done := make(chan struct{})
	if !s.send(sessionMsg{kind: msgRun, fn: func() { f(); close(done) }}) {
		return false
	}
	select {
	case <-done:
		return true
	case <-s.done:
		return false
	}
}

// run is the session goroutine.
func (s *session) run() {
	defer close(s.done)
	defer s.tlRelease()
	for {
		if s.mode == modePaused {
			select {
			case m := <-s.cmds:
				s.handle(m)
			case <-s.quit:
				return
			}
			continue
		}
		select {
		case m := <-s.cmds:
			s.handle(m)
			continue
		case <-s.quit:
			return
		default:
		}
		if wait := s.wait(time.Now()); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case m := <-s.cmds:
				timer.Stop()
				s.handle(m)
				continue
			case <-s.quit:
				timer.Stop()
				return
			case <-timer.C:
				continue // due now: a fork's step may still wait for the forks' budget
			}
		}
		s.advance(time.Now())
	}
}

// unitStart reports whether the next phase starts a unit of play: every
// phase for unit "phase", the first phase of a step for unit "step".
func (s *session) unitStart() bool {
	if s.params.Speed.Unit == protocol.UnitPhase {
		return true
	}
	return s.stepStart()
}

// stepStart reports whether the next phase is the first of a step.
func (s *session) stepStart() bool {
	done, ok := s.t.Done()
	return !ok || done.Kind == engine.PhaseUpdate
}

// wait is how long play must wait before the next phase.
func (s *session) wait(now time.Time) time.Duration {
	if s.mode != modePlay || s.params.Speed.Rate == 0 || !s.unitStart() {
		return 0
	}
	d := s.nextDue.Sub(now)
	if d <= 0 && s.maxRate > 0 && s.stepStart() { // a fork: its steps share the class's budget
		return s.budgetWait(now) // forkbudget.go
	}
	return d
}

// epochFPS bounds the trace frames per second of a step_epoch (MaxFPS
// bounds it too): the epoch runs as fast as the CPU allows, and a frame
// taken and encoded in the session's goroutine (and compressed in each
// page's) is time the epoch does not train; ten a second still show the
// maps changing, and the state shows the epoch's progress.
const epochFPS = 10

// advance runs one phase of play or step_epoch.
func (s *session) advance(now time.Time) {
	if s.mode == modePlay && s.params.Speed.Rate > 0 && s.unitStart() {
		period := time.Duration(float64(time.Second) / s.params.Speed.Rate)
		if s.nextDue.Before(now.Add(-period)) {
			s.nextDue = now // late by more than a unit: do not catch up in a burst
		}
		s.nextDue = s.nextDue.Add(period)
	}
	if s.stepStart() {
		s.budgetAt = time.Time{} // the step reserved of the forks' budget is spent
	}
	start := time.Now()
	p, err := s.t.StepPhase()
	// a step_epoch runs the rest of the step here, not one phase a turn of
	// run's loop, unless a command waits: the epoch pays the loop's checks
	// once a step
	for err == nil && s.mode == modeEpoch && p.Kind != engine.PhaseUpdate && len(s.cmds) == 0 {
		p, err = s.t.StepPhase()
	}
	s.trained(start)
	if err != nil {
		s.diverged(nil)
		return
	}
	stepped := p.Kind == engine.PhaseUpdate
	if stepped {
		s.stepDone()
	}
	if s.mode == modeEpoch && stepped && s.t.Epoch() != s.epoch0 {
		s.mode = modePaused
		s.publishState()
		s.publishFrames(s.clients, true, true)
		return
	}
	if stepped || (s.mode == modePlay && s.params.Speed.Unit == protocol.UnitPhase) {
		if !now.Before(s.nextPub) {
			// Frames are due every interval on average: a frame that comes
			// late (steps rarely end exactly on time) does not push the
			// next one back, so 50 steps a second still give MaxFPS frames,
			// not 25. After a long pause the schedule starts anew.
			fps := s.srv.cfg.MaxFPS
			if s.mode == modeEpoch {
				fps = min(fps, epochFPS)
			}
			interval := time.Second / time.Duration(fps)
			if now.Sub(s.nextPub) > interval {
				s.nextPub = now
			}
			s.nextPub = s.nextPub.Add(interval)
			s.publishState()
			s.publishFrames(s.clients, false, false)
		}
	}
}

// trained counts the time since start, spent running phases of training,
// in bpv_training_seconds_total: against the time a session ran, what
// serving it added (BenchmarkStepEpoch reports the two).
func (s *session) trained(start time.Time) {
	s.srv.metrics.trainSeconds.Add(time.Since(start).Seconds())
}

// stepDone records a completed optimizer step.
func (s *session) stepDone() {
	s.srv.metrics.steps.Inc()
	s.tlObserve()
	m := s.t.Metrics()
	s.pending = append(s.pending, protocol.MetricsPoint{Step: m.Step, Loss: m.LastLoss, TrainAcc: m.TrainAcc})
}

// diverged pauses after a non-finite loss or gradient.
func (s *session) diverged(m *sessionMsg) {
	s.mode = modePaused
	err := s.t.Diverged()
	if err == nil {
		return
	}
	if m != nil {
		m.c.reply(protocol.ErrorReply(m.id, protocol.CodeDiverged, err.Error()))
	}
	s.publishState()
	s.publishFrames(s.clients, true, false)
}

func (s *session) handle(m sessionMsg) {
	s.tlObserve() // the step a command starts from, if the history lacks it
	switch m.kind {
	case msgAttach:
		s.attach(m.c, m.resumed)
	case msgDetach:
		s.clients = slices.DeleteFunc(s.clients, func(c *client) bool { return c == m.c })
		if len(s.clients) == 0 {
			// nobody watches: spend no CPU, and tell the next page why the
			// run it left stopped
			switch s.mode {
			case modePlay:
				s.stopped = fmt.Sprintf("Play stopped at step %d: the page was closed or reloaded, and a session nobody watches pauses.", s.t.Step())
			case modeEpoch:
				s.stopped = fmt.Sprintf("Step epoch stopped at step %d: the page was closed or reloaded, and a session nobody watches pauses. Step epoch runs the rest of the epoch.", s.t.Step())
			}
			s.mode = modePaused
		}
	case msgSubscribe:
		m.c.sub, m.c.subKey = m.sub, m.sub.Key()
		m.c.reply(protocol.Ack(m.id))
		s.publishFrames([]*client{m.c}, true, true)
	case msgCmd:
		if err := s.admit(&m); err != nil { // admission.go
			m.c.reply(s.srv.refusalOf(err).reply(m.id))
			return
		}
		start := time.Now()
		s.command(&m)
		s.srv.cmdtime.WithLabelValues(m.cmd).Observe(time.Since(start).Seconds())
	case msgRun:
		m.fn()
	case msgQuestion:
		s.question(&m) // questions.go
	case msgKeyframe:
		m.c.reply(protocol.Ack(m.id))
		s.publishFrames([]*client{m.c}, true, true)
	}
	if s.mode != modeEpoch && s.tl.until > 0 {
		s.tlObserve() // an epoch run stopped before its end: the step it stopped at is kept
	}
}

// attach adds a client and sends it welcome, the chart history, state and a
// keyframe.
func (s *session) attach(c *client, resumed bool) {
	s.clients = append(s.clients, c)
	c.sub = protocol.DefaultSubscription()
	c.sub.Sample, c.sub.Probe = s.params.Sample, s.params.Probe
	c.subKey = c.sub.Key()
	c.reply(s.welcome(resumed))
	if s.paramErr != "" {
		c.reply(protocol.ErrorReply(nil, protocol.CodeInvalid, s.paramErr))
		s.paramErr = ""
	}
	s.flushPoints()
	c.mb.putState(s.stateJSON())
	s.stopped = "" // told once, to the page that came back
	c.mb.putMetrics(true, s.history, s.tests)
	s.publishFrames([]*client{c}, true, true)
}
