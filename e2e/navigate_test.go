package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestOneTabManyLabs: a person opens lab after lab in one tab (a link, a
// changed URL, the back button), more labs than one address may hold at
// once. The lab each page left behind has no page any more, so it makes
// room: every page opens its lab, none is told there are too many. Back
// goes to the last lab, connected again.
func TestOneTabManyLabs(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 800)
	for i, q := range []string{"", "&lr=0.01", "&opt=sgd", "&batch=16", "&seed=5", "&seed=6", "&seed=7"} {
		p.do(fmt.Sprintf("open lab %d", i+1), chromedp.Navigate(base+"/?data=shapes"+q))
		p.waitFor(fmt.Sprintf("lab %d's network", i+1), `document.querySelectorAll('#strip canvas[data-testid=act-map]').length > 0 || !document.getElementById('alert-box').hidden`)
		if !eval[bool](p, `document.getElementById('alert-box').hidden`) {
			t.Fatalf("lab %d (%s): %q", i+1, q, p.text("alert"))
		}
		if q == "&seed=6" { // trained a step, to know it again
			p.click("step-batch")
			p.waitFor("lab 6's first step", `document.getElementById('step-count').textContent === '1'`)
		}
	}
	// Back: the last lab again, connected, its session resumed.
	eval[bool](p, `(history.back(), true)`) // a restore from the back-forward cache fires no load event to wait on
	waitAfterNavigation(p, "lab 6 again, connected", `document.getElementById('seed-shown').textContent === '6' && document.getElementById('conn').textContent === 'connected'`)
	// the server's state of lab 6 (step 1), not a new lab's (step 0)
	eval[bool](p, `(document.getElementById('step-phase').click(), true)`) // chromedp's node queries lose a page restored from the cache
	waitAfterNavigation(p, "lab 6's session going on", `/step 1$/.test(document.getElementById('phase').textContent) && document.getElementById('step-count').textContent === '1'`)
	if !eval[bool](p, `document.getElementById('alert-box').hidden`) {
		t.Errorf("back at lab 6: %q", p.text("alert"))
	}

	// Further back, to lab 3 (opt=sgd), whose session made room for lab 7:
	// the page says its session has ended, or opens a new one; Start again
	// gives a new session of lab 3, never one of the labs opened since.
	eval[bool](p, `(history.go(-3), true)`)
	waitAfterNavigation(p, "lab 3's page", `location.search.includes('opt=sgd') && (document.getElementById('conn').textContent === 'connected' || !document.getElementById('alert-box').hidden)`)
	if !eval[bool](p, `document.getElementById('alert-box').hidden`) {
		if got := p.text("alert"); !strings.Contains(got, "ended") {
			t.Errorf("back at lab 3: %q", got)
		}
		eval[bool](p, `(document.getElementById('alert-restart').click(), true)`)
	}
	waitAfterNavigation(p, "lab 3 anew, connected", `document.getElementById('conn').textContent === 'connected' && document.getElementById('alert-box').hidden && document.getElementById('step-count').textContent === '0'`)
	if got := eval[string](p, `location.search + ' ' + document.getElementById('opt').value`); !strings.Contains(got, "opt=sgd") || !strings.HasSuffix(got, " sgd") {
		t.Errorf("after Start again at lab 3: %q, want lab 3 (opt=sgd)", got)
	}
	p.checkClean()
}
