package e2e

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// A page that holds still: stepping and playing move no control, every
// click on the same spot steps, the keys work whatever has focus.

// observeShifts starts summing the page's layout shifts from now on: every
// layout-shift entry (buffered, so none is missed), those right after an
// input included.
func observeShifts(p *labPage) {
	p.t.Helper()
	eval[bool](p, `(() => {
		window.__shift = { t0: performance.now(), sum: 0, sumSinceLoad: 0, entries: [], loadEntries: [] };
		new PerformanceObserver((list) => {
			for (const e of list.getEntries()) {
				__shift.sumSinceLoad += e.value;
				const entry = { value: e.value, input: e.hadRecentInput, nodes: (e.sources || []).map((s) => { const n = s.node && s.node.nodeType === 3 ? s.node.parentElement : s.node; return n ? (n.id || n.className || n.nodeName) + ' ' + JSON.stringify([s.previousRect.x, s.previousRect.y, s.previousRect.width, s.previousRect.height]) + '→' + JSON.stringify([s.currentRect.x, s.currentRect.y, s.currentRect.width, s.currentRect.height]) : '?'; }) };
				if (e.startTime < __shift.t0) { __shift.loadEntries.push(entry); continue; }
				__shift.sum += e.value;
				__shift.entries.push(entry);
			}
		}).observe({ type: 'layout-shift', buffered: true });
		return true;
	})()`)
}

// loadShiftBound bounds the layout shift while a page opens (see
// TestStepsHoldStill).
const loadShiftBound = 0.25

type shiftReport struct {
	Sum          float64      `json:"sum"`
	SumSinceLoad float64      `json:"sumSinceLoad"`
	Entries      []shiftEntry `json:"entries"`
	LoadEntries  []shiftEntry `json:"loadEntries"` // before observeShifts
}

// shiftEntry is a layout-shift entry: its score, whether it followed an
// input, and the nodes that moved (from → to rectangles).
type shiftEntry struct {
	Value float64  `json:"value"`
	Input bool     `json:"input"`
	Nodes []string `json:"nodes"`
}

// center is the centre of the element with the id, in CSS pixels.
func center(p *labPage, id string) (float64, float64) {
	p.t.Helper()
	r := rectOf(p, "#"+id)
	return r[0] + r[2]/2, r[1] + r[3]/2
}

// openShapes opens the lab on the shapes at a window size, paused at step 0.
func openShapes(t *testing.T, w, h int, query string) *labPage {
	t.Helper()
	base := startLab(t)
	p := openBrowser(t, w, h)
	p.do("set the viewport", chromedp.EmulateViewport(int64(w), int64(h)))
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=3"+query))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.waitFor("the network", `document.querySelectorAll('#strip canvas[data-testid=act-map]').length > 0`)
	return p
}

