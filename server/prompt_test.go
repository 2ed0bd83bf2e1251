package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// reachSpec has a conv whose stride (3) is larger than its kernel (2), so
// that on the 12×12 shapes rows and columns 2, 5, 8 and 11 are under no
// window; its max-pool windows do not overlap.
const reachSpec = "conv(2,2,s3,p0) relu maxpool(2,s2,p0) dense(5)"

func roomWithSpec(t *testing.T, srv *Server, spec string) *Room {
	t.Helper()
	p := tinyRoomParams(t)
	p.Config.Spec = spec
	room, err := srv.CreateRoom("Prompts", p)
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return room
}

// roomTrace is the room's trace of its visualized sample, and the phase
// that runs next.
func roomTrace(t *testing.T, room *Room) (*engine.Trace, engine.Phase) {
	t.Helper()
	var tr *engine.Trace
	var next engine.Phase
	if !room.session.inSession(func() { tr, next = room.session.t.Trace(room.session.traceOptions()), room.session.t.Next() }) {
		t.Fatal("room ended")
	}
	return tr, next
}

func intp(v int) *int { return &v }

// TestAskPromptChecksTheNetwork: a prompt that does not fit the network is
// refused with an error naming the problem, and nothing changes: no prompt
// is shown and the trainer has not moved.
func TestAskPromptChecksTheNetwork(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	room := roomWithSpec(t, srv, reachSpec)
	bad := map[string]protocol.PromptSpec{
		"layer 1 is relu 1, want a maxpool": {Kind: protocol.PromptPoolSwitch, Layer: 1},
		"layers 0 to 3":                     {Kind: protocol.PromptConvReach, Layer: 9},
		"output row 2 outside maxpool 1":    {Kind: protocol.PromptPoolSwitch, Layer: 2, Row: 2},
		"input channel 1 outside conv 1":    {Kind: protocol.PromptConvReach, Layer: 0, Channel: 1},
		"want a conv or dense layer":        {Kind: protocol.PromptWeightSign, Layer: 2},
		"row 2 outside conv 1":              {Kind: protocol.PromptWeightSign, Layer: 0, Row: 2},
		"input 8 outside dense 1":           {Kind: protocol.PromptWeightSign, Layer: 3, Col: 8},
		"2 to 8":                            {Kind: protocol.PromptChoice, Options: []string{"only"}},
		"prompt kind":                       {Kind: "guess"},
	}
	before, next0 := roomTrace(t, room)
	for want, spec := range bad {
		err := room.askPrompt(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("askPrompt(%+v) = %v, want an error with %q", spec, err, want)
		}
	}
	after, next1 := roomTrace(t, room)
	if p, _ := room.prompts.current(); p != nil {
		t.Errorf("a refused prompt is on the pages: %+v", p.msg)
	}
	if next0 != next1 || before.Step != after.Step || before.Started != after.Started {
		t.Errorf("refused prompts moved the trainer: next %v → %v, step %d → %d", next0, next1, before.Step, after.Step)
	}
}

// revealWith asks spec, answers it for the students of picks, reveals it
// and returns the revealed message and the trace right after the reveal.
func revealWith(t *testing.T, room *Room, spec protocol.PromptSpec, picks map[string]protocol.PromptPick) (protocol.Prompt, *engine.Trace) {
	t.Helper()
	if err := room.askPrompt(spec); err != nil {
		t.Fatalf("askPrompt(%+v): %v", spec, err)
	}
	p, msg := room.prompts.current()
	if msg.Status != protocol.PromptOpen {
		t.Fatalf("prompt status %q, want open", msg.Status)
	}
	if _, next := roomTrace(t, room); p.plan.hasPhase && next != p.plan.phase {
		t.Fatalf("%s: the room paused before %v, want before %v", spec.Kind, next, p.plan.phase)
	}
	for id, pick := range picks {
		if err := room.prompts.answer(id, msg.PromptID, pick, time.Now(), 100); err != nil {
			t.Fatalf("answer %s: %v", id, err)
		}
	}
	if err := room.revealPrompt(); err != nil {
		t.Fatalf("reveal %s: %v", spec.Kind, err)
	}
	_, msg = room.prompts.current()
	if msg.Status != protocol.PromptRevealed || msg.Truth == nil || msg.Tally == nil {
		t.Fatalf("%s after the reveal: %+v", spec.Kind, msg)
	}
	tr, _ := roomTrace(t, room)
	return msg, tr
}

