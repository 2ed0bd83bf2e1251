package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// startServerWith starts the real server with cfg (shapes data sized for
// tests) on loopback; it is shut down when the test ends.
func startServerWith(t *testing.T, cfg server.Config) (*server.Server, string) {
	t.Helper()
	cfg.ShapesTrain, cfg.ShapesTest = 600, 200
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(cfg, log)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	return srv, ts.URL
}

// answerConfirms makes the page's confirmation questions answer yes, and
// records them in window.__confirms.
func answerConfirms(t *testing.T, p *labPage) {
	t.Helper()
	_, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__confirms = []; window.confirm = (q) => { window.__confirms.push(String(q)); return true; };`,
	})
	if err != nil {
		t.Fatalf("answer confirmations: %v", err)
	}
}

// teacherControls are the controls only a room's owner may use.
const teacherControls = `#play, #step-phase, #step-batch, #step-epoch, #speed, #seed, #reset, #data, #opt, #lr, #batch, #measure-test, #spec, #apply-spec, #undo`

// joinAs opens the join page in p, types code and joins the room.
func joinAs(p *labPage, base, code string) {
	p.t.Helper()
	p.do("open the join page", chromedp.Navigate(base+"/join"))
	p.do("type the code", chromedp.SendKeys(chromedp.CSS(`#join-code`), code))
	p.do("join", chromedp.Click(chromedp.CSS(`[data-testid=join-submit]`)))
	waitAfterNavigation(p, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
}

// TestOwnerOnLoopbackIsTold: a server listening on 127.0.0.1 tells the
// owner that students cannot reach the room, with the command to run.
func TestOwnerOnLoopbackIsTold(t *testing.T) {
	srv, base := startServerWith(t, server.Config{Addr: "127.0.0.1:8080"})
	room := createRoom(t, srv, "Loopback")
	p := openBrowser(t, 1280, 800)
	p.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	p.waitFor("the warning", `document.querySelector('[data-testid=room-unreachable]') !== null`)
	got := eval[string](p, `document.querySelector('[data-testid=room-unreachable]').textContent`)
	port := base[strings.LastIndex(base, ":")+1:]
	if !strings.Contains(got, "Students cannot reach this room") || !strings.Contains(got, "go run ./cmd/vizserver -addr 0.0.0.0:"+port+" -room 'Loopback'") {
		t.Errorf("owner's warning = %q", got)
	}
	if n := eval[int](p, `document.querySelectorAll('[data-testid=join-qr]').length`); n != 0 {
		t.Errorf("a QR code of a link students cannot open")
	}
	p.checkClean()
}

// TestClassroomTeacherAndStudents: a teacher and three students, each in
// a browser context of their own. The owner's page shows the join link on
// the machine's network address, a QR code big enough to project and the
// code in large type; a mistyped code gets the product's message; the
// students' pages have no teacher control at all (not even a disabled
// one); the teacher's reset asks for confirmation and undo brings back the
// step, the loss and the charts on every page; a fork offers only the
// speeds it allows and no Step epoch.
func TestClassroomTeacherAndStudents(t *testing.T) {
	links := server.NetworkLinks(":8080")
	if len(links) == 0 {
		t.Skip("this machine has no network address besides loopback")
	}
	srv, base := startServerWith(t, server.Config{Addr: ":0"})
	room := createRoom(t, srv, "Biology 3B")
	teacher := openBrowser(t, 1366, 900)
	answerConfirms(t, teacher)
	teacher.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	teacher.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)

	// Reaching the room.
	link := eval[string](teacher, `document.querySelector('[data-testid=join-link]').textContent`)
	host := strings.TrimPrefix(strings.Split(links[0], ":8080")[0], "http://")
	if !strings.Contains(link, host) || !strings.HasSuffix(link, "/r/"+room.Code) || strings.Contains(link, "127.0.0.1") {
		t.Errorf("join link %q, want one on %s", link, host)
	}
	teacher.do("show how to join", chromedp.Click(chromedp.CSS(`[data-testid=show-join]`)))
	teacher.waitFor("the QR code", `document.querySelector('[data-testid=join-qr]').complete && document.querySelector('[data-testid=join-qr]').naturalWidth > 0`)
	qr := eval[[]float64](teacher, `(() => { const q = document.querySelector('[data-testid=join-qr]'); const r = q.getBoundingClientRect(); return [q.naturalWidth, r.width]; })()`)
	if qr[0] < 400 || qr[1] < 300 {
		t.Errorf("QR code %v pixels, shown %v wide: want at least 400 and 300", qr[0], qr[1])
	}
	if got := eval[string](teacher, `document.querySelector('[data-testid=room-big-code]').textContent`); got != room.Code {
		t.Errorf("code in large type %q, want %q", got, room.Code)
	}
	if px := eval[float64](teacher, `parseFloat(getComputedStyle(document.querySelector('[data-testid=room-big-code]')).fontSize)`); px < 60 {
		t.Errorf("code in large type is %v px, want at least 60", px)
	}
	shot(teacher, "room-join.png")

	// A mistyped code: the product's own message, not the browser's.
	students := []*labPage{isolatedTab(t, teacher), isolatedTab(t, teacher), isolatedTab(t, teacher)}
	s0 := students[0]
	s0.do("open the join page", chromedp.Navigate(base+"/join"))
	s0.do("type a short code", chromedp.SendKeys(chromedp.CSS(`#join-code`), "AB1"))
	s0.do("join", chromedp.Click(chromedp.CSS(`[data-testid=join-submit]`)))
	waitAfterNavigation(s0, "the message", `document.querySelector('[data-testid=join-error]') !== null`)
	if got := eval[string](s0, `document.querySelector('[data-testid=join-error]').textContent`); !strings.Contains(got, "A join code is 6 characters") {
		t.Errorf("mistyped code: %q", got)
	}

	// Three students join; their pages show only what a viewer can use.
	for i, s := range students {
		joinAs(s, base, strings.ToLower(room.Code))
		s.waitFor("the room's state", `/step 0$/.test(document.getElementById('phase').textContent)`)
		if n := eval[int](s, fmt.Sprintf(`document.querySelectorAll(%q).length`, teacherControls)); n != 0 {
			t.Errorf("student %d's page has %d teacher controls", i, n)
		}
		if n := eval[int](s, `document.querySelectorAll('button:disabled, input:disabled, select:disabled, [aria-disabled=true]').length`); n != 0 {
			t.Errorf("student %d's page has %d disabled controls", i, n)
		}
		if n := eval[int](s, `document.querySelectorAll('#sample, #range, [data-testid=fork]').length`); n != 3 {
			t.Errorf("student %d's page lacks what a viewer uses (sample, colours, fork): %d of 3", i, n)
		}
	}
	teacher.waitFor("three students", `document.getElementById('room-viewers').textContent === '3'`)
	if n := eval[int](teacher, fmt.Sprintf(`document.querySelectorAll(%q).length`, teacherControls)); n < 14 {
		t.Errorf("teacher's page has %d of the controls, want them all", n)
	}

	// Two steps, then a reset the teacher confirms, then undo.
	teacher.click("step-batch")
	teacher.waitFor("step 1", `document.getElementById('step-count').textContent === '1'`)
	teacher.click("step-batch")
	for _, s := range students {
		s.waitFor("step 2", `document.getElementById('step-count').textContent === '2' && document.getElementById('loss-now').textContent !== '—'`)
	}
	loss := students[1].text("loss-now")
	points := eval[string](students[1], `document.getElementById('loss-chart').dataset.points`)
	if eval[bool](teacher, `!document.getElementById('undo').hidden`) {
		t.Errorf("undo offered before any change")
	}
	teacher.click("reset")
	if got := eval[[]string](teacher, `window.__confirms`); len(got) != 1 || !strings.Contains(got[0], "Reset the network on every screen") {
		t.Errorf("reset asked %q, want one confirmation", got)
	}
	for _, s := range students {
		s.waitFor("the reset", `document.getElementById('step-count').textContent === '0'`)
	}
	teacher.waitFor("undo offered", `!document.getElementById('undo').hidden`)
	teacher.do("undo", chromedp.Click(chromedp.CSS(`[data-testid=undo]`)))
	for _, s := range students {
		s.waitFor("the undo", `document.getElementById('step-count').textContent === '2'`)
		s.waitFor("the charts back", fmt.Sprintf(`document.getElementById('loss-chart').dataset.points === %q`, points))
		if got := s.text("loss-now"); got != loss {
			t.Errorf("loss after undo %q, want %q as before the reset", got, loss)
		}
	}
	teacher.waitFor("nothing left to undo", `document.getElementById('undo').hidden`)

	// A fork offers only what it allows.
	f := students[2]
	f.do("fork", chromedp.Click(chromedp.CSS(`[data-testid=fork]`)))
	waitAfterNavigation(f, "the fork's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'fork'`)
	f.waitFor("the fork's state", `/step 2$/.test(document.getElementById('phase').textContent)`)
	if n := eval[int](f, `document.querySelectorAll('#step-epoch').length`); n != 0 {
		t.Errorf("fork's page offers Step epoch, which a fork refuses")
	}
	speeds := eval[[]string](f, `[...document.querySelectorAll('#speed option')].map((o) => o.value)`)
	const layers = 7 // the default network's (the room's)
	for _, v := range speeds {
		var unit string
		var rate float64
		fmt.Sscanf(strings.Replace(v, ":", " ", 1), "%s %g", &unit, &rate)
		steps := rate
		if unit == "phase" {
			steps = rate / float64(2*layers+2)
		}
		if rate == 0 || steps > 5 {
			t.Errorf("fork offers speed %q, beyond its 5 steps per second", v)
		}
	}
	if len(speeds) == 0 {
		t.Errorf("fork offers no speed")
	}
	teacher.checkClean()
	for _, s := range students {
		s.checkClean()
	}
}

// TestTabsBeyondTheLimit: with two labs allowed per address, a third page
// (each in a browser context of its own, all from one address) is
// told once, plainly, and offered to start again; it does not reconnect,
// and no tab's session is evicted by another's.
func TestTabsBeyondTheLimit(t *testing.T) {
	_, base := startServerWith(t, server.Config{MaxSessionsPerAddr: 2})
	first := openBrowser(t, 1024, 768)
	tabs := []*labPage{first}
	for range 2 {
		tabs = append(tabs, isolatedTab(t, first)) // from the same network address
	}
	for _, p := range tabs[:2] {
		p.do("open the lab", chromedp.Navigate(base+"/?data=shapes"))
		p.waitFor("the lab's state", `/step 0$/.test(document.getElementById('phase').textContent)`)
		p.click("step-batch")
		p.waitFor("its step", `document.getElementById('step-count').textContent === '1'`)
	}
	third := tabs[2]
	third.do("open a third lab", chromedp.Navigate(base+"/?data=shapes"))
	third.waitFor("the refusal", `!document.getElementById('alert-box').hidden`)
	if got := third.text("alert"); !strings.Contains(got, "labs") && !strings.Contains(got, "sessions") {
		t.Errorf("third tab's message %q", got)
	}
	third.waitFor("start again offered, and the link closed", `!document.getElementById('alert-restart').hidden && document.getElementById('conn').textContent === 'closed'`)
	// The first two tabs keep their sessions: each still answers at its step.
	for _, p := range tabs[:2] {
		p.click("step-batch")
		p.waitFor("its next step", `document.getElementById('step-count').textContent === '2'`)
		if got := p.text("conn"); got != "connected" {
			t.Errorf("a first tab's connection: %q", got)
		}
	}
	metrics := eval[string](first, fmt.Sprintf(`fetch(%q).then((r) => r.text())`, base+"/metrics"))
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "bpv_sessions_evicted_total ") && line != "bpv_sessions_evicted_total 0" {
			t.Errorf("%s: a tab evicted another's session", line)
		}
	}
	if got := third.text("alert"); strings.Count(got, ".") > 3 {
		t.Errorf("the refusal is said more than once: %q", got)
	}
}

