package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// The websocket endpoints: a lab's, a room's and a fork's. Each finds or
// starts its session, then runs one client of it (runClient).

// serveWS is the websocket of a lab page: it resumes the session of the
// resume parameter, or starts a lab from the page's URL parameters.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := ClientAddr(r, s.cfg.TrustedProxies)
	s.runClient(w, r, func(*client) (*session, bool, error) {
		if sess := s.sessions.resume(resumeToken(r)); sess != nil {
			return sess, true, nil
		}
		if reconnecting(r) {
			return nil, false, errSessionEnded
		}
		sess, err := s.newLab(q, a)
		return sess, false, err
	}, nil, nil)
}

// newLab starts a lab from its URL parameters for a page at network address
// from. Invalid parameters are reported to the client in the welcome
// sequence and left at their defaults; the valid ones apply. At the caps
// an abandoned session is evicted to make room, or the error is
// errSessionsPerAddr or errFull (see registry.add).
func (s *Server) newLab(q url.Values, from netip.Addr) (*session, error) {
	// Refuse before building a trainer the caps leave no room for.
	if err := s.sessions.mayAdd(from, true); err != nil {
		return nil, err
	}
	var problems []string
	p, err := ParseLabParams(q, s.cfg.limits())
	if err != nil {
		problems = append(problems, err.Error())
	}
	data, err := s.data.get(p.Data)
	if err != nil {
		// Not a data set of this server, or not installed: MNIST.
		problems = append(problems, err.Error())
		p.Data, p.Config.Spec = protocol.DataMNIST, engine.DefaultSpec
		if data, err = s.data.get(p.Data); err != nil {
			return nil, err
		}
	}
	t, mem, err := s.buildTrainer(p.Config, data, nil)
	if err != nil && p.Config.Spec != s.data.defaultSpec(data) {
		// The spec does not fit the data, this server or its memory: the
		// data set's own network instead, with the other parameters kept.
		problems = append(problems, s.problemOf(err))
		p.Config.Spec = s.data.defaultSpec(data)
		t, mem, err = s.buildTrainer(p.Config, data, nil)
	}
	if err != nil {
		problems = append(problems, s.problemOf(err))
		p = DefaultLabParams()
		if data, err = s.data.get(p.Data); err != nil {
			return nil, err
		}
		if t, mem, err = s.buildTrainer(p.Config, data, nil); err != nil {
			return nil, fmt.Errorf("new lab: %w", err)
		}
	}
	p.Config = t.Config()
	sess := s.newSession(t, p, from, true)
	sess.mem = mem
	if len(problems) > 0 {
		sess.paramErr = "URL parameters: " + strings.Join(problems, "; ") + " (left at the defaults; the other parameters apply)"
	}
	if err := s.sessions.add(sess, 1); err != nil {
		return nil, err
	}
	sess.log.Info("session started", "spec", p.Config.Spec, "data", p.Data)
	return sess, nil
}

// serveRoomWS is the websocket of a room's page: the owner (who carries
// the owner token, see ownerTokenOf) drives the room's session; everyone
// else watches it and may only subscribe.
func (s *Server) serveRoomWS(w http.ResponseWriter, r *http.Request) {
	room, err := s.findRoom(r, chi.URLParam(r, "code"))
	if err != nil {
		s.refuseWS(w, r, err)
		return
	}
	owner := room.IsOwner(ownerTokenOf(r, room.Code))
	if !owner && room.Viewers() >= s.cfg.MaxViewers {
		s.refuseWS(w, r, refuseViewers(s.cfg.MaxViewers))
		return
	}
	var id string // the student (dashboard.go)
	var st *student
	if !owner {
		if id = studentID(r, room.Code); room.roster.isRemoved(id) {
			s.refuseWS(w, r, refuseRemoved())
			return
		}
	}
	sess := room.session
	s.runClient(w, r, func(c *client) (*session, bool, error) {
		if !s.attachRoom(room, c, r) { // cluster.go
			return nil, false, errRoomClosed
		}
		if !s.class.join(room, c, owner) {
			s.sessions.release(sess)
			return nil, false, refuseViewers(s.cfg.MaxViewers)
		}
		if !owner {
			if st = room.roster.enter(id, nickOf(r, room.Code)); st != nil {
				room.roster.page(st, c, false, true)
				c.student = st
			}
		}
		return sess, true, nil
	}, func(c *client) {
		s.class.announce(room)
		if owner {
			c.mb.reply(room.roster.latest(time.Now(), room.prompts.answerStates()))
		}
		s.promptOnAttach(room, c, owner) // prompt_session.go
	}, func(c *client) {
		s.class.leave(room, c)
		if st != nil {
			room.roster.page(st, c, false, false)
		}
	})
}

