package e2e

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The page half of explaining a number: the layer focus view, the
// drill-down panel, the animated backward convolution and the gradient
// check, on the default MNIST network at "backward · conv 2". With
// E2E_SCREENSHOTS=dir (relative to the repository's root) the test saves
// what they look like at 1280×720 as dir/explain-focus.png,
// explain-drilldown.png, explain-conv.png, explain-conv-dx.png and
// explain-gradcheck.png: E2E_SCREENSHOTS=docs makes the pictures of docs/.

// conv2 is layer 3 of the default network: conv(16,5,s1,p2) on 8×14×14.
const conv2 = 3

// TestExplainInBrowser: on the default MNIST network at "backward · conv
// 2", the focus view shows conv 2 at a legible size on 1280×720; drilling
// into a dL/dX and a dL/dW cell gives a total equal to the tooltip's value;
// the backward convolution, played to its end, equals the focus view's
// numbers; a gradient check of conv 2's largest dL/dW agrees to 1e-6. It
// logs the drill-down's latency over 50 cells.
func TestExplainInBrowser(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 720)
	p.do("a 1280×720 screen", chromedp.EmulateViewport(1280, 720))
	tap := tapFrames(t, p)
	p.do("open the lab", chromedp.Navigate(base+"/?data=mnist&seed=7&batch=4"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	stepTo(p, "backward · conv 2")
	controls := rectOf(p, `.topbar .ctl-group.run`)

	// a cell of the strip: conv 2's Y, channel 0
	x, y := cellPoint(p, `#strip .col[data-layer="3"] canvas[data-testid=act-map]`, 4, 5)
	tip := hoverTip(p, x, y)
	if total, _ := drill(p, x, y); total != tip[0] {
		t.Errorf("strip's Y cell: explain-total %q, tooltip %q", total, tip[0])
	}
	if got := eval[int](p, `document.querySelectorAll('#explain .xp-grid').length`); got != 8 {
		t.Errorf("conv 2's Y: %d window grids, want one per input channel (8)", got)
	}
	p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))

	// the focus view, opened from conv 2's column
	p.do("open the focus view", chromedp.Click(chromedp.CSS(`[data-testid=focus-3]`)))
	p.waitFor("the focus view", `!document.querySelector('[data-testid=focus-view]').hidden && document.getElementById('focus').dataset.layer === '3'`)
	// (ΔW is drawn blank: no update yet in this step)
	p.waitFor("its maps drawn", `(() => { const cs = [...document.querySelectorAll('#focus canvas.map:not([data-focus=dWu])')]; return cs.length > 0 && cs.every(c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (!(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244) && d[i + 3]) return true; return false; }); })()`)
	blocks := eval[[]string](p, `[...document.querySelectorAll('#focus .fblock')].map(b => b.dataset.key)`)
	if want := []string{"X", "Y", "dY", "dX", "W", "sdW", "dW", "dWu"}; !slices.Equal(blocks, want) {
		t.Errorf("focus view blocks %v, want %v", blocks, want)
	}
	// on one screen: nothing below 720 px; a 5×5 filter at least 60 px wide
	if bottom := eval[float64](p, `Math.max(...[...document.querySelectorAll('#focus .fblock')].map(b => b.getBoundingClientRect().bottom))`); bottom > 720 {
		t.Errorf("the focus view reaches %.0f px: more than a 1280×720 screen", bottom)
	}
	tile := eval[float64](p, `(() => { const c = document.querySelector('#focus canvas[data-focus=W]'); return c.getBoundingClientRect().width / c.width * 5; })()`)
	if tile < 60 {
		t.Errorf("a 5×5 filter is %.0f CSS px wide, want at least 60", tile)
	}
	shot(p, "explain-focus.png")

	// a dL/dX cell: the panel's total is the tooltip's value
	x, y = cellPoint(p, `#focus canvas[data-focus=dX]`, 6, 7)
	tip = hoverTip(p, x, y)
	total, _ := drill(p, x, y)
	if total != tip[0] {
		t.Errorf("dL/dX cell: explain-total %q, tooltip %q (%v)", total, tip[0], tip)
	}
	if got := eval[string](p, `document.getElementById('explain').dataset.tensor`); got != "dX" {
		t.Errorf("drill-down of a dL/dX cell answers tensor %q", got)
	}
	shot(p, "explain-drilldown.png")

	// dL/dW cells: this sample's share and the batch mean
	for _, key := range []string{"sdW", "dW"} {
		p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
		sel := `#focus canvas[data-focus=` + key + `].map[data-testid=focus-param]`
		x, y := cellPoint(p, sel, 1*6+2, 0*6+3) // filter 1, channel 0, tap (2, 3)
		tip := hoverTip(p, x, y)
		total, _ := drill(p, x, y)
		if total != tip[0] {
			t.Errorf("%s cell: explain-total %q, tooltip %q (%v)", key, total, tip[0], tip)
		}
		if got := eval[string](p, `document.getElementById('explain').dataset.index`); got != "1,0,2,3" {
			t.Errorf("%s cell: drill-down of W index %s, want 1,0,2,3", key, got)
		}
	}
	if got := rectOf(p, `.topbar .ctl-group.run`); got != controls {
		t.Errorf("the controls moved when the focus view and the drill-down opened: %v, then %v", controls, got)
	}
	unlabelled := eval[[]string](p, `[...document.querySelectorAll('#focus button, #focus select, #focus input, #explain button, #explain input, #conv-explainer button, #conv-explainer select, #conv-explainer input')].filter(e => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim())).map(e => e.id || e.outerHTML.slice(0, 60))`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}
	p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
	p.waitFor("the drill-down closed", `document.getElementById('explain').hidden`)

	// keyboard: a focused map, the arrow keys and Enter
	p.do("focus the Y map", chromedp.Focus(chromedp.CSS(`#focus canvas[data-focus=Y]`)))
	p.do("move the cursor", chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	p.waitFor("the drill-down by keyboard", `!document.getElementById('explain').hidden && document.getElementById('explain').dataset.index === '0,1,1'`)
	p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))

	// the backward convolution, played to its end, equals the focus view's frames
	p.click("focus-walk")
	p.waitFor("the conv explainer", `!document.querySelector('[data-testid=conv-explainer]').hidden`)
	const f, c = 1, 0
	res := walkTo(p, "dW", f, c)
	sw := lastTensor(t, tap, conv2, "swgrad")
	if len(res) != 25 {
		t.Fatalf("dW walkthrough result has %d cells, want 25", len(res))
	}
	for k, v := range res {
		if want := sw.F32[(f*sw.Shape[1]+c)*25+k]; float32(v) != want {
			t.Errorf("dL/dW[%d,%d] cell %d: walkthrough %v, the focus view's swgrad %v", f, c, k, float32(v), want)
		}
	}
	// the picture: a step on the way, where δ is not 0
	scrubTo(p, ` = 0 times`)
	shot(p, "explain-conv.png")
	res = walkTo(p, "dX", f, c)
	gin := lastTensor(t, tap, conv2, "gradin")
	for k, v := range res {
		if want, ok := value(gin, c, k/14, k%14); !ok || float32(v) != want {
			t.Errorf("dL/dX[%d] cell %d: walkthrough %v, the focus view's %v", c, k, float32(v), want)
		}
	}
	scrubTo(p, `share 0;`)
	shot(p, "explain-conv-dx.png")
	p.do("close the explainer", chromedp.KeyEvent(kb.Escape))
	p.waitFor("the explainer closed", `document.querySelector('[data-testid=conv-explainer]').hidden`)

	// latency: 50 drill-downs of cells of Y and dL/dX, request to panel
	// filled, measured in the page, without the test's tap on the frames
	// (the DevTools events it costs delay the page's messages)
	if _, err := chromedp.Call(p.ctx, network.Disable, cdp.Empty{}); err != nil {
		t.Fatalf("stop the network events: %v", err)
	}
	var ms []float64
	for i := range 50 {
		sel := `#focus canvas[data-focus=Y]`
		if i%2 == 1 {
			sel = `#focus canvas[data-focus=dX]`
		}
		x, y := cellPoint(p, sel, (i*5)%14, (i*3)%14)
		_, d := drill(p, x, y)
		ms = append(ms, d)
		if i < 5 || d > 60 {
			t.Logf("drill-down %d: %.1f ms (click → sent, sent → answer, render: %s)", i, d, eval[string](p, `document.getElementById('explain').dataset.timing`))
		}
		time.Sleep(110 * time.Millisecond) // within the server's 10 questions a second
	}
	sort.Float64s(ms)
	t.Logf("drill-down latency, click to panel filled, over %d cells: p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		len(ms), ms[len(ms)/2], ms[int(math.Ceil(0.99*float64(len(ms))))-1], ms[len(ms)-1])

	// the gradient check of conv 2's largest |dL/dW| (the next one if a kink lies within ±h)
	wg := lastTensor(t, tap, conv2, "wgrad")
	order := make([]int, len(wg.F32))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return math.Abs(float64(wg.F32[order[a]])) > math.Abs(float64(wg.F32[order[b]])) })
	checked := false
	for _, k := range order[:5] {
		idx := []int{k / 200, k / 25 % 8, k / 5 % 5, k % 5}
		p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
		pageTo(p, idx[0]/4, idx[1]/4)
		x, y := cellPoint(p, `#focus canvas[data-focus=W].map[data-testid=focus-param]`, idx[0]%4*6+idx[2], idx[1]%4*6+idx[3])
		drill(p, x, y)
		if got := eval[string](p, `document.getElementById('explain').dataset.index`); got != fmt.Sprintf("%d,%d,%d,%d", idx[0], idx[1], idx[2], idx[3]) {
			t.Fatalf("a click on W%v drilled into %s", idx, got)
		}
		p.waitFor("the gradient check offered", `!document.querySelector('[data-testid=gradcheck]').hidden`)
		p.click("gradcheck-run")
		p.waitFor("the check", `['done', 'refused', 'playing'].includes(document.querySelector('[data-testid=gradcheck]').dataset.state)`)
		if st := eval[string](p, `document.querySelector('[data-testid=gradcheck]').dataset.state`); st != "done" {
			t.Fatalf("gradient check %s: %s", st, p.text("gradcheck-status"))
		}
		num, ana, rel := p.text("gradcheck-numeric"), p.text("gradcheck-analytic"), p.text("gradcheck-relerr")
		t.Logf("gradient check W%v: numeric %s, backprop %s, relative error %s, kinks %s", idx, num, ana, rel, eval[string](p, `document.querySelector('[data-testid=gradcheck]').dataset.kinks`))
		if eval[string](p, `document.querySelector('[data-testid=gradcheck]').dataset.kinks`) != "0" {
			continue
		}
		r, err := strconv.ParseFloat(rel, 64)
		if err != nil || !(r < 1e-6) {
			t.Errorf("gradient check W%v: relative error %q, want < 1e-6", idx, rel)
		}
		checked = true
		shot(p, "explain-gradcheck.png")
		break
	}
	if !checked {
		t.Errorf("every one of the 5 largest dL/dW of conv 2 lies by a kink")
	}

	// following the phase: a step in the focus view moves it to maxpool 1
	p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
	if !eval[bool](p, `document.getElementById('focus-follow').checked`) {
		t.Error("the focus view does not follow the phase by default")
	}
	p.click("focus-step")
	p.waitFor("the view to follow the phase", `document.getElementById('focus').dataset.layer === '2' && /^← backward · maxpool 1/.test(document.getElementById('focus-phase').textContent) || document.getElementById('focus-phase').textContent.startsWith('backward · maxpool 1')`)
	p.do("close the focus view", chromedp.KeyEvent(kb.Escape))
	// the strip follows the lesson: the column of the phase (maxpool 1) is on screen
	p.waitFor("the focus view closed and the strip subscribed again", `document.getElementById('focus').hidden && JSON.parse(document.body.dataset.subscription).some(l => l.layer === 2 && l.kinds.includes('grad'))`)
	p.checkClean()
}
