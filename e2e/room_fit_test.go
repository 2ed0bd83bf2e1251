package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// askClass asks the room's class, from the owner's page p, a question of
// the kind "class" with the words q, and waits for its card and for the
// form to fold.
func askClass(p *labPage, q string) {
	p.t.Helper()
	p.do("open the form", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=prompt-ask]').open = true`))
	eval[bool](p, `(() => { const k = document.getElementById('prompt-kind'); k.value = 'class'; k.dispatchEvent(new Event('change')); return true; })()`)
	p.do("type the question", chromedp.SetValue(chromedp.CSS(`#prompt-question`), q))
	p.do("ask", chromedp.Click(chromedp.CSS(`[data-testid=prompt-send]`)))
	p.waitFor("the question's card", fmt.Sprintf(`(() => { const c = document.querySelector('[data-testid=prompt]'); return !c.hidden && c.textContent.includes(%q); })()`, q))
	// asked, the form folds back into its line: the card takes over
	p.waitFor("the form folded", `!document.querySelector('[data-testid=prompt-ask]').open`)
}

// TestRoomPagesFitAPhone (390×844, touch): the owner's and a student's
// room pages, with students listed and a question open, never scroll
// sideways; the question's card, the class's table and its controls stay
// inside the screen; the student's "?" keeps its own size.
func TestRoomPagesFitAPhone(t *testing.T) {
	srv, base := startServerWith(t, server.Config{})
	room := createRoom(t, srv, "Phones")
	desk := openBrowser(t, 1280, 720)
	owner := device(t, desk, 390, 844, true)
	owner.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	owner.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	var students []*labPage
	for _, nick := range []string{"Ada Lovelace-Byron", "Grace Brewster Murray Hopper"} {
		s := device(t, desk, 390, 844, true)
		s.do("open the join page", chromedp.Navigate(base+"/join"))
		if r := rectOf(s, ".join h1"); r[2] < 50 || r[3] < 10 {
			t.Errorf("the join page's heading on a phone is %.0f×%.0f px: hidden", r[2], r[3])
		}
		s.do("type the code", chromedp.SendKeys(chromedp.CSS(`#join-code`), room.Code))
		s.do("type a nickname", chromedp.SendKeys(chromedp.CSS(`#join-nick`), nick))
		s.do("join", chromedp.Click(chromedp.CSS(`[data-testid=join-submit]`)))
		waitAfterNavigation(s, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
		s.waitFor("the room's state", `/step 0$/.test(document.getElementById('phase').textContent)`)
		students = append(students, s)
	}
	owner.waitFor("two students listed", `document.querySelectorAll('[data-testid=student-row]').length === 2`)
	owner.do("open the class's table", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details.dashboard').forEach((d) => d.open = true)`))
	askClass(owner, "Which class is the image on the screen?")
	students[0].waitFor("the question", `!document.querySelector('[data-testid=prompt]').hidden`)

	for _, pg := range []struct {
		p    *labPage
		role string
	}{{owner, "owner"}, {students[0], "student"}} {
		where := "the " + pg.role + "'s room page at 390×844"
		pageFits(t, pg.p, where)
		if sw := eval[int](pg.p, `document.documentElement.scrollWidth`); sw > 390 {
			wide := eval[[]string](pg.p, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.strip-wrap')).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`)
			t.Errorf("%s: document.documentElement.scrollWidth %d > 390 (wider: %v)", where, sw, wide)
		}
		if r := rectOf(pg.p, "[data-testid=prompt]"); r[0] < 0 || r[0]+r[2] > 390 {
			t.Errorf("%s: the question's card spans x %.0f…%.0f", where, r[0], r[0]+r[2])
		}
		shot(pg.p, "room-phone-"+pg.role+".png")
	}
	// the class's table may be wider than a phone: it scrolls in its own box
	for _, sel := range []string{"[data-testid=dashboard]", ".dash-table"} {
		if n := eval[int](owner, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n == 0 {
			continue
		}
		if r := rectOf(owner, sel); r[0] < 0 || r[0]+r[2] > 390 {
			t.Errorf("the owner's %s spans x %.0f…%.0f on a 390 px screen", sel, r[0], r[0]+r[2])
		}
	}
	if ok := eval[bool](owner, `(() => { const t = document.querySelector('.dash-table'); return t.scrollWidth <= t.clientWidth || getComputedStyle(t).overflowX === 'auto'; })()`); !ok {
		t.Errorf("the owner's class table is wider than its box and does not scroll")
	}

	// a viewer has no run buttons: the "?" keeps its own size, on a phone
	// and on wider screens
	if r := rectOf(students[0], "#keys-open"); r[2] > 60 {
		t.Errorf("390×844: the student's \"?\" button is %.0f px wide, want its own size", r[2])
	}
	for _, w := range []int64{1440, 1366, 1024} {
		s := device(t, desk, w, 900, false)
		s.do("open the room", chromedp.Navigate(base+"/r/"+room.Code))
		waitAfterNavigation(s, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
		if r := rectOf(s, "#keys-open"); r[2] > 60 || r[3] > 60 {
			t.Errorf("%d×900: the student's \"?\" button is %.0f×%.0f px, want its own size", w, r[2], r[3])
		}
	}
	owner.checkClean()
	students[0].checkClean()
}

// TestQuestionCardMinimizes (1440×900, the projector): the owner's question
// card, over the maps, is made small with a click: what it still covers of
// the dense and loss columns shrinks to its heading's bar, Reveal stays on
// it and works; Show brings the whole card back, and a new question is
// shown whole.
func TestQuestionCardMinimizes(t *testing.T) {
	srv, base := startServerWith(t, server.Config{})
	room := createRoom(t, srv, "Projector")
	owner := openBrowser(t, 1440, 900)
	owner.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	owner.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	askClass(owner, "Which class is the image?")
	owner.waitFor("the class's tally on the card", `document.querySelectorAll('[data-testid=prompt-tally] tr').length === 10`)
	// the maps on the screen, the last columns in view
	owner.do("show the last columns", chromedp.Evaluate[chromedp.Void](`(() => { const w = document.querySelector('.strip-wrap'); w.scrollIntoView({ block: 'start' }); scrollBy(0, -120); w.scrollLeft = w.scrollWidth; })()`))
	// covered is the area of the dense and loss columns on the screen that
	// the card covers
	const covered = `(() => {
		const c = document.querySelector('[data-testid=prompt]').getBoundingClientRect();
		let a = 0;
		for (const col of document.querySelectorAll('#strip .col-dense, #strip .col-loss')) {
			const r = col.getBoundingClientRect();
			const x = Math.max(0, Math.min(r.right, c.right, innerWidth) - Math.max(r.left, c.left, 0));
			const y = Math.max(0, Math.min(r.bottom, c.bottom, innerHeight) - Math.max(r.top, c.top, 0));
			a += x * y;
		}
		return a;
	})()`
	whole := eval[float64](owner, covered)
	if got := eval[string](owner, `document.getElementById('prompt-min').getAttribute('aria-expanded')`); got != "true" {
		t.Errorf("the card's minimize button: aria-expanded %q, want true", got)
	}
	r := rectOf(owner, "#prompt-min")
	owner.do("minimize", chromedp.MouseClickXY(r[0]+r[2]/2, r[1]+r[3]/2))
	owner.waitFor("the card made small", `document.querySelector('[data-testid=prompt]').dataset.min === 'true'`)
	small := eval[float64](owner, covered)
	shot(owner, "question-card-minimized.png")
	card := rectOf(owner, "[data-testid=prompt]")
	t.Logf("the card covers %.0f px² of the dense and loss columns whole, %.0f px² minimized (%.0f×%.0f)", whole, small, card[2], card[3])
	if card[3] > 90 || small > whole/3 {
		t.Errorf("minimized, the card is %.0f×%.0f px and covers %.0f px² of the dense and loss columns (whole: %.0f)", card[2], card[3], small, whole)
	}
	// Reveal stays on the card, on top, and works
	rv := rectOf(owner, "[data-testid=prompt-reveal]")
	if !eval[bool](owner, fmt.Sprintf(`document.elementFromPoint(%f, %f)?.closest('[data-testid=prompt-reveal]') !== null`, rv[0]+rv[2]/2, rv[1]+rv[3]/2)) {
		t.Errorf("minimized, Reveal (at %v) is not reachable", rv)
	}
	owner.do("reveal", chromedp.MouseClickXY(rv[0]+rv[2]/2, rv[1]+rv[3]/2))
	owner.waitFor("revealed", `document.querySelector('[data-testid=prompt]').dataset.status === 'revealed'`)
	// Show: the whole card again
	r = rectOf(owner, "#prompt-min")
	owner.do("show", chromedp.MouseClickXY(r[0]+r[2]/2, r[1]+r[3]/2))
	owner.waitFor("the whole card", `document.querySelector('[data-testid=prompt]').dataset.min === 'false' && document.getElementById('prompt-min').getAttribute('aria-expanded') === 'true' && !document.querySelector('[data-testid=prompt-why]').hidden`)
	// a new question is shown whole
	owner.do("minimize again", chromedp.Click(chromedp.ID("prompt-min")))
	owner.waitFor("small", `document.querySelector('[data-testid=prompt]').dataset.min === 'true'`)
	askClass(owner, "And now?")
	owner.waitFor("the new question whole", `document.querySelector('[data-testid=prompt]').dataset.min === 'false'`)
	owner.checkClean()
}

// TestOwnerPageShowsTheNetwork: at 1280×720 (a projector) a room's owner
// page, under its room bar and the lab's header and controls, starts the
// network in the first screen: the optimizer's group starts folded, and
// the bar's folded parts share a line. (Its maps come into view with the
// first phase: the page follows the lesson.)
func TestOwnerPageShowsTheNetwork(t *testing.T) {
	srv, base := startServer(t)
	room := createRoom(t, srv, "projector")
	p := openBrowser(t, 1280, 720)
	p.do("open the room as its owner", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	p.waitFor("the owner's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'owner' && /step 0$/.test(document.getElementById('phase').textContent)`)
	p.waitFor("the network drawn", `Number(document.body.dataset.framesDrawn || 0) > 0`)
	if open := eval[bool](p, `document.querySelector('[data-testid=group-optimizer]').open`); open {
		t.Errorf("the optimizer's group is open on the owner's page")
	}
	// (here the bar also says students cannot reach a server on loopback)
	if r := rectOf(p, `#strip .col[data-layer="0"] .col-head, #strip .col[data-layer="0"] h2, #strip .col[data-layer="0"]`); r[1]+60 > 720 {
		t.Errorf("conv 1's column starts at y %.0f: its heading is not in the first 720 px of the owner's page", r[1])
	}
	t.Logf("owner's page at 1280×720: the network starts at y %.0f", rectOf(p, "#strip")[1])
	// a click opens the group, with every field of the optimizer
	p.do("open the optimizer's group", chromedp.Click(chromedp.CSS(`[data-testid=group-optimizer] > summary`)))
	p.waitFor("the learning rate shown", `document.getElementById('lr').getBoundingClientRect().height > 0`)
	p.checkClean()
}
