package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/internal/natstest"
	"github.com/backpropviz/backpropviz/protocol"
)

// untilMine reads until a prompt_mine for which ok holds; a student's page
// never gets the tally or the dashboard.
func (c *wsClient) untilMine(what string, ok func(protocol.PromptMine) bool) protocol.PromptMine {
	c.t.Helper()
	var last protocol.PromptMine
	for range 10000 {
		m := c.next()
		switch m.typ {
		case protocol.TypePromptTally, protocol.TypeDashboard:
			c.t.Fatalf("a student's page got %s", m.raw)
		case protocol.TypePromptMine:
			last = protocol.PromptMine{}
			json.Unmarshal(m.raw, &last)
			if ok(last) {
				return last
			}
		}
	}
	c.t.Fatalf("no prompt_mine with %s; last %+v", what, last)
	return last
}

// TestClusterPrompt: predict, then reveal with students whose pages are
// on another replica than the room's home. A student there sees the
// question when it is asked, answers, changes their mind, and is counted
// at the home once (in the tally, the dashboard's answered column and
// bpv_prompt_answers_total); a page that opens there while the question
// is open gets it, and the student's answer; after the reveal each
// student there gets the truth and their own verdict, never anyone
// else's. With the home unreachable, an answer is refused.
func TestClusterPrompt(t *testing.T) {
	_, natsURL := natstest.Start(t)
	a, tsA := newReplica(t, natsURL, "a")
	_, tsB := newReplica(t, natsURL, "b")
	room := newRoom(t, a, "Biology 3B")
	owner := joinAsOwner(t, tsA, room)
	owner.expect("welcome", nil)

	const ada, bo, cy = "00000000000000ad", "00000000000000b0", "00000000000000c1"
	cookies := func(id, nick string) http.Header {
		h := http.Header{}
		h.Add("Cookie", studentCookie(room.Code)+"="+id)
		if nick != "" {
			h.Add("Cookie", nickCookie(room.Code)+"="+nick)
		}
		return h
	}
	onB := func(id, nick string) *wsClient {
		c := dialPath(t, websocket.DefaultDialer, tsB, "/ws/room/"+room.Code, cookies(id, nick))
		c.expect("welcome", nil)
		return c
	}
	adaB := onB(ada, "Ada")
	local := dialPath(t, websocket.DefaultDialer, tsA, "/ws/room/"+room.Code, cookies(cy, "Cy"))
	local.expect("welcome", nil)
	owner.untilDashboard("Ada and Cy watching", func(d protocol.Dashboard) bool {
		r := rowOf(d, ada)
		return r != nil && r.Status == protocol.StudentWatching && rowOf(d, cy) != nil
	})

	// Di trains her fork on B.
	const di = "00000000000000d1"
	fork := dialPath(t, websocket.DefaultDialer, tsB, "/ws/fork/"+room.Code, cookies(di, "Di"))
	fork.expect("welcome", nil)
	owner.untilDashboard("Di in her fork", func(d protocol.Dashboard) bool {
		r := rowOf(d, di)
		return r != nil && r.Status == protocol.StudentFork
	})

	// The teacher asks: Ada's page on B shows the question, not yet
	// answered; Di's fork's page goes back to the room.
	ask := map[string]any{"prompt": map[string]any{"kind": "choice", "question": "Which?", "options": []string{"x", "y", "z"}, "answer": 2}}
	if r := owner.reply(owner.cmd(protocol.CmdPrompt, ask)); r.Type != protocol.TypeAck {
		t.Fatalf("prompt: %+v", r)
	}
	var asked protocol.Prompt
	adaB.expect(protocol.TypePrompt, &asked)
	if asked.Status != protocol.PromptOpen || asked.Question != "Which?" || asked.Truth != nil {
		t.Fatalf("Ada's page on B got %+v", asked)
	}
	adaB.untilMine("no answer yet", func(m protocol.PromptMine) bool { return m.PromptID == asked.PromptID && m.Pick == nil })
	var back protocol.Class
	fork.expect(protocol.TypeClass, &back)
	if back.Action != "back" || back.To != "/r/"+room.Code || back.Message != msgPromptBack {
		t.Errorf("Di's fork's page on B got %+v", back)
	}
	owner.untilDashboard("nobody answered", func(d protocol.Dashboard) bool {
		r, l := rowOf(d, ada), rowOf(d, cy)
		return r != nil && r.Answer == protocol.AnswerNone && l != nil && l.Answer == protocol.AnswerNone
	})

	// Ada answers on B, then changes her mind: one answer, her last.
	answer := func(c *wsClient, choice int) protocol.Reply {
		t.Helper()
		return c.reply(c.send(map[string]any{"type": "answer", "prompt_id": asked.PromptID, "pick": map[string]any{"choice": choice}}))
	}
	if r := answer(adaB, 0); r.Type != protocol.TypeAck {
		t.Fatalf("Ada's answer on B: %+v", r)
	}
	adaB.untilMine("her first answer", func(m protocol.PromptMine) bool { return m.Pick != nil && *m.Pick.Choice == 0 })
	if r := answer(adaB, 2); r.Type != protocol.TypeAck {
		t.Fatalf("Ada's second answer on B: %+v", r)
	}
	adaB.untilMine("her second answer", func(m protocol.PromptMine) bool { return m.Pick != nil && *m.Pick.Choice == 2 })
	// The owner's page: Ada answered, Cy not; one answer in the tally, her
	// last (the dashboard and the tally come in either order).
	answered, counted := false, false
	for range 10000 {
		if answered && counted {
			break
		}
		m := owner.next()
		switch m.typ {
		case protocol.TypeDashboard:
			var d protocol.Dashboard
			json.Unmarshal(m.raw, &d)
			r, l := rowOf(d, ada), rowOf(d, cy)
			answered = r != nil && r.Answer == protocol.AnswerGiven && l != nil && l.Answer == protocol.AnswerNone
		case protocol.TypePromptTally:
			var tally protocol.PromptTallyMsg
			json.Unmarshal(m.raw, &tally)
			if tally.Answered > 1 {
				t.Fatalf("tally counts %d answers of one student", tally.Answered)
			}
			counted = tally.Answered == 1 && tally.Counts[2] == 1
		}
	}
	if !answered || !counted {
		t.Fatalf("the owner's page: Ada answered %v, her last answer counted %v", answered, counted)
	}
	// The owner's page cannot answer, on B either.
	ownerB := ownerOn(t, tsB, room)
	ownerB.expect("welcome", nil)
	if r := answer(ownerB, 1); r.Type != "error" || r.Code != protocol.CodeForbidden {
		t.Errorf("the owner's answer on B: %+v", r)
	}

	// Pages that open on B while the question is open get it: Ada's second
	// tab with her answer, Bo's without one.
	adaB2 := onB(ada, "")
	adaB2.expect(protocol.TypePrompt, nil)
	adaB2.untilMine("her answer", func(m protocol.PromptMine) bool { return m.Pick != nil && *m.Pick.Choice == 2 })
	boB := onB(bo, "Bo")
	boB.expect(protocol.TypePrompt, nil)
	boB.untilMine("no answer", func(m protocol.PromptMine) bool { return m.PromptID == asked.PromptID && m.Pick == nil })
	owner.untilDashboard("Bo on B", func(d protocol.Dashboard) bool { r := rowOf(d, bo); return r != nil && r.Answer == protocol.AnswerNone })

	// The reveal: the truth on every page, with the tally of the students
	// of both replicas; each student's own verdict.
	if r := owner.reply(owner.cmd(protocol.CmdReveal, nil)); r.Type != protocol.TypeAck {
		t.Fatalf("reveal: %+v", r)
	}
	for name, c := range map[string]*wsClient{"Ada's page": adaB, "Ada's second tab": adaB2, "Bo's page": boB} {
		var revealed protocol.Prompt
		for revealed.Status != protocol.PromptRevealed {
			c.expect(protocol.TypePrompt, &revealed)
		}
		if revealed.Truth == nil || revealed.Truth.Choice == nil || *revealed.Truth.Choice != 2 || revealed.Tally == nil || revealed.Tally.Answered != 1 ||
			revealed.Tally.Students < 2 { // Cy on A, and at least Ada on B
			t.Errorf("%s on B: revealed %+v", name, revealed)
		}
		mine := c.untilMine("the verdict", func(m protocol.PromptMine) bool { return m.Correct != nil || m.Pick == nil })
		if c == boB {
			if mine.Pick != nil || mine.Correct != nil {
				t.Errorf("Bo, who did not answer, was told %+v", mine)
			}
		} else if mine.Correct == nil || !*mine.Correct || *mine.Pick.Choice != 2 {
			t.Errorf("%s: told %+v, want choice 2, right", name, mine)
		}
	}
	var tallyB protocol.PromptTallyMsg // the owner's page on B gets the tally
	for tallyB.Right == nil {
		ownerB.expect(protocol.TypePromptTally, &tallyB)
	}
	if tallyB.Answered != 1 || *tallyB.Right != 1 {
		t.Errorf("the tally on the owner's page on B: %+v", tallyB)
	}
	owner.untilDashboard("Ada right", func(d protocol.Dashboard) bool {
		r, l := rowOf(d, ada), rowOf(d, bo)
		return r != nil && r.Answer == protocol.AnswerRight && l != nil && l.Answer == protocol.AnswerNone
	})
	if r := answer(adaB, 1); r.Type != "error" || r.Code != protocol.CodeInvalid {
		t.Errorf("Ada's answer after the reveal: %+v", r)
	}
	if got := counterValue(t, a.metrics.promptAnswers); got != 2 {
		t.Errorf("the home's bpv_prompt_answers_total %v, want 2 (Ada's two answers)", got)
	}

	// The home stops answering: an answer on B is refused, saying so.
	if r := owner.reply(owner.cmd(protocol.CmdPrompt, ask)); r.Type != protocol.TypeAck {
		t.Fatalf("second prompt: %+v", r)
	}
	for asked.PromptID != 2 {
		boB.expect(protocol.TypePrompt, &asked)
	}
	a.cluster.mu.Lock()
	h := a.cluster.homes[room.Code]
	a.cluster.mu.Unlock()
	h.rpc.Unsubscribe()
	// Once the NATS server has the unsubscription, a request has no
	// responders (A's own request follows it on A's connection).
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := a.cluster.link.Request(ctx, a.cluster.link.RPC(room.Code, cluster.RPCPing), nil)
		cancel()
		if errors.Is(err, nats.ErrNoResponders) {
			break
		}
	}
	if r := answer(boB, 1); r.Type != "error" || r.Code != protocol.CodeNotFound || !strings.Contains(r.Message, "not counted") {
		t.Errorf("Bo's answer with the home unreachable: %+v", r)
	}
}
