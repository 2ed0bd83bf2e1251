package server

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// msgIdle is the bye of a session ended for inactivity.
const msgIdle = "this session was idle (no command) for too long and was closed to free the server"

// janitor, until Shutdown, ends the sessions that have had no page for
// ResumeGrace (see registry.evictIdle) and the labs and forks whose pages
// have sent no command for IdleTimeout (see endInactive), checking a few
// times per period.
func (s *Server) janitor() {
	every := min(time.Minute, s.cfg.ResumeGrace/4+time.Millisecond, s.cfg.IdleTimeout/4+time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			s.sessions.evictIdle(now, s.cfg.ResumeGrace)
			s.endInactive(now)
		case <-s.quit:
			return
		}
	}
}

// endInactive ends the private sessions that have had no command since
// before now − IdleTimeout: each page is sent "bye" and closed. It returns
// how many.
func (s *Server) endInactive(now time.Time) int {
	n := 0
	for _, sess := range s.sessions.private() {
		var idle bool
		sess.inSession(func() {
			if sess.lastCmd.IsZero() {
				sess.lastCmd = now // first seen: count from here
			}
			idle = now.Sub(sess.lastCmd) >= s.cfg.IdleTimeout
			if !idle {
				return
			}
			bye := protocol.Bye(msgIdle)
			for _, c := range sess.clients {
				c.mb.close(bye, websocket.CloseGoingAway, "idle")
			}
		})
		if idle && s.sessions.end(sess, evictIdle) {
			n++
		}
	}
	return n
}
