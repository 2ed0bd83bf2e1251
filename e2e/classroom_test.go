package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// createRoom opens a room with the default lab settings, as POST /rooms
// does.
func createRoom(t *testing.T, srv *server.Server, name string) *server.Room {
	t.Helper()
	room, err := srv.CreateRoom(name, server.DefaultLabParams())
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return room
}

// isolatedTab opens a tab of p's browser in a new browser context: its own
// cookies, like another person's laptop.
func isolatedTab(t *testing.T, p *labPage) *labPage {
	t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	q := &labPage{t: t, ctx: ctx, exceptions: make(chan string, 16)}
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
	})
	if err != nil {
		t.Fatalf("add CSP listener: %v", err)
	}
	return q
}

// TestClassroomInBrowser: a teacher creates a room from the join page; a
// student joins it with the code in another browser context; the teacher's
// step appears in the student's page, which has no teacher's control, and
// the teacher's page counts the student.
func TestClassroomInBrowser(t *testing.T) {
	base := startLab(t)
	teacher := openBrowser(t, 1366, 768)
	teacher.do("open the join page", chromedp.Navigate(base+"/join"))
	teacher.do("name a room", chromedp.SendKeys(chromedp.CSS(`#room-name`), `Biology <3B>`))
	teacher.do("create it", chromedp.Click(chromedp.CSS(`[data-testid=room-create]`)))
	waitAfterNavigation(teacher, "the owner page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'owner'`)
	teacher.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	code := teacher.text("room-code")
	if got := teacher.text("room-title"); got != "Biology <3B>" {
		t.Errorf("room name shown %q, want it as typed (escaped in the HTML)", got)
	}

	student := isolatedTab(t, teacher)
	student.do("open the join page", chromedp.Navigate(base+"/join"))
	student.do("type the code", chromedp.SendKeys(chromedp.CSS(`#join-code`), strings.ToLower(code)))
	student.do("join", chromedp.Click(chromedp.CSS(`[data-testid=join-submit]`)))
	waitAfterNavigation(student, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
	student.waitFor("the room's state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	// a student's page opens drawn: conv 1's feature maps of the probe
	// image, before the teacher has stepped
	student.waitFor("conv 1's first feature map drawn on the student's page", fmt.Sprintf(`%s(%q)`, colouredJS, mapSel(0, "act-map", 0)))
	teacher.waitFor("one student counted", `document.getElementById('room-viewers').textContent === '1'`)
	if got := eval[string](teacher, `document.querySelector("[data-testid=room-role]").textContent`); !strings.HasSuffix(got, "1 student watching") {
		t.Errorf("owner's bar = %q, want it to end in \"1 student watching\"", got)
	}

	// The teacher's step reaches the student's page.
	teacher.click("step-batch")
	student.waitFor("the teacher's step", `document.getElementById('step-count').textContent === '1'`)

	// The student's page offers no control only the teacher may use.
	if n := eval[int](student, `document.querySelectorAll('#play, #step-phase, #step-batch, #reset, #lr, #spec').length`); n != 0 {
		t.Errorf("student's page has %d of the teacher's controls", n)
	}
	if got := teacher.text("step-count"); got != "1" {
		t.Errorf("room at step %s, want 1", got)
	}

	// The student forks the room at step 1: the fork's page starts before
	// the first phase of its next step, and its charts say where they start
	// unless the server sent the room's history.
	student.do("fork", chromedp.Click(chromedp.CSS(`[data-testid=fork]`)))
	waitAfterNavigation(student, "the fork's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'fork'`)
	student.waitFor("the fork's state", `/step 1$/.test(document.getElementById('phase').textContent)`)
	student.waitFor("the sample caption", `document.querySelector('.sample-info').textContent !== ''`)
	// a fork opens drawn: the probe image's forward pass until its first batch
	student.waitFor("conv 1's first feature map drawn in the fork", fmt.Sprintf(`%s(%q)`, colouredJS, mapSel(0, "act-map", 0)))
	if got := eval[string](student, `document.querySelector('.sample-info').textContent`); !strings.HasPrefix(got, "no batch yet") && !strings.HasPrefix(got, "probe image") {
		t.Errorf("fork's sample caption = %q, want \"no batch yet …\" or the probe image's", got)
	}
	student.waitFor("the charts' history or a note", `Number(document.getElementById('loss-chart').dataset.points) > 0 || !document.getElementById('chart-note').hidden`)
	if eval[int](student, `Number(document.getElementById('loss-chart').dataset.points)`) == 0 {
		if got := student.text("chart-note"); !strings.Contains(got, "before step 1") {
			t.Errorf("fork's chart note = %q, want it to say the charts start after step 1", got)
		}
	}

	// A wrong code is rejected on the join page with a message.
	student.do("open the join page", chromedp.Navigate(base+"/join"))
	student.do("type a wrong code", chromedp.SendKeys(chromedp.CSS(`#join-code`), wrongCode(code)))
	student.do("join", chromedp.Click(chromedp.CSS(`[data-testid=join-submit]`)))
	waitAfterNavigation(student, "the message", `document.querySelector('[data-testid=join-error]') !== null`)
	if got := eval[string](student, `document.querySelector('[data-testid=join-error]').textContent`); !strings.Contains(got, "No room has this code") {
		t.Errorf("join error = %q", got)
	}
	// a wrong code is an answer, not a missing page (no error in the console)
	if got := eval[int](student, `performance.getEntriesByType('navigation')[0].responseStatus`); got != 200 {
		t.Errorf("join page for a wrong code: status %d, want 200", got)
	}
	teacher.checkClean()
	student.checkClean()
}

// waitAfterNavigation polls a JavaScript condition across a navigation the
// last action started (evaluation fails while the old page goes away).
func waitAfterNavigation(p *labPage, what, cond string) {
	p.t.Helper()
	var last error
	for range 500 {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		// the new document parsed (not only its first elements), then cond
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState !== 'loading' && (`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("waiting for %s (%s): %v; page %s", what, cond, last, eval[string](p, `location.href + ' conn: ' + document.getElementById('conn')?.textContent +
		', alert: ' + (document.getElementById('alert-box')?.hidden ? 'hidden' : document.getElementById('alert')?.textContent) + ', step: ' + document.getElementById('step-count')?.textContent`))
}

// wrongCode is a well-formed code other than code.
func wrongCode(code string) string {
	if code == "222222" {
		return "333333"
	}
	return "222222"
}

// TestRoomShutdownMessage: a student watching a room is told, when the
// server shuts down, that the server closed the room (not "the lab").
func TestRoomShutdownMessage(t *testing.T) {
	srv, base := startServer(t)
	room := createRoom(t, srv, "shutdown")
	p := openBrowser(t, 1024, 768)
	p.do("open the room as a student", chromedp.Navigate(base+"/r/"+room.Code))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.waitFor("the student counted", `document.getElementById('room-viewers').textContent === '1'`)
	if got := eval[string](p, `document.querySelector("[data-testid=room-role]").textContent`); !strings.HasSuffix(got, "1 student watching") {
		t.Errorf("student's bar = %q, want it to end in \"1 student watching\"", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	p.waitFor("the goodbye", `!document.getElementById('alert-box').hidden`)
	if got := p.text("alert"); !strings.HasPrefix(got, "The server closed the room: ") {
		t.Errorf("alert after shutdown = %q, want \"The server closed the room: …\"", got)
	}
	p.checkClean()
}
