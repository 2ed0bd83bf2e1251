package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// The teacher's dashboard: who is in a room, what each student is doing,
// and what the teacher does with the class. Students are known by a cookie
// of the room (studentCookie) and the nickname they typed when joining;
// the list goes to the owner's pages only.

// dashboardEvery is how often a room's dashboard is looked at and, if it
// changed, sent: an action shows on the owner's page within it.
const dashboardEvery = 250 * time.Millisecond

// idleAfter is how long a fork's page may send no command before its
// student counts as idle.
const idleAfter = 2 * time.Minute

// maxNickRunes bounds a nickname.
const maxNickRunes = 30

// maxStudents bounds the students a room remembers (gone ones included).
const maxStudents = 1000

// Messages of the class.
const (
	msgForksLocked = "The teacher has locked forking for now: watch the room."
	msgRemoved     = "the teacher removed you from this room"
	msgForkEnded   = "The teacher ended your fork: back to the room."
	msgBroughtBack = "The teacher brought everyone back to the room."
)

func refuseForksLocked() refusal {
	return refusal{"", protocol.CodeForbidden, msgForksLocked, websocket.ClosePolicyViolation}
}

func refuseRemoved() refusal {
	return refusal{"", protocol.CodeForbidden, "The teacher removed you from this room.", websocket.ClosePolicyViolation}
}

// studentCookie names the cookie that tells a room which student a browser
// is; nickCookie the nickname typed when joining.
func studentCookie(code string) string { return "bpv_student_" + code }
func nickCookie(code string) string    { return "bpv_nick_" + code }

// cleanNick trims a nickname, drops control characters and cuts it to
// maxNickRunes.
func cleanNick(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s))
	if utf8.RuneCountInString(s) > maxNickRunes {
		s = strings.TrimSpace(string([]rune(s)[:maxNickRunes]))
	}
	return s
}

// student is one student of a room. Guarded by the roster's mutex.
type student struct {
	id, nick string
	room     map[*client]bool // pages watching the room
	forkPage map[*client]bool // pages of the student's fork
	fork     *session         // the student's fork (nil: none)
	stats    *protocol.ForkStats
	lastCmd  time.Time // the fork's last command
	removed  bool
	seen     int // order of arrival
	// What other replicas serving the room see of the student, by replica
	// (cluster_dashboard.go).
	elsewhere map[string]remoteStudent
}

// roster is the students of a room and whether they may fork.
type roster struct {
	mu       sync.Mutex
	byID     map[string]*student
	arrived  int
	locked   bool   // no new forks
	last     []byte // the dashboard last sent
	lastSent time.Time
}

// enter returns the student of id (a new one if unknown), with the
// nickname nick (if not ""); nil if the student was removed or the room
// remembers maxStudents students.
func (r *roster) enter(id, nick string) *student {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]*student{}
	}
	st := r.byID[id]
	if st == nil {
		if len(r.byID) >= maxStudents {
			return nil
		}
		r.arrived++
		st = &student{id: id, seen: r.arrived, room: map[*client]bool{}, forkPage: map[*client]bool{}}
		r.byID[id] = st
	}
	if st.removed {
		return nil
	}
	if nick != "" {
		st.nick = nick
	}
	return st
}

// isRemoved reports whether the student of id was removed.
func (r *roster) isRemoved(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.byID[id]
	return st != nil && st.removed
}

// watch notes (on) or forgets a page of st watching the room; fork: a page
// of st's fork.
func (r *roster) page(st *student, c *client, fork, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := st.room
	if fork {
		m = st.forkPage
	}
	if on {
		m[c] = true
	} else {
		delete(m, c)
	}
}

// forked makes sess the fork of st.
func (r *roster) forked(st *student, sess *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st.fork = sess
	st.lastCmd = time.Now()
}

// forkStats notes where st's fork is (called by the fork's session).
func (r *roster) forkStats(st *student, f protocol.ForkStats, lastCmd time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st.stats = &f
	st.lastCmd = lastCmd
}

// forksAllowed reports whether students may fork.
func (r *roster) forksAllowed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.locked
}

