package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestMapsByKeyboard (1280×720): every map canvas is an image with a name
// that says its layer, tensor, channel, shape and colour scale; the maps of
// a tensor are one Tab stop; a map focused by Tab shows a cell cursor the
// arrow keys move cell by cell (and on into the tensor's next map), and a
// polite live region reads the tooltip's text of the cell. While playing,
// the phase is announced at most once a second.
func TestMapsByKeyboard(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 720)
	p.do("a 1280×720 screen", chromedp.EmulateViewport(1280, 720))
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=4&speed=step"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	stepTo(p, "forward · relu 1")

	// names: every map an image with a name; the drawn ones say their scale
	type named struct {
		Total, Images, Named, Tabbable int
		Example, Unnamed               string
	}
	n := eval[named](p, `(() => {
		const cs = [...document.querySelectorAll('canvas.map')];
		const un = cs.find(c => !(c.getAttribute('aria-label') || '').includes(' × '));
		return { total: cs.length, images: cs.filter(c => c.getAttribute('role') === 'img').length,
			named: cs.filter(c => (c.getAttribute('aria-label') || '').includes(' × ')).length,
			tabbable: cs.filter(c => c.tabIndex === 0).length,
			example: document.querySelector('.col[data-layer="0"] canvas[data-testid=act-map]:nth-of-type(1)').getAttribute('aria-label'),
			unnamed: un ? un.outerHTML.slice(0, 120) : '' };
	})()`)
	t.Logf("maps: %d, Tab stops among them: %d; conv 1's first feature map: %q", n.Total, n.Tabbable, n.Example)
	if n.Images != n.Total || n.Named != n.Total {
		t.Errorf("%d maps, %d with role=img, %d with a name giving their shape (first without: %s)", n.Total, n.Images, n.Named, n.Unnamed)
	}
	for _, want := range []string{"conv", "feature map Y", "channel 0", "× ", "colour scale"} {
		if !strings.Contains(n.Example, want) {
			t.Errorf("conv 1's first feature map is named %q, want it to say %q", n.Example, want)
		}
	}
	views := eval[int](p, `new Set([...document.querySelectorAll('canvas.map')].map(c => c.closest('[data-layer]')?.dataset.layer + '/' + c.dataset.kind + '/' + c.dataset.testid)).size`)
	if n.Tabbable > views || n.Tabbable*3 > n.Total {
		t.Errorf("%d of %d maps are Tab stops, want one per tensor (%d tensors)", n.Tabbable, n.Total, views)
	}

	// Tab from conv 1's focus button reaches its first feature map; the
	// cursor and the live region show its first cell
	p.do("focus conv 1's focus button", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=focus-0]').focus()`))
	p.do("Tab", chromedp.KeyEvent(kb.Tab))
	first := `.col[data-layer="0"] canvas[data-testid=act-map]`
	p.waitFor("conv 1's first feature map focused", `document.activeElement === document.querySelector('`+first+`')`)
	p.waitFor("the cell cursor", `!document.getElementById('cell-cursor').hidden && document.getElementById('cell-live').textContent !== ''`)
	live := func() string { return p.text("cell-live") }
	tip := func() string {
		return eval[string](p, `[...document.querySelectorAll('#tooltip > div')].map(d => d.textContent).join(' · ')`)
	}
	if live() != tip() {
		t.Errorf("live region %q, tooltip %q: want the same text", live(), tip())
	}
	if !strings.Contains(live(), "row 0, column 0") {
		t.Errorf("live region %q, want the first cell (row 0, column 0)", live())
	}
	cursorAt := func() [2]float64 {
		r := rectOf(p, "#cell-cursor")
		return [2]float64{r[0], r[1]}
	}
	c0 := cursorAt()
	p.do("→", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("the cursor one cell right", `document.getElementById('cell-live').textContent.includes('row 0, column 1')`)
	p.do("↓", chromedp.KeyEvent(kb.ArrowDown))
	p.waitFor("the cursor one cell down", `document.getElementById('cell-live').textContent.includes('row 1, column 1')`)
	if c1 := cursorAt(); !(c1[0] > c0[0] && c1[1] > c0[1]) {
		t.Errorf("cursor at %v after → ↓, was at %v: want it right of and below", c1, c0)
	}
	if live() != tip() {
		t.Errorf("live region %q, tooltip %q: want the same text", live(), tip())
	}
	if got := eval[string](p, `document.getElementById('cell-live').getAttribute('aria-live')`); got != "polite" {
		t.Errorf("cell live region aria-live=%q, want polite", got)
	}
	// the arrows took the keys: no phase was stepped
	if got := p.text("phase"); !strings.HasPrefix(got, "forward · relu 1") {
		t.Errorf("phase %q after arrow keys on a map, want it unchanged", got)
	}

	// at the right edge → goes on to the tensor's next map, which becomes its Tab stop
	// from column 1, w−2 presses reach the last column, one more the next map
	w := eval[int](p, `document.querySelector('`+first+`').width`)
	for range w - 1 {
		p.do("→", chromedp.KeyEvent(kb.ArrowRight))
	}
	p.waitFor("the next map", `document.activeElement !== document.querySelector('`+first+`') && document.activeElement.dataset.testid === 'act-map'`)
	if got := live(); !strings.Contains(got, "channel 1 · row 1, column 0") {
		t.Errorf("live region %q after leaving channel 0 at its right edge, want channel 1, row 1, column 0", got)
	}
	if got := eval[[]int](p, `[...document.querySelectorAll('.col[data-layer="0"] canvas[data-testid=act-map]')].map(c => c.tabIndex)`); len(got) < 2 || got[0] != -1 || got[1] != 0 {
		t.Errorf("conv 1's feature maps' tabIndex %v, want the Tab stop moved to channel 1", got)
	}
	// Enter explains the cell under the cursor
	p.do("Enter", chromedp.KeyEvent(kb.Enter))
	p.waitFor("the drill-down", `!document.getElementById('explain').hidden && document.getElementById('explain').dataset.state === 'answered'`)
	p.do("Escape", chromedp.KeyEvent(kb.Escape))

	// playing: the phase changes many times, its live region at most once a second
	p.do("watch the phase", chromedp.Evaluate[chromedp.Void](`(() => {
		window.__said = []; window.__phases = 0;
		new MutationObserver(() => window.__said.push(performance.now())).observe(document.getElementById('phase-live'), { childList: true, characterData: true, subtree: true });
		new MutationObserver(() => window.__phases++).observe(document.getElementById('phase'), { childList: true, characterData: true, subtree: true });
	})()`))
	p.do("blur the map", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	p.do("Space plays", chromedp.KeyEvent(" "))
	p.waitFor("a few announcements", `window.__said.length >= 3`)
	p.do("Space pauses", chromedp.KeyEvent(" "))
	p.waitFor("paused", `document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
	said := eval[[]float64](p, `window.__said`)
	phases := eval[int](p, `window.__phases`)
	t.Logf("while playing: %d phase changes, %d announcements", phases, len(said))
	if phases <= len(said) {
		t.Errorf("%d phase changes and %d announcements while playing: want fewer announcements than phases", phases, len(said))
	}
	for i := 1; i < len(said); i++ {
		if gap := said[i] - said[i-1]; gap < 990 {
			t.Errorf("announcements %d and %d %.0f ms apart, want at least a second", i-1, i, gap)
		}
	}
	if got := eval[string](p, `document.getElementById('phase-live').getAttribute('aria-live')`); got != "polite" {
		t.Errorf("phase live region aria-live=%q, want polite", got)
	}
	if got := eval[string](p, `document.getElementById('phase').getAttribute('aria-live') || ''`); got != "" {
		t.Errorf("the phase indicator itself is a live region (%q): every phase would be read", got)
	}
	// paused, the last phase is read
	p.waitFor("the paused phase announced", `document.getElementById('phase-live').textContent === document.getElementById('phase').textContent`)
	p.checkClean()
}
