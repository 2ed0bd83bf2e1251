package server

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// TestPromptManyStudents: over real websockets, 80 students (one with two
// tabs) answer a class prompt, some changing their answer; the owner's
// tally counts each student once, students never receive the tally or
// each other's answers, and after the reveal each student's page is told
// whether its own answer was right.
func TestPromptManyStudents(t *testing.T) {
	const n = 80
	srv, ts := newTestServer(t, Config{})
	room := roomWithSpec(t, srv, reachSpec)
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	students := make([]*wsClient, n)
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%016x", i+1)
		students[i] = dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, studentHeader(room, ids[i], fmt.Sprintf("=kid %d", i)))
		students[i].expect("welcome", nil)
	}
	second := dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, studentHeader(room, ids[0], ""))
	second.expect("welcome", nil)

	id := owner.cmd(protocol.CmdPrompt, map[string]any{"prompt": map[string]any{"kind": "class", "question": "Which digit?"}})
	var asked protocol.Prompt // sent to every page before the ack
	owner.expect(protocol.TypePrompt, &asked)
	if r := owner.reply(id); r.Type != "ack" {
		t.Fatalf("prompt: %+v", r)
	}
	if asked.Question != "Which digit?" || len(asked.Classes) != 5 || asked.Truth != nil {
		t.Fatalf("asked %+v", asked)
	}
	// Every student answers at once; the odd ones change their mind.
	var wg sync.WaitGroup
	pick := func(i int) int { return i % 5 }
	for i, c := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m protocol.Prompt
			c.expect(protocol.TypePrompt, &m)
			if i%2 == 1 {
				c.send(map[string]any{"type": "answer", "prompt_id": m.PromptID, "pick": map[string]any{"choice": (i + 1) % 5}})
			}
			c.send(map[string]any{"type": "answer", "prompt_id": m.PromptID, "pick": map[string]any{"choice": pick(i)}})
		}()
	}
	wg.Wait()
	// the student's second tab answers too: still one answer
	second.expect(protocol.TypePrompt, nil)
	second.send(map[string]any{"type": "answer", "prompt_id": asked.PromptID, "pick": map[string]any{"choice": pick(0)}})

	var tally protocol.PromptTallyMsg
	for tally.Answered != n {
		owner.expect(protocol.TypePromptTally, &tally)
		if tally.Answered > n {
			t.Fatalf("tally counts %d answers of %d students", tally.Answered, n)
		}
	}
	for k := range 5 {
		if tally.Counts[k] != n/5 {
			t.Errorf("tally of class %d: %d, want %d", k, tally.Counts[k], n/5)
		}
	}
	id = owner.cmd(protocol.CmdReveal, nil)
	var revealed protocol.Prompt
	owner.expect(protocol.TypePrompt, &revealed)
	if r := owner.reply(id); r.Type != "ack" {
		t.Fatalf("reveal: %+v", r)
	}
	truth := *revealed.Truth.Choice
	if revealed.Status != protocol.PromptRevealed || revealed.Tally.Answered != n || *revealed.Tally.Right != n/5 {
		t.Errorf("revealed %+v tally %+v, want %d answered, %d right", revealed, revealed.Tally, n, n/5)
	}
	for i, c := range students {
		var mine protocol.PromptMine
		for {
			m := c.next()
			if m.typ == protocol.TypePromptTally || m.typ == protocol.TypeDashboard {
				t.Fatalf("student %d received %s", i, m.typ)
			}
			if m.typ == "error" {
				t.Fatalf("student %d: %s", i, m.raw)
			}
			if m.typ != protocol.TypePromptMine {
				continue
			}
			json.Unmarshal(m.raw, &mine)
			if mine.Correct != nil {
				break
			}
		}
		if *mine.Pick.Choice != pick(i) || *mine.Correct != (pick(i) == truth) {
			t.Errorf("student %d: told %+v (pick %d, correct %v), truth %d", i, mine, *mine.Pick.Choice, *mine.Correct, truth)
		}
	}
	if got := counterValue(t, srv.metrics.promptAnswers); got != n+n/2+1 {
		t.Errorf("bpv_prompt_answers_total %v, want %d", got, n+n/2+1)
	}

	// The CSV: the owner's only, one row per student, nicknames safe for
	// a spreadsheet.
	get := func(q string) (*http.Response, string) {
		resp, err := http.Get(ts.URL + "/r/" + room.Code + "/answers.csv" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get(""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("answers.csv without the owner token: %s %q", resp.Status, body)
	}
	if resp, _ := get("?owner=" + room.OwnerToken() + "x"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("answers.csv with a wrong owner token: %s", resp.Status)
	}
	resp, body := get("?owner=" + room.OwnerToken())
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("answers.csv: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != n+1 {
		t.Fatalf("answers.csv: %d rows (%v), want %d", len(rows), err, n+1)
	}
	if strings.Join(rows[0], ",") != "nickname,prompt,question,answer,correct,time,lesson_question" {
		t.Errorf("header %v", rows[0])
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		var i int
		if _, err := fmt.Sscanf(r[0], "'=kid %d", &i); err != nil || seen[r[0]] {
			t.Errorf("row %v: nickname not the student's, escaped, once", r)
			continue
		}
		seen[r[0]] = true
		want := map[bool]string{true: "yes", false: "no"}[pick(i) == truth]
		if r[1] != "1" || r[2] != "Which digit?" || r[3] != "class "+asked.Classes[pick(i)] || r[4] != want || r[5] == "" || r[6] != "" {
			t.Errorf("row %v, want prompt 1, class %s, correct %s", r, asked.Classes[pick(i)], want)
		}
	}
}

// TestPromptAnswerRefusedOnTheWire: the owner's page cannot answer, and an
// answer beyond MaxPromptAnswers gets the limit's message and is counted
// in bpv_limit_hits_total.
func TestPromptAnswerRefusedOnTheWire(t *testing.T) {
	srv, ts := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{MaxPromptAnswers: 1}})
	room := roomWithSpec(t, srv, reachSpec)
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	a := dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, studentHeader(room, "00000000000000a1", ""))
	b := dialPath(t, websocket.DefaultDialer, ts, "/ws/room/"+room.Code, studentHeader(room, "00000000000000b2", ""))
	a.expect("welcome", nil)
	b.expect("welcome", nil)
	if r := owner.reply(owner.cmd(protocol.CmdPrompt, map[string]any{"prompt": map[string]any{"kind": "choice", "options": []string{"x", "y"}}})); r.Type != "ack" {
		t.Fatalf("prompt: %+v", r)
	}
	answer := func(c *wsClient) protocol.Reply {
		return c.reply(c.send(map[string]any{"type": "answer", "prompt_id": 1, "pick": map[string]any{"choice": 1}}))
	}
	if r := answer(owner); r.Type != "error" || r.Code != protocol.CodeForbidden {
		t.Errorf("the owner's answer: %+v", r)
	}
	if r := answer(a); r.Type != "ack" {
		t.Errorf("a's answer: %+v", r)
	}
	hits := srv.metrics.limitHits.WithLabelValues("prompt_answers")
	if r := answer(b); r.Type != "error" || r.Code != protocol.CodeFull || !strings.Contains(r.Message, "at most 1 answers") {
		t.Errorf("b's answer beyond the bound: %+v", r)
	}
	if got := counterValue(t, hits); got != 1 {
		t.Errorf("bpv_limit_hits_total{limit=prompt_answers} %v, want 1", got)
	}
}