// dashboard is the list of students as the owner's page shows it, by order
// of arrival; answers says what each did with the prompt on the pages (see
// promptBox.answerStates; nil: none is).
func (r *roster) dashboard(now time.Time, answers map[string]string) protocol.Dashboard {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := protocol.Dashboard{Type: protocol.TypeDashboard, V: protocol.Version, Forks: !r.locked, Students: []protocol.StudentRow{}}
	all := make([]*student, 0, len(r.byID))
	for _, st := range r.byID {
		if !st.removed {
			all = append(all, st)
		}
	}
	slices.SortFunc(all, func(a, b *student) int { return a.seen - b.seen })
	for _, st := range all {
		row := protocol.StudentRow{ID: st.id, Nick: st.nick, Status: protocol.StudentGone}
		if row.Nick == "" {
			row.Nick = fmt.Sprintf("student %d", st.seen)
		}
		switch {
		case len(st.forkPage) > 0 && now.Sub(st.lastCmd) >= idleAfter:
			row.Status = protocol.StudentIdle
		case len(st.forkPage) > 0:
			row.Status = protocol.StudentFork
		case len(st.room) > 0:
			row.Status = protocol.StudentWatching
		}
		if st.fork != nil {
			row.Fork = &protocol.ForkStats{}
			if st.stats != nil {
				row.Fork = st.stats
			}
		}
		mergeElsewhere(&row, st) // cluster_dashboard.go
		if answers != nil {
			row.Answer = cmp.Or(answers[st.id], protocol.AnswerNone)
		}
		d.Students = append(d.Students, row)
	}
	return d
}

// changed returns the dashboard's message if it differs from the last one
// sent (nil if not), and notes it as sent.
func (r *roster) changed(now time.Time, answers map[string]string) []byte {
	b := protocol.Marshal(r.dashboard(now, answers))
	r.mu.Lock()
	defer r.mu.Unlock()
	if bytes.Equal(b, r.last) {
		return nil
	}
	r.last = b
	return b
}

// latest is the dashboard last sent (for a page of the owner that opens).
func (r *roster) latest(now time.Time, answers map[string]string) []byte {
	r.mu.Lock()
	b := r.last
	r.mu.Unlock()
	if b == nil {
		return protocol.Marshal(r.dashboard(now, answers))
	}
	return b
}

// dashboards sends, until the room's session ends, the room's dashboard
// to its owner's pages whenever it changes.
func (s *Server) dashboards(room *Room, done <-chan struct{}) {
	tick := time.NewTicker(dashboardEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			if b := room.roster.changed(now, room.prompts.answerStates()); b != nil {
				s.class.toOwners(room, b)
				s.clusterDashboard(room, b) // cluster_dashboard.go
			}
			if b := room.prompts.tallyDue(room.allViewers()); b != nil { // prompt.go
				s.class.toOwners(room, b)
				s.clusterDashboard(room, b) // the owner's pages on other replicas
			}
		}
	}
}

// toOwners puts b into the mailboxes of the room's owner pages.
func (cl *classroom) toOwners(r *Room, b []byte) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for c, owner := range cl.members[r] {
		if owner {
			c.mb.reply(b)
		}
	}
}

// classCommand carries out the owner's "class" command in the read pump
// of the owner's page, as an answer is counted: it touches only the
// roster, so it never waits behind the room's step, which may queue for
// the shared workers behind every fork of the class. It reports false
// for a page of no room of this replica (the session answers it).
func (c *client) classCommand(m *protocol.ClientMsg) bool {
	room := c.sess.room
	if room == nil {
		return false
	}
	start := time.Now()
	defer func() { c.srv.cmdtime.WithLabelValues(m.Cmd).Observe(time.Since(start).Seconds()) }()
	if !c.srv.class.isOwnerClient(room, c) {
		c.reply(refuseForbidden().reply(m.ID))
		return true
	}
	c.reply(c.srv.classReply(room, m.ID, m.Arguments()))
	return true
}

// classReply carries out a class action of the room's owner, tells the
// students of other replicas (cluster_dashboard.go), and returns the reply
// to the command id: its acknowledgement, or what to tell the owner.
func (s *Server) classReply(room *Room, id json.RawMessage, args protocol.CmdArgs) []byte {
	if err := s.classAction(room, args); err != nil {
		return protocol.ErrorReply(id, protocol.CodeInvalid, err.Error())
	}
	s.clusterClass(room, args)
	return protocol.Ack(id)
}

