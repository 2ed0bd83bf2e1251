package server

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"

	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/protocol"
)

// Predict, then reveal across replicas. The prompts and answers live in
// the room's home (prompt.go); the home publishes each prompt message
// (asked, revealed, closed) as an event of the room, which every mirror
// passes to its pages and keeps for the pages that open later, and after a
// reveal each other replica's students' verdicts (typePromptMines), which
// a mirror gives each of its students alone. A student's answer on another
// replica goes to the home (RPCAnswer), which counts it as one of its own
// pages' (promptBox.answer: the same checks, limits and metrics) and
// answers with the page's reply and the student's answer. Nothing of it
// waits in a read pump or in a session: the read pump hands the answer to
// one of the mirror's answer workers, and the page's reply comes when the
// home's does. The owner's tally goes to the owner's pages of every
// replica as the dashboard does (cluster_dashboard.go).

// answerWorkers is how many answers of a mirror's students may be on their
// way to the home at once; the answers of one student always go through
// the same worker, so they arrive in the order sent. answerQueue bounds
// the answers waiting for each worker.
const (
	answerWorkers = 4
	answerQueue   = 64
)

// Messages of answers that did not reach the room's home.
const (
	msgAnswerUnreachable = "Your answer was not counted: the room's server cannot be reached just now. Try again in a moment."
	msgAnswerBusy        = "Your answer was not counted: the room's server is busy just now. Try again in a moment."
)

// answerJob is a student's answer waiting to be forwarded to the home.
type answerJob struct {
	c   *client
	req answerReq
}

// clusterPrompt hands the other replicas the prompt message msg (b, its
// bytes), asked, revealed or closed in a room of this replica (its home);
// after a reveal, also the verdicts of the students they serve (mine, by
// student id, as promptBox.reveal returns them).
func (s *Server) clusterPrompt(room *Room, msg protocol.Prompt, b []byte, mine map[string][]byte) {
	if s.cluster == nil || room.mirror != nil {
		return
	}
	link := s.cluster.link
	subj := link.Event(room.Code, cluster.EvReply)
	link.Publish(subj, b)
	if msg.Status != protocol.PromptRevealed {
		return
	}
	limit := link.MaxPayload() / 2
	batch := promptMinesMsg{Type: typePromptMines, Mines: map[string]json.RawMessage{}}
	size := 0
	flush := func() {
		if len(batch.Mines) == 0 {
			return
		}
		out, _ := json.Marshal(batch)
		link.Publish(subj, out)
		batch.Mines, size = map[string]json.RawMessage{}, 0
	}
	for _, id := range room.roster.elsewhereIDs() {
		m := mineOrNone(mine, id, msg.PromptID)
		if size+len(m) > limit {
			flush()
		}
		batch.Mines[id] = m
		size += len(id) + len(m) + 8
	}
	flush()
}

// elsewhereIDs are the ids of the students another replica serves (or
// served, until it reports them no more).
func (r *roster) elsewhereIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id, st := range r.byID {
		if len(st.elsewhere) > 0 && !st.removed {
			ids = append(ids, id)
		}
	}
	return ids
}

// answer answers RPCAnswer: a student's answer from their page on another
// replica, counted as one of this replica's pages' (a student the teacher
// removed is refused), or, without an answer, what the student answered.
// The student's pages on this replica get their answer too.
func (h *homeRoom) answer(b []byte) ([]byte, error) {
	var req answerReq
	if len(b) > maxAskReq || json.Unmarshal(b, &req) != nil || len(req.Student) != 16 || !isHex(req.Student) ||
		(req.PromptID == nil) != (req.Pick == nil) {
		return nil, errMalformed
	}
	room := h.room
	var rep answerReply
	switch {
	case req.PromptID == nil:
		rep.Mine = room.prompts.mine(req.Student)
	case room.roster.isRemoved(req.Student):
		rep.Reply = refuseRemoved().reply(req.ID)
	default:
		reply, mine := h.cs.srv.countAnswer(room, req.Student, req.ID, *req.PromptID, *req.Pick)
		rep.Reply, rep.Mine = reply, mine
		if mine != nil {
			room.roster.toStudent(req.Student, mine)
		}
	}
	return json.Marshal(rep)
}

// answer hands a student's answer (its prompt_id and pick checked present
// by the read pump) to the mirror's answer worker of that student, never
// waiting: when too many wait, the page is told to try again.
func (rr *remoteRoom) answer(c *client, m *protocol.ClientMsg) {
	select {
	case <-rr.sess.done:
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeNotFound, msgAnswerUnreachable))
		return
	default:
	}
	h := fnv.New32a()
	h.Write([]byte(c.student.id))
	job := answerJob{c: c, req: answerReq{Student: c.student.id, ID: m.ID, PromptID: m.PromptID, Pick: m.Pick}}
	select {
	case rr.answers[h.Sum32()%answerWorkers] <- job:
	default:
		c.reply(protocol.ErrorReply(m.ID, protocol.CodeRateLimited, msgAnswerBusy))
	}
}

