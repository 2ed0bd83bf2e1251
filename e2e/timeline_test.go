package e2e

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// filtersHash is a hash of the pixels of conv 1's filters W.
const filtersHash = `(() => {
	let h = 0;
	for (const c of document.querySelectorAll('canvas[data-layer="0"][data-kind="weights"]')) {
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
	}
	return h;
})()`

// TestTimelineInBrowser trains a few steps, then scrubs the timeline back
// to the start (the filters drawn change, and the page says it shows step 0
// of history), forward one kept step at a time with the buttons and the
// slider's keys, replays the history, compares a filter with the start,
// and comes back to now: the filters are the live ones again, pixel for
// pixel.
func TestTimelineInBrowser(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 3000) // tall: the maps, the timeline and the filters on one screen, all drawn
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=4&lr=0.2&opt=sgd&spec=conv(2,3,s1,p1)+relu+maxpool(2,s2,p0)+dense(5)"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	for i := 1; i <= 6; i++ {
		p.click("step-batch")
		p.waitFor("the step", `document.getElementById('step-count').textContent === '`+string(rune('0'+i))+`'`)
	}
	p.waitFor("the filters drawn", `document.querySelectorAll('canvas[data-layer="0"][data-kind="weights"]').length > 0 && `+filtersHash+` !== 0`)
	if y := eval[float64](p, `document.querySelector('canvas[data-layer="0"][data-kind="weights"]').getBoundingClientRect().bottom`); y > 3000 {
		t.Fatalf("conv 1's filters end at y = %v, below the window", y)
	}
	live := eval[int](p, filtersHash)

	p.click("tl-start")
	p.waitFor("step 0 of history", `document.getElementById('timeline').dataset.mode === 'history' && document.getElementById('tl-status').textContent.startsWith('Viewing step 0 of history (live: step 6)')`)
	p.waitFor("the filters of step 0 drawn", filtersHash+` !== `+strconv.Itoa(live))
	start := eval[int](p, filtersHash)
	if eval[string](p, `document.body.dataset.history`) != "0" {
		t.Errorf("the page does not mark that it shows history")
	}

	// forward: the button, then the slider's arrow key
	p.click("tl-fwd")
	p.waitFor("step 1 of history", `document.getElementById('tl-status').textContent.startsWith('Viewing step 1 of history')`)
	p.waitFor("the filters of step 1 drawn", filtersHash+` !== `+strconv.Itoa(start))
	p.do("focus the slider", chromedp.Focus(chromedp.ID("tl-range")))
	p.do("slider one step right", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("step 2 of history", `document.getElementById('tl-status').textContent.startsWith('Viewing step 2 of history')`)
	if got := p.text("step-count"); got != "6" {
		t.Errorf("scrubbing changed the trainer: step %s, want 6", got)
	}

	// back to the start again: the same pixels as the first time
	p.click("tl-start")
	p.waitFor("step 0 again", `document.getElementById('tl-status').textContent.startsWith('Viewing step 0 of history')`)
	p.waitFor("the filters of step 0 again", filtersHash+` === `+strconv.Itoa(start))

	// replay to the newest kept step
	p.click("tl-play")
	p.waitFor("the replay at step 6", `document.getElementById('tl-status').textContent.startsWith('Viewing step 6 of history') && document.getElementById('tl-play').getAttribute('aria-pressed') === 'false'`)

	// compare filter 1 of conv 1 now with step 0
	p.click("tl-start")
	p.waitFor("step 0 once more", `document.getElementById('tl-status').textContent.startsWith('Viewing step 0 of history')`)
	p.do("open compare", chromedp.Evaluate[chromedp.Void](`document.getElementById('tl-compare').open = true`))
	// a filter the layer lacks: said, and nothing compared
	p.do("filter 9", chromedp.SetValue(chromedp.ID("tl-filter"), "9"))
	p.click("tl-compare-go")
	p.waitFor("the filter refused", `document.getElementById('tl-compare-note').textContent.includes('no filter 9')`)
	if got := p.text("tl-then-cap"); got != "then" {
		t.Errorf("a filter the layer lacks was compared: %q", got)
	}
	p.do("filter 1", chromedp.SetValue(chromedp.ID("tl-filter"), "1"))
	p.click("tl-compare-go")
	p.waitFor("the comparison drawn", `document.getElementById('tl-then-cap').textContent.includes('at step 0') && document.getElementById('tl-diff').width === 3`)
	if st := painted(p, "#tl-then, #tl-nowmap, #tl-diff"); st.Canvases != 3 || st.Painted != 27 || st.Distinct < 3 {
		t.Errorf("comparison drew %+v, want 3 canvases of 9 cells in several colours", st)
	}

	// another step looked at: the comparison follows it, captions and all
	p.click("tl-fwd")
	p.waitFor("step 1 of history", `document.getElementById('tl-status').textContent.startsWith('Viewing step 1 of history')`)
	p.waitFor("the comparison of step 1", `document.getElementById('tl-compare-then').textContent === 'step 1' && document.getElementById('tl-then-cap').textContent.includes('filter 1 at step 1') && document.getElementById('tl-compare').dataset.stale === 'false'`)
	// closed, it is not asked again: the maps say they are of another step
	p.do("close compare", chromedp.Evaluate[chromedp.Void](`document.getElementById('tl-compare').open = false`))
	p.click("tl-fwd")
	p.waitFor("step 2 of history", `document.getElementById('tl-status').textContent.startsWith('Viewing step 2 of history')`)
	p.waitFor("the comparison marked stale", `document.getElementById('tl-compare').dataset.stale === 'true' && document.getElementById('tl-compare-note').textContent.includes('step 1, not step 2')`)
	p.do("open compare again", chromedp.Evaluate[chromedp.Void](`document.getElementById('tl-compare').open = true`))
	p.waitFor("the comparison of step 2", `document.getElementById('tl-then-cap').textContent.includes('at step 2') && document.getElementById('tl-compare').dataset.stale === 'false'`)

	// the buttons' icons are drawn, not glyphs a font may lack; their
	// names are kept
	if bad := eval[[]string](p, `[...document.querySelectorAll('#timeline .tl-bar button')].filter((b) => /[^\u0000-\u00ff]/.test(b.textContent) || !b.querySelector('svg.tl-icon') || [...b.querySelectorAll('svg.tl-icon')].every((i) => i.getBoundingClientRect().width < 8)).map((b) => b.id + ' ' + JSON.stringify(b.textContent))`); len(bad) > 0 {
		t.Errorf("timeline buttons with a glyph of text or no drawn icon: %v", bad)
	}
	if got := eval[string](p, `['tl-start', 'tl-now'].map((id) => document.getElementById(id).getAttribute('aria-label') + ' / ' + document.getElementById(id).textContent.trim()).join(' | ')`); got != "Start: the first kept step of the history / Start | Now: back to the live training / Now" {
		t.Errorf("Start and Now read %q", got)
	}

	p.do("the timeline at the top", chromedp.Evaluate[chromedp.Void](`document.getElementById('timeline').scrollIntoView()`))
	shot(p, "timeline.png")

	// now: the live filters, pixel for pixel
	p.click("tl-now")
	p.waitFor("live again", `document.getElementById('timeline').dataset.mode === 'live' && document.getElementById('tl-status').textContent.startsWith('Live.')`)
	p.waitFor("the live filters again", filtersHash+` === `+strconv.Itoa(live))
	if eval[string](p, `document.body.dataset.history`) != "" {
		t.Errorf("the page still marks history when live")
	}

	// looking back while training goes on: the live step and the
	// slider's range follow it
	p.click("tl-start")
	p.waitFor("step 0, live 6", `document.getElementById('tl-status').textContent.startsWith('Viewing step 0 of history (live: step 6)')`)
	kept := eval[int](p, `Number(document.getElementById('tl-range').max)`)
	for i := 7; i <= 8; i++ {
		p.click("step-batch")
		p.waitFor("the step", `document.getElementById('step-count').textContent === '`+strconv.Itoa(i)+`'`)
	}
	p.waitFor("the live step followed", `document.getElementById('tl-status').textContent.startsWith('Viewing step 0 of history (live: step 8)')`)
	p.waitFor("the range followed", `Number(document.getElementById('tl-range').max) > `+strconv.Itoa(kept))
	p.checkClean()
}
