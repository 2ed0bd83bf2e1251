package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// TestPromptAnsweredOnDashboard: while a question is on the pages, the
// owner's dashboard says, live, which students answered it ("answered",
// "—" for not yet) and never what; after the reveal, who was right.
func TestPromptAnsweredOnDashboard(t *testing.T) {
	srv, base := startServerWith(t, server.Config{})
	room := createRoom(t, srv, "Who answered")
	teacher := openBrowser(t, 1366, 900)
	teacher.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	teacher.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	var students []*labPage
	for _, nick := range []string{"Ada", "Grace"} {
		s := isolatedTab(t, teacher)
		s.do("open the join page", chromedp.Navigate(base+"/join"))
		s.do("type the code", chromedp.SendKeys(chromedp.CSS(`#join-code`), room.Code))
		s.do("type a nickname", chromedp.SendKeys(chromedp.CSS(`#join-nick`), nick))
		s.do("join", chromedp.Click(chromedp.CSS(`[data-testid=join-submit]`)))
		waitAfterNavigation(s, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
		s.waitFor("the room's state", `/step 0$/.test(document.getElementById('phase').textContent)`)
		students = append(students, s)
	}
	teacher.waitFor("two students", `document.querySelectorAll('[data-testid=student-row]').length === 2`)
	answered := func(nick string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('[data-testid=student-row]')].find((r) => r.cells[0].textContent === %q)?.querySelector('[data-testid=student-answered]')?.textContent`, nick)
	}
	if got := eval[string](teacher, answered("Ada")+` ?? 'no cell'`); got != "" {
		t.Errorf("Ada's question cell before any question: %q, want empty", got)
	}

	// The teacher asks a choice question; nobody has answered it yet.
	teacher.do("open the form", chromedp.Click(chromedp.CSS(`[data-testid=prompt-ask] summary`)))
	eval[bool](teacher, `(() => { const k = document.getElementById('prompt-kind'); k.value = 'choice'; k.dispatchEvent(new Event('change')); return true; })()`)
	teacher.do("type the question", chromedp.SendKeys(chromedp.CSS(`#prompt-question`), "Does the loss go down?"))
	teacher.do("type the options", chromedp.SendKeys(chromedp.CSS(`#prompt-options`), "yes\nno"))
	teacher.do("ask", chromedp.Click(chromedp.CSS(`[data-testid=prompt-send]`)))
	teacher.waitFor("nobody answered", answered("Ada")+` === '—' && `+answered("Grace")+` === '—'`)

	// Ada answers: her row says so, Grace's does not, and the answer itself
	// is not on the teacher's dashboard.
	students[0].waitFor("the question", `document.querySelectorAll('[data-testid=prompt-choice]:not([disabled])').length === 2`)
	students[0].do("answer no", chromedp.Click(chromedp.CSS(`[data-testid=prompt-choice][data-value="1"]`)))
	students[0].waitFor("counted", `/counted/.test(document.querySelector('[data-testid=prompt-status]').textContent)`)
	teacher.waitFor("Ada answered", answered("Ada")+` === 'answered' && `+answered("Grace")+` === '—'`)
	if got := eval[string](teacher, `[...document.querySelectorAll('[data-testid=student-row]')].map((r) => r.textContent).join('|')`); strings.Contains(got, "yes") || strings.Contains(got, "no") {
		t.Errorf("the dashboard shows an answer: %q", got)
	}
	if n := eval[int](students[0], `document.querySelectorAll('[data-testid=student-answered], [data-testid=student-row]').length`); n != 0 {
		t.Errorf("a student's page shows the dashboard's rows")
	}

	// The reveal: Ada was wrong (the right option is the first).
	teacher.do("reveal", chromedp.Click(chromedp.CSS(`[data-testid=prompt-reveal]`)))
	teacher.waitFor("Ada wrong, Grace no answer", answered("Ada")+` === 'wrong' && `+answered("Grace")+` === '—'`)
	teacher.checkClean()
	for _, s := range students {
		s.checkClean()
	}
}
