package server

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// A session's timeline and the pages looking back through it. A page looks
// at the live trainer or at one step of the history; a page that looks back
// gets one frame of that step (in the frame format and its subscription,
// marked FrameHeader.History) and no live frames until it returns, while
// states and chart points go on. In a room the owner's view is the room's:
// every page that has not chosen a step of its own follows it; a student's
// choice is their own and goes back to the room's view with "live".
// Looking back never touches the trainer: the frames are made from the
// history's own copies.
type tlState struct {
	timeline
	init     bool
	views    map[*client]int // a page's own step of history
	shared   bool            // the room looks at sharedAt (its owner chose it)
	sharedAt int
	gen      *engine.Trainer // the history the views are of (see sync)
	base     int
	enc      protocol.FrameEncoder
	counted  int64 // bytes added to the gauge
	reserved int64 // bytes of the memory budget held
	capped   bool  // the memory budget gave no more room
}

// tlChunk is how much of the memory budget a history reserves at a time.
const tlChunk = 4 << 20

// msgNoHistory and the others are told to a page asking for history there
// is none of.
const (
	msgNoHistory     = "No history yet: it starts with the next step."
	msgHistoryOff    = "This server keeps no history of training (-timeline-budget 0)."
	msgHistoryLarge  = "This network is too large for the history's budget: no history is kept."
	msgHistoryMirror = "This room's history is kept by the server that trains it; this page is served by another one, which cannot show it."
)

// tlObserve records the trainer's state in the history when a step has
// ended (see timeline.observe), and accounts for the memory it holds.
func (s *session) tlObserve() {
	if s.t == nil {
		return
	}
	h := &s.tl
	if !h.init {
		h.init, h.budget, h.density = true, max(s.srv.cfg.TimelineBytes, 0), tlMaxDensity
	}
	// an epoch run keeps only what its end keeps (timeline.observe); its
	// last step, which changes the epoch, ends it
	h.until = 0
	if s.mode == modeEpoch && s.t.Epoch() == s.epoch0 {
		h.until = s.t.Step() + s.t.StepsLeftInEpoch()
	}
	if !h.observe(s.t) {
		return
	}
	if h.trainer != h.gen || h.base != h.timeline.base {
		// a new history: views of the old one return to live
		h.gen, h.base = h.trainer, h.timeline.base
		h.views, h.shared = nil, false
	}
	s.tlAccount()
}

// tlAccount updates the gauge of history bytes and holds them within the
// memory budget (-max-memory), reserved tlChunk at a time; when it has no
// more room the history's budget is cut to what it holds.
func (s *session) tlAccount() {
	h := &s.tl
	need := (h.bytes() + tlChunk - 1) / tlChunk * tlChunk
	switch {
	case need > h.reserved:
		if s.srv.sessions.reserveSpare(s, need-h.reserved) {
			h.reserved = need
		} else {
			h.capped = true
			h.budget = h.reserved
			h.thin(s.t.Step())
			if h.bytes() > h.budget {
				h.snaps, h.spare = nil, nil
			}
		}
	case need < h.reserved-tlChunk:
		s.srv.sessions.releaseSpare(s, h.reserved-need)
		h.reserved = need
	}
	b := h.bytes()
	s.srv.tlBytes.Add(float64(b - h.counted))
	h.counted = b
}

// tlRelease gives back what the history holds: the session has ended.
func (s *session) tlRelease() {
	h := &s.tl
	s.srv.tlBytes.Add(float64(-h.counted))
	if h.reserved > 0 {
		s.srv.sessions.releaseSpare(s, h.reserved) // nothing if the registry ended it: endLocked gave it back
	}
	h.timeline = timeline{}
	h.counted, h.reserved = 0, 0
}

// reserveSpare adds bytes to the memory in use, as sess's history's, if
// the budget has room, evicting nothing: a history grows only into free
// memory. Ending sess gives them back (endLocked).
func (g *registry) reserveSpare(sess *session, bytes int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.byToken[sess.token] != sess || g.memUsed+bytes > g.maxMem {
		return false
	}
	g.memUsed += bytes
	sess.tlMem += bytes
	g.memInUse.Set(float64(g.memUsed))
	return true
}

// releaseSpare gives back bytes of sess's history (none once sess has
// ended: endLocked gave them all back).
func (g *registry) releaseSpare(sess *session, bytes int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byToken[sess.token] != sess {
		return
	}
	g.memUsed -= bytes
	sess.tlMem -= bytes
	g.memInUse.Set(float64(g.memUsed))
}

