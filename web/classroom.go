package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/backpropviz/backpropviz/templates"
)

// The classroom pages. The server decides (rooms, codes, owner tokens,
// limits); these methods build the pages of its decisions.

// Join renders the join page with the given HTTP status: the code typed
// (shown back, with the name typed in the request's "nick") and why
// looking it up failed, both "" for a blank page.
func (s *Site) Join(w http.ResponseWriter, r *http.Request, status int, typed, message string) {
	s.render(w, r, status, templates.JoinPage(templates.Join{Version: s.cfg.Version,
		Code: typed, Nick: r.URL.Query().Get("nick"), Message: message, NeedKey: s.cfg.RoomKeyRequired, Lessons: s.cfg.Lessons}))
}

// CreateRoomFailed renders the join page with the given HTTP status and why
// creating a room failed.
func (s *Site) CreateRoomFailed(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.render(w, r, status, templates.JoinPage(templates.Join{Version: s.cfg.Version,
		Create: message, NeedKey: s.cfg.RoomKeyRequired, Lessons: s.cfg.Lessons}))
}

// ResumeRoom renders the join page with a button that resumes the room of
// join code code on this server, and note, which says from what and what
// is kept: the page of a room's owner after the room's server went away.
func (s *Site) ResumeRoom(w http.ResponseWriter, r *http.Request, code, note string) {
	s.render(w, r, http.StatusOK, templates.JoinPage(templates.Join{Version: s.cfg.Version,
		Code: code, Resume: code, ResumeNote: note, NeedKey: s.cfg.RoomKeyRequired, Lessons: s.cfg.Lessons}))
}

// Room renders the page of the room with join code code and name name, for
// a browser that reached the server at base (scheme://host): the page of
// the owner, who is shown the owner link and how students reach the room
// (reach), if ownerToken is not "", else a viewer's, which shows only what
// a viewer can use.
func (s *Site) Room(w http.ResponseWriter, r *http.Request, base, code, name, ownerToken string, reach Reach) {
	bar := templates.RoomBar{Code: code, Name: name, Owner: ownerToken != "", JoinURL: base + "/r/" + code}
	vm := s.labModel(url.Values{}, "/ws/room/"+code)
	if bar.Owner {
		bar.OwnerLink = bar.JoinURL + "?owner=" + url.QueryEscape(ownerToken)
		for _, l := range reach.Links {
			bar.JoinLinks = append(bar.JoinLinks, l+"/r/"+code)
		}
		bar.Unreachable, bar.Command, bar.Note = reach.Unreachable, reach.Command, reach.Note
		bar.Lesson = reach.Lesson
		bar.QR = "/r/" + code + "/qr.png"
		vm.FoldOptimizer = true // the room bar takes part of the screen: the network stays in the first one
	} else {
		vm.Viewer = true
	}
	s.render(w, r, http.StatusOK, templates.RoomPage(vm, bar))
}

// Reach is how students reach a room: the base URLs (scheme://host:port)
// they can open; Unreachable if none can, with the Command that would
// serve the network ("" if none would help).
// Note, if not "", says what became of the settings the owner link
// carried (applied, or refused and why).
type Reach struct {
	Links       []string
	Unreachable bool
	Command     string
	Note        string
	Lesson      *LessonView // the lesson the room was started from, nil for none
}

// LessonView is the lesson panel of a room's owner page.
type LessonView = templates.LessonView

// LessonPrompt is one prompt of the lesson panel.
type LessonPrompt = templates.LessonPrompt

// Fork renders the page of a student's fork of the room with join code
// code and name name. Its websocket resumes the browser's fork or forks
// the room anew. The fork refuses Step epoch and plays at speeds allowed
// accepts (unit, rate per second): the page offers only those, and, if
// only is not nil, only the lesson's controls it lists.
func (s *Site) Fork(w http.ResponseWriter, r *http.Request, code, name string, allowed func(unit string, rate float64) bool, only []string) {
	vm := s.labModel(url.Values{}, "/ws/fork/"+code)
	vm.NoEpoch = true
	vm.Only = only // a lesson's fork: only these controls (nil: all)
	var speeds []templates.Option
	for _, o := range vm.Speeds {
		unit, rate, ok := strings.Cut(o.Value, ":")
		v, err := strconv.ParseFloat(rate, 64)
		if ok && err == nil && allowed(unit, v) {
			speeds = append(speeds, o)
		}
	}
	vm.Speeds = speeds
	if !hasOption(speeds, vm.Speed) && len(speeds) > 0 {
		vm.Speed = speeds[len(speeds)-1].Value
	}
	s.render(w, r, http.StatusOK, templates.RoomPage(vm, templates.RoomBar{Code: code, Name: name, Fork: true}))
}

// NotFound renders the page of a path with no page (404), with links to
// the lab and the join page.
func (s *Site) NotFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, templates.NotFoundPage(s.cfg.Version, r.URL.Path))
}
