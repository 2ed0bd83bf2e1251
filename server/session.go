package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/gorilla/websocket"
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

	// Guarded by srv.mu.
	attached   int       // connections attached
	detachedAt time.Time // when attached last dropped to 0

	addr    netip.Addr // the network address that started the session (labs and forks)
	perAddr bool       // counted against MaxSessionsPerAddr (a lab or a fork, not a room)
	room    *Room      // the room this session is the trainer of; nil for a private session
	maxRate float64    // optimizer steps per second this session may play at; 0: no bound (see forkLimit)

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
	paramErr string // an error in the URL parameters, told in the first welcome
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
	resumed bool   // attach: the client resumed with its token
	fn      func() // run: called in the session goroutine
}

type msgKind int

const (
	msgAttach msgKind = iota
	msgDetach
	msgCmd
	msgSubscribe
	msgRun // call fn
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

// run is the session goroutine.
func (s *session) run() {
	defer close(s.done)
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
	done, ok := s.t.Done()
	return !ok || done.Kind == engine.PhaseUpdate
}

// wait is how long play must wait before the next phase.
func (s *session) wait(now time.Time) time.Duration {
	if s.mode != modePlay || s.params.Speed.Rate == 0 || !s.unitStart() {
		return 0
	}
	return s.nextDue.Sub(now)
}

// advance runs one phase of play or step_epoch.
func (s *session) advance(now time.Time) {
	if s.mode == modePlay && s.params.Speed.Rate > 0 && s.unitStart() {
		period := time.Duration(float64(time.Second) / s.params.Speed.Rate)
		if s.nextDue.Before(now.Add(-period)) {
			s.nextDue = now // late by more than a unit: do not catch up in a burst
		}
		s.nextDue = s.nextDue.Add(period)
	}
	p, err := s.t.StepPhase()
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
			interval := time.Second / time.Duration(s.srv.cfg.MaxFPS)
			if now.Sub(s.nextPub) > interval {
				s.nextPub = now
			}
			s.nextPub = s.nextPub.Add(interval)
			s.publishState()
			s.publishFrames(s.clients, false, false)
		}
	}
}

// stepDone records a completed optimizer step.
func (s *session) stepDone() {
	s.srv.metrics.steps.Inc()
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
	switch m.kind {
	case msgAttach:
		s.attach(m.c, m.resumed)
	case msgDetach:
		s.clients = slices.DeleteFunc(s.clients, func(c *client) bool { return c == m.c })
		if len(s.clients) == 0 {
			s.mode = modePaused // nobody watches: spend no CPU
		}
	case msgSubscribe:
		m.c.sub, m.c.subKey = m.sub, m.sub.Key()
		m.c.reply(protocol.Ack(m.id))
		s.publishFrames([]*client{m.c}, true, true)
	case msgCmd:
		if code, msg := s.admit(&m); code != "" { // classroom.go
			m.c.reply(protocol.ErrorReply(m.id, code, msg))
			return
		}
		s.command(&m)
	case msgRun:
		m.fn()
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
	c.mb.putMetrics(true, s.history, s.tests)
	s.publishFrames([]*client{c}, true, true)
}

func (s *session) command(m *sessionMsg) {
	c := m.c
	switch m.cmd {
	case protocol.CmdPlay:
		s.mode = modePlay
		s.nextDue = time.Time{}
		c.reply(protocol.Ack(m.id))
		s.publishState()
	case protocol.CmdPause:
		s.mode = modePaused
		c.reply(protocol.Ack(m.id))
		s.publishState()
		s.publishFrames(s.clients, true, true)
	case protocol.CmdStepPhase:
		s.mode = modePaused
		p, err := s.t.StepPhase()
		if err != nil {
			s.diverged(m)
			return
		}
		if p.Kind == engine.PhaseUpdate {
			s.stepDone()
		}
		c.reply(protocol.Ack(m.id))
		s.publishState()
		s.publishFrames(s.clients, true, false)
	case protocol.CmdStepBatch:
		s.mode = modePaused
		before := s.t.Step()
		err := s.t.StepBatch()
		if s.t.Step() != before {
			s.stepDone()
		}
		if err != nil {
			s.diverged(m)
			return
		}
		c.reply(protocol.Ack(m.id))
		s.publishState()
		s.publishFrames(s.clients, true, false)
	case protocol.CmdStepEpoch:
		s.mode, s.epoch0 = modeEpoch, s.t.Epoch()
		c.reply(protocol.Ack(m.id))
		s.publishState()
	case protocol.CmdReset:
		if m.args.Seed != nil {
			s.t.ResetSeed(*m.args.Seed)
		} else {
			s.t.Reset()
		}
		s.params.Config = s.t.Config()
		c.reply(protocol.Ack(m.id))
		s.restarted(false)
	case protocol.CmdSet:
		s.set(m)
	case protocol.CmdTest:
		n := 1000
		if m.args.Max != nil {
			n = *m.args.Max
		}
		if n < 1 || n > s.srv.cfg.MaxTestImages {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, fmt.Sprintf("test max %d: want 1 … %d images", n, s.srv.cfg.MaxTestImages)))
			return
		}
		acc := s.t.EvalTest(n)
		if math.IsNaN(acc) {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, "this data set has no test images"))
			return
		}
		p := protocol.TestPoint{Step: s.t.Step(), Acc: acc}
		s.tests = append(s.tests, p)
		c.reply(protocol.Ack(m.id))
		s.publishState()
		for _, c := range s.clients {
			c.mb.putMetrics(false, nil, []protocol.TestPoint{p})
		}
	}
}

