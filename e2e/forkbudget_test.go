package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// TestForkBudgetSaidInBrowser: a fork that plays faster than the steps all
// forks of the server share (-fork-budget, here one a second) is told so
// once, plainly, on its page.
func TestForkBudgetSaidInBrowser(t *testing.T) {
	srv, base := startServerWith(t, server.Config{ClassroomConfig: server.ClassroomConfig{ForkBudget: 1}})
	room := createRoom(t, srv, "budget")
	p := openBrowser(t, 1280, 800)
	p.do("open the room", chromedp.Navigate(base+"/r/"+room.Code))
	waitAfterNavigation(p, "the room page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer'`)
	p.do("fork", chromedp.Click(chromedp.CSS(`[data-testid=fork]`)))
	waitAfterNavigation(p, "the fork's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'fork' && document.getElementById('conn').textContent === 'connected'`)
	if got := eval[string](p, `document.body.dataset.forkShared || ''`); got == "true" {
		t.Errorf("a paused fork says it shares the budget")
	}
	p.click("play")
	p.waitFor("the fork told it plays slower", `document.body.dataset.forkShared === 'true' && /whole class shares this server/.test(document.getElementById('alert').textContent)`)
	if got := eval[string](p, `document.getElementById('alert').dataset.kind`); got != "info" {
		t.Errorf("the budget's note is a %q alert, want info", got)
	}
	p.checkClean()
}
