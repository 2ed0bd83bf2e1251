package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestExplainRoomLook: in a room, the teacher drills into a cell and shows
// it to everyone: the student's page opens the same drill-down with the
// same total. The student drills down and runs a gradient check of their
// own (private questions).
func TestExplainRoomLook(t *testing.T) {
	srv, base := startServer(t)
	room := createRoom(t, srv, "look")
	owner := openBrowser(t, 1280, 720)
	owner.do("a 1280×720 screen", chromedp.EmulateViewport(1280, 720))
	owner.do("open the room as its owner", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	owner.waitFor("the owner's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'owner' && /step 0$/.test(document.getElementById('phase').textContent)`)
	student := isolatedTab(t, owner)
	student.do("a 1280×720 screen", chromedp.EmulateViewport(1280, 720))
	student.do("open the room as a student", chromedp.Navigate(base+"/r/"+room.Code))
	student.waitFor("the student's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer' && /step 0$/.test(document.getElementById('phase').textContent)`)
	if !eval[bool](student, `document.getElementById('explain').hidden`) {
		t.Fatal("the student's drill-down is open before anything was shown")
	}

	owner.click("step-batch")
	student.waitFor("the teacher's step", `document.getElementById('step-count').textContent === '1'`)
	owner.waitFor("the step", `document.getElementById('step-count').textContent === '1'`)

	// the teacher drills into a dL/dX cell of conv 2 and shows it to everyone
	owner.do("open the focus view", chromedp.Click(chromedp.CSS(`[data-testid=focus-3]`)))
	owner.waitFor("the focus view", `document.getElementById('focus').dataset.layer === '3' && !!document.querySelector('#focus canvas[data-focus=dX]')`)
	x, y := cellPoint(owner, `#focus canvas[data-focus=dX]`, 5, 9)
	total, _ := drill(owner, x, y)
	index := eval[string](owner, `document.getElementById('explain').dataset.index`)
	owner.waitFor("the look button", `!document.querySelector('[data-testid=explain-look]').hidden`)
	owner.do("show this cell to everyone", chromedp.Click(chromedp.CSS(`[data-testid=explain-look]`)))
	student.waitFor("the teacher's cell", `(() => { const e = document.getElementById('explain'); return !e.hidden && e.dataset.state === 'answered' && e.dataset.tensor === 'dX' && e.dataset.index === `+strconv.Quote(index)+`; })()`)
	if got := eval[string](student, `document.querySelector('[data-testid=explain-total]').textContent`); got != total {
		t.Errorf("student's drill-down total %q, the teacher's %q", got, total)
	}
	if !eval[bool](student, `document.querySelector('[data-testid=explain-look]').hidden`) {
		t.Error("the student's page offers to show the cell to everyone")
	}

	// after the update: a cell of ΔW and of b, each the tooltip's value
	for _, sel := range []string{`#focus canvas[data-focus=dWu].map[data-testid=focus-param]`, `#focus canvas[data-focus=W][data-testid=focus-bias]`} {
		owner.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
		x, y := cellPoint(owner, sel, 0, 2)
		tip := hoverTip(owner, x, y)
		total, _ := drill(owner, x, y)
		if total != tip[0] {
			t.Errorf("%s: explain-total %q, tooltip %q", sel, total, tip[0])
		}
		time.Sleep(110 * time.Millisecond)
	}

	// the student's own questions: the focus view of every layer (and the
	// loss), a drill-down of its Y and δ, and a gradient check
	student.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
	student.do("open the focus view with F", chromedp.KeyEvent("f"))
	student.waitFor("the focus view", `!document.getElementById('focus').hidden`)
	targets := eval[[]string](student, `[...document.getElementById('focus-layer').options].map(o => o.value + ' ' + o.textContent)`)
	for _, tg := range targets {
		v, name, _ := strings.Cut(tg, " ")
		student.do("pick "+name, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('focus-layer'); s.value = `+strconv.Quote(v)+`; s.dispatchEvent(new Event('change')); })()`))
		keys := []string{"Y", "dY"}
		if name == "loss" {
			keys = []string{"p", "dz"}
		}
		for _, key := range keys {
			sel := `#focus canvas.map[data-focus=` + key + `]`
			student.waitFor(name+" "+key+" drawn", `document.getElementById('focus').dataset.layer === `+strconv.Quote(v)+` && (() => { const c = document.querySelector(`+strconv.Quote(sel)+`); if (!c) return false; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (!(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244) && !(d[i] === 255 && d[i + 1] === 255 && d[i + 2] === 255)) return true; return false; })()`)
			x, y := cellPoint(student, sel, 0, 0)
			tip := hoverTip(student, x, y)
			total, _ := drill(student, x, y)
			if total != tip[0] {
				t.Errorf("%s %s: explain-total %q, tooltip %q", name, key, total, tip[0])
			}
			student.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
			time.Sleep(110 * time.Millisecond) // within the server's 10 questions a second
		}
	}
	student.do("explain the loss", chromedp.Click(chromedp.CSS(`[data-testid=explain-loss]`)))
	student.waitFor("the loss explained", `(() => { const e = document.getElementById('explain'); return !e.hidden && e.dataset.state === 'answered' && e.dataset.tensor === 'loss'; })()`)
	student.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
	student.do("pick conv 1", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('focus-layer'); s.value = '0'; s.dispatchEvent(new Event('change')); })()`))
	student.waitFor("conv 1", `document.getElementById('focus').dataset.layer === '0' && !!document.querySelector('#focus canvas[data-focus=W].map')`)
	x, y = cellPoint(student, `#focus canvas[data-focus=W].map[data-testid=focus-param]`, 2, 2)
	drill(student, x, y)
	student.waitFor("the gradient check offered", `!document.querySelector('[data-testid=gradcheck]').hidden`)
	student.click("gradcheck-run")
	student.waitFor("the check", `document.querySelector('[data-testid=gradcheck]').dataset.state === 'done'`)
	t.Logf("student's gradient check of conv 1 W[0,0,2,2]: numeric %s, backprop %s, relative error %s",
		student.text("gradcheck-numeric"), student.text("gradcheck-analytic"), student.text("gradcheck-relerr"))
	if owner.text("step-count") != "1" {
		t.Errorf("the room moved to step %s after the student's questions", owner.text("step-count"))
	}

	// while the room plays, a gradient check is refused: pause to check
	owner.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
	x, y = cellPoint(owner, `#focus canvas[data-focus=W].map[data-testid=focus-param]`, 1, 1)
	drill(owner, x, y)
	owner.do("play", chromedp.Evaluate[chromedp.Void](`document.getElementById('play').click()`))
	owner.waitFor("playing", `document.getElementById('play').getAttribute('aria-pressed') === 'true'`)
	owner.click("gradcheck-run")
	owner.waitFor("the refusal", `document.querySelector('[data-testid=gradcheck]').dataset.state === 'playing'`)
	if got := owner.text("gradcheck-status"); !strings.HasPrefix(got, "Pause to check") {
		t.Errorf("gradient check while playing: %q, want \"Pause to check …\"", got)
	}
	owner.do("pause", chromedp.Evaluate[chromedp.Void](`document.getElementById('play').click()`))
	owner.waitFor("paused", `document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
	owner.checkClean()
	student.checkClean()
}