// TestStepsHoldStill steps through all 16 phases of a step and one more by
// clicking Step phase 17 times at the same coordinates (every click steps),
// then plays for 5 s: the layout shift over all of it is 0 and the bar
// keeps its height. At 1440×900.
func TestStepsHoldStill(t *testing.T) {
	p := openShapes(t, 1440, 900, "&speed=step&rate=10")
	p.waitFor("frames drawn", `Number(document.body.dataset.framesDrawn || 0) > 0`)
	observeShifts(p)
	bar := rectOf(p, ".topbar")
	x, y := center(p, "step-phase")
	var seen []string
	for i := range 17 {
		before := p.text("phase")
		p.do("click Step phase", chromedp.MouseClickXY(x, y))
		p.waitFor(fmt.Sprintf("phase change %d", i+1), fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
		seen = append(seen, p.text("phase"))
		if nx, ny := center(p, "step-phase"); nx != x || ny != y {
			t.Errorf("after click %d the Step phase button moved from (%v, %v) to (%v, %v)", i+1, x, y, nx, ny)
		}
		if b := rectOf(p, ".topbar"); b[3] != bar[3] {
			t.Errorf("after click %d (%q) the bar is %v px high, was %v", i+1, p.text("phase"), b[3], bar[3])
		}
	}
	if len(seen) != 17 || !strings.HasPrefix(seen[15], "update") || !strings.Contains(seen[16], "step 1") {
		t.Errorf("17 clicks showed %q, want the 16 phases of step 0 and the first of step 1", seen)
	}
	// play for 5 s, then pause
	px, py := center(p, "play")
	p.do("play", chromedp.MouseClickXY(px, py))
	p.waitFor("playing", `document.getElementById('play').getAttribute('aria-pressed') === 'true'`)
	eval[bool](p, `window.__playFrom = performance.now(), true`)
	p.waitFor("5 s of play", `performance.now() - window.__playFrom >= 5000`)
	if nx, ny := center(p, "play"); nx != px || ny != py {
		t.Errorf("while playing the Play button moved from (%v, %v) to (%v, %v)", px, py, nx, ny)
	}
	p.do("pause", chromedp.MouseClickXY(px, py))
	p.waitFor("paused", `document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
	if n := eval[int](p, `Number(document.getElementById('step-count').textContent)`); n < 2 {
		t.Errorf("after 5 s of play the step counter is %d", n)
	}
	r := eval[shiftReport](p, `window.__shift`)
	t.Logf("cumulative layout shift while stepping 17 phases and playing 5 s: %g (%d entries); since the page loaded: %g", r.Sum, len(r.Entries), r.SumSinceLoad)
	if r.Sum != 0 {
		t.Errorf("layout shift %g while stepping and playing, want 0: %+v", r.Sum, r.Entries)
	}
	// opening the page moves nothing the page's script fills in (its place
	// is kept): 0 here on an idle machine. The browser may still draw a
	// page it has read only in part (a list with half its options), which
	// moves as the rest comes: seen up to 0.09 under load, so the bound is
	// loose; the page before these places were kept measured 0.67.
	if r.SumSinceLoad-r.Sum > loadShiftBound {
		t.Errorf("layout shift %g while the page opened: %+v", r.SumSinceLoad-r.Sum, r.LoadEntries)
	}
	if b := rectOf(p, ".topbar"); b[3] != bar[3] {
		t.Errorf("after playing the bar is %v px high, was %v", b[3], bar[3])
	}
	p.checkClean()
}

// TestKeysWhateverHasFocus clicks a button (it keeps the focus), then
// presses → and Space: they step and play, the button is not pressed
// again; in a number field → is the field's; on a list → steps and ↑ is
// the list's; ? shows the keyboard map and Escape closes it.
func TestKeysWhateverHasFocus(t *testing.T) {
	p := openShapes(t, 1440, 900, "&speed=step&rate=5")
	bx, by := center(p, "step-batch")
	p.do("click Step batch", chromedp.MouseClickXY(bx, by))
	p.waitFor("one step", `/step 1$/.test(document.getElementById('phase').textContent)`)
	if f := eval[string](p, `document.activeElement.id`); f != "step-batch" {
		t.Fatalf("the clicked button does not have the focus (%q): the test would prove nothing", f)
	}
	before := p.text("phase")
	p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("→ to step a phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	if got := p.text("phase"); !strings.HasPrefix(got, "forward · ") || !strings.HasSuffix(got, "step 1") {
		t.Errorf("after → the phase is %q, want the first forward phase of step 1", got)
	}
	p.do("press Space", chromedp.KeyEvent(" "))
	p.waitFor("Space to play", `document.getElementById('play').getAttribute('aria-pressed') === 'true'`)
	p.do("press Space", chromedp.KeyEvent(" "))
	p.waitFor("Space to pause", `document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
	if f := eval[string](p, `document.activeElement.id`); f != "step-batch" {
		t.Errorf("the focus moved to %q", f)
	}
	// typing in a field: → moves the caret, not the lesson
	p.do("focus the learning rate", chromedp.Evaluate[chromedp.Void](`document.getElementById('lr').focus()`))
	before = p.text("phase")
	p.do("press → in the field", chromedp.KeyEvent(kb.ArrowRight))
	p.do("press ? in the field", chromedp.KeyEvent("?"))
	if got := p.text("phase"); got != before {
		t.Errorf("→ typed in the learning rate stepped: %q → %q", before, got)
	}
	if eval[bool](p, `document.getElementById('keymap').open`) {
		t.Errorf("? typed in the learning rate opened the keyboard map")
	}
	// a focused list (the speed): → steps, the list keeps its value; ↑ is
	// still the list's
	p.do("focus the speed list", chromedp.Evaluate[chromedp.Void](`document.getElementById('speed').focus()`))
	speed := eval[string](p, `document.getElementById('speed').value`)
	before = p.text("phase")
	p.do("press → on the list", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("→ on a list to step", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	if got := eval[string](p, `document.getElementById('speed').value`); got != speed {
		t.Errorf("→ on the speed list changed it: %q → %q", speed, got)
	}
	p.do("press ↑ on the list", chromedp.KeyEvent(kb.ArrowUp))
	if got := eval[string](p, `document.getElementById('speed').value`); got == speed {
		t.Errorf("↑ on the speed list left it at %q: the list's own keys must stay its own", got)
	}
	// ? on the page: the keyboard map
	p.do("focus a button", chromedp.Evaluate[chromedp.Void](`document.getElementById('step-phase').focus()`))
	p.do("press ?", chromedp.KeyEvent("?"))
	p.waitFor("the keyboard map", `document.getElementById('keymap').open`)
	keys := eval[string](p, `document.getElementById('keymap').textContent`)
	for _, want := range []string{"Space", "→", "?", "Esc", "play / pause", "step one phase"} {
		if !strings.Contains(keys, want) {
			t.Errorf("the keyboard map lacks %q: %q", want, keys)
		}
	}
	before = p.text("phase")
	p.do("press Escape", chromedp.KeyEvent(kb.Escape))
	p.waitFor("the keyboard map closed", `!document.getElementById('keymap').open`)
	p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("→ to step again", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	p.checkClean()
}

// TestKeyToPhaseLatency measures, in the browser, the time from a → key
// press to the phase label changing, over 50 presses: it logs p50 and p99
// and asserts only that every press stepped.
func TestKeyToPhaseLatency(t *testing.T) {
	p := openShapes(t, 1440, 900, "")
	eval[bool](p, `(() => {
		window.__lat = { down: 0, times: [] };
		document.addEventListener('keydown', (e) => { if (e.key === 'ArrowRight') __lat.down = performance.now(); }, true);
		new MutationObserver(() => {
			if (__lat.down) { __lat.times.push(performance.now() - __lat.down); __lat.down = 0; }
		}).observe(document.getElementById('phase'), { childList: true, characterData: true, subtree: true });
		return true;
	})()`)
	for i := range 50 {
		p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
		p.waitFor(fmt.Sprintf("phase change %d", i+1), fmt.Sprintf(`window.__lat.times.length >= %d`, i+1))
	}
	ms := eval[[]float64](p, `window.__lat.times`)
	if len(ms) != 50 {
		t.Fatalf("%d phase changes for 50 presses", len(ms))
	}
	sort.Float64s(ms)
	q := func(f float64) float64 { return ms[int(math.Ceil(f*float64(len(ms))))-1] }
	t.Logf("key press → phase label changed, 50 presses: p50 %.1f ms, p99 %.1f ms, max %.1f ms", q(0.5), q(0.99), ms[len(ms)-1])
	p.checkClean()
}

// notGrey is a script expression: whether a canvas of the selector has a
// pixel drawn in another colour than the grey of a map not computed yet.
func notGrey(sel string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].some((c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (d[i + 3] && !(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244)) return true; return false; })`, sel)
}

// TestPhaseShowsItsResult steps phase by phase with →: after each forward
// phase its layer's Y, after each backward phase the dL/dX it computed
// (the δ of the layer before it) is drawn at once and marked "new", and
// nothing else is. At 1440×900.
func TestPhaseShowsItsResult(t *testing.T) {
	p := openShapes(t, 1440, 900, "")
	L := eval[int](p, `document.querySelectorAll('#strip .col[data-testid^="layer-"]').length`)
	if L != 7 {
		t.Fatalf("%d layers, want the shapes network's 7", L)
	}
	checked := 0
	for range 2*L + 2 {
		before := p.text("phase")
		p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
		p.waitFor("the next phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
		kind := eval[string](p, `document.getElementById('phase').dataset.kind`)
		label := p.text("phase")
		var layer int
		var tensor string
		switch kind {
		case "forward":
			layer, tensor = eval[int](p, `Number(document.querySelector('#strip .col.active').dataset.layer)`), "act"
		case "backward":
			layer, tensor = eval[int](p, `Number(document.querySelector('#strip .col.active').dataset.layer)`)-1, "grad"
			if layer < 0 {
				continue // the first layer's dL/dX is the input's: no map of its own
			}
		default:
			continue
		}
		sel := fmt.Sprintf(`#strip .col[data-layer="%d"] canvas[data-kind=%s]`, layer, tensor)
		p.waitFor(label+": its result drawn", notGrey(sel))
		marked := eval[[]int](p, fmt.Sprintf(`[document.querySelectorAll(%q).length, document.querySelectorAll(%q).length]`, sel+".new-result", sel))
		if marked[0] == 0 || marked[0] != marked[1] {
			t.Errorf("%s: %d of the %d maps of %s marked new", label, marked[0], marked[1], sel)
		}
		badge := eval[string](p, fmt.Sprintf(`(() => { const b = document.querySelector('#strip .col[data-layer="%d"] .new-badge'); return b && getComputedStyle(b).visibility === 'visible' ? b.textContent : ''; })()`, layer))
		if !strings.HasPrefix(badge, "new") {
			t.Errorf("%s: the column of the result shows no \"new\" badge (%q)", label, badge)
		}
		// the badge lies inside its column (clear of the border) and over
		// none of the column head's words
		if bad := badgeClash(p, layer, true); bad != "" {
			t.Errorf("%s: %s", label, bad)
		}
		others := eval[int](p, fmt.Sprintf(`[...document.querySelectorAll('#strip canvas.new-result')].filter((c) => !c.matches(%q)).length`, sel))
		if kind == "forward" && others != 0 {
			t.Errorf("%s: %d maps besides its Y marked new", label, others)
		}
		checked++
	}
	if checked != 2*L-1 {
		t.Errorf("checked %d phases, want %d (every forward phase, every backward phase but the first layer's)", checked, 2*L-1)
	}
	p.checkClean()
}

// inView is a script expression: whether the elements of the selector lie
// on screen, below the sticky bar and within the strip's visible part.
func inView(sel string) string {
	return fmt.Sprintf(`(() => {
		const els = [...document.querySelectorAll(%q)];
		if (!els.length) return false;
		const top = document.querySelector('.topbar').getBoundingClientRect().bottom;
		const w = document.querySelector('.strip-wrap').getBoundingClientRect();
		return els.every((e) => { const r = e.getBoundingClientRect(); return r.top >= top - 0.5 && r.bottom <= innerHeight + 0.5 && r.left >= Math.max(0, w.left) - 0.5 && r.right <= Math.min(innerWidth, w.right) + 0.5; });
	})()`, sel)
}

// TestFollowTheLesson opens the default lab (MNIST) at 1024×768, 1280×720
// and 1440×900: the network starts in the first screen, and through a whole
// step the active column's maps and δ maps (the loss column at the loss
// phase) are scrolled fully into view. A reader who scrolls away stays
// where they are while the lesson goes on, until they press Follow.
func TestFollowTheLesson(t *testing.T) {
	base := startLab(t)
	for _, size := range [][2]int{{1024, 768}, {1280, 720}, {1440, 900}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			p := openBrowser(t, w, h)
			p.do("set the viewport", chromedp.EmulateViewport(int64(w), int64(h)))
			prefersMotion(t, p.ctx, "no-preference")
			p.do("open the lab", chromedp.Navigate(base+"/"))
			if !eval[bool](p, `matchMedia('(prefers-reduced-motion: no-preference)').matches`) {
				t.Fatal("the page prefers reduced motion: the smooth scroll would not be tested")
			}
			p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
			p.waitFor("the network", `document.querySelectorAll('#strip canvas[data-testid=act-map]').length > 0`)
			if got := eval[[2]float64](p, `[innerWidth, innerHeight]`); got != [2]float64{float64(w), float64(h)} {
				t.Fatalf("viewport %v, want %dx%d", got, w, h)
			}
			// the network starts in the first screen: the first maps are on it
			if !eval[bool](p, inView(`#strip .col[data-layer="-1"] .maps`)) {
				t.Errorf("the input's maps are not in the first screen: %v", rectOf(p, `#strip .col[data-layer="-1"] .maps`))
			}
			shot(p, fmt.Sprintf("lab-%dx%d.png", w, h))
			for range 16 {
				before := p.text("phase")
				p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
				p.waitFor("the next phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
				kind := eval[string](p, `document.getElementById('phase').dataset.kind`)
				sel := `#strip .col.active .maps`
				switch kind {
				case "loss":
					sel = `#strip .col-loss .probs`
				case "update":
					continue
				}
				waitInView(p, p.text("phase")+": the active column in view", sel)
				if p.text("phase") == "backward · conv 2 · step 0" {
					shot(p, fmt.Sprintf("lab-%dx%d-backward-conv2.png", w, h))
				}
			}
			// step to the first forward phase of the next step; then the
			// reader scrolls away (the wheel): stepping leaves them there
			p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
			p.waitFor("the next step", `/^forward · conv 1 · step 1$/.test(document.getElementById('phase').textContent)`)
			waitInView(p, "conv 1 in view", `#strip .col.active .maps`)
			// the wheel in the page's margin (over the strip it would scroll the strip)
			p.do("scroll away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 8, float64(h)/2),
				chromedp.MouseEvent(input.DispatchMouseEventTypeMouseWheel, 8, float64(h)/2, func(e *input.DispatchMouseEventParams) { e.DeltaX, e.DeltaY = 0.01, 1200 }))
			p.waitFor("the Follow button", `document.getElementById('follow').dataset.shown === 'true' && getComputedStyle(document.getElementById('follow')).visibility === 'visible'`)
			p.waitFor("the scroll settled", `(() => { const y = scrollY; return new Promise((ok) => setTimeout(() => ok(scrollY === y && y > 0), 300)); })()`)
			at := eval[float64](p, `scrollY`)
			for range 3 {
				before := p.text("phase")
				p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
				p.waitFor("the next phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
			}
			p.waitFor("a frame drawn", `new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(true))))`)
			if y := eval[float64](p, `scrollY`); y != at {
				t.Errorf("the page scrolled from %v to %v while the reader was away", at, y)
			}
			fx, fy := center(p, "follow")
			p.do("click Follow", chromedp.MouseClickXY(fx, fy))
			waitInView(p, "the active column in view again", `#strip .col.active .maps`)
			p.waitFor("the Follow button hidden", `document.getElementById('follow').dataset.shown === 'false'`)
			p.checkClean()
		})
	}
}

// waitInView waits until the elements of sel are in view (inView); if they
// never are, it fails with where they are.
func waitInView(p *labPage, what, sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](inView(sel), chromedp.WithPollingInterval(40*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		where := eval[string](p, fmt.Sprintf(`JSON.stringify({ els: [...document.querySelectorAll(%q)].map((e) => e.getBoundingClientRect()), bar: document.querySelector('.topbar').getBoundingClientRect().bottom, strip: document.querySelector('.strip-wrap').getBoundingClientRect(), scrollY, inner: [innerWidth, innerHeight], following: document.body.dataset.following, off: document.body.dataset.followOff })`, sel))
		p.t.Fatalf("waiting for %s: %v\nphase %q; %s", what, err, p.text("phase"), where)
	}
}

// TestHeaderBatchLoss: the header's batch loss is the current step's once
// its loss phase has run (the loss column's batch mean, as the engine
// computed it); before that it is the last completed step's, shown muted
// and said to be that step's. At 1440×900.
func TestHeaderBatchLoss(t *testing.T) {
	p := openShapes(t, 1440, 900, "&batch=4")
	lossNow := func() (string, string, string) {
		return eval[string](p, `document.getElementById('loss-now').firstChild?.textContent || ''`),
			eval[string](p, `document.getElementById('loss-now').dataset.of || ''`),
			eval[string](p, `document.getElementById('loss-now').textContent`)
	}
	if v, of, _ := lossNow(); v != "—" || of != "none" {
		t.Errorf("before any loss: header batch loss %q (%s), want — (none)", v, of)
	}
	stepTo(p, "loss")
	v, of, _ := lossNow()
	mean := eval[string](p, `(/batch mean: ≈?([-−0-9.e]+)/.exec(document.querySelector('.loss-sum').textContent) || [])[1] || ''`)
	m, err := strconv.ParseFloat(strings.ReplaceAll(mean, "−", "-"), 64)
	if err != nil {
		t.Fatalf("the loss column's batch mean %q: %v", mean, err)
	}
	if want := strconv.FormatFloat(m, 'g', 3, 64); of != "this-step" || v != want {
		t.Errorf("at the loss phase: header batch loss %q (%s), want this step's %q (batch mean %s)", v, of, want, mean)
	}
	first := v
	stepTo(p, "update")
	p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("the next step's first phase", `/^forward · .* · step 1$/.test(document.getElementById('phase').textContent)`)
	v, of, all := lossNow()
	if v != first || of != "last-step" || !strings.Contains(all, "step 1's batch") {
		t.Errorf("before step 2's loss phase: header batch loss %q (%s, %q), want step 1's %q said to be step 1's", v, of, all, first)
	}
	if c := eval[string](p, `getComputedStyle(document.getElementById('loss-now')).color`); c == eval[string](p, `getComputedStyle(document.getElementById('step-count')).color`) {
		t.Errorf("the last step's batch loss is drawn like a current number (%s)", c)
	}
	stepTo(p, "loss")
	if _, of, _ := lossNow(); of != "this-step" {
		t.Errorf("at step 2's loss phase the header shows %q", of)
	}
	p.checkClean()
}
