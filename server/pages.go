package server

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/web"
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
	s.rememberStudent(w, r, room.Code, r.URL.Query().Get("nick")) // dashboard.go
	http.Redirect(w, r, "/r/"+room.Code, http.StatusSeeOther)
}

// sameOrigin refuses a form posted from another site (see newFormGuard:
// browsers say where a request comes from in Sec-Fetch-Site, and older
// ones in Origin) and logs why.
func (s *Server) sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	if err := s.forms.Check(r); err != nil {
		s.metrics.limitHits.WithLabelValues("origin").Inc()
		s.log.Warn("origin refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"),
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "host", r.Host, "reason", err.Error())
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
	lsn, ok := s.formLesson(w, r, model != nil) // lesson_form.go
	if !ok {
		return
	}
	var err error
	var room *Room
	switch {
	case s.cfg.RoomKey != "" && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("key")), []byte(s.cfg.RoomKey)) != 1:
		err = refuseRoomKey()
	case s.cfg.RoomKey == "" && !s.roomsOpen():
		err = refuseRoomsClosed()
	case lsn != nil:
		if room, err = s.CreateRoomFromLesson(r.PostForm.Get("name"), lsn); err != nil && isLessonError(err) {
			s.site.CreateRoomFailed(w, r, http.StatusUnprocessableEntity, lessonRefused(err))
			return
		}
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

// roomsOpen reports whether rooms may be created from the page without a
// room key: with OpenRooms, or on a server that listens on a loopback
// address only (this machine's browser is its only user). On any other
// address, anyone who reaches the server could otherwise take every room.
func (s *Server) roomsOpen() bool { return s.cfg.OpenRooms || listensOnLoopback(s.cfg.Addr) }

// listensOnLoopback reports whether the listen address addr is a loopback
// address (127.0.0.1, ::1, localhost).
func listensOnLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
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
	var reach web.Reach
	if tok != "" {
		reach = s.reachOf(r, room)
		if r.URL.Query().Get("owner") != "" { // the owner link itself: its settings apply once
			reach.Note = s.ownerLinkSettings(room, r.URL.Query())
		}
		reach.Lesson = lessonView(room) // lesson_view.go
	} else {
		s.rememberStudent(w, r, room.Code, "")
	}
	s.site.Room(w, r, s.baseURL(r), room.Code, room.Name, tok, reach)
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
	sess, err := s.studentFork(room, r) // dashboard.go
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
	var forked bool      // this browser holds a live fork of this very room: it joined it
	var trainer *session // the fork's, else the room's (on this replica)
	if ck, err := r.Cookie(forkCookie(code)); ok && err == nil {
		if sess := s.forkOfRoom(ck.Value, code); sess != nil {
			forked, trainer = true, sess
		}
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
		// Without a fork the page forks the room when it connects: a join,
		// charged to the join budget like /join (see findRoom).
		room, err := s.findRoom(r, typed)
		if err != nil {
			s.joinFailed(w, r, typed, err)
			return
		}
		code, name = room.Code, room.Name
		if room.mirror == nil {
			trainer = room.session
		}
	}
	// The page's websocket resumes the fork of the cookie or forks anew.
	s.site.Fork(w, r, code, name, s.forkAllows(layersOf(trainer)), s.forkOffers(code))
}

// ownerLinkSettings applies the lab settings an owner link carries
// (/r/CODE?owner=TOKEN&lr=0.01&batch=16, the lab's URL parameters) to the
// room, all or none, and says which, or why they were refused ("" if the
// link carries none). Only the owner link itself applies them: the
// addresses the page writes afterwards carry no owner token.
func (s *Server) ownerLinkSettings(room *Room, q url.Values) string {
	var a protocol.CmdArgs
	var given, errs []string
	for _, k := range protocol.LabKeys {
		if !q.Has(k) {
			continue
		}
		given = append(given, k+"="+q.Get(k))
		if err := parseLabParam(&a, k, q.Get(k)); err != nil {
			errs = append(errs, err.Error())
		}
	}
	switch {
	case len(given) == 0:
		return ""
	case len(errs) > 0:
		return "The link's settings were refused (" + strings.Join(errs, "; ") + "); the room is unchanged."
	case room.mirror != nil:
		return "The link's settings apply only on the room's own server; set them on this page."
	}
	var err error
	if !room.session.inSession(func() { err = room.session.applySet(nil, &a, func() {}) }) {
		err = errRoomClosed
	}
	if err != nil {
		return "The link's settings were refused (" + err.Error() + "); the room is unchanged."
	}
	return "The link's settings apply: " + strings.Join(given, ", ") + "."
}