// rightOf counts the right answers and checks each student's grade.
func checkGrades(t *testing.T, room *Room, msg protocol.Prompt, want map[string]bool) {
	t.Helper()
	p, _ := room.prompts.current()
	right := 0
	for id, ok := range want {
		a := p.answers[id]
		if a == nil || a.correct == nil || *a.correct != ok {
			t.Errorf("%s: student %s graded %v, want %v", msg.Kind, id, a.correct, ok)
		}
		if ok {
			right++
		}
	}
	if msg.Tally.Right == nil || *msg.Tally.Right != right || msg.Tally.Answered != len(want) {
		t.Errorf("%s: tally %+v, want %d answered, %d right", msg.Kind, msg.Tally, len(want), right)
	}
}

// TestPromptTruthFromTheEngine: each kind's truth is what the engine
// computed in the phase the reveal ran, and answers are graded by it.
func TestPromptTruthFromTheEngine(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	room := roomWithSpec(t, srv, reachSpec)

	// Which cell of max-pool window (1, 1, 0) receives the gradient?
	spec := protocol.PromptSpec{Kind: protocol.PromptPoolSwitch, Layer: 2, Channel: 1, Row: 1, Col: 0}
	if err := room.askPrompt(spec); err != nil {
		t.Fatal(err)
	}
	_, asked := room.prompts.current()
	if asked.Window == nil || asked.Window.Rows != 2 || asked.Window.Y0 != 2 || asked.Window.X0 != 0 || len(asked.Window.Values) != 4 {
		t.Fatalf("pool window %+v", asked.Window)
	}
	room.prompts.close()
	msg, tr := revealWith(t, room, spec, map[string]protocol.PromptPick{})
	lt := tr.Layers[2]
	cell := *msg.Truth.Choice
	iy, ix := 2+cell/2, cell%2
	if sw := int(lt.Switches[(1*2+1)*2+0]); sw != iy*lt.InShape[2]+ix {
		t.Errorf("truth cell %d is input (%d,%d), the engine's switch is %d", cell, iy, ix, sw)
	}
	// The truth names the window's cell in the answer buttons' words.
	if want := fmt.Sprintf("input cell (%d, %d), the window's cell (%d, %d)", iy, ix, cell/2, cell%2); !strings.Contains(msg.Truth.Why, want) {
		t.Errorf("pool switch truth %q lacks %q", msg.Truth.Why, want)
	}
	g := lt.GradOutput.Data[(1*2+1)*2+0]
	for d := range 4 {
		y, x := 2+d/2, d%2
		got := lt.GradInput.Data[(1*4+y)*4+x]
		if want := map[bool]float64{true: g, false: 0}[d == cell]; got != want {
			t.Errorf("dL/dX at window cell %d = %v, want %v (dL/dY %v routed to cell %d)", d, got, want, g, cell)
		}
	}

	// Which cells of conv 1's input receive no gradient?
	var wantCells []int
	for y := range 12 {
		for x := range 12 {
			if y%3 == 2 || x%3 == 2 {
				wantCells = append(wantCells, y*12+x)
			}
		}
	}
	wrong := slices.Clone(wantCells[1:])
	reversed := slices.Clone(wantCells)
	slices.Reverse(reversed)
	reversed = append(reversed, wantCells[0]) // marked twice: counted once
	msg, tr = revealWith(t, room, protocol.PromptSpec{Kind: protocol.PromptConvReach, Layer: 0},
		map[string]protocol.PromptPick{"a": {Cells: reversed}, "b": {Cells: wrong}})
	if !slices.Equal(msg.Truth.Cells, wantCells) {
		t.Errorf("conv reach: %d cells without gradient %v, want %d %v", len(msg.Truth.Cells), msg.Truth.Cells, len(wantCells), wantCells)
	}
	if strings.Contains(msg.Truth.Why, "−0") || !strings.Contains(msg.Truth.Why, "from 0 ") {
		t.Errorf("conv reach truth without padding: %q", msg.Truth.Why)
	}
	dx := tr.Layers[0].GradInput
	for _, c := range msg.Truth.Cells {
		if dx.Data[c] != 0 || !slices.Contains(msg.Truth.Zero, c) {
			t.Errorf("cell %d under no window has dL/dX %v", c, dx.Data[c])
		}
	}
	for _, c := range msg.Truth.Zero {
		if dx.Data[c] != 0 {
			t.Errorf("cell %d listed with dL/dX 0 has %v", c, dx.Data[c])
		}
	}
	checkGrades(t, room, msg, map[string]bool{"a": true, "b": false})
	if msg.Tally.Cells[wantCells[0]] != 1 || msg.Tally.Cells[wantCells[1]] != 2 {
		t.Errorf("conv reach tally of cells: %v", msg.Tally.Cells[:12])
	}
	room.prompts.close()

	// Which class will the network predict?
	msg, tr = revealWith(t, room, protocol.PromptSpec{Kind: protocol.PromptClass},
		map[string]protocol.PromptPick{"a": {Choice: intp(0)}, "b": {Choice: intp(1)}, "c": {Choice: intp(2)}})
	k := *msg.Truth.Choice
	if !room.session.inSession(func() { room.session.t.StepPhase() }) { // the loss: the engine's own prediction
		t.Fatal("room ended")
	}
	if tr, _ = roomTrace(t, room); tr.Prediction != k {
		t.Errorf("class truth %d, the engine predicts %d", k, tr.Prediction)
	}
	checkGrades(t, room, msg, map[string]bool{"a": k == 0, "b": k == 1, "c": k == 2})
	if msg.Tally.Counts[0] != 1 || msg.Tally.Counts[1] != 1 || len(msg.Tally.Counts) != 5 {
		t.Errorf("class tally %v", msg.Tally.Counts)
	}
	room.prompts.close()

	// Will W[1, 0, 1, 0] of conv 1 go up or down?
	spec = protocol.PromptSpec{Kind: protocol.PromptWeightSign, Layer: 0, Channel: 1, Row: 1}
	w0, _ := roomTrace(t, room)
	before := w0.Layers[0].Weights.Data[6]
	msg, tr = revealWith(t, room, spec, map[string]protocol.PromptPick{
		"up":   {Sign: protocol.SignUp, Size: intp(1)},
		"down": {Sign: protocol.SignDown, Size: intp(1)},
	})
	d := tr.Layers[0].DeltaWeights.Data[6]
	if after := tr.Layers[0].Weights.Data[6]; after-before != d || float32(d) != float32(*msg.Truth.Delta) {
		t.Errorf("ΔW %v, W %v → %v, truth %v", d, before, after, *msg.Truth.Delta)
	}
	wantSign := map[bool]string{true: protocol.SignUp, false: protocol.SignDown}[d > 0]
	if msg.Truth.Sign != wantSign || *msg.Truth.Size != protocol.WeightBucket(d) {
		t.Errorf("truth %s %d, want %s %d", msg.Truth.Sign, *msg.Truth.Size, wantSign, protocol.WeightBucket(d))
	}
	one := protocol.WeightBucket(d) == 1
	checkGrades(t, room, msg, map[string]bool{"up": d > 0 && one, "down": d < 0 && one})
	room.prompts.close()

	// A free choice, and a poll without a right answer.
	msg, _ = revealWith(t, room, protocol.PromptSpec{Kind: protocol.PromptChoice, Options: []string{"yes", "no"}, Answer: 1},
		map[string]protocol.PromptPick{"a": {Choice: intp(1)}, "b": {Choice: intp(0)}})
	checkGrades(t, room, msg, map[string]bool{"a": true, "b": false})
	room.prompts.close()
	msg, _ = revealWith(t, room, protocol.PromptSpec{Kind: protocol.PromptChoice, Options: []string{"yes", "no"}, Answer: -1},
		map[string]protocol.PromptPick{"a": {Choice: intp(1)}})
	if msg.Tally.Right != nil || msg.Truth.Choice != nil {
		t.Errorf("a poll graded: %+v %+v", msg.Tally, msg.Truth)
	}
}

