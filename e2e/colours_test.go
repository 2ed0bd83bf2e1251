package e2e

import (
	"fmt"
	neturl "net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// colourSpec is a small network on the shapes.
const colourSpec = "conv(8,5,s1,p2) relu maxpool(2,s2,p0) conv(16,5,s1,p2) relu maxpool(3,s3,p0) dense(5)"

// screenSpec has 32 channels in layers 3 and 4: eight rows of maps, more
// than a small window shows at once, so its pages receive only some of them.
const screenSpec = "conv(8,5,s1,p2) relu maxpool(2,s2,p0) conv(32,3,s1,p1) relu maxpool(3,s3,p0) dense(5)"

// hashJS hashes the pixels of the canvas a selector finds (FNV-1a), or
// returns −1 if there is none.
const hashJS = `((sel) => { const c = document.querySelector(sel); if (!c) return -1;
	const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
	let h = 2166136261; for (let i = 0; i < d.length; i++) { h ^= d[i]; h = Math.imul(h, 16777619) >>> 0; } return h; })`

// colouredJS is true when the canvas a selector finds shows at least two colours.
const colouredJS = `((sel) => { const c = document.querySelector(sel); if (!c) return false;
	const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const s = new Set();
	for (let i = 0; i < d.length; i += 4) s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); return s.size >= 2; })`

// mapSel is the selector of channel ch's map of a kind in layer.
func mapSel(layer int, testid string, ch int) string {
	return fmt.Sprintf(`.col[data-layer="%d"] .chan:nth-child(%d) canvas[data-testid=%s]`, layer, ch+1, testid)
}

// openStepped opens a lab of spec in a window of w×h with the view
// options of query, runs one batch and waits for the maps of sels.
func openStepped(t *testing.T, base, spec string, w, h int, query string, sels []string) *labPage {
	t.Helper()
	p := openBrowser(t, w, h)
	url := base + "/?data=shapes&seed=7&batch=8&speed=step&" + query + "&spec=" + neturl.QueryEscape(spec)
	p.do("open the lab", chromedp.Navigate(url))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.click("step-batch")
	p.waitFor("one step", `/step 1$/.test(document.getElementById('phase').textContent)`)
	for _, sel := range sels {
		p.do("scroll to "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center', inline: 'center'})`, sel)))
		p.waitFor(sel+" drawn", fmt.Sprintf(`%s(%q)`, colouredJS, sel))
	}
	return p
}

// settledHash waits until the pixels of a map stop changing (frames of the
// step may still arrive for a moment) and returns their hash.
func settledHash(p *labPage, sel string) int64 {
	p.t.Helper()
	last := int64(-2)
	for i := 0; i < 50; i++ {
		p.waitFor("a frame drawn", `Number(document.body.dataset.framesDrawn || 0) > 0`)
		h := eval[int64](p, fmt.Sprintf(`%s(%q)`, hashJS, sel))
		if h == last && h >= 0 {
			return h
		}
		last = h
		time.Sleep(200 * time.Millisecond) // a pause between two reads, not an assertion
	}
	p.t.Fatalf("%s: pixels still changing", sel)
	return 0
}

// TestColoursSameOnEveryScreen: the scale statistics come from the whole
// tensor (in the frame's header), so a map is drawn in the same colours
// whichever of its layer's channels are on screen: before and after
// scrolling, in a large (1600×1000) and a small (800×600) window; in the
// clamp mode whose percentile used to come from the channels on screen, and
// with each map its own range under symmetric log. The large window also
// checks the max-pool switches' outlines.
func TestColoursSameOnEveryScreen(t *testing.T) {
	base := startLab(t)
	sels := []string{mapSel(4, "act-map", 0), mapSel(4, "grad-map", 0), mapSel(3, "act-map", 0)}
	large := openStepped(t, base, screenSpec, 1600, 1000, "outliers=clamp", sels)
	small := openStepped(t, base, screenSpec, 800, 600, "outliers=clamp", sels)
	for _, mode := range []struct{ rng, outliers string }{{"layer", "clamp"}, {"map", "symlog"}} {
		if mode.rng != "layer" {
			for _, p := range []*labPage{large, small} {
				// the view options change on the page: a new subscription (with
				// map_stats), a keyframe, and the maps drawn again
				before := eval[[]int](p, `[Number(document.body.dataset.subscriptions || 0), Number(document.body.dataset.framesDrawn || 0)]`)
				p.do("choose "+mode.rng+", "+mode.outliers, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`for (const [id, v] of [['outliers', %q], ['range', %q]]) { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); }`, mode.outliers, mode.rng)))
				p.waitFor("the new subscription drawn", fmt.Sprintf(`Number(document.body.dataset.subscriptions) > %d && Number(document.body.dataset.framesDrawn) >= %d`, before[0], before[1]+1))
			}
		}
		for _, sel := range sels {
			large.do("scroll to "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center', inline: 'center'})`, sel)))
			want := settledHash(large, sel)
			small.do("scroll to "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center', inline: 'center'})`, sel)))
			if got := settledHash(small, sel); got != want {
				t.Errorf("%s, %s: %s: pixel hash %d in the small window, %d in the large one", mode.rng, mode.outliers, sel, got, want)
			}
		}
		// scroll the small window to other channels and back
		sel := sels[0]
		small.do("scroll to "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center'})`, sel)))
		small.waitFor("layer 4 subscribed", `JSON.parse(document.body.dataset.subscription || '[]').some(l => l.layer === 4)`)
		before := settledHash(small, sel)
		// the small window receives only some of layer 4's channels (the
		// case where statistics of what is received would differ)
		if !eval[bool](small, `JSON.parse(document.body.dataset.subscription || '[]').some(l => l.layer === 4 && l.channels)`) {
			t.Errorf("small window's subscription %s, want layer 4 cut to the channels on screen", eval[string](small, `document.body.dataset.subscription`))
		}
		subs := eval[string](small, `document.body.dataset.subscription`)
		small.do("scroll to the last channel", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center'})`, mapSel(4, "grad-map", 31))))
		small.waitFor("another subscription", fmt.Sprintf(`document.body.dataset.subscription !== %q`, subs))
		small.waitFor("the last channel drawn", fmt.Sprintf(`%s(%q)`, colouredJS, mapSel(4, "grad-map", 31)))
		small.do("scroll back", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center'})`, sel)))
		small.waitFor("channel 0 drawn", fmt.Sprintf(`%s(%q)`, colouredJS, sel))
		if after := settledHash(small, sel); after != before {
			t.Errorf("%s, %s: %s: pixel hash %d after scrolling, %d before", mode.rng, mode.outliers, sel, after, before)
		}
		desc := eval[string](small, `document.querySelector('.col[data-layer="4"] .legend .legend-desc').textContent`)
		want := []string{"scale from the whole tensor, sample 0", ", the 99th percentile of |x| > 0"}
		if mode.rng == "map" {
			want = []string{"scale from each whole map's own values, sample 0", "symmetric log"}
		}
		for _, w := range want {
			if !strings.Contains(desc, w) {
				t.Errorf("legend %q, want it to say %q", desc, w)
			}
		}
	}
	checkSwitchRings(t, large)
	small.checkClean()
	large.checkClean()
}

// TestDeadMapsTicksAndNames: a learning rate that kills ReLU channels
// leaves all-zero maps, drawn in the scale's zero colour and marked "dead:
// no active cell"; symmetric-log legends' tick labels never overlap; the
// shapes' class names fit their column (1280×800).
func TestDeadMapsTicksAndNames(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 800)
	url := base + "/?data=shapes&seed=7&batch=8&speed=step&lr=10&opt=sgd&outliers=symlog&spec=" + neturl.QueryEscape(colourSpec)
	p.do("open the lab", chromedp.Navigate(url))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	for i := 1; i <= 5; i++ {
		p.click("step-batch")
		p.waitFor("a step", fmt.Sprintf(`/step %d$/.test(document.getElementById('phase').textContent)`, i))
	}
	// after five steps at lr 10 the forward pass of the sixth shows dead
	// ReLU channels: walk its first phases
	for i := 0; i < 2; i++ {
		phase := p.text("phase")
		p.click("step-phase")
		p.waitFor("the next phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, phase))
	}
	p.waitFor("a dead map", `[...document.querySelectorAll('.col[data-layer="1"] [data-testid=map-badge]')].some(b => !b.hidden && b.textContent === 'dead: no active cell')`)
	type deadMap struct {
		Colours []int  `json:"colours"`
		Badge   string `json:"badge"`
		Zero    []int  `json:"zero"`
	}
	dead := eval[[]deadMap](p, `[...document.querySelectorAll('.col[data-layer="1"] .map-box')].filter(b => b.querySelector('canvas[data-testid=act-map]') && !b.querySelector('.map-badge').hidden).map(b => {
		const c = b.querySelector('canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const s = new Set();
		for (let i = 0; i < d.length; i += 4) s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
		return { colours: [...s], badge: b.querySelector('.map-badge').textContent, zero: [0x44, 0x01, 0x54] };
	})`)
	if len(dead) == 0 {
		t.Fatal("no dead map found in relu 1")
	}
	for _, d := range dead {
		// viridis' zero colour, #440154: the low end of a sequential scale
		if d.Badge != "dead: no active cell" || len(d.Colours) != 1 || d.Colours[0] != 0x440154 {
			t.Errorf("dead map: badge %q, colours %x, want \"dead: no active cell\" and only viridis' zero colour 440154", d.Badge, d.Colours)
		}
	}
	t.Logf("%d dead maps in relu 1", len(dead))

	// legends under symmetric log: tick label boxes disjoint and inside the legend
	p.waitFor("symlog ticks", `document.querySelectorAll('.legend-ticks .tick').length > 3`)
	overlaps := eval[[]string](p, `(() => { const bad = [];
		for (const t of document.querySelectorAll('.legend-ticks')) {
			const r = t.getBoundingClientRect(); if (!r.width) continue;
			const bs = [...t.querySelectorAll('.tick')].map(s => s.getBoundingClientRect()).sort((a, b) => a.left - b.left);
			for (let i = 0; i < bs.length; i++) {
				if (bs[i].left < r.left - 0.5 || bs[i].right > r.right + 0.5) bad.push(t.parentElement.querySelector('.legend-title').textContent + ': label outside');
				if (i && bs[i - 1].right > bs[i].left) bad.push(t.parentElement.querySelector('.legend-title').textContent + ': labels overlap');
			}
		}
		return bad; })()`)
	if len(overlaps) > 0 {
		t.Errorf("tick labels: %v", overlaps)
	}
	if n := eval[int](p, `document.querySelectorAll('.legend-ticks .tick').length`); n < 4 {
		t.Errorf("%d tick labels on the page, want the legends labelled", n)
	}

	// class names fit their column: probabilities and the dense column
	over := eval[[]string](p, `[...document.querySelectorAll('.prob-name, .class-names span')].filter(e => e.scrollWidth > e.clientWidth || e.getBoundingClientRect().right > e.parentElement.getBoundingClientRect().right + 0.5).map(e => e.textContent)`)
	if len(over) > 0 {
		t.Errorf("class names overflowing their column: %q", over)
	}
	if n := eval[int](p, `document.querySelectorAll('.prob-name').length`); n < 5 {
		t.Errorf("%d class names, want the shapes' five", n)
	}
	colourShot(t, p, "colours-dead.png")
	p.checkClean()
}

// checkSwitchRings: in the max-pool panel of layer 2 (maxpool(2,s2) over
// relu 1's 8 × 12 × 12), every window's winner is outlined by a ring of one
// colour whatever its value, a winner of value 0 (drawn in the zero colour
// of the sequential scale) included.
func checkSwitchRings(t *testing.T, p *labPage) {
	t.Helper()
	sel := `[data-testid=pool-panel-2] canvas[data-testid=switch-map]`
	p.do("scroll to the switches", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'center'})`, sel)))
	p.waitFor("the switches drawn", fmt.Sprintf(`%s(%q)`, colouredJS, sel))
	type rings struct {
		Rings     int  `json:"rings"`
		ZeroRings int  `json:"zeroRings"`
		Other     int  `json:"other"`
		Same      bool `json:"same"`
	}
	// a cell is outlined when the corner pixel of its 4×4 block on the
	// marks is opaque; every ring pixel must be black
	p.waitFor("rings drawn", `(() => { const m = document.querySelector('[data-testid=pool-panel-2] canvas[data-testid=switch-map-marks]'); if (!m) return false; const d = m.getContext('2d').getImageData(0, 0, m.width, m.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })()`)
	got := eval[rings](p, fmt.Sprintf(`(() => {
		const c = document.querySelector(%q), m = c.parentElement.querySelector('canvas.map-marks');
		const v = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		const k = m.getContext('2d').getImageData(0, 0, m.width, m.height).data;
		const r = m.getBoundingClientRect(), rc = c.getBoundingClientRect();
		let rings = 0, zeroRings = 0, other = 0;
		for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
			const o = ((y * 4) * m.width + x * 4) * 4;
			if (!k[o + 3]) continue;
			if (k[o] || k[o + 1] || k[o + 2]) other++;
			rings++;
			const q = (y * c.width + x) * 4;
			if (v[q] === 0x44 && v[q + 1] === 0x01 && v[q + 2] === 0x54) zeroRings++;
		}
		return { rings, zeroRings, other, same: Math.abs(r.width - rc.width) < 1 && Math.abs(r.height - rc.height) < 1 };
	})()`, sel))
	// maxpool(2,s2) over relu 1 (8 × 12 × 12): 8 × 6 × 6 windows, one winner each
	if got.Rings != 8*6*6 || got.Other != 0 || !got.Same {
		t.Errorf("switch rings %+v, want 288 black rings over a layer of the map's size", got)
	}
	if got.ZeroRings == 0 {
		t.Errorf("switch rings %+v, want winners of value 0 outlined too", got)
	}
	t.Logf("%d winners outlined, %d of them of value 0", got.Rings, got.ZeroRings)
	colourShot(t, p, "colours-switches.png")
	p.checkClean()
}

// colourShot saves a screenshot of the page as name in $E2E_SHOTS, if set.
func colourShot(t *testing.T, p *labPage, name string) {
	t.Helper()
	dir := os.Getenv("E2E_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err == nil {
		err = os.WriteFile(dir+"/"+name, png, 0o644)
	}
	if err != nil {
		t.Error(err)
	}
}
