package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Phones and tablets: a touch screen, the page's width, the header's
// height, a student's way to the maps, and screenshots at five sizes.

// device opens a tab of p's browser as a device of w×h CSS pixels (touch
// when touch is true).
func device(t *testing.T, p *labPage, w, h int64, touch bool) *labPage {
	t.Helper()
	q := isolatedTab(t, p)
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if touch {
		opts = append(opts, chromedp.EmulateTouch, chromedp.EmulateMobile)
	}
	q.do(fmt.Sprintf("a %d×%d screen", w, h), chromedp.EmulateViewport(w, h, opts...))
	return q
}

// pageFits checks that the page does not scroll sideways at this width.
func pageFits(t *testing.T, p *labPage, where string) {
	t.Helper()
	sw := eval[int](p, `document.scrollingElement.scrollWidth`)
	w := eval[int](p, `innerWidth`)
	if sw > w {
		wide := eval[[]string](p, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.strip-wrap')).slice(0, 6).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`)
		t.Errorf("%s: the page is %d px wide on a %d px screen (wider: %v)", where, sw, w, wide)
	}
}

// TestPhoneTouch (390×844, touch): the page never scrolls sideways and
// allows pinch-zoom; the sticky header takes at most 11% of the height
// with every run control, the step and the batch loss in it; a
// tap on a map shows its value (tooltip, cell cursor and drill-down, which
// fits the width) and a second tap moves it; a student's page shows the maps
// before any teacher control.
func TestPhoneTouch(t *testing.T) {
	srv, base := startServer(t)
	room := createRoom(t, srv, "phone")
	p := openBrowser(t, 1280, 720)
	q := device(t, p, 390, 844, true)
	q.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=4&speed=step"))
	q.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	stepTo(q, "forward · relu 1")

	// pinch-zoom: no viewport meta forbids it, no element takes the gesture
	// (but the drawing pad, where a finger draws)
	meta := eval[string](q, `document.querySelector('meta[name=viewport]').content`)
	if strings.Contains(meta, "user-scalable=no") || strings.Contains(meta, "user-scalable=0") || strings.Contains(meta, "maximum-scale") {
		t.Errorf("viewport meta %q blocks pinch-zoom", meta)
	}
	if n := eval[[]string](q, `[...document.querySelectorAll('*')].filter(e => e.id !== 'draw-pad' && ['none', 'pan-x', 'pan-y', 'pan-x pan-y'].includes(getComputedStyle(e).touchAction)).map(e => e.tagName + '.' + e.className)`); len(n) > 0 {
		t.Errorf("elements that block pinch-zoom (touch-action): %v", n)
	}
	pageFits(t, q, "the lab at 390×844")
	header := eval[float64](q, `document.querySelector('.topbar').getBoundingClientRect().height`)
	t.Logf("390×844: header %.0f px (%.1f%% of the height)", header, header/844*100)
	if header > 0.11*844 {
		t.Errorf("the sticky header is %.0f px, more than 11%% of 844", header)
	}
	// with every run control of the teacher, on the screen, and the step
	// and the batch loss
	for _, id := range []string{"play", "step-phase", "step-batch", "step-epoch", "keys-open", "speed", "step-count", "loss-now"} {
		r := rectOf(q, "#"+id)
		if r[2] < 1 || r[0] < 0 || r[0]+r[2] > 390 || r[1] < 0 || r[1]+r[3] > header+0.5 {
			t.Errorf("#%s at %v: not shown inside the %.0f px header of a 390 px screen", id, r, header)
		}
	}
	if r := rectOf(q, "#step-phase"); r[3] < 24 || r[2] < 24 {
		t.Errorf("the step button is %.0f×%.0f px: under the 24 px a finger needs", r[2], r[3])
	}

	// a tap on conv 1's first feature map: tooltip, cursor, drill-down
	sel := `.col[data-layer="0"] canvas[data-testid=act-map]`
	// the reader scrolls to the map (a wheel, as a finger's swipe does): the
	// page stops following the lesson, so the map stays where it is tapped
	q.do("bring the map on screen", chromedp.Evaluate[chromedp.Void](`dispatchEvent(new WheelEvent('wheel')); document.querySelector('`+sel+`').scrollIntoView({ block: 'center' })`))
	// a smooth scroll of the lesson already under way may still move the
	// page: the map must stay in one place over two looks, so the tap lands on it
	q.waitFor("the map still, the page no longer following", `(() => {
		const r = document.querySelector('`+sel+`').getBoundingClientRect();
		const at = Math.round(r.top) + ',' + Math.round(r.left);
		const still = window.__mapAt === at;
		window.__mapAt = at;
		return still && r.top >= document.querySelector('.topbar').getBoundingClientRect().bottom && r.bottom <= innerHeight && document.body.dataset.following === 'false';
	})()`)
	x, y := cellPoint(q, sel, 2, 3)
	q.do("tap a cell", chromedp.TapXY(x, y))
	q.waitFor("the tooltip and the cursor", `!document.getElementById('tooltip').hidden && !document.getElementById('cell-cursor').hidden`)
	first := eval[[]string](q, `[...document.querySelectorAll('#tooltip > div')].map(d => d.textContent)`)
	if len(first) < 3 || !strings.Contains(first[2], "row 2, column 3") {
		t.Errorf("tooltip after a tap on row 2, column 3: %q", first)
	}
	if tr := rectOf(q, "#tooltip"); tr[0] < 0 || tr[0]+tr[2] > 390.5 {
		t.Errorf("the tooltip spans x %.0f…%.0f on a 390 px screen", tr[0], tr[0]+tr[2])
	}
	q.waitFor("the drill-down", `!document.getElementById('explain').hidden && document.getElementById('explain').dataset.state === 'answered'`)
	if got := eval[string](q, `document.querySelector('[data-testid=explain-total]').textContent`); got != first[0] {
		t.Errorf("drill-down total %q, tooltip %q: want the tapped cell's value in both", got, first[0])
	}
	ex := rectOf(q, "#explain")
	if ex[0] < 0 || ex[0]+ex[2] > 390.5 {
		t.Errorf("the drill-down panel spans x %.0f…%.0f on a 390 px screen", ex[0], ex[0]+ex[2])
	}
	if sw := eval[int](q, `document.getElementById('explain').scrollWidth - document.getElementById('explain').clientWidth`); sw > 0 {
		t.Errorf("the drill-down's content is %d px wider than the panel", sw)
	}
	// the tapped cell stays visible beside the panel (a sheet over the other half)
	if _, ty := cellPoint(q, sel, 2, 3); ty >= ex[1] && ty <= ex[1]+ex[3] {
		t.Errorf("the tapped cell (y %.0f) is under the drill-down panel (y %.0f…%.0f)", ty, ex[1], ex[1]+ex[3])
	}
	// a second tap moves the cursor and the tooltip to the new cell
	x2, y2 := cellPoint(q, sel, 4, 1)
	q.do("tap another cell", chromedp.TapXY(x2, y2))
	q.waitFor("the tooltip of the new cell", `(document.querySelectorAll('#tooltip > div')[2]?.textContent || '').includes('row 4, column 1')`)
	cur := rectOf(q, "#cell-cursor")
	if !(cur[0] <= x2 && x2 <= cur[0]+cur[2] && cur[1] <= y2 && y2 <= cur[1]+cur[3]) {
		t.Errorf("cell cursor at %v, the second tap at (%.0f, %.0f)", cur, x2, y2)
	}
	// the last column of the map on the right (channel 1): its tooltip, too
	// wide for either side of the finger on a phone, stays on the screen
	right := mapSel(0, "act-map", 1)
	last := eval[int](q, fmt.Sprintf(`document.querySelector(%q).width - 1`, right))
	x3, y3 := cellPoint(q, right, 4, last)
	q.do("tap the right map's last column", chromedp.TapXY(x3, y3))
	q.waitFor("the tooltip of the last column", fmt.Sprintf(`(document.querySelectorAll('#tooltip > div')[2]?.textContent || '').includes('row 4, column %d')`, last))
	if tr := rectOf(q, "#tooltip"); tr[0] < 0 || tr[0]+tr[2] > 390.5 {
		t.Errorf("after a tap on the right map's last column (x %.0f) the tooltip spans x %.0f…%.0f on a 390 px screen", x3, tr[0], tr[0]+tr[2])
	}
	q.do("close the drill-down", chromedp.Evaluate[chromedp.Void](`document.querySelector('#explain button.close, #explain [data-testid=explain-close]')?.click()`))

	// the layer focus view fits the width too
	q.do("open the focus view", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=focus-0]').click()`))
	q.waitFor("the focus view", `!!document.querySelector('#focus canvas.map')`)
	pageFits(t, q, "the focus view at 390×844")
	q.checkClean()

	// a student's page: the maps before any teacher control
	s := device(t, p, 390, 844, true)
	s.do("open the room as a student", chromedp.Navigate(base+"/r/"+room.Code))
	s.waitFor("the student's page", `document.querySelector('[data-testid=room-bar]')?.dataset.role === 'viewer' && /step 0$/.test(document.getElementById('phase').textContent)`)
	pageFits(t, s, "a student's page at 390×844")
	if h := eval[float64](s, `document.querySelector('.topbar').getBoundingClientRect().height`); h > 0.11*844 {
		t.Errorf("a student's sticky header is %.0f px, more than 11%% of 844", h)
	}
	// the keys button covers nothing of the header
	keys := rectOf(s, `.topbar > button.keys-open`)
	for _, sel := range []string{".topbar .brand", ".topbar .phase-box", ".topbar .stats", ".topbar .badges"} {
		r := rectOf(s, sel)
		if keys[0] < r[0]+r[2] && r[0] < keys[0]+keys[2] && keys[1] < r[1]+r[3] && r[1] < keys[1]+keys[3] {
			t.Errorf("the keys button at %v overlaps %s at %v on a student's phone", keys, sel, r)
		}
	}
	mapTop := eval[float64](s, `document.querySelector('canvas.map').getBoundingClientRect().top + scrollY`)
	ctl := eval[[]float64](s, `[...document.querySelectorAll('#controls, #spec-form')].filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().top + scrollY)`)
	t.Logf("student at 390×844: first map at y %.0f, teacher controls at %v", mapTop, ctl)
	for _, c := range ctl {
		if c < mapTop {
			t.Errorf("a teacher control (y %.0f) comes before the first map (y %.0f) on a student's phone", c, mapTop)
		}
	}
	if mapTop > 844 {
		t.Errorf("a student's first map is at y %.0f, below the first screen (844)", mapTop)
	}
	s.checkClean()
}

// TestTabletActiveColumn (820×1180, touch): the page never scrolls sideways,
// the network's columns wrap into the width, and at each phase the active
// column lies inside the width and fits on the screen under the header.
func TestTabletActiveColumn(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 720)
	q := device(t, p, 820, 1180, true)
	q.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=4&speed=step"))
	q.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	pageFits(t, q, "the lab at 820×1180")
	header := eval[float64](q, `document.querySelector('.topbar').getBoundingClientRect().height`)
	for _, label := range []string{"forward · conv 1", "forward · conv 2", "loss", "backward · conv 2", "backward · conv 1"} {
		stepTo(q, label)
		r := rectOf(q, ".col.active")
		if r[0] < 0 || r[0]+r[2] > 820 {
			t.Errorf("at %q the active column spans x %.0f…%.0f, outside the 820 px screen", label, r[0], r[0]+r[2])
		}
		if r[3] > 1180-header {
			t.Errorf("at %q the active column is %.0f px high, more than the screen under the header (%.0f)", label, r[3], 1180-header)
		}
		// brought into view, it is all visible (the lesson's follow scrolls it there)
		// (a smooth scroll still under way is waited out: the column must
		// stand still over two looks)
		q.waitFor("the active column in view and still", `(() => {
			const r = document.querySelector('.col.active').getBoundingClientRect();
			const h = document.querySelector('.topbar').getBoundingClientRect().height;
			if (r.top < h + 4) scrollBy(0, r.top - h - 4); else if (r.bottom > innerHeight) scrollBy(0, r.bottom - innerHeight);
			const at = Math.round(r.top) + ',' + Math.round(r.bottom);
			const still = window.__colAt === at;
			window.__colAt = at;
			return still && r.top >= h - 1 && r.bottom <= innerHeight + 1;
		})()`)
		header = eval[float64](q, `document.querySelector('.topbar').getBoundingClientRect().height`)
		if r := rectOf(q, ".col.active"); r[1] < header-1 || r[1]+r[3] > 1181 {
			t.Errorf("at %q the active column spans y %.0f…%.0f, not all visible under the %.0f px header", label, r[1], r[1]+r[3], header)
		}
	}
	q.checkClean()
}