// TestPromptAnswerBounds: one answer per student per prompt (a change
// replaces it), answers only to the open prompt and with a valid pick, and
// at most MaxPromptAnswers a room: beyond it a refusal, counted.
func TestPromptAnswerBounds(t *testing.T) {
	srv, _ := newTestServer(t, Config{ClassroomConfig: ClassroomConfig{MaxPromptAnswers: 2}})
	room := roomWithSpec(t, srv, reachSpec)
	if err := room.prompts.answer("a", 1, protocol.PromptPick{Choice: intp(0)}, time.Now(), 2); err != errNoPrompt {
		t.Errorf("answer without a prompt: %v", err)
	}
	if err := room.askPrompt(protocol.PromptSpec{Kind: protocol.PromptClass}); err != nil {
		t.Fatal(err)
	}
	ans := func(id string, prompt int, pick protocol.PromptPick) error {
		return room.prompts.answer(id, prompt, pick, time.Now(), srv.cfg.MaxPromptAnswers)
	}
	for _, c := range []struct {
		id     string
		prompt int
		pick   protocol.PromptPick
		want   string
	}{
		{"a", 1, protocol.PromptPick{Choice: intp(0)}, ""},
		{"a", 1, protocol.PromptPick{Choice: intp(3)}, ""}, // changed: still one answer
		{"b", 1, protocol.PromptPick{Choice: intp(5)}, "choose one of the 5"},
		{"b", 1, protocol.PromptPick{}, "choose one of the 5"},
		{"b", 2, protocol.PromptPick{Choice: intp(1)}, "question 2 is no longer open"},
		{"b", 1, protocol.PromptPick{Choice: intp(1)}, ""},
		{"c", 1, protocol.PromptPick{Choice: intp(1)}, "at most 2 answers"},
		{"b", 1, protocol.PromptPick{Choice: intp(2)}, ""}, // a change at the bound
	} {
		err := ans(c.id, c.prompt, c.pick)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("answer %s %+v: %v, want %q", c.id, c.pick, err, c.want)
		}
	}
	p, _ := room.prompts.current()
	if len(p.answers) != 2 || *p.answers["a"].pick.Choice != 3 || room.prompts.kept != 2 {
		t.Errorf("answers %v, kept %d: want a's changed answer and b's", p.answers, room.prompts.kept)
	}
	if err := room.revealPrompt(); err != nil {
		t.Fatal(err)
	}
	if err := ans("a", 1, protocol.PromptPick{Choice: intp(1)}); err != errPromptClosed {
		t.Errorf("answer after the reveal: %v", err)
	}
}

