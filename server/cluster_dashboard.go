package server

import (
	"encoding/json"
	"time"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/protocol"
)

// The teacher's dashboard across replicas: a mirror sends the home, with
// its interest (every mirrorHeartbeat, and when its pages change), the
// students whose pages it serves; the home lists them beside its own and
// sends the whole dashboard to the owner's pages on every replica (an
// event of the room, which a mirror passes to its owner's pages only).
// A student known on several replicas is one row, doing the most of what
// any replica sees: in their fork, idle, watching, gone.

// maxRemoteStudents bounds the students one replica reports.
const maxRemoteStudents = maxStudents

// remoteStudent is what another replica says one of its students is doing.
type remoteStudent struct {
	status string
	fork   *protocol.ForkStats
}

// statusRank orders what a student does: the row shows the most.
var statusRank = map[string]int{protocol.StudentGone: 0, protocol.StudentWatching: 1, protocol.StudentIdle: 2, protocol.StudentFork: 3}

// studentsForHome are the students of a mirror's roster as the home
// merges them: the nickname only if the student typed one (the home
// numbers the others).
func (r *roster) studentsForHome(now time.Time) []protocol.StudentRow {
	rows := r.dashboard(now, nil).Students
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range rows {
		if st := r.byID[rows[i].ID]; st != nil && st.nick == "" {
			rows[i].Nick = ""
		}
	}
	if len(rows) > maxRemoteStudents {
		rows = rows[:maxRemoteStudents]
	}
	return rows
}

// setElsewhere replaces what replica says of its students (nil: it has
// none any more, or went away).
func (r *roster) setElsewhere(replica string, rows []protocol.StudentRow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.byID {
		delete(st.elsewhere, replica)
	}
	for _, row := range rows {
		if _, ok := statusRank[row.Status]; !ok || len(row.ID) != 16 || !isHex(row.ID) {
			continue
		}
		st := r.byID[row.ID]
		if st == nil {
			if len(r.byID) >= maxStudents {
				continue
			}
			if r.byID == nil {
				r.byID = map[string]*student{}
			}
			r.arrived++
			st = &student{id: row.ID, seen: r.arrived, room: map[*client]bool{}, forkPage: map[*client]bool{}}
			r.byID[row.ID] = st
		}
		if nick := cleanNick(row.Nick); nick != "" {
			st.nick = nick
		}
		if st.elsewhere == nil {
			st.elsewhere = map[string]remoteStudent{}
		}
		st.elsewhere[replica] = remoteStudent{status: row.Status, fork: row.Fork}
	}
}

// mergeElsewhere shows in row what other replicas see of st: the most
// active status, and the fork's numbers if st's fork is on one of them.
// r.mu is held.
func mergeElsewhere(row *protocol.StudentRow, st *student) {
	for _, rs := range st.elsewhere {
		if statusRank[rs.status] > statusRank[row.Status] {
			row.Status = rs.status
		}
		if row.Fork == nil && rs.fork != nil {
			f := *rs.fork
			row.Fork = &f
		}
	}
}

// clusterDashboard sends the room's dashboard b (or the prompt's tally) to
// the owner's pages on the other replicas (none without a cluster).
func (s *Server) clusterDashboard(room *Room, b []byte) {
	if s.cluster == nil || room.mirror != nil {
		return
	}
	s.cluster.link.Publish(s.cluster.link.Event(room.Code, cluster.EvReply), b)
}

// mirrorDashboard takes the home's dashboard b for the mirror's owner's
// pages: those open get it, those that open later get it first. Whether
// students may fork follows it (a mirror that opens after the teacher
// locked forking, or in a lesson that starts locked).
func (rr *remoteRoom) mirrorDashboard(b []byte) {
	var d protocol.Dashboard
	if json.Unmarshal(b, &d) != nil {
		return
	}
	g := &rr.room.roster
	g.mu.Lock()
	g.last = b
	changed := g.locked == d.Forks
	g.locked = !d.Forks
	g.mu.Unlock()
	for _, c := range rr.clients {
		if rr.owners[c] {
			c.reply(b)
		}
	}
	if changed {
		go rr.cs.srv.class.announce(rr.room) // the students' pages show or hide Fork
	}
}

// typeClassRelay is the type of the message by which the home hands the
// other replicas the teacher's "class" action; never sent to a page.
const typeClassRelay = "class_relay"

// classRelayMsg is the teacher's class action for the other replicas.
type classRelayMsg struct {
	Type string           `json:"type"`
	Args protocol.CmdArgs `json:"args"`
	// Message: a bring_back that says this (a prompt asked) rather than
	// that the teacher brought everyone back.
	Message string `json:"message,omitempty"`
}

// clusterClass hands the other replicas the teacher's class action, done
// on this replica (the room's home): they do it to their students' pages
// and forks.
func (s *Server) clusterClass(room *Room, args protocol.CmdArgs) {
	if s.cluster == nil || room.mirror != nil {
		return
	}
	b, _ := json.Marshal(classRelayMsg{Type: typeClassRelay, Args: protocol.CmdArgs{Action: args.Action, Student: args.Student}})
	s.cluster.link.Publish(s.cluster.link.Event(room.Code, cluster.EvReply), b)
}

// classRelay does the home's class action b to this replica's students of
// the mirrored room (one this replica does not know is no error).
func (rr *remoteRoom) classRelay(b []byte) {
	var m classRelayMsg
	if json.Unmarshal(b, &m) != nil {
		return
	}
	if m.Message != "" && m.Args.Action != nil && *m.Args.Action == protocol.ClassBringBack {
		rr.cs.srv.bringBack(rr.room, m.Message) // prompt_session.go
		return
	}
	go rr.cs.srv.classAction(rr.room, m.Args) // it may end a fork: not in the mirror's loop
}

// clusterBringBack hands the other replicas a bring_back that says
// message, done on this replica (the room's home).
func (s *Server) clusterBringBack(room *Room, message string) {
	if s.cluster == nil || room.mirror != nil {
		return
	}
	action := protocol.ClassBringBack
	b, _ := json.Marshal(classRelayMsg{Type: typeClassRelay, Args: protocol.CmdArgs{Action: &action}, Message: message})
	s.cluster.link.Publish(s.cluster.link.Event(room.Code, cluster.EvReply), b)
}