// serveForkWS is the websocket of a student's fork of a room: it resumes
// the fork named by the resume parameter or the fork cookie, or else forks
// the room now.
func (s *Server) serveForkWS(w http.ResponseWriter, r *http.Request) {
	typed := chi.URLParam(r, "code")
	tok := resumeToken(r)
	code, _ := NormalizeJoinCode(typed)
	if ck, err := r.Cookie(forkCookie(code)); tok == "" && err == nil {
		tok = ck.Value
	}
	if sess := s.sessions.resume(tok); sess != nil && sess.room == nil && sess.forkOf == code {
		attached, leave := forkPages(sess)
		s.runClient(w, r, func(*client) (*session, bool, error) { return sess, true, nil }, attached, leave)
		return
	} else if sess != nil {
		s.sessions.release(sess) // a room's or a lab's token, or another room's fork's, is not this room's fork's
	}
	if reconnecting(r) {
		s.refuseWS(w, r, errSessionEnded) // the fork has ended: a new one is the student's choice
		return
	}
	room, err := s.findRoom(r, typed)
	if err != nil {
		s.refuseWS(w, r, err)
		return
	}
	sess, err := s.studentFork(room, r) // dashboard.go
	if err != nil {
		s.refuseWS(w, r, err)
		return
	}
	attached, leave := forkPages(sess)
	s.runClient(w, r, func(*client) (*session, bool, error) {
		if !s.sessions.attach(sess) {
			return nil, false, errRoomClosed
		}
		return sess, false, nil
	}, attached, leave)
}

// errSessionEnded refuses a page's reconnection to a session that has
// ended: a page never starts a fresh session behind its user's back.
var errSessionEnded = errors.New("the session has ended")

// runClient upgrades to a websocket and runs one client of the session
// chosen by pick, until the connection closes. pick attaches the client's
// connection to the session (see registry.attach), or fails with an error
// the page is told as a refusal (see refusalOf). attached (if not nil) is
// called once the client has its welcome, leave (if not nil) when the
// connection has closed.
func (s *Server) runClient(w http.ResponseWriter, r *http.Request,
	pick func(c *client) (sess *session, resumed bool, err error), attached, leave func(c *client)) {
	if s.shuttingDown(w) {
		return
	}
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{srv: s, conn: conn, mb: newMailbox(), done: make(chan struct{}),
		log: s.log.With("req", middleware.GetReqID(r.Context()))}
	// Little waits below the mailbox; a page that acknowledges its frames
	// (acks=1) gets them at its link's pace (flow.go).
	setSendBuffer(conn.NetConn(), s.cfg.SendBuffer)
	c.flow.acks = r.URL.Query().Get("acks") == "1"
	// Refusals are written here, before the write pump starts, so the
	// error always arrives, followed by a close frame.
	if !s.addClient(c) {
		refuse(conn, s.counted(refuseConns()))
		return
	}
	defer s.removeClient(c)
	sess, resumed, err := pick(c)
	if err != nil {
		refuse(conn, s.counted(s.refusalOf(err)))
		return
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer c.mb.stop()
		c.writePump()
	}()
	defer func() {
		close(c.done)
		<-writerDone
	}()
	if leave != nil {
		defer leave(c)
	}
	c.sess = sess
	c.log = c.log.With("session", sess.id)
	defer s.sessions.release(sess)
	if !sess.send(sessionMsg{kind: msgAttach, c: c, resumed: resumed}) {
		return
	}
	if attached != nil {
		sess.inSession(func() { attached(c) }) // after the welcome
	}
	c.readPump()
	sess.send(sessionMsg{kind: msgDetach, c: c})
}

func (s *Server) addClient(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) >= s.cfg.MaxConns || s.closing {
		return false
	}
	s.clients[c] = struct{}{}
	s.conns.Add(1)
	s.metrics.conns.Set(float64(len(s.clients)))
	return true
}

func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c)
	s.conns.Done()
	s.metrics.conns.Set(float64(len(s.clients)))
}

// limitConnsPerAddr refuses a websocket beyond MaxConnsPerAddr from one
// client address (see ClientAddr) and holds a slot while it is open.
func (s *Server) limitConnsPerAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := ClientAddr(r, s.cfg.TrustedProxies)
		if !s.class.conns.acquire(a) {
			s.log.Info("connection refused", "limit", "connections_per_address", "addr", a)
			s.refuseWS(w, r, refuseConnsPerAddr(s.cfg.MaxConnsPerAddr))
			return
		}
		defer s.class.conns.release(a)
		next.ServeHTTP(w, r)
	})
}