// viewOf is the step of history page c looks at (−1: live) and whether
// it is the room's view. The pages of other replicas see a room live.
func (s *session) viewOf(c *client) (step int, shared bool) {
	if c.relay != nil {
		return -1, false
	}
	if v, ok := s.tl.views[c]; ok {
		return v, false
	}
	if s.tl.shared {
		return s.tl.sharedAt, true
	}
	return -1, false
}

// tlHolds reports whether page c looks back, so that publishFrames sends
// it no live frame; for a keyframe (a new subscription, frames on again)
// it sends the page its step of history instead.
func (s *session) tlHolds(c *client, keyframe bool) bool {
	if len(s.tl.views) == 0 && !s.tl.shared {
		return false
	}
	if last := s.tl.last(); s.tl.trainer != s.t || last == nil || s.t.Step() < last.step {
		// a reset or a new network: the views of the old history end
		s.tl.views, s.tl.shared = nil, false
		return false
	}
	step, shared := s.viewOf(c)
	if step < 0 {
		return false
	}
	if keyframe {
		s.sendHistory(c, step, shared)
	}
	return true
}

// sendHistory puts a frame of the history's step (the latest kept at or
// before step) in page c's mailbox.
func (s *session) sendHistory(c *client, step int, shared bool) {
	sn := s.tl.at(step)
	if sn == nil || c.flow.framesOff() {
		return
	}
	tr, err := s.tl.trace(sn)
	if err != nil {
		s.log.Error("history trace", "err", err)
		return
	}
	s.seq++
	b, err := s.tl.enc.Encode(tr, &c.sub, protocol.FrameMeta{Seq: s.seq, Keyframe: true, Exact: true,
		Published: time.Now(), History: &protocol.HistoryView{Step: sn.step, Live: s.t.Step(), Shared: shared}})
	if err != nil {
		s.log.Error("encode history frame", "err", err)
		return
	}
	pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, b)
	if err != nil {
		s.log.Error("prepare history frame", "err", err)
		return
	}
	if c.mb.putFrame(pm, b) {
		s.srv.metrics.framesDropped.Inc()
	}
}

// timeline runs a page's timeline message in the session goroutine (the
// read pump's client.timeline sends it).
func (s *session) timelineMsg(c *client, m *protocol.ClientMsg, r protocol.TimelineRequest) {
	if s.t == nil { // a room mirrored from another replica
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, msgHistoryMirror))
		return
	}
	s.tlObserve()
	for p := range s.tl.views {
		if !slices.Contains(s.clients, p) {
			delete(s.tl.views, p) // a page gone (a reconnection is a new page)
		}
	}
	owner := s.room != nil && s.mayDrive(c)
	switch r.Action {
	case protocol.TimelineView:
		sn := s.tl.at(r.Step)
		if sn == nil {
			c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, s.tlEmpty()))
			return
		}
		// the answer goes before the frame: a page knows it looks back
		// before the step's frame comes
		if owner {
			s.tl.shared, s.tl.sharedAt = true, sn.step
			c.reply(protocol.Marshal(s.timelineOf(c, m)))
			for _, p := range s.clients {
				if step, shared := s.viewOf(p); shared && step >= 0 {
					s.sendHistory(p, step, true)
				}
			}
		} else {
			if s.tl.views == nil {
				s.tl.views = map[*client]int{}
			}
			s.tl.views[c] = sn.step
			c.reply(protocol.Marshal(s.timelineOf(c, m)))
			s.sendHistory(c, sn.step, false)
		}
		return
	case protocol.TimelineLive:
		var back []*client
		if owner && s.tl.shared {
			s.tl.shared = false
			for _, p := range s.clients {
				if _, own := s.tl.views[p]; !own {
					back = append(back, p)
				}
			}
		} else if _, own := s.tl.views[c]; own {
			delete(s.tl.views, c)
			back = []*client{c}
		}
		c.reply(protocol.Marshal(s.timelineOf(c, m)))
		s.publishFrames(back, true, true) // a page that follows the room's view gets it (tlHolds)
		return
	case protocol.TimelineCompare:
		reply, err := s.compare(r)
		if err != "" {
			c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, err))
			return
		}
		reply.ID = m.ID
		c.reply(protocol.Marshal(reply))
		return
	}
	c.reply(protocol.Marshal(s.timelineOf(c, m)))
}