// classAction carries out a "class" command of the room's owner (its
// page is the owner's); the error is what to tell the owner.
func (s *Server) classAction(room *Room, args protocol.CmdArgs) error {
	if args.Action == nil || !slices.Contains(protocol.ClassActions, *args.Action) {
		return fmt.Errorf("class: action must be one of %s", strings.Join(protocol.ClassActions, ", "))
	}
	g := &room.roster
	switch *args.Action {
	case protocol.ClassBringBack:
		s.bringBack(room, msgBroughtBack) // prompt_session.go
		return nil
	case protocol.ClassLockForks, protocol.ClassAllowForks:
		g.mu.Lock()
		g.locked = *args.Action == protocol.ClassLockForks
		g.mu.Unlock()
		go s.class.announce(room) // the students' pages show or hide Fork
		return nil
	}
	if args.Student == nil {
		return fmt.Errorf("class %s: which student?", *args.Action)
	}
	g.mu.Lock()
	st := g.byID[*args.Student]
	if st == nil || st.removed {
		g.mu.Unlock()
		return fmt.Errorf("class %s: no such student in this room", *args.Action)
	}
	fork := st.fork
	st.fork, st.stats = nil, nil
	if *args.Action == protocol.ClassEndFork {
		st.sendBack(backMessage(room, msgForkEnded))
	} else { // remove
		st.removed = true
		bye := protocol.Bye(msgRemoved)
		for c := range st.room {
			c.mb.close(bye, websocket.ClosePolicyViolation, "removed")
		}
		for c := range st.forkPage {
			c.mb.close(bye, websocket.ClosePolicyViolation, "removed")
		}
	}
	g.mu.Unlock()
	if fork != nil {
		s.sessions.end(fork, "ended by the teacher")
	}
	return nil
}

// studentID is the student a request's browser is in the room of join code
// code (its student cookie), or a new id if it has none.
func studentID(r *http.Request, code string) string {
	if ck, err := r.Cookie(studentCookie(code)); err == nil && len(ck.Value) == 16 && isHex(ck.Value) {
		return ck.Value
	}
	return randomHex(8)
}

func isHex(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) }) < 0
}

// nickOf is the nickname a request's browser typed when joining the room
// of join code code ("" for none).
func nickOf(r *http.Request, code string) string {
	ck, err := r.Cookie(nickCookie(code))
	if err != nil {
		return ""
	}
	nick, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return ""
	}
	return cleanNick(nick)
}

// rememberStudent gives a browser opening the room of join code code its
// student cookie (if it has none) and the nickname typed (if any).
func (s *Server) rememberStudent(w http.ResponseWriter, r *http.Request, code, nick string) {
	if ck, err := r.Cookie(studentCookie(code)); err != nil || len(ck.Value) != 16 || !isHex(ck.Value) {
		s.setCookie(w, r, studentCookie(code), randomHex(8), ownerCookieAge)
	}
	if nick = cleanNick(nick); nick != "" {
		s.setCookie(w, r, nickCookie(code), url.QueryEscape(nick), ownerCookieAge)
	}
}

// studentFork starts the fork of the student whose browser sent r, unless
// the teacher locked forking or removed the student.
func (s *Server) studentFork(room *Room, r *http.Request) (*session, error) {
	id := studentID(r, room.Code)
	if room.roster.isRemoved(id) {
		return nil, refuseRemoved()
	}
	if !room.roster.forksAllowed() {
		return nil, refuseForksLocked()
	}
	return s.forkFor(room, ClientAddr(r, s.cfg.TrustedProxies), room.roster.enter(id, nickOf(r, room.Code)))
}

// forkPages are the attached and leave callbacks of a fork's page (see
// runClient): the dashboard shows the student in their fork.
func forkPages(sess *session) (attached, leave func(*client)) {
	if sess.student == nil {
		return nil, nil
	}
	return func(c *client) { sess.roster.page(sess.student, c, true, true) },
		func(c *client) { sess.roster.page(sess.student, c, true, false) }
}
