package server

import (
	"math"
	"time"

	"github.com/backpropviz/backpropviz/protocol"
)

// admit checks a command before the session runs it: in a room only the
// owner's pages may command; a fork's training rate is bounded. The error
// is the refusal. It runs in the session goroutine and notes the time of
// the command (see endInactive).
func (sess *session) admit(m *sessionMsg) error {
	if !sess.mayDrive(m.c) {
		return refuseForbidden()
	}
	if err := sess.forkLimit(m); err != nil {
		return err
	}
	if err := sess.lessonLimit(m); err != nil { // lesson_fork.go
		return err
	}
	if err := sess.promptHold(m); err != nil { // prompt_session.go
		return err
	}
	sess.lastCmd = time.Now()
	return nil
}

// mayDrive reports whether client c may send commands to the session: in
// a room only the owner's pages may.
func (sess *session) mayDrive(c *client) bool {
	if sess.room == nil {
		return true
	}
	return sess.srv.class.isOwnerClient(sess.room, c)
}

// forkLimit checks a command against the session's training rate bound
// (forks only); the error is the refusal.
func (sess *session) forkLimit(m *sessionMsg) error {
	if sess.maxRate == 0 {
		return nil
	}
	switch {
	case m.cmd == protocol.CmdStepEpoch:
		return refuseForkEpoch(sess.maxRate)
	case m.cmd == protocol.CmdSet && m.args.Speed != nil:
		sp := *m.args.Speed
		if sp.Unit == "" {
			sp.Unit = sess.params.Speed.Unit
		}
		if stepRate(sp, len(sess.t.Layers())) > sess.maxRate*(1+1e-9) {
			return refuseForkSpeed(sess.maxRate)
		}
	}
	return nil
}

// phasesPerStep is the phases of one optimizer step of a network of n
// layers: n forward, the loss, n backward, the update.
func phasesPerStep(n int) float64 { return float64(2*n + 2) }

// stepRate is a speed in optimizer steps per second (+Inf for rate 0, as
// fast as the CPU allows).
func stepRate(sp protocol.Speed, layers int) float64 {
	if sp.Rate == 0 {
		return math.Inf(1)
	}
	if sp.Unit == protocol.UnitPhase {
		return sp.Rate / phasesPerStep(layers)
	}
	return sp.Rate
}
