package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/backpropviz/backpropviz/protocol"
)

// ownerCookieAge is how long a browser keeps a room's owner cookie.
const ownerCookieAge = 12 * time.Hour

// classroomRoutes registers the pages and websockets of rooms.
func (s *Server) classroomRoutes(r chi.Router) {
	// GET /join: the join page; ?code=… looks the code up and goes to the room.
	r.Get("/join", s.serveJoin)
	// POST /rooms: create a room (form: name, key); goes to its owner link.
	r.Post("/rooms", s.serveCreateRoom)
	// GET /r/{code}: a room's page; ?owner=TOKEN makes this browser its owner.
	r.Get("/r/{code}", s.serveRoomPage)
	// POST /r/{code}/fork: fork the room into a private session of this browser.
	r.Post("/r/{code}/fork", s.serveFork)
	// GET /r/{code}/fork: the page of this browser's fork of the room.
	r.Get("/r/{code}/fork", s.serveForkPage)

	ws := r.With(s.limitConnsPerAddr)
	// GET /ws/room/{code}: the websocket of a room's page (owner or viewer).
	ws.Get("/ws/room/{code}", s.serveRoomWS)
	// GET /ws/fork/{code}: the websocket of a student's fork of a room.
	ws.Get("/ws/fork/{code}", s.serveForkWS)
}

// joinFailed renders the join page with the message of a failed lookup
// (error code as from findRoom).
func (s *Server) joinFailed(w http.ResponseWriter, r *http.Request, typed, code, message string) {
	status := http.StatusOK // a wrong code gets the join page and its message, a normal page
	switch code {
	case protocol.CodeRateLimited:
		status = http.StatusTooManyRequests
	case protocol.CodeFull:
		status = http.StatusServiceUnavailable
	}
	s.site.Join(w, r, status, typed, message)
}

func (s *Server) serveJoin(w http.ResponseWriter, r *http.Request) {
	typed := r.URL.Query().Get("code")
	if typed == "" {
		s.site.Join(w, r, http.StatusOK, "", "")
		return
	}
	room, code, msg := s.findRoom(r, typed)
	if room == nil {
		s.joinFailed(w, r, typed, code, msg)
		return
	}
	http.Redirect(w, r, "/r/"+room.Code, http.StatusSeeOther)
}

// sameOrigin refuses a form posted from another site: browsers say where
// a request comes from in Sec-Fetch-Site, and older ones in Origin.
func (s *Server) sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site == "same-origin" || site == "none" {
		return true
	}
	if site != "" || !OriginChecker(s.cfg.AllowedOrigins)(r) {
		http.Error(w, "cross-site form refused", http.StatusForbidden)
		return false
	}
	return true
}

func (s *Server) serveCreateRoom(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxMessage))
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	fail := func(status int, msg string) {
		s.site.CreateRoomFailed(w, r, status, msg)
	}
	if k := s.cfg.RoomKey; k != "" && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("key")), []byte(k)) != 1 {
		s.metrics.limitHits.WithLabelValues("room_key").Inc()
		fail(http.StatusForbidden, "Wrong room key. Ask the server's operator for it.")
		return
	}
	room, err := s.CreateRoom(r.PostForm.Get("name"), DefaultLabParams())
	switch {
	case errors.Is(err, errRoomsFull):
		s.metrics.limitHits.WithLabelValues("rooms").Inc()
		fail(http.StatusServiceUnavailable, msgRoomsFull(s.cfg.MaxRooms, s.cfg.ResumeGrace))
		return
	case errors.Is(err, errFull):
		s.metrics.limitHits.WithLabelValues("sessions").Inc()
		fail(http.StatusServiceUnavailable, "The server is running as many sessions as it can; try again later.")
		return
	case err != nil:
		s.log.Error("create room", "err", err)
		fail(http.StatusInternalServerError, "The room could not be created.")
		return
	}
	http.Redirect(w, r, "/r/"+room.Code+"?owner="+room.OwnerToken(), http.StatusSeeOther)
}

// secure reports whether the browser reached us over TLS (directly or
// through a trusted proxy that says so).
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	peer := peerAddr(r.RemoteAddr)
	return peer.IsValid() && trusted(peer, s.cfg.TrustedProxies) && r.Header.Get("X-Forwarded-Proto") == "https"
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, age time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(age / time.Second),
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
}

// baseURL is the scheme and host the browser used.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) serveRoomPage(w http.ResponseWriter, r *http.Request) {
	typed := chi.URLParam(r, "code")
	room, code, msg := s.findRoom(r, typed)
	if room == nil {
		s.joinFailed(w, r, typed, code, msg)
		return
	}
	tok := ownerTokenOf(r, room.Code)
	owner := room.IsOwner(tok)
	if owner && r.URL.Query().Get("owner") != "" {
		s.setCookie(w, r, ownerCookie(room.Code), tok, ownerCookieAge)
	}
	if !owner {
		tok = ""
	}
	s.site.Room(w, r, s.baseURL(r), room.Code, room.Name, tok)
}

func (s *Server) serveFork(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(w, r) {
		return
	}
	typed := chi.URLParam(r, "code")
	room, code, msg := s.findRoom(r, typed)
	if room == nil {
		s.joinFailed(w, r, typed, code, msg)
		return
	}
	sess, err := s.Fork(room, ClientAddr(r, s.cfg.TrustedProxies))
	if err != nil {
		switch {
		case errors.Is(err, errSessionsPerAddr):
			s.metrics.limitHits.WithLabelValues("sessions_per_address").Inc()
			s.joinFailed(w, r, typed, protocol.CodeFull, msgSessionsPerAddr(s.cfg.MaxSessionsPerAddr))
		case errors.Is(err, errFull):
			s.metrics.limitHits.WithLabelValues("sessions").Inc()
			s.joinFailed(w, r, typed, protocol.CodeFull, "The server is running as many sessions as it can; try again later.")
		default:
			s.joinFailed(w, r, typed, protocol.CodeNotFound, msgRoomEnded)
		}
		return
	}
	s.setCookie(w, r, forkCookie(room.Code), sess.token, s.cfg.ResumeGrace)
	http.Redirect(w, r, "/r/"+room.Code+"/fork", http.StatusSeeOther)
}

func (s *Server) serveForkPage(w http.ResponseWriter, r *http.Request) {
	typed := chi.URLParam(r, "code")
	code, ok := NormalizeJoinCode(typed)
	var forked bool // this browser holds a live fork of the room
	if ck, err := r.Cookie(forkCookie(code)); ok && err == nil {
		s.mu.Lock()
		sess := s.sessions[ck.Value]
		forked = sess != nil && sess.room == nil
		s.mu.Unlock()
	}
	name := "Room " + code
	if forked {
		if room, err := s.class.rooms.lookup(code); err == nil {
			name = room.Name
		}
	} else {
		// Without a fork the page forks the room when it connects: a join.
		room, errCode, msg := s.findRoom(r, typed)
		if room == nil {
			s.joinFailed(w, r, typed, errCode, msg)
			return
		}
		code, name = room.Code, room.Name
	}
	s.site.Fork(w, r, code, name)
}
