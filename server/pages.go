package server

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// The classroom's HTTP pages: they decide (look codes up, create rooms,
// fork) and package web renders what they decided.

// ownerCookieAge is how long a browser keeps a room's owner cookie.
const ownerCookieAge = 12 * time.Hour

// joinFailed renders the join page with the code typed and why it was
// refused (see refusalOf), with the refusal's HTTP status.
func (s *Server) joinFailed(w http.ResponseWriter, r *http.Request, typed string, err error) {
	rf := s.counted(s.refusalOf(err))
	s.site.Join(w, r, rf.status(), typed, rf.message)
}

func (s *Server) serveJoin(w http.ResponseWriter, r *http.Request) {
	typed := r.URL.Query().Get("code")
	if typed == "" {
		s.site.Join(w, r, http.StatusOK, "", "")
		return
	}
	room, err := s.findRoom(r, typed)
	if err != nil {
		s.joinFailed(w, r, typed, err)
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
	model, ok := s.roomForm(w, r) // model_form.go
	if !ok {
		return
	}
	var err error
	var room *Room
	switch {
	case s.cfg.RoomKey != "" && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("key")), []byte(s.cfg.RoomKey)) != 1:
		err = refuseRoomKey()
	case model != nil:
		if room, err = s.CreateRoomFromModel(r.PostForm.Get("name"), model); err != nil && isModelError(err) {
			s.site.CreateRoomFailed(w, r, http.StatusUnprocessableEntity, "The saved model was refused: "+err.Error())
			return
		}
	default:
		room, err = s.CreateRoom(r.PostForm.Get("name"), DefaultLabParams())
	}
	if err != nil {
		rf := s.counted(s.refusalOf(err))
		s.site.CreateRoomFailed(w, r, rf.status(), rf.message)
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
	room, err := s.findRoom(r, typed)
	if err != nil {
		if s.offerResume(w, r, err) { // its replica went away (cluster_resume.go)
			return
		}
		s.joinFailed(w, r, typed, err)
		return
	}
	tok := ownerTokenOf(r, room.Code)
	if !room.IsOwner(tok) {
		tok = ""
	} else if r.URL.Query().Get("owner") != "" {
		s.setCookie(w, r, ownerCookie(room.Code), tok, ownerCookieAge)
	}
	s.site.Room(w, r, s.baseURL(r), room.Code, room.Name, tok)
}

func (s *Server) serveFork(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(w, r) {
		return
	}
	typed := chi.URLParam(r, "code")
	room, err := s.findRoom(r, typed)
	if err != nil {
		s.joinFailed(w, r, typed, err)
		return
	}
	sess, err := s.Fork(room, ClientAddr(r, s.cfg.TrustedProxies))
	if err != nil {
		s.joinFailed(w, r, typed, err)
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
		sess := s.sessions.lookup(ck.Value)
		forked = sess != nil && sess.room == nil
	}
	name := "Room " + code
	if forked {
		if room, err := s.class.rooms.lookup(code); err == nil {
			name = room.Name
		} else if s.cluster != nil {
			if room, err := s.cluster.findRoom(r, code); err == nil { // homed on another replica
				name = room.Name
			}
		}
	} else {
		// Without a fork the page forks the room when it connects: a join.
		room, err := s.findRoom(r, typed)
		if err != nil {
			s.joinFailed(w, r, typed, err)
			return
		}
		code, name = room.Code, room.Name
	}
	// The page's websocket resumes the fork of the cookie or forks anew.
	s.site.Fork(w, r, code, name)
}
