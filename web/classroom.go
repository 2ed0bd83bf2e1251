package web

import (
	"net/http"
	"net/url"

	"github.com/backpropviz/backpropviz/templates"
)

// The classroom pages. The server decides (rooms, codes, owner tokens,
// limits); these methods build the pages of its decisions.

// Join renders the join page with the given HTTP status: the code typed
// (shown back) and why looking it up failed, both "" for a blank page.
func (s *Site) Join(w http.ResponseWriter, r *http.Request, status int, typed, message string) {
	s.render(w, r, status, templates.JoinPage(templates.Join{Version: s.cfg.Version,
		Code: typed, Message: message, NeedKey: s.cfg.RoomKeyRequired}))
}

// CreateRoomFailed renders the join page with the given HTTP status and why
// creating a room failed.
func (s *Site) CreateRoomFailed(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.render(w, r, status, templates.JoinPage(templates.Join{Version: s.cfg.Version,
		Create: message, NeedKey: s.cfg.RoomKeyRequired}))
}

// ResumeRoom renders the join page with a button that resumes the room of
// join code code on this server, and note, which says from what and what
// is kept: the page of a room's owner after the room's server went away.
func (s *Site) ResumeRoom(w http.ResponseWriter, r *http.Request, code, note string) {
	s.render(w, r, http.StatusOK, templates.JoinPage(templates.Join{Version: s.cfg.Version,
		Code: code, Resume: code, ResumeNote: note, NeedKey: s.cfg.RoomKeyRequired}))
}

// Room renders the page of the room with join code code and name name, for
// a browser that reached the server at base (scheme://host): the page of
// the owner, who is shown the owner link, if ownerToken is not "", else a
// viewer's.
func (s *Site) Room(w http.ResponseWriter, r *http.Request, base, code, name, ownerToken string) {
	bar := templates.RoomBar{Code: code, Name: name, Owner: ownerToken != "", JoinURL: base + "/r/" + code}
	if bar.Owner {
		bar.OwnerLink = bar.JoinURL + "?owner=" + url.QueryEscape(ownerToken)
	}
	s.roomPage(w, r, bar, "/ws/room/"+code)
}

// Fork renders the page of a student's fork of the room with join code
// code and name name. Its websocket resumes the browser's fork or forks
// the room anew.
func (s *Site) Fork(w http.ResponseWriter, r *http.Request, code, name string) {
	s.roomPage(w, r, templates.RoomBar{Code: code, Name: name, Fork: true}, "/ws/fork/"+code)
}

// roomPage renders the lab connected to the websocket ws, under the room
// bar.
func (s *Site) roomPage(w http.ResponseWriter, r *http.Request, bar templates.RoomBar, ws string) {
	s.render(w, r, http.StatusOK, templates.RoomPage(s.labModel(url.Values{}, ws), bar))
}
