package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// askClass asks the room's class, from the owner's page p, a question of
// the kind "class" with the words q, and waits for its card.
func askClass(p *labPage, q string) {
	p.t.Helper()
	p.do("open the form", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=prompt-ask]').open = true`))
	eval[bool](p, `(() => { const k = document.getElementById('prompt-kind'); k.value = 'class'; k.dispatchEvent(new Event('change')); return true; })()`)
	p.do("type the question", chromedp.SetValue(chromedp.CSS(`#prompt-question`), q))
	p.do("ask", chromedp.Click(chromedp.CSS(`[data-testid=prompt-send]`)))
	p.waitFor("the question's card", fmt.Sprintf(`(() => { const c = document.querySelector('[data-testid=prompt]'); return !c.hidden && c.textContent.includes(%q); })()`, q))
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
	for _, sel := range []string{"[data-testid=dashboard]", "[data-testid=student-row]"} {
		if n := eval[int](owner, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n == 0 {
			continue
		}
		if r := rectOf(owner, sel); r[0] < 0 || r[0]+r[2] > 390 {
			t.Errorf("the owner's %s spans x %.0f…%.0f on a 390 px screen", sel, r[0], r[0]+r[2])
		}
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
