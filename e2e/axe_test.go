package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// axe-core (Deque Systems, MPL-2.0; see THIRD_PARTY.md), unchanged from the
// npm package, injected into the page under test: it is never served.
//
//go:embed testdata/axe.min.js
var axeSource string

// axeViolation is one rule axe-core found broken, with how many elements
// break it and the first few of them.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Nodes   int      `json:"nodes"`
	Targets []string `json:"targets"`
}

// runAxe injects axe-core into the page and runs it on the whole document
// (WCAG 2.0/2.1 A and AA rules and axe's best practices).
func runAxe(p *labPage) []axeViolation {
	p.t.Helper()
	if !eval[bool](p, `typeof window.axe === 'object'`) {
		eval[bool](p, axeSource+"\n;true")
	}
	// a whole page takes axe-core seconds, and a minute on a busy machine
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Minute)
	defer cancel()
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || '', help: v.help, nodes: v.nodes.length,
		targets: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 200)),
	})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("axe.run: %v", err)
	}
	return vs
}

// axeCounts counts the elements per impact.
func axeCounts(vs []axeViolation) map[string]int {
	c := map[string]int{"minor": 0, "moderate": 0, "serious": 0, "critical": 0}
	for _, v := range vs {
		c[v.Impact] += v.Nodes
	}
	return c
}

// checkAxe runs axe-core, logs every violation and fails on a serious or
// critical one.
func checkAxe(t *testing.T, p *labPage, where string) map[string]int {
	t.Helper()
	t0 := time.Now()
	vs := runAxe(p)
	t.Logf("axe-core on %s took %v", where, time.Since(t0).Round(time.Millisecond))
	c := axeCounts(vs)
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %s (%s, %d elements): %s\n    %s", v.ID, v.Impact, v.Nodes, v.Help, strings.Join(v.Targets, "\n    "))
	}
	t.Logf("axe-core on %s: critical %d, serious %d, moderate %d, minor %d (elements)%s", where, c["critical"], c["serious"], c["moderate"], c["minor"], b.String())
	if c["critical"]+c["serious"] > 0 {
		t.Errorf("axe-core on %s: %d critical and %d serious violations", where, c["critical"], c["serious"])
	}
	return c
}

// TestAxe runs axe-core on the lab, a room's owner page and a student's
// page, each after a few phases so the maps are drawn, with the drill-down
// open on the lab.
func TestAxe(t *testing.T) {
	srv, base := startServer(t)
	room := createRoom(t, srv, "axe")
	p := openBrowser(t, 1280, 720)
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=3&batch=4"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	stepTo(p, "backward")
	all := map[string]int{}
	add := func(c map[string]int) {
		for k, v := range c {
			all[k] += v
		}
	}
	add(checkAxe(t, p, "the lab"))
	// the skip link, in the header's landmark, shows when it has the focus
	p.do("focus the skip link", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.querySelector('a.skip').focus()`))
	if !eval[bool](p, `(() => { const a = document.querySelector('a.skip'), r = a.getBoundingClientRect();
		return r.left >= 0 && r.top >= 0 && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === a; })()`) {
		t.Errorf("the focused skip link is not visible: %v", rectOf(p, "a.skip"))
	}
	p.do("leave the skip link", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	// the drill-down of a cell and the layer focus view
	p.do("bring conv 1 on screen", chromedp.Evaluate[chromedp.Void](`document.querySelector('.col[data-layer="0"] canvas[data-testid=act-map]').scrollIntoView({ block: 'center' })`))
	x, y := cellPoint(p, `.col[data-layer="0"] canvas[data-testid=act-map]`, 1, 1)
	drill(p, x, y)
	add(checkAxe(t, p, "the lab with the drill-down open"))
	p.do("close it", chromedp.KeyEvent(kb.Escape))
	p.do("open the focus view", chromedp.Click(chromedp.CSS(`[data-testid=focus-0]`)))
	p.waitFor("the focus view", `!document.getElementById('focus').hidden && !!document.querySelector('#focus canvas.map')`)
	add(checkAxe(t, p, "the layer focus view"))
	p.do("close it", chromedp.KeyEvent(kb.Escape))

	owner := isolatedTab(t, p)
	owner.do("open the room as its owner", chromedp.Navigate(base+"/r/"+room.Code+"?owner="+room.OwnerToken()))
	owner.waitFor("the owner's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'owner' && /step 0$/.test(document.getElementById('phase').textContent)`)
	stepTo(owner, "loss")
	add(checkAxe(t, owner, "a room's owner page"))

	student := isolatedTab(t, p)
	student.do("open the room as a student", chromedp.Navigate(base+"/r/"+room.Code))
	student.waitFor("the student's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer' && /^loss/.test(document.getElementById('phase').textContent)`)
	add(checkAxe(t, student, "a student's page"))
	phone := device(t, p, 390, 844, true)
	phone.do("open the room on a phone", chromedp.Navigate(base+"/r/"+room.Code))
	phone.waitFor("the student's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer' && /^loss/.test(document.getElementById('phase').textContent)`)
	add(checkAxe(t, phone, "a student's page on a 390×844 phone"))
	t.Logf("axe-core, all pages: critical %d, serious %d, moderate %d, minor %d (elements)", all["critical"], all["serious"], all["moderate"], all["minor"])
	p.checkClean()
	owner.checkClean()
	student.checkClean()
}
