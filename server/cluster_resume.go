package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/protocol"
)

// Resuming a room whose home replica went away, on another replica, from
// its last saved model. The owner asks for it (the owner token proves who
// asks): the owner page of such a room offers it. Kept: the network, its
// weights and optimizer state, step, epoch, data position, hyperparameters
// and seed as of the saved model, the room's name, code and owner link,
// its speed and visualized sample, and its charts up to that step. Not
// kept: the steps taken after that save (none when the replica stopped
// cleanly: it saves at the end), the step in progress, the running
// training accuracy and the last test accuracy beside the charts (they
// come back with the next steps and tests), and play: the room resumes
// paused. Students' pages reconnect by themselves; forks go on where they
// are.

// msgResume is the note above the button that resumes a room.
const msgResume = "The server of room %s went away. You can resume the room here from its last saved state: step %d, saved %s. " +
	"Kept: the network, its weights and optimizer state, the step, the position in the data, the hyperparameters and the charts up to that step. " +
	"Not kept: any step taken after that save, the running training accuracy and the last test accuracy (they come back as you go on). " +
	"The room resumes paused; students' pages come back to it by themselves, and their forks go on where they are."

// errRoomLive: the room is served (again) by a live replica.
var errRoomLive = errors.New("the room is live")

// refuseResume is told to whoever asks to resume a room without its
// owner token.
func refuseResume() refusal {
	return refusal{"", protocol.CodeForbidden, "Only the room's owner (with the owner link) may resume it.", websocket.ClosePolicyViolation}
}

// ResumeRoom opens the room of join code typed on this replica again, from
// its last saved model, after its replica went away; token must be its
// owner token. If the room is live it is returned (a room of this replica)
// or the error is errRoomLive.
func (s *Server) ResumeRoom(typed, token string) (*Room, error) {
	code, ok := NormalizeJoinCode(typed)
	if !ok {
		return nil, errBadCode
	}
	if room, err := s.class.rooms.lookup(code); err == nil {
		if !room.IsOwner(token) {
			return nil, refuseResume()
		}
		return room, nil
	}
	if s.cluster == nil {
		return nil, errNoRoom
	}
	return s.cluster.resume(code, token)
}

func (cs *clusterState) resume(code, token string) (*Room, error) {
	s, link := cs.srv, cs.link
	ctx, cancel := context.WithTimeout(context.Background(), 4*rpcWait)
	defer cancel()
	if rec, ok, err := link.Lookup(ctx, code); err != nil {
		return nil, err
	} else if ok {
		// Live, or the entry of a replica gone too recently to have
		// expired: ask its home.
		_, err := link.Request(ctx, link.RPC(code, cluster.RPCPing), nil)
		if err == nil && rec.Replica != link.Replica() {
			return nil, errRoomLive
		}
		if err := link.Release(ctx, code, rec.Revision); err != nil {
			return nil, err
		}
	}
	info, ok, err := link.Snapshot(ctx, code)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, errNoRoom
	case !cluster.IsOwner(info.OwnerSHA256, token):
		return nil, refuseResume()
	}
	_, data, err := link.LoadSnapshot(ctx, code)
	if err != nil {
		return nil, err
	}
	cs.dropMirror(code) // a mirror here that has not yet noticed
	t, p, history, tests, err := s.loadSaved(data)
	if err != nil {
		return nil, fmt.Errorf("resume room %s: %w", code, err)
	}
	if err := s.sessions.mayAdd(netip.Addr{}, false); err != nil {
		return nil, err
	}
	mem, err := s.reserveLoaded(t)
	if err != nil {
		return nil, err
	}
	sess := s.newSession(t, p, netip.Addr{}, false)
	sess.mem = mem
	sess.history, sess.tests = history, tests // before run starts
	if err := s.sessions.add(sess, 1); err != nil {
		return nil, err
	}
	room := &Room{Code: code, Name: cleanRoomName(info.Name), Created: s.class.now(), ownerToken: token, session: sess}
	if err := s.class.rooms.adopt(room); err != nil {
		s.sessions.end(sess, "")
		return nil, err
	}
	ok, err = cs.claim(room)
	if !ok {
		s.class.rooms.remove(room)
		s.sessions.end(sess, "")
		if err != nil {
			return nil, err
		}
		return nil, errRoomLive // resumed by another replica meanwhile
	}
	s.roomOpened(room, sess)
	s.log.Info("room resumed", "room", code, "session", sess.id, "step", t.Step(), "saved_by", info.Replica, "saved", info.Saved)
	return room, nil
}

// adopt registers a room that keeps its code (a resumed room): errRoomsFull
// at the cap, errRoomLive if a room of this replica has the code.
func (g *roomRegistry) adopt(r *Room) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.byCode) >= g.max {
		return errRoomsFull
	}
	if g.byCode[r.Code] != nil {
		return errRoomLive
	}
	g.byCode[r.Code] = r
	return nil
}

// offerResume renders, for the owner of a room whose replica went away,
// the page that offers to resume it here; it reports whether it did.
func (s *Server) offerResume(w http.ResponseWriter, r *http.Request, err error) bool {
	var gone *roomGone
	if !errors.As(err, &gone) || !gone.owner {
		return false
	}
	i := gone.info
	s.site.ResumeRoom(w, r, i.Code, fmt.Sprintf(msgResume, i.Code, i.Step, savedAt(i.Saved)))
	return true
}

// serveResume resumes a room whose replica went away (form: owner, else
// the owner cookie) and goes to it.
func (s *Server) serveResume(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxMessage))
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	typed := chi.URLParam(r, "code")
	code, _ := NormalizeJoinCode(typed)
	tok := r.PostForm.Get("owner")
	if tok == "" {
		tok = ownerTokenOf(r, code)
	}
	// Whether a code exists and whether a token is its owner's are told
	// only within the join budget, as by /join (see findRoom); the owner of
	// a room of this replica proves it knows the code.
	a := ClientAddr(r, s.cfg.TrustedProxies)
	local, lerr := s.class.rooms.lookup(code)
	proven := lerr == nil && local.IsOwner(tok)
	var now time.Time
	if !proven {
		var refused error
		if now, refused = s.admitLookup(a); refused != nil {
			s.joinFailed(w, r, typed, refused)
			return
		}
	}
	room, err := s.ResumeRoom(typed, tok)
	var rf refusal
	if !proven && (errors.Is(err, errNoRoom) || errors.Is(err, errBadCode) || errors.As(err, &rf)) {
		s.chargeWrong(a, now) // no room, or not its owner
	}
	switch {
	case errors.Is(err, errRoomLive):
	case err != nil:
		s.joinFailed(w, r, typed, err)
		return
	default:
		code = room.Code
	}
	if r.PostForm.Get("owner") != "" {
		s.setCookie(w, r, ownerCookie(code), tok, ownerCookieAge)
	}
	http.Redirect(w, r, "/r/"+code, http.StatusSeeOther)
}
