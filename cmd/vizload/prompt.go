package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/backpropviz/backpropviz/protocol"
)

// Predict, then reveal under load (-prompt): the owner asks a class
// prompt, every viewer (a student with its own cookie) answers at a
// random moment within -prompt-within, a third of them change their
// answer once, and the owner reveals. Measured: whether every student's
// answer was counted exactly once (the owner's last tally), the time from
// the last answer sent to the owner's tally counting them all, the
// server's CPU over the answering, and the time from the reveal to the
// last student told whether they were right.

// promptSeen is what one page saw of the prompts. Guarded by client.mu.
type promptSeen struct {
	id       int       // the prompt shown (0: none)
	shownAt  time.Time // when it arrived
	answered int       // the owner's last tally: answers counted
	counts   []int     // … per class
	tallyAt  time.Time // … when it arrived
	mine     int       // prompt_mine messages (a student's page)
	toldAt   time.Time // when this student was told right or wrong
	correct  *bool
}

// promptMsg notes a prompt message (called by client.class).
func (c *client) promptMsg(typ string, b []byte, at time.Time) {
	switch typ {
	case protocol.TypePrompt:
		var m protocol.Prompt
		if json.Unmarshal(b, &m) == nil && m.Status == protocol.PromptOpen {
			c.mu.Lock()
			c.prompt.id, c.prompt.shownAt = m.PromptID, at
			c.mu.Unlock()
		}
	case protocol.TypePromptTally:
		var m protocol.PromptTallyMsg
		if json.Unmarshal(b, &m) == nil {
			c.mu.Lock()
			c.prompt.answered, c.prompt.counts, c.prompt.tallyAt = m.Answered, m.Counts, at
			c.mu.Unlock()
		}
	case protocol.TypePromptMine:
		var m protocol.PromptMine
		if json.Unmarshal(b, &m) == nil {
			c.mu.Lock()
			c.prompt.mine++
			if m.Correct != nil && c.prompt.toldAt.IsZero() {
				c.prompt.toldAt, c.prompt.correct = at, m.Correct
			}
			c.mu.Unlock()
		}
	}
}

// promptReport is the measure of one prompt answered by the viewers.
type promptReport struct {
	students, sent, changed int
	counted, sum            int           // the owner's last tally
	exact                   bool          // … its counts are the students' final answers
	tally                   time.Duration // last answer sent → the owner's tally shows every final answer
	spread                  time.Duration // first to last answer sent
	cpu                     float64       // server CPU (cores) from the prompt to the full tally
	told                    int           // students told right or wrong after the reveal
	reveal                  time.Duration // reveal sent → the last student told
	err                     string
}

// measurePrompt runs one prompt with the viewers answering within `within`.
func measurePrompt(ctx context.Context, owner *client, viewers []*client, within time.Duration, pid int) promptReport {
	r := promptReport{students: len(viewers)}
	owner.mu.Lock()
	owner.prompt = promptSeen{}
	owner.mu.Unlock()
	want := make([]int, 10) // the final answers: student i says class i mod 10
	for i := range viewers {
		want[i%10]++
	}
	cpu0, _ := readCPU(pid)
	t0 := time.Now()
	owner.cmd(protocol.CmdPrompt, map[string]any{"prompt": map[string]any{"kind": protocol.PromptClass}})
	// every page shows it
	id := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(5 * time.Millisecond) {
		shown := 0
		for _, v := range viewers {
			v.mu.Lock()
			if v.prompt.id > 0 {
				shown++
				id = v.prompt.id
			}
			v.mu.Unlock()
		}
		if shown == len(viewers) {
			break
		}
	}
	if id == 0 {
		r.err = "the prompt never reached the viewers"
		return r
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type plan struct {
		at     time.Duration
		change bool
	}
	plans := make([]plan, len(viewers))
	for i := range plans {
		plans[i] = plan{time.Duration(rng.Int64N(int64(within))), i%3 == 0}
	}
	start := time.Now()
	var last time.Time
	done := make(chan time.Time, len(viewers))
	for i, v := range viewers {
		go func() {
			p := plans[i]
			time.Sleep(p.at)
			if p.change {
				v.send(map[string]any{"type": protocol.TypeAnswer, "prompt_id": id, "pick": map[string]any{"choice": (i + 1) % 10}})
			}
			v.send(map[string]any{"type": protocol.TypeAnswer, "prompt_id": id, "pick": map[string]any{"choice": i % 10}})
			done <- time.Now()
		}()
		r.sent++
		if plans[i].change {
			r.sent++
			r.changed++
		}
	}
	first := time.Time{}
	for range viewers {
		at := <-done
		if at.After(last) {
			last = at
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	r.spread = last.Sub(start)
	var allAt time.Time
	tally := func() {
		owner.mu.Lock()
		defer owner.mu.Unlock()
		r.counted, r.sum = owner.prompt.answered, 0
		for _, n := range owner.prompt.counts {
			r.sum += n
		}
		r.exact = slices.Equal(owner.prompt.counts, want)
		if r.exact && r.counted == len(viewers) {
			allAt = owner.prompt.tallyAt
		}
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil && allAt.IsZero(); time.Sleep(5 * time.Millisecond) {
		tally()
	}
	elapsed := time.Since(t0)
	if cpu1, err := readCPU(pid); err == nil {
		r.cpu = (cpu1 - cpu0).Seconds() / elapsed.Seconds()
	}
	if allAt.IsZero() {
		r.err = fmt.Sprintf("the owner's tally counted %d of %d answers (counts %v, want %v)", r.counted, len(viewers), owner.prompt.counts, want)
		return r
	}
	r.tally = max(0, allAt.Sub(last))
	// no later tally may count more
	time.Sleep(600 * time.Millisecond)
	tally()

	sent := time.Now()
	owner.cmd(protocol.CmdReveal, nil)
	for deadline := sent.Add(10 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(5 * time.Millisecond) {
		told, lastTold := 0, time.Duration(0)
		for _, v := range viewers {
			v.mu.Lock()
			if !v.prompt.toldAt.IsZero() {
				told++
				lastTold = max(lastTold, v.prompt.toldAt.Sub(sent))
			}
			v.mu.Unlock()
		}
		r.told, r.reveal = told, lastTold
		if told == len(viewers) {
			break
		}
	}
	return r
}

func (r promptReport) print(w io.Writer, within time.Duration) {
	fmt.Fprintf(w, "\nprompt: %d students answering within %s (%d answers sent, %d changed once)\n", r.students, within, r.sent, r.changed)
	if r.err != "" {
		fmt.Fprintf(w, "  FAILED: %s\n", r.err)
		return
	}
	ok := "every answer counted once"
	if r.counted != r.students || r.sum != r.students || !r.exact {
		ok = fmt.Sprintf("WRONG COUNT: want %d", r.students)
	}
	fmt.Fprintf(w, "  owner's tally: %d answered, counts summing to %d: %s\n", r.counted, r.sum, ok)
	fmt.Fprintf(w, "  answers sent over %s; last answer sent → owner's tally shows every final answer: %s\n", r.spread.Round(time.Millisecond), r.tally.Round(time.Millisecond))
	if r.cpu > 0 {
		fmt.Fprintf(w, "  server CPU from the prompt to the full tally: %.2f cores\n", r.cpu)
	}
	fmt.Fprintf(w, "  reveal → %d of %d students told right or wrong, the last after %s\n", r.told, r.students, r.reveal.Round(time.Millisecond))
}