// TestPromptHoldsThePhase: while a prompt waits for its reveal, the owner's
// commands that would run its phase are refused with the reason; others
// pass.
func TestPromptHoldsThePhase(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := roomWithSpec(t, srv, reachSpec)
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	id := owner.cmd(protocol.CmdPrompt, map[string]any{"prompt": map[string]any{"kind": "pool_switch", "layer": 2}})
	if r := owner.reply(id); r.Type != "ack" {
		t.Fatalf("prompt: %+v", r)
	}
	for _, cmd := range []string{"play", "step_batch", "step_epoch", "step_phase"} {
		if r := owner.reply(owner.cmd(cmd, nil)); r.Type != "error" || !strings.Contains(r.Message, "Reveal runs backward · maxpool 1") {
			t.Errorf("%s while the prompt waits: %+v", cmd, r)
		}
	}
	if r := owner.reply(owner.cmd(protocol.CmdReveal, nil)); r.Type != "ack" {
		t.Fatalf("reveal: %+v", r)
	}
	if r := owner.reply(owner.cmd("step_phase", nil)); r.Type != "ack" {
		t.Errorf("step_phase after the reveal: %+v", r)
	}
}

// TestPromptTallyCoalesces: however many answers arrive between two looks
// (Server.dashboards looks every dashboardEvery), the owner's pages get
// one tally with all of them, and none while nothing changed.
func TestPromptTallyCoalesces(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	room := roomWithSpec(t, srv, reachSpec)
	if err := room.askPrompt(protocol.PromptSpec{Kind: protocol.PromptClass}); err != nil {
		t.Fatal(err)
	}
	room.prompts.tallyDue(0) // the empty tally of the new prompt
	for i := range 200 {
		if err := room.prompts.answer(fmt.Sprintf("s%d", i), 1, protocol.PromptPick{Choice: intp(i % 5)}, time.Now(), 1000); err != nil {
			t.Fatal(err)
		}
	}
	var tally protocol.PromptTallyMsg
	b := room.prompts.tallyDue(200)
	if err := json.Unmarshal(b, &tally); err != nil || tally.Answered != 200 || tally.Counts[4] != 40 || tally.Students != 200 {
		t.Fatalf("tally after 200 answers: %s (%v)", b, err)
	}
	if b := room.prompts.tallyDue(200); b != nil {
		t.Errorf("a second tally without a new answer: %s", b)
	}
}