// forwardAnswers sends the answers of jobs to the home, one at a time, in
// order, until the mirror ends.
func (rr *remoteRoom) forwardAnswers(jobs <-chan answerJob) {
	for {
		select {
		case job := <-jobs:
			rr.sendAnswer(job)
		case <-rr.sess.done:
			return
		}
	}
}

// sendAnswer forwards one answer and gives the page the home's reply, and
// the student's pages on this replica their answer as counted.
func (rr *remoteRoom) sendAnswer(job answerJob) {
	b, _ := json.Marshal(job.req)
	ctx, cancel := context.WithTimeout(context.Background(), rpcWait)
	m, err := rr.cs.link.Request(ctx, rr.cs.link.RPC(rr.code, cluster.RPCAnswer), b)
	cancel()
	if err == nil && cluster.ReplyError(m) != "" {
		err = errors.New(cluster.ReplyError(m))
	}
	var rep answerReply
	if err == nil && (json.Unmarshal(m.Data, &rep) != nil || typeOf(rep.Reply) == "") {
		rr.cs.link.Dropped("malformed")
		err = errMalformed
	}
	if err != nil {
		code, msg := protocol.CodeNotFound, msgAnswerUnreachable
		if err.Error() == replyBusy {
			code, msg = protocol.CodeRateLimited, msgAnswerBusy
		}
		job.c.reply(protocol.ErrorReply(job.req.ID, code, msg))
		select {
		case rr.results <- func() { rr.failed(err) }:
		case <-rr.sess.done:
		}
		return
	}
	job.c.reply(rep.Reply)
	if typeOf(rep.Mine) == protocol.TypePromptMine {
		rr.room.roster.toStudent(job.req.Student, rep.Mine) // the student's other tabs too
	}
}

// promptOnAttach shows a page that opens the mirrored room's prompt, if
// one is on the pages, and asks the home for a student's answer. It runs
// in run.
func (rr *remoteRoom) promptOnAttach(c *client) {
	if rr.prompt == nil {
		return
	}
	c.reply(rr.prompt)
	if c.student == nil {
		return
	}
	b, _ := json.Marshal(answerReq{Student: c.student.id})
	rr.request(cluster.RPCAnswer, b, rpcWait, func(m *nats.Msg, err error) {
		var rep answerReply
		switch {
		case err != nil:
			rr.failed(err)
		case json.Unmarshal(m.Data, &rep) != nil:
			rr.cs.link.Dropped("malformed")
		case typeOf(rep.Mine) == protocol.TypePromptMine && slices.Contains(rr.clients, c):
			c.reply(rep.Mine)
		}
	})
}

// mirrorPrompt takes the home's prompt message b: every page gets it, and
// the pages that open later while it is on the pages; a new prompt tells
// each student's page that they have not answered it yet.
func (rr *remoteRoom) mirrorPrompt(b []byte) {
	var p protocol.Prompt
	if json.Unmarshal(b, &p) != nil || !slices.Contains([]string{protocol.PromptOpen, protocol.PromptRevealed, protocol.PromptClosed}, p.Status) {
		rr.cs.link.Dropped("malformed")
		return
	}
	rr.prompt = b
	if p.Status == protocol.PromptClosed {
		rr.prompt = nil
	}
	var none []byte
	if p.Status == protocol.PromptOpen {
		none = protocol.Marshal(protocol.PromptMine{Type: protocol.TypePromptMine, V: protocol.Version, PromptID: p.PromptID})
	}
	for _, c := range rr.clients {
		c.reply(b)
		if none != nil && c.student != nil {
			c.reply(none)
		}
	}
}

// mirrorMines gives each of this replica's students named in the home's
// typePromptMines message b their own verdict.
func (rr *remoteRoom) mirrorMines(b []byte) {
	var m promptMinesMsg
	if json.Unmarshal(b, &m) != nil {
		rr.cs.link.Dropped("malformed")
		return
	}
	for id, mine := range m.Mines {
		if typeOf(mine) == protocol.TypePromptMine {
			rr.room.roster.toStudent(id, mine)
		}
	}
}

// toOwners puts b into the mailboxes of the mirror's owner's pages.
func (rr *remoteRoom) toOwners(b []byte) {
	for _, c := range rr.clients {
		if rr.owners[c] {
			c.reply(b)
		}
	}
}
