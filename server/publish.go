package server

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// What a session sends its clients: the welcome, states, chart points and
// trace frames, encoded once and put into every mailbox.

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
		LRNow: s.t.Rate(), LREnd: s.t.Config().Hyper.Rate(math.MaxInt, 1),
		Loss: protocol.F32Of(m.LastLoss), BatchLoss: protocol.F32Of(m.BatchLoss), TrainAcc: protocol.F32Of(m.TrainAcc), TestAcc: protocol.F32Of(m.TestAcc),
	}
	if st.TestAcc != nil {
		step := m.TestAccStep
		st.TestStep = &step
	}
	if err := s.t.Diverged(); err != nil {
		msg := err.Error()
		st.Error = &msg
	}
	st.Undo = len(s.undo)
	st.ForkShared = s.forkShared && s.mode == modePlay
	st.Stopped = s.stopped
	if s.mode == modeEpoch {
		st.EpochDone, st.EpochLeft = s.epochProgress(time.Now())
	}
	return protocol.Marshal(st)
}

// epochProgress is the part of the epoch done while a step_epoch runs, and
// the seconds it should still take at the rate since it started (nil
// until it has moved).
func (s *session) epochProgress(now time.Time) (done, left *protocol.F32) {
	p := s.t.EpochProgress()
	if s.t.Epoch() != s.epoch0 {
		p = 1 // the epoch ended: the cursor is at the start of the next
	}
	done = protocol.F32Of(p)
	if moved := p - s.epochP0; moved > 0 {
		left = protocol.F32Of(now.Sub(s.epochAt).Seconds() * (1 - p) / moved)
	}
	return done, left
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
	if s.student != nil { // a student's fork: the teacher's dashboard shows where it is
		m := s.t.Metrics()
		s.roster.forkStats(s.student, protocol.ForkStats{Step: m.Step, Loss: protocol.F32Of(m.LastLoss), Acc: protocol.F32Of(m.TrainAcc)}, s.lastCmd)
	}
}

// publishFrames encodes the current trace for each distinct subscription
// of to and puts the frames into their mailboxes. Exact frames carry
// float32; others may carry q8 (unless the subscription asks for exact).
// Identical subscriptions share one encoding and one prepared message; the
// relays of other replicas' pages publish the same bytes.
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
		shares bool
	}
	// The clients that share a trace read the union of their
	// subscriptions' parts; the trace skips the rest, and borrows the
	// trainer's buffers, as every frame is encoded before this returns.
	// Before the first phase of a step the frame shows the probe image's
	// forward pass (Preview): a page opens drawn.
	traces := map[traceKey]*engine.Trace{}
	parts := map[traceKey]engine.TraceParts{}
	for _, c := range to {
		tk := traceKey{c.sub.Sample, c.sub.Probe, c.sub.Shares()}
		parts[tk] |= c.sub.TraceParts()
	}
	type prepared struct {
		b  []byte
		pm *websocket.PreparedMessage // made for the first websocket client
	}
	frames := map[string]prepared{}
	for _, c := range to {
		if c.relay != nil && !c.relay.takesFrames() || c.flow.framesOff() {
			continue // the room's relay carries its states and charts only; a hidden page wants none
		}
		if s.tlHolds(c, keyframe) {
			continue // the page looks back through the history (timeline_session.go)
		}
		// a slow link gets 8-bit frames while the session plays (flow.go)
		ex := exact || c.sub.Exact
		if ex && s.mode != modePaused && c.flow.slow() {
			ex = false
			s.srv.metrics.coarseFrames.Inc()
		}
		key := fmt.Sprint(c.subKey, ex)
		f, ok := frames[key]
		if !ok {
			tk := traceKey{c.sub.Sample, c.sub.Probe, c.sub.Shares()}
			tr := traces[tk]
			if tr == nil {
				tr = s.t.Trace(engine.TraceOptions{Sample: c.sub.Sample, Probe: c.sub.Probe, Shares: tk.shares, Skip: ^parts[tk], Borrow: true, Preview: true})
				traces[tk] = tr
			}
			b, err := s.enc.Encode(tr, &c.sub, protocol.FrameMeta{Seq: s.seq, Keyframe: keyframe, Exact: ex, Done: done, Next: next, Published: published})
			if err != nil {
				s.log.Error("encode frame", "err", err)
				continue
			}
			f = prepared{b: b}
			frames[key] = f
		}
		if c.relay != nil {
			c.relay.putFrame(f.b) // to other replicas' pages (cluster_relay.go)
			continue
		}
		if f.pm == nil {
			pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, f.b)
			if err != nil {
				s.log.Error("prepare frame", "err", err)
				continue
			}
			f.pm = pm
			frames[key] = f
		}
		if c.mb.putFrame(f.pm, f.b) {
			s.srv.metrics.framesDropped.Inc()
		}
	}
}
