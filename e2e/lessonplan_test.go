package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestRoomFromLessonInBrowser: a teacher creates a room from an embedded
// lesson on the join page; the owner's page shows the lesson's title and
// its prompts in order, and an Ask button hands its prompt to the page as a
// "lesson-prompt" event, which asks the class: the room pauses before the
// phase that answers it, a student joining then answers and is told after
// the reveal; a student's page shows none of the panel, the dashboard
// counts "1 student", and the student's fork offers only the lesson's
// controls (stepping), which work.
func TestRoomFromLessonInBrowser(t *testing.T) {
	base := startLab(t)
	teacher := openBrowser(t, 1366, 900)
	teacher.do("open the join page", chromedp.Navigate(base+"/join"))
	teacher.do("choose a lesson", chromedp.SetValue(chromedp.CSS(`[data-testid=room-lesson]`), "conv-pool-backward"))
	teacher.do("create the room", chromedp.Click(chromedp.CSS(`[data-testid=room-create]`)))
	waitAfterNavigation(teacher, "the owner page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'owner'`)
	teacher.waitFor("the model's step", `/step 60$/.test(document.getElementById('phase').textContent)`)
	const title = "One backward step through conv and max-pool"
	if got := teacher.text("room-title"); got != title {
		t.Errorf("room title %q, want the lesson's %q", got, title)
	}
	if got := eval[string](teacher, `document.querySelector('[data-testid=lesson-title]').textContent`); got != title {
		t.Errorf("lesson title %q, want %q", got, title)
	}
	kinds := eval[string](teacher, `[...document.querySelectorAll('[data-testid=lesson-prompt]')].map((li) => li.dataset.kind + ':' + li.dataset.promptIndex).join(' ')`)
	if kinds != "class:0 pool_switch:1 choice:2 conv_reach:3 weight_sign:4" {
		t.Errorf("prompts shown %q, want the lesson's five in order", kinds)
	}
	if q := eval[string](teacher, `document.querySelector('[data-testid=lesson-prompt][data-prompt-index="1"]').textContent`); !strings.Contains(q, "2×2 window") || !strings.Contains(q, "maxpool 1, channel 0, window at row 3, column 3") {
		t.Errorf("prompt 1 reads %q", q)
	}

	shot(teacher, "lesson-owner.png")
	if top := eval[float64](teacher, `document.querySelector('.topbar').getBoundingClientRect().top`); top > 900 {
		t.Errorf("the owner's lab starts at y %.0f, below the first screen", top)
	}
	// Ask hands the prompt to the page, as the lesson gives it.
	eval[bool](teacher, `(window.__asked = [], document.addEventListener('lesson-prompt', (e) => window.__asked.push(e.detail)), true)`)
	teacher.do("ask prompt 1", chromedp.Click(chromedp.CSS(`[data-testid=lesson-ask][data-prompt-index="1"]`)))
	teacher.waitFor("the lesson-prompt event", `window.__asked.length === 1`)
	if got := eval[string](teacher, `JSON.stringify(window.__asked[0])`); got != `{"index":1,"spec":{"kind":"pool_switch","question":"Which cell of this 2×2 window of the ReLU's feature map receives the gradient?","layer":2,"row":3,"col":3}}` {
		t.Errorf("lesson-prompt detail %s", got)
	}
	if got := eval[string](teacher, `document.querySelector('[aria-current=step]')?.dataset.promptIndex || ''`); got != "1" {
		t.Errorf("current prompt %q, want 1", got)
	}

	// ... and the class is asked it: the room pauses before the phase that
	// answers it, the projector shows the lesson's words.
	teacher.waitFor("the lesson's question on the projector", `(() => { const c = document.querySelector('[data-testid=prompt]'); return !c.hidden && c.dataset.kind === 'pool_switch' && c.textContent.includes('2×2 window of the ReLU'); })()`)
	teacher.waitFor("the room paused before the backward phase", `document.getElementById('next-phase').textContent === 'next: backward · maxpool 1'`)

	// A student sees the room and the question asked, not the lesson's
	// plan, and is counted.
	student := isolatedTab(t, teacher)
	joinAs(student, base, teacher.text("room-code"))
	student.waitFor("the room's state", `/step 60$/.test(document.getElementById('phase').textContent)`)
	student.waitFor("the lesson's question", `(() => { const c = document.querySelector('[data-testid=prompt]'); return !c.hidden && c.textContent.includes('2×2 window of the ReLU') && c.querySelectorAll('[data-testid=prompt-choice]').length === 4; })()`)
	// asked first, it is still the lesson's second question
	for _, p := range []*labPage{teacher, student} {
		if got := eval[string](p, `document.getElementById('prompt-number').textContent`); got != "Question 2 of 5:" {
			t.Errorf("the card numbers the lesson's second question %q, want \"Question 2 of 5:\"", got)
		}
	}
	student.do("answer", chromedp.Click(chromedp.CSS(`[data-testid=prompt-choice][data-value="0"]:not([disabled])`)))
	teacher.waitFor("the answer in the tally", `document.querySelector('[data-testid=prompt-tally]').dataset.answered === '1'`)
	teacher.do("reveal", chromedp.Click(chromedp.CSS(`[data-testid=prompt-reveal]`)))
	student.waitFor("the verdict", `['right', 'wrong'].includes(document.querySelector('[data-testid=prompt-status]').dataset.result)`)
	if n := eval[int](student, `document.querySelectorAll('[data-testid=lesson], [data-testid=lesson-ask]').length`); n != 0 {
		t.Errorf("student's page shows %d parts of the lesson panel", n)
	}
	teacher.waitFor("the dashboard's count", `document.getElementById('dash-count').textContent === '1'`)
	if got := eval[string](teacher, `document.querySelector('.dashboard summary').textContent`); got != "class: 1 student" {
		t.Errorf("dashboard summary %q, want \"class: 1 student\"", got)
	}

	// The student's fork offers only stepping, and stepping works.
	student.do("fork", chromedp.Click(chromedp.CSS(`[data-testid=fork]`)))
	waitAfterNavigation(student, "the fork's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'fork'`)
	student.waitFor("the fork's state", `/step 60$/.test(document.getElementById('phase').textContent)`)
	if n := eval[int](student, `document.querySelectorAll('#play, #speed, #step-epoch, #reset, #seed, #data, #opt, #lr, #batch, #spec, #apply-spec').length`); n != 0 {
		t.Errorf("the fork's page offers %d controls the lesson does not give", n)
	}
	student.click("step-batch")
	student.waitFor("the fork's step", `document.getElementById('step-count').textContent === '61'`)
	teacher.checkClean()
	student.checkClean()
}
