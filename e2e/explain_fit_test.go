package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// panelWide lists what of the drill-down panel is wider than it: the
// panel's own sideways scroll, an element past its right edge, a box that
// scrolls sideways.
const panelWide = `(() => {
	const e = document.getElementById('explain');
	const r = e.getBoundingClientRect();
	const out = [];
	if (e.scrollWidth > e.clientWidth) out.push('the panel: scrollWidth ' + e.scrollWidth + ' > ' + e.clientWidth);
	for (const c of e.querySelectorAll('*')) {
		const b = c.getBoundingClientRect();
		if (b.width === 0) continue;
		const scrolls = c.clientWidth > 0 && c.scrollWidth > c.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(c).overflowX);
		if (b.right > r.right + 0.5 || scrolls) out.push(c.tagName + '.' + c.className + ' right ' + Math.round(b.right) + ' scrollWidth ' + c.scrollWidth + '/' + c.clientWidth);
	}
	return out.slice(0, 10);
})()`

// TestDrillDownFits (1440×900, MNIST's default network): the drill-down of
// a weight's gradient (dL/dW: terms, the batch's shares, the gradient
// check), of a weight and of feature maps' cells fits the panel's width:
// no sideways scrollbar, nothing past its edge.
func TestDrillDownFits(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1440, 900)
	p.do("set the viewport", chromedp.EmulateViewport(1440, 900))
	p.do("open the lab", chromedp.Navigate(base+"/?seed=3"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.click("step-batch")
	p.waitFor("one step", `document.getElementById('step-count').textContent === '1'`)
	stepTo(p, "backward · conv 1")
	for _, c := range [][2]string{{"0", "wgrad"}, {"3", "wgrad"}, {"3", "weights"}, {"6", "wgrad"}, {"0", "act"}, {"3", "grad"}} {
		what := "layer " + c[0] + " " + c[1]
		sel := fmt.Sprintf(`canvas.map[data-layer="%s"][data-kind=%s]`, c[0], c[1])
		p.waitFor(what+" drawn", fmt.Sprintf(`!!document.querySelector(%q)`, sel))
		p.do("see the map", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({ block: "center", inline: "center" })`, sel)))
		x, y := cellPoint(p, sel, 1, 1)
		drill(p, x, y)
		if wide := eval[[]string](p, panelWide); len(wide) > 0 {
			t.Errorf("the drill-down of %s is wider than its panel: %v", what, wide)
		}
		shot(p, "drill-"+c[0]+c[1]+".png")
		if c[1] == "wgrad" {
			p.do("check the gradient", chromedp.Evaluate[chromedp.Void](`document.getElementById('gradcheck-run').click()`))
			p.waitFor("the check's result", `['done', 'refused', 'error'].includes(document.getElementById('gradcheck').dataset.state) || !document.getElementById('gradcheck-result').hidden`)
			if wide := eval[[]string](p, panelWide); len(wide) > 0 {
				t.Errorf("the gradient check of %s is wider than its panel: %v", what, wide)
			}
		}
	}
	p.checkClean()
}

// TestNotComputedYetNamesTheCell: a δ cell clicked before the backward
// pass computed it is refused in the page's words: the panel's heading
// and the server's message name the layer as the page does (conv 1) and
// the cell as its map does (δ), as an answer would.
func TestNotComputedYetNamesTheCell(t *testing.T) {
	p := openShapes(t, 1440, 900, "")
	stepTo(p, "forward · conv 1")
	sel := `#strip .col[data-layer="0"] canvas[data-kind=grad]`
	p.do("see the map", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({ block: "center" })`, sel)))
	x, y := cellPoint(p, sel, 5, 4)
	p.do("click a δ cell", chromedp.MouseClickXY(x, y))
	p.waitFor("the refusal", `document.getElementById('explain').dataset.state === 'refused'`)
	if got := eval[string](p, `document.getElementById('explain-title').textContent`); got != "conv 1 · δ[0,5,4]" {
		t.Errorf("the panel's heading %q, want \"conv 1 · δ[0,5,4]\"", got)
	}
	got := eval[string](p, `document.getElementById('explain-body').textContent`)
	if !strings.HasPrefix(got, "δ[0,5,4] of conv 1 is not computed yet: backward · relu 1 has not run") || strings.Contains(got, "dY") || strings.Contains(got, "layer 0") {
		t.Errorf("the refusal says %q, want δ[0,5,4] of conv 1 named as the page names it", got)
	}
	p.checkClean()
}