// TestPromptRevealAfterTheNetworkChanged: a prompt asked of one network is
// not revealed on another (a new spec): the reveal says so, nothing panics.
func TestPromptRevealAfterTheNetworkChanged(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := roomWithSpec(t, srv, reachSpec)
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	if err := room.askPrompt(protocol.PromptSpec{Kind: protocol.PromptConvReach, Layer: 0}); err != nil {
		t.Fatal(err)
	}
	if r := owner.reply(owner.cmd("set", map[string]any{"spec": "conv(2,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"})); r.Type != "ack" {
		t.Fatalf("set spec: %+v", r)
	}
	err := room.revealPrompt()
	if err == nil || !strings.Contains(err.Error(), "the network has changed") {
		t.Errorf("reveal on another network: %v", err)
	}
}

// TestOwnerReloadKeepsTheTally: an owner's page that opens while a
// question is open (a reload) gets the class's tally so far with the
// question, not only after the next answer.
func TestOwnerReloadKeepsTheTally(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := roomWithSpec(t, srv, reachSpec)
	if err := room.askPrompt(protocol.PromptSpec{Kind: protocol.PromptChoice, Question: "Which?", Options: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	_, msg := room.prompts.current()
	for i, id := range []string{"s1", "s2"} {
		if err := room.prompts.answer(id, msg.PromptID, protocol.PromptPick{Choice: intp(i)}, time.Now(), 100); err != nil {
			t.Fatalf("answer %s: %v", id, err)
		}
	}
	room.prompts.tallyDue(0) // sent before this page opened: nothing new is due
	owner := joinAsOwner(t, ts, room)
	owner.expect("prompt", nil)
	var tally protocol.PromptTallyMsg
	owner.expect("prompt_tally", &tally)
	if tally.PromptID != msg.PromptID || tally.Answered != 2 || len(tally.Counts) != 2 || tally.Counts[0] != 1 || tally.Counts[1] != 1 {
		t.Errorf("the opening owner's tally %+v, want prompt %d with 2 answers, one each", tally.PromptTally, msg.PromptID)
	}
}