// TestScreenshots looks at the lab at five screen sizes after a few phases:
// the page does not scroll sideways, the maps are drawn, and the header
// leaves most of the screen to the network. With E2E_SCREENS=dir it saves
// dir/lab-WxH.png (docs/screens in the README).
func TestScreenshots(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 720)
	dir := os.Getenv("E2E_SCREENS")
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // from the repository's root
	}
	for _, sz := range [][2]int64{{390, 844}, {820, 1180}, {1024, 768}, {1280, 720}, {1920, 1080}} {
		w, h := sz[0], sz[1]
		q := device(t, p, w, h, w < 1000)
		shootAt(t, q, base, w, h, dir)
		// close the tab: an open lab goes on drawing
		if err := chromedp.Cancel(q.ctx); err != nil {
			t.Logf("close the tab: %v", err)
		}
	}
}

// shootAt checks the lab in tab q of w×h after a step and a few phases, and
// saves its screenshot in dir unless dir is "".
func shootAt(t *testing.T, q *labPage, base string, w, h int64, dir string) {
	t.Helper()
	q.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=8&speed=step"))
	q.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	where := fmt.Sprintf("the lab at %d×%d", w, h)
	// opening moved nothing the page's script fills in: the layout shift
	// from the first paint to the network drawn (every entry since the
	// load, buffered; see loadShiftBound)
	q.waitFor("the network drawn", `Number(document.body.dataset.framesDrawn || 0) > 0`)
	observeShifts(q)
	r := eval[shiftReport](q, `window.__shift`)
	t.Logf("%s: layout shift while opening %g", where, r.SumSinceLoad)
	if r.SumSinceLoad > loadShiftBound {
		t.Errorf("%s: layout shift %g while the page opened: %+v", where, r.SumSinceLoad, r.LoadEntries)
	}
	q.click("step-batch")
	q.waitFor("a step", `document.getElementById('step-count').textContent === '1'`)
	stepTo(q, "backward · conv 2")
	pageFits(t, q, where)
	if hdr := eval[float64](q, `document.querySelector('.topbar').getBoundingClientRect().height`); hdr > 0.3*float64(h) {
		t.Errorf("%s: header %.0f px", where, hdr)
	}
	// the network in view, as a person sees it, drawn
	// (scrolled by the reader, a wheel: the page stops following the lesson)
	q.do("show the network", chromedp.Evaluate[chromedp.Void](`dispatchEvent(new WheelEvent('wheel')); document.querySelector('.strip-wrap').scrollIntoView({ block: 'start' })`))
	q.waitFor("conv 1's maps drawn", `[...document.querySelectorAll(".col[data-layer='0'] canvas[data-testid=act-map]")].every(c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const s = new Set(); for (let i = 0; i < d.length; i += 4) if (d[i + 3]) s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); return s.size >= 3; })`)
	// every map on screen, even partly, drawn once its data exists: at
	// "backward · conv 2" every feature map, and δ from maxpool 1 (layer 2) on
	q.waitFor("every map on screen drawn", mapsOnScreenDrawn(2))
	if s := painted(q, ".col[data-layer='0'] canvas[data-testid=act-map]"); s.Distinct < 3 {
		t.Errorf("%s: conv 1's maps %+v, want them drawn", where, s)
	}
	// every legend's range shows whole (both ends), in the narrowest column
	if cut := eval[[]string](q, `[...document.querySelectorAll('#strip .legend-range')].filter((e) => e.textContent && (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1)).map((e) => e.textContent)`); len(cut) > 0 {
		t.Errorf("%s: legend ranges cut: %q", where, cut)
	}
	n := eval[[]int](q, `(() => { const on = [...document.querySelectorAll('#strip canvas.map')].filter((c) => { const r = c.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }); return [on.length, on.filter((c) => { const r = c.getBoundingClientRect(); return r.top < 0 || r.bottom > innerHeight; }).length]; })()`)
	t.Logf("%s: %d maps on screen (%d of them partly), all drawn", where, n[0], n[1])
	if dir == "" {
		q.checkClean()
		return
	}
	ctx, cancel := context.WithTimeout(q.ctx, 30e9)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	cancel()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("lab-%dx%d.png", w, h))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	q.checkClean()
}

// mapsOnScreenDrawn is a script expression: every map of the strip on the
// screen, even partly (under the header, within the strip's visible part),
// whose tensor exists — every feature map, and δ of the layers from
// gradFrom on — shows more than the blank grey.
func mapsOnScreenDrawn(gradFrom int) string {
	return fmt.Sprintf(`(() => {
		const top = document.querySelector('.topbar').getBoundingClientRect().bottom;
		const w = document.querySelector('.strip-wrap').getBoundingClientRect();
		const on = [...document.querySelectorAll('#strip canvas.map')].filter((c) => {
			const r = c.getBoundingClientRect();
			return r.bottom > top && r.top < innerHeight && r.right > Math.max(0, w.left) && r.left < Math.min(innerWidth, w.right);
		}).filter((c) => c.dataset.kind === 'act' || (c.dataset.kind === 'grad' && Number(c.dataset.layer) >= %d));
		return on.length > 0 && on.every((c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (d[i + 3] && !(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244)) return true; return false; });
	})()`, gradFrom)
}
