package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// TestPromptInBrowser: predict, then reveal with a teacher and three
// students, each in a browser context of their own. The teacher points a
// question at a max-pool window by clicking a cell of its map and asks it;
// each student's page shows it and answers with a click (one changes their
// mind); the teacher's tally counts three answers; Reveal runs the
// backward phase and each student's page says whether it was right, as the
// truth the engine computed says; the projector shows the tally beside the
// truth; the teacher downloads the answers, a student may not.
func TestPromptInBrowser(t *testing.T) {
	srv, base := startServerWith(t, server.Config{})
	room := createRoom(t, srv, "Predict")
	teacher := openBrowser(t, 1366, 900)
	teacher.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	teacher.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	nicks := []string{"Ada", "Grace", ""}
	var students []*labPage
	for _, nick := range nicks {
		s := isolatedTab(t, teacher)
		s.do("open the join page", chromedp.Navigate(base+"/join"))
		s.do("type the code", chromedp.SendKeys(chromedp.CSS(`#join-code`), room.Code))
		if nick != "" {
			s.do("type a nickname", chromedp.SendKeys(chromedp.CSS(`#join-nick`), nick))
		}
		s.do("join", chromedp.Click(chromedp.CSS(`[data-testid=join-submit]`)))
		waitAfterNavigation(s, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
		s.waitFor("the room's state", `/step 0$/.test(document.getElementById('phase').textContent)`)
		if n := eval[int](s, `document.querySelectorAll('[data-testid=prompt-ask], [data-testid=prompt-tally]').length`); n != 0 {
			t.Errorf("a student's page has the teacher's prompt controls")
		}
		students = append(students, s)
	}
	teacher.waitFor("three students", `document.querySelectorAll('[data-testid=student-row]').length === 3`)

	// The teacher points the question at a cell of maxpool 1's output.
	teacher.do("open the form", chromedp.Click(chromedp.CSS(`[data-testid=prompt-ask] summary`)))
	eval[bool](teacher, `(() => { const k = document.getElementById('prompt-kind'); k.value = 'pool_switch'; k.dispatchEvent(new Event('change')); return true; })()`)
	teacher.do("pick a cell", chromedp.Click(chromedp.CSS(`[data-testid=prompt-pick]`)))
	sel := `#strip .col[data-layer="2"] canvas[data-testid=act-map]`
	teacher.do("see the map", chromedp.ScrollIntoView(chromedp.CSS(sel)))
	x, y := cellPoint(teacher, sel, 3, 4)
	teacher.do("click the cell", chromedp.MouseClickXY(x, y))
	teacher.waitFor("the picked cell", `document.getElementById('prompt-layer').value === '2' && document.getElementById('prompt-pick').getAttribute('aria-pressed') === 'false'`)
	if got := eval[string](teacher, `document.getElementById('prompt-form-note').textContent`); !strings.Contains(got, "maxpool 1") {
		t.Errorf("form note after the pick: %q", got)
	}
	if eval[bool](teacher, `!document.getElementById('explain').hidden`) {
		t.Errorf("picking the question's cell opened the drill-down")
	}
	teacher.do("type the question", chromedp.SendKeys(chromedp.CSS(`#prompt-question`), "Where does the gradient go?"))
	teacher.do("ask", chromedp.Click(chromedp.CSS(`[data-testid=prompt-send]`)))
	teacher.waitFor("the question on the projector", `!document.querySelector('[data-testid=prompt]').hidden`)
	teacher.waitFor("the room paused before the backward phase", `document.getElementById('next-phase').textContent === 'next: backward · maxpool 1'`)

	// Every student sees it and answers with a click; Grace changes her mind.
	picks := []int{0, 1, 3}
	for i, s := range students {
		s.waitFor("the question", `(() => { const c = document.querySelector('[data-testid=prompt]'); return !c.hidden && c.textContent.includes('Where does the gradient go?') && c.querySelectorAll('[data-testid=prompt-choice]').length === 4; })()`)
		if i == 2 {
			s.do("a first answer", chromedp.Click(chromedp.CSS(`[data-testid=prompt-choice][data-value="2"]:not([disabled])`)))
			s.waitFor("counted", `document.querySelector('[data-testid=prompt-choice][data-value="2"]').getAttribute('aria-pressed') === 'true'`)
		}
		s.do("answer", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=prompt-choice][data-value="%d"]:not([disabled])`, picks[i]))))
		s.waitFor("the answer counted", fmt.Sprintf(`document.querySelector('[data-testid=prompt-choice][data-value="%d"]').getAttribute('aria-pressed') === 'true' && /counted/.test(document.querySelector('[data-testid=prompt-status]').textContent)`, picks[i]))
	}
	teacher.waitFor("the tally of three answers", `document.querySelector('[data-testid=prompt-tally]').dataset.answered === '3'`)
	// the changed answer counted once, as its last
	teacher.waitFor("the tally 1, 1, 0, 1", `[...document.querySelectorAll('[data-testid=prompt-tally] tr')].map((r) => r.cells[2].textContent).join(',') === '1,1,0,1'`)

	// Reveal: the backward phase runs, each student is told.
	teacher.do("reveal", chromedp.Click(chromedp.CSS(`[data-testid=prompt-reveal]`)))
	teacher.waitFor("the truth beside the tally", `document.querySelector('[data-testid=prompt-tally] tr.truth') !== null && !document.querySelector('[data-testid=prompt-why]').hidden`)
	truth := eval[string](teacher, `document.querySelector('[data-testid=prompt-answers] .truth').dataset.value`)
	for i, s := range students {
		s.waitFor("the verdict", `['right', 'wrong'].includes(document.querySelector('[data-testid=prompt-status]').dataset.result)`)
		want := map[bool]string{true: "right", false: "wrong"}[fmt.Sprint(picks[i]) == truth]
		if got := eval[string](s, `document.querySelector('[data-testid=prompt-status]').dataset.result`); got != want {
			t.Errorf("student %d picked %d, truth %s: page says %q, want %q", i, picks[i], truth, got, want)
		}
		if got := eval[string](s, `document.querySelector('[data-testid=prompt-answers] .truth').dataset.value`); got != truth {
			t.Errorf("student %d's page marks cell %s as the truth, the teacher's %s", i, got, truth)
		}
		if got := eval[string](s, `document.querySelector('[data-testid=prompt-why]').textContent`); !strings.Contains(got, "switch") {
			t.Errorf("student %d's page says why: %q", i, got)
		}
		// nobody's name reaches a student's page
		if body := eval[string](s, `document.body.textContent`); strings.Contains(body, "Ada") && i != 0 || strings.Contains(body, "Grace") && i != 1 {
			t.Errorf("student %d's page shows another student's name", i)
		}
	}
	shot(teacher, "prompt-projector.png")
	shot(students[1], "prompt-student.png")
	if got := teacher.text("phase"); !strings.Contains(got, "maxpool 1") {
		t.Errorf("after the reveal the room's phase is %q, want the backward phase of maxpool 1", got)
	}

	// The answers as CSV: the teacher's, not a student's.
	csv := eval[string](teacher, fmt.Sprintf(`fetch('/r/%s/answers.csv').then((r) => r.text())`, room.Code))
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 4 || !strings.Contains(csv, "Ada,1,Where does the gradient go?") || !strings.Contains(csv, "student 3,1,") {
		t.Errorf("answers.csv:\n%s", csv)
	}
	if got := eval[int](students[0], fmt.Sprintf(`fetch('/r/%s/answers.csv').then((r) => r.status)`, room.Code)); got != 403 {
		t.Errorf("a student's answers.csv: status %d, want 403", got)
	}
	teacher.checkClean()
	for _, s := range students {
		s.checkClean()
	}
}

// TestPromptKindsInBrowser: a teacher and a student on the shapes with a
// conv of stride 3 and kernel 2. A prompt that does not fit the network is
// refused in the teacher's form, changing nothing. The student marks, by
// dragging over the grid as a person does, the cells of the conv's input
// that no window covers, and is told right; then predicts a weight's
// change and is told what the update did.
func TestPromptKindsInBrowser(t *testing.T) {
	srv, base := startServerWith(t, server.Config{})
	p := server.DefaultLabParams()
	p.Data, p.Config.Spec = "shapes", "conv(2,2,s3,p0) relu maxpool(2,s2,p0) dense(5)"
	room, err := srv.CreateRoom("Kinds", p)
	if err != nil {
		t.Fatal(err)
	}
	teacher := openBrowser(t, 1366, 900)
	teacher.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	teacher.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	student := isolatedTab(t, teacher)
	student.do("open the room", chromedp.Navigate(base+"/r/"+room.Code))
	waitAfterNavigation(student, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
	student.waitFor("the room's state", `/step 0$/.test(document.getElementById('phase').textContent)`)

	ask := func(kind string, fields map[string]int) {
		teacher.t.Helper()
		// a question asked folds the form: the teacher opens it again
		if !eval[bool](teacher, `document.querySelector('[data-testid=prompt-ask]').open`) {
			teacher.do("open the form", chromedp.Click(chromedp.CSS(`[data-testid=prompt-ask] summary`)))
		}
		eval[bool](teacher, fmt.Sprintf(`(() => { const k = document.getElementById('prompt-kind'); k.value = %q; k.dispatchEvent(new Event('change')); return true; })()`, kind))
		for f, v := range fields {
			teacher.do("clear "+f, chromedp.SetValue(chromedp.CSS(`#prompt-`+f), ""))
			teacher.do("type "+f, chromedp.SendKeys(chromedp.CSS(`#prompt-`+f), fmt.Sprint(v)))
		}
		teacher.do("ask", chromedp.Click(chromedp.CSS(`[data-testid=prompt-send]`)))
	}
	ask("pool_switch", map[string]int{"layer": 1})
	teacher.waitFor("the refusal in the form", `document.getElementById('prompt-form-note').dataset.kind === 'error'`)
	if got := eval[string](teacher, `document.getElementById('prompt-form-note').textContent`); !strings.Contains(got, "layer 1 is relu 1") {
		t.Errorf("refusal %q, want it to name relu 1", got)
	}
	if !eval[bool](student, `document.querySelector('[data-testid=prompt]').hidden`) {
		t.Errorf("a refused prompt reached the student's page")
	}

	// Which cells of conv 1's input get no gradient? Rows and columns 2, 5,
	// 8 and 11: the student drags along each.
	ask("conv_reach", map[string]int{"layer": 0, "channel": 0})
	student.waitFor("the grid", `document.querySelectorAll('[data-testid=prompt-cell]:not([disabled])').length === 144`)
	cell := func(i int) (float64, float64) {
		r := rectOf(student, fmt.Sprintf(`[data-testid=prompt-cell][data-value="%d"]`, i))
		return r[0] + r[2]/2, r[1] + r[3]/2
	}
	student.do("see the grid", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid=prompt-cell][data-value="0"]`)))
	drag := func(cells []int) {
		x, y := cell(cells[0])
		steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y),
			chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1))}
		for _, c := range cells[1:] {
			x, y = cell(c)
			steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y, chromedp.ButtonLeft))
		}
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
		student.do("drag over cells", steps...)
	}
	for _, k := range []int{2, 5, 8, 11} {
		var row, col []int
		for j := range 12 {
			row, col = append(row, k*12+j), append(col, j*12+k)
		}
		drag(row)
		drag(col)
	}
	if n := eval[int](student, `document.querySelectorAll('[data-testid=prompt-cell][aria-pressed=true]').length`); n != 80 {
		t.Errorf("%d cells marked after the drags, want 80", n)
	}
	// a click without a pointerdown (assistive technology) toggles a cell;
	// a mouse click toggles it once
	pressed := func() string {
		return eval[string](student, `document.querySelector('[data-testid=prompt-cell][data-value="0"]').getAttribute('aria-pressed')`)
	}
	if eval[bool](student, `(document.querySelector('[data-testid=prompt-cell][data-value="0"]').click(), true)`); pressed() != "true" {
		t.Errorf("element.click() left cell 0 unmarked")
	}
	if x, y := cell(0); true {
		student.do("click cell 0", chromedp.MouseClickXY(x, y))
	}
	if pressed() != "false" {
		t.Errorf("a mouse click on a marked cell left it %s", pressed())
	}
	student.do("send", chromedp.Click(chromedp.CSS(`[data-testid=prompt-send-cells]`)))
	student.waitFor("counted", `/counted/.test(document.querySelector('[data-testid=prompt-status]').textContent)`)
	teacher.waitFor("one answer", `document.querySelector('[data-testid=prompt-tally]').dataset.answered === '1'`)
	teacher.do("reveal", chromedp.Click(chromedp.CSS(`[data-testid=prompt-reveal]`)))
	student.waitFor("the verdict", `document.querySelector('[data-testid=prompt-status]').dataset.result !== ''`)
	if got := eval[string](student, `document.querySelector('[data-testid=prompt-status]').dataset.result`); got != "right" {
		t.Errorf("the 80 uncovered cells marked: told %q, want right (%s)", got, eval[string](student, `document.querySelector('[data-testid=prompt-why]').textContent`))
	}
	// the projector hears the reveal on its own socket, perhaps after the student
	teacher.waitFor("the truth on the projector", `document.querySelectorAll('[data-testid=prompt-cell].truth').length > 0`)
	if n := eval[int](teacher, `document.querySelectorAll('[data-testid=prompt-cell].truth').length`); n != 80 {
		t.Errorf("the projector marks %d cells as the truth, want 80", n)
	}

	// Will W[1, 0, 1, 0] of conv 1 go up or down, and by how much?
	ask("weight_sign", map[string]int{"layer": 0, "channel": 1, "in": 0, "row": 1, "col": 0})
	student.waitFor("the new question", `document.querySelectorAll('[data-testid=prompt-sign]:not([disabled])').length === 3`)
	student.do("up", chromedp.Click(chromedp.CSS(`[data-testid=prompt-sign][data-value=up]`)))
	// a direction alone is not an answer: the page says a size is needed too
	student.waitFor("the size asked for", `/^Pick a size too/.test(document.querySelector('[data-testid=prompt-status]').textContent)`)
	student.do("size", chromedp.Click(chromedp.CSS(`[data-testid=prompt-size][data-value="1"]`)))
	student.waitFor("counted", `/counted/.test(document.querySelector('[data-testid=prompt-status]').textContent)`)
	teacher.waitFor("one answer", `document.querySelector('[data-testid=prompt-tally]').dataset.answered === '1'`)
	teacher.do("reveal", chromedp.Click(chromedp.CSS(`[data-testid=prompt-reveal]`)))
	student.waitFor("the verdict", `document.querySelector('[data-testid=prompt-status]').dataset.result !== ''`)
	sign := eval[string](student, `document.querySelector('[data-testid=prompt-sign].truth')?.dataset.value || ''`)
	size := eval[string](student, `document.querySelector('[data-testid=prompt-size].truth')?.dataset.value || ''`)
	want := map[bool]string{true: "right", false: "wrong"}[sign == "up" && size == "1"]
	if got := eval[string](student, `document.querySelector('[data-testid=prompt-status]').dataset.result`); got != want || sign == "" {
		t.Errorf("truth %q size %q, told %q, want %q", sign, size, got, want)
	}
	// the reveal runs the update; its frame reaches the projector on its own
	// socket, perhaps after the student's verdict
	teacher.waitFor("the update on the projector", `/update/.test(document.getElementById('phase').textContent)`)
	teacher.checkClean()
	student.checkClean()
}