// set applies a "set" command: all of it or, on error, nothing.
func (s *session) set(m *sessionMsg) {
	c := m.c
	np, ch, err := s.params.apply(&m.args, s.srv.cfg.limits())
	if err != nil {
		c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
		return
	}
	if ch.rebuild {
		data, err := s.srv.data.get(np.Data)
		if err != nil {
			s.log.Error("load data", "data", np.Data, "err", err)
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, fmt.Sprintf("data %q is not available on this server", np.Data)))
			return
		}
		t, err := engine.NewTrainer(np.Config, data)
		if err != nil {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
			return
		}
		s.t = t
	} else if ch.hyper {
		if err := s.t.SetHyper(np.Config.Hyper); err != nil {
			c.reply(protocol.ErrorReply(m.id, protocol.CodeInvalid, err.Error()))
			return
		}
	}
	np.Config = s.t.Config()
	s.params = np
	if ch.sample {
		c.sub.Sample, c.sub.Probe = np.Sample, np.Probe
		c.subKey = c.sub.Key()
	}
	c.reply(protocol.Ack(m.id))
	if ch.rebuild {
		s.restarted(true)
		return
	}
	s.publishState()
	switch {
	case ch.hyper:
		// After a divergence SetHyper drops the diverged step: everyone's
		// trace changes.
		s.publishFrames(s.clients, s.mode == modePaused, false)
	case ch.sample:
		s.publishFrames([]*client{c}, s.mode == modePaused, true)
	}
}

// restarted tells every client that the network was reset (and, if
// rebuilt, that its layers changed): step 0, empty charts, a keyframe.
func (s *session) restarted(rebuilt bool) {
	s.mode = modePaused
	s.pending, s.history, s.tests = nil, nil, nil
	var welcome []byte
	if rebuilt {
		welcome = s.welcome(true)
	}
	for _, c := range s.clients {
		if welcome != nil {
			c.reply(welcome)
		}
		c.mb.putMetrics(true, nil, nil)
	}
	s.publishState()
	s.publishFrames(s.clients, true, true)
}

func (s *session) welcome(resumed bool) []byte {
	cfg := s.t.Config()
	classes := s.t.Data().ClassNames
	if classes == nil {
		classes = []string{}
	}
	resume := s.token
	if s.room != nil {
		resume = "" // a room is rejoined by its code; its token is never handed out
	}
	return protocol.Marshal(protocol.Welcome{
		Type: protocol.TypeWelcome, V: protocol.Version, Session: s.id, Resume: resume, Resumed: resumed,
		Config: protocol.Config{Spec: cfg.Spec, Seed: cfg.Seed, Hyper: toWireHyper(cfg.Hyper), Data: s.params.Data},
		Layers: toWireLayers(s.t.Layers()), InputShape: s.t.InputShape(), Classes: classes,
		Limits: s.srv.cfg.limits(),
	})
}