// TestDashboardInBrowser: three students join with nicknames (one without);
// the teacher's dashboard lists them, folded until the teacher opens it
// (the page shows the count, no name), and no student's page shows
// another's name; a student's fork shows on the dashboard; "bring everyone back",
// "lock forking" and "remove" act on the students' pages (the time each
// took, from the teacher's click to the student's page, is reported).
func TestDashboardInBrowser(t *testing.T) {
	srv, base := startServerWith(t, server.Config{})
	room := createRoom(t, srv, "Dashboard")
	teacher := openBrowser(t, 1366, 900)
	teacher.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	teacher.waitFor("the dashboard", `document.querySelector('[data-testid=dashboard]') !== null`)
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
		students = append(students, s)
	}
	teacher.waitFor("three rows", `document.querySelectorAll('[data-testid=student-row]').length === 3`)
	names := eval[[]string](teacher, `[...document.querySelectorAll('[data-testid=student-row]')].map((r) => r.cells[0].textContent + '|' + r.dataset.status)`)
	want := []string{"Ada|watching", "Grace|watching", "student 3|watching"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("dashboard rows %q, want %q", names, want)
	}
	// folded until the teacher opens it: a projected page shows the count,
	// no student's name
	if eval[bool](teacher, `document.querySelector('[data-testid=dashboard]').open`) {
		t.Errorf("the dashboard opens unfolded")
	}
	if shown := eval[string](teacher, `document.body.innerText`); strings.Contains(shown, "Ada") || !strings.Contains(shown, "class: 3 students") {
		t.Errorf("folded, the teacher's page shows %q of the class", shown[:min(len(shown), 300)])
	}
	teacher.do("open the class's table", chromedp.Click(chromedp.CSS(`[data-testid=dashboard] summary`)))
	teacher.waitFor("the names shown", `document.body.innerText.includes('Grace')`)
	for i, s := range students {
		if n := eval[int](s, `document.querySelectorAll('[data-testid=dashboard], [data-testid=student-row]').length`); n != 0 {
			t.Errorf("student %d's page has the dashboard", i)
		}
		body := eval[string](s, `document.body.innerText`)
		for j, nick := range nicks {
			if j != i && nick != "" && strings.Contains(body, nick) {
				t.Errorf("student %d's page shows %q", i, nick)
			}
		}
	}

	// Ada forks and steps: her row says so, with her fork's step.
	ada := students[0]
	ada.do("fork", chromedp.Click(chromedp.CSS(`[data-testid=fork]`)))
	waitAfterNavigation(ada, "the fork's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'fork'`)
	ada.waitFor("the fork's state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	ada.click("step-batch")
	teacher.waitFor("Ada in her fork at step 1", `(() => { const r = document.querySelector('[data-testid=student-row]'); return r.dataset.status === 'fork' && r.cells[2].textContent === '1'; })()`)

	// Bring everyone back.
	// Times are read from the pages' clocks (one machine): the click's
	// Date.now() in the teacher's page, and in a student's page when it
	// acted (its navigation started, a button went).
	clicked := eval[float64](teacher, `(() => { const t = Date.now(); document.querySelector('[data-testid=bring-back]').click(); return t; })()`)
	waitAfterNavigation(ada, "Ada back in the room", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
	acted := eval[float64](ada, `performance.timeOrigin`)
	t.Logf("bring everyone back: the student's page left its fork %.0f ms after the teacher's click", acted-clicked)
	ada.waitFor("the reason said", `document.getElementById('alert').textContent.includes('brought everyone back')`)

	// Lock forking: the Fork button goes from every student's page.
	for _, s := range students {
		eval[bool](s, `(() => { window.__goneAt = 0; const f = document.querySelector('[data-testid=fork]').closest('form');
			new MutationObserver(() => { if (f.hidden && !window.__goneAt) window.__goneAt = Date.now(); }).observe(f, { attributes: true }); return true; })()`)
	}
	clicked = eval[float64](teacher, `(() => { const t = Date.now(); document.querySelector('[data-testid=lock-forks]').click(); return t; })()`)
	var last float64
	for _, s := range students {
		s.waitFor("no fork button", `window.__goneAt > 0`)
		last = max(last, eval[float64](s, `window.__goneAt`))
	}
	t.Logf("lock forking: the Fork button went from the last of 3 students' pages %.0f ms after the teacher's click", last-clicked)
	teacher.waitFor("the button says allow", `document.querySelector('[data-testid=lock-forks]').textContent === 'Allow forking'`)

	// Remove Grace: her page says so and stays closed.
	eval[bool](students[1], `(() => { window.__toldAt = 0; const a = document.getElementById('alert');
		new MutationObserver(() => { if (a.textContent.includes('removed you') && !window.__toldAt) window.__toldAt = Date.now(); }).observe(a, { childList: true, characterData: true, subtree: true }); return true; })()`)
	clicked = eval[float64](teacher, `(() => { const t = Date.now(); document.querySelector('[data-student] + [data-student] [data-testid=remove-student]').click(); return t; })()`)
	students[1].waitFor("the removal", `window.__toldAt > 0`)
	t.Logf("remove a student: the student's page said so %.0f ms after the teacher's click", eval[float64](students[1], `window.__toldAt`)-clicked)
	teacher.waitFor("two rows", `document.querySelectorAll('[data-testid=student-row]').length === 2`)
	students[1].waitFor("the link closed", `document.getElementById('conn').textContent === 'closed'`)
	teacher.checkClean()
	ada.checkClean()
}