// tlEmpty says why the history has nothing to show.
func (s *session) tlEmpty() string {
	switch {
	case s.tl.budget <= 0 && !s.tl.capped:
		return msgHistoryOff
	case s.tl.tooLarge:
		return msgHistoryLarge
	}
	return msgNoHistory
}

// timelineOf is the answer to page c: the steps kept and its view.
func (s *session) timelineOf(c *client, m *protocol.ClientMsg) protocol.Timeline {
	out := protocol.Timeline{Type: protocol.TypeTimeline, V: protocol.Version, ID: m.ID, Steps: s.tl.steps(),
		Live: s.t.Step(), Bytes: s.tl.bytes(), Budget: s.tl.budget, Density: s.tl.density}
	if step, shared := s.viewOf(c); step >= 0 {
		out.Viewing, out.Shared = &step, shared
	}
	if len(out.Steps) == 0 {
		out.Note = s.tlEmpty()
	}
	return out
}

// compare is one filter of a layer now (the trainer's W) and at the
// history's step, and now − then; the error is the reply's message.
func (s *session) compare(r protocol.TimelineRequest) (protocol.TimelineCompareReply, string) {
	sn := s.tl.at(r.Step)
	if sn == nil {
		return protocol.TimelineCompareReply{}, s.tlEmpty()
	}
	l := s.tl.layout
	infos := s.t.Layers()
	if r.Layer < 0 || r.Layer >= len(infos) || !l.layers[r.Layer].hasW {
		return protocol.TimelineCompareReply{}, "timeline compare: layer " + strconv.Itoa(r.Layer) + " has no weights"
	}
	sp := l.layers[r.Layer].w
	f := sp.shape[0]
	if r.Filter >= f {
		return protocol.TimelineCompareReply{}, "timeline compare: " + infos[r.Layer].Name + " has " + strconv.Itoa(f) + " filters, numbered from 0"
	}
	per := sp.size() / f
	tr := s.t.Trace(engine.TraceOptions{Borrow: true, Skip: ^engine.TraceWeights})
	now := tr.Layers[r.Layer].Weights.Data[r.Filter*per : (r.Filter+1)*per]
	then := sn.data[sp.off+r.Filter*per : sp.off+(r.Filter+1)*per]
	out := protocol.TimelineCompareReply{Type: protocol.TypeTimelineCompare, V: protocol.Version,
		Layer: r.Layer, Name: infos[r.Layer].Name, Filter: r.Filter, Then: sn.step, Now: s.t.Step(),
		Shape: append([]int{1, 1}, per), WNow: make([]protocol.F32, per), WThen: make([]protocol.F32, per), Diff: make([]protocol.F32, per)}
	if len(sp.shape) == 4 {
		out.Shape = slices3(sp.shape[1:])
	}
	var scale, dscale float64
	for i := range per {
		d := now[i] - then[i]
		out.WNow[i], out.WThen[i], out.Diff[i] = protocol.F32(now[i]), protocol.F32(then[i]), protocol.F32(d)
		scale = max(scale, math.Abs(now[i]), math.Abs(then[i]))
		dscale = max(dscale, math.Abs(d))
	}
	out.Scale, out.DiffScale = protocol.F32(scale), protocol.F32(dscale)
	return out, ""
}

func slices3(s []int) []int { return []int{s[0], s[1], s[2]} }

// timeline passes a page's timeline message to its session, within the
// page's question rate (see client.question).
func (c *client) timeline(m *protocol.ClientMsg) {
	if !c.questions.allow(time.Now()) {
		c.reply(c.srv.counted(refuseQuestionRate(c.srv.cfg.MaxQuestions)).reply(m.ID))
		return
	}
	r, err := protocol.ParseTimeline(m)
	if err != nil {
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeInvalid, err.Error()))
		return
	}
	s := c.sess
	s.send(sessionMsg{kind: msgRun, fn: func() { s.timelineMsg(c, m, r) }})
}

// newTimelineGauge registers the gauge of the bytes the histories hold.
func newTimelineGauge(reg *prometheus.Registry) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_timeline_bytes",
		Help: "Bytes the sessions' histories of training hold (each within -timeline-budget, all within -max-memory)."})
	reg.MustRegister(g)
	return g
}
