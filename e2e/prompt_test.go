package e2e

import (
	"fmt"
	"strings"
	"testing"

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