func (s *session) phases() (done, next *protocol.Phase) {
	if p, ok := s.t.Done(); ok {
		done = toWirePhase(s.t, p)
	}
	return done, toWirePhase(s.t, s.t.Next())
}

func (s *session) stateJSON() []byte {
	m := s.t.Metrics()
	done, next := s.phases()
	st := protocol.State{
		Type: protocol.TypeState, V: protocol.Version, Step: m.Step, Epoch: m.Epoch, SamplesSeen: m.SamplesSeen,
		Playing: s.mode != modePaused, Mode: s.mode.String(), Done: done, Next: next,
		Hyper: toWireHyper(s.t.Config().Hyper), Seed: s.t.Config().Seed, Spec: s.t.Config().Spec, Speed: s.params.Speed,
		Loss: protocol.F32Of(m.LastLoss), TrainAcc: protocol.F32Of(m.TrainAcc), TestAcc: protocol.F32Of(m.TestAcc),
	}
	if st.TestAcc != nil {
		step := m.TestAccStep
		st.TestStep = &step
	}
	if err := s.t.Diverged(); err != nil {
		msg := err.Error()
		st.Error = &msg
	}
	return protocol.Marshal(st)
}

// flushPoints moves the pending chart points into the history and sends
// them to every client.
func (s *session) flushPoints() {
	if len(s.pending) == 0 {
		return
	}
	for _, c := range s.clients {
		c.mb.putMetrics(false, s.pending, nil)
	}
	s.history = append(s.history, s.pending...)
	s.pending = s.pending[:0] // the mailboxes and the history copied them
	if len(s.history) > maxHistory {
		kept := s.history[:0]
		for i, p := range s.history {
			if i%2 == 1 || i == len(s.history)-1 {
				kept = append(kept, p)
			}
		}
		s.history = slices.Clip(kept)
	}
}

// publishState sends the state and new chart points to every client.
func (s *session) publishState() {
	s.flushPoints()
	st := s.stateJSON()
	for _, c := range s.clients {
		c.mb.putState(st)
	}
}

// publishFrames encodes the current trace for each distinct subscription
// of to and puts the frames into their mailboxes. Exact frames carry
// float32; others may carry q8 (unless the subscription asks for exact).
// Identical subscriptions share one prepared message.
func (s *session) publishFrames(to []*client, exact, keyframe bool) {
	if len(to) == 0 {
		return
	}
	s.seq++
	published := time.Now()
	done, next := s.phases()
	type traceKey struct {
		sample int
		probe  bool
	}
	traces := map[traceKey]*engine.Trace{}
	type prepared struct {
		pm *websocket.PreparedMessage
		n  int
	}
	frames := map[string]prepared{}
	for _, c := range to {
		ex := exact || c.sub.Exact
		key := fmt.Sprint(c.subKey, ex)
		f, ok := frames[key]
		if !ok {
			tk := traceKey{c.sub.Sample, c.sub.Probe}
			tr := traces[tk]
			if tr == nil {
				tr = s.t.Trace(engine.TraceOptions{Sample: c.sub.Sample, Probe: c.sub.Probe})
				traces[tk] = tr
			}
			b, err := s.enc.Encode(tr, &c.sub, protocol.FrameMeta{Seq: s.seq, Keyframe: keyframe, Exact: ex, Done: done, Next: next, Published: published})
			if err != nil {
				s.log.Error("encode frame", "err", err)
				continue
			}
			pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, b)
			if err != nil {
				s.log.Error("prepare frame", "err", err)
				continue
			}
			f = prepared{pm, len(b)}
			frames[key] = f
		}
		if c.mb.putFrame(f.pm, f.n) {
			s.srv.metrics.framesDropped.Inc()
		}
	}
}
