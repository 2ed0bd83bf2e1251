package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// TestRevealShowsWhyOnAProjector (1280×720): the owner's question card,
// whose tally makes it taller than its 55% of the screen, shows at the
// reveal what the network computed, the answer's why, under its heading
// and its Minimize button, without scrolling.
func TestRevealShowsWhyOnAProjector(t *testing.T) {
	srv, base := startServerWith(t, server.Config{})
	room := createRoom(t, srv, "Projector")
	owner := openBrowser(t, 1280, 720)
	owner.do("open the owner link", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	owner.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	askClass(owner, "Which class is the image?")
	owner.waitFor("the class's tally on the card", `document.querySelectorAll('[data-testid=prompt-tally] tr').length === 10`)
	if !eval[bool](owner, `(() => { const c = document.querySelector('[data-testid=prompt]'); return c.scrollHeight > c.clientHeight; })()`) {
		t.Fatalf("the card fits the screen whole: nothing to scroll at the reveal")
	}
	owner.do("reveal", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=prompt-reveal]').click()`))
	owner.waitFor("revealed", `document.querySelector('[data-testid=prompt]').dataset.status === 'revealed' && !document.querySelector('[data-testid=prompt-why]').hidden`)
	owner.waitFor("the why in the card's view", `(() => {
		const c = document.querySelector('[data-testid=prompt]').getBoundingClientRect();
		const w = document.querySelector('[data-testid=prompt-why]').getBoundingClientRect();
		return w.height > 0 && w.top >= c.top && w.bottom <= c.bottom && w.bottom <= innerHeight;
	})()`)
	for _, sel := range []string{".prompt-head", "#prompt-min"} {
		if !eval[bool](owner, `(() => { const c = document.querySelector('[data-testid=prompt]').getBoundingClientRect(); const h = document.querySelector('`+sel+`').getBoundingClientRect(); return h.height > 0 && h.top >= c.top && h.bottom <= c.bottom; })()`) {
			t.Errorf("revealed, the card's %s is out of its view", sel)
		}
	}
	owner.checkClean()
}
