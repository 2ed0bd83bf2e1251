package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// badgeClash says what is wrong with where the "new" badge of the layer's
// column lies, or "": over one of the column head's words (its name, spec,
// shape or focus button), or outside the column's sides (and, if inside,
// its top and bottom too, clear of the border); a phone's narrow column
// puts the badge on its top edge.
func badgeClash(p *labPage, layer int, inside bool) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(() => {
		const col = document.querySelector('#strip .col[data-layer="%d"]');
		const b = col.querySelector('.new-badge').getBoundingClientRect();
		const c = col.getBoundingClientRect();
		if (b.left < c.left + 2 || b.right > c.right - 2) return 'badge ' + JSON.stringify(b) + ' beside the column ' + JSON.stringify(c);
		if (%t && (b.top < c.top + 2 || b.bottom > c.bottom - 2)) return 'badge ' + JSON.stringify(b) + ' outside the column ' + JSON.stringify(c);
		for (const e of col.querySelectorAll('.col-head .col-name, .col-head .col-spec, .col-head .col-shape, .col-head .col-focus')) {
			const r = document.createRange(); r.selectNodeContents(e.firstChild && e.firstChild.nodeType === 3 ? e.firstChild : e);
			const w = e.matches('.col-focus') ? e.getBoundingClientRect() : r.getBoundingClientRect();
			if (w.width && b.left < w.right && w.left < b.right && b.top < w.bottom && w.top < b.bottom) return 'badge over ' + e.className + ' ' + JSON.stringify(w);
		}
		return '';
	})()`, layer, inside))
}

// TestNewBadgeOnAPhone (390×844, touch, the default MNIST network): after
// each forward phase the column of its result shows the "new" badge, and
// the badge hides none of the column head's words, the shape "8 × 28 × 28"
// of relu 1 included (it sits on the column's top edge).
func TestNewBadgeOnAPhone(t *testing.T) {
	_, base := startServer(t)
	p := device(t, openBrowser(t, 1280, 720), 390, 844, true)
	p.do("open the lab", chromedp.Navigate(base+"/"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	L := eval[int](p, `document.querySelectorAll('#strip .col[data-testid^="layer-"]').length`)
	if L < 2 {
		t.Fatalf("%d layers", L)
	}
	for layer := range L {
		before := p.text("phase")
		p.do("step a phase", chromedp.Evaluate[chromedp.Void](`document.getElementById('step-phase').click()`))
		p.waitFor("the next phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
		p.waitFor("the badge of layer "+fmt.Sprint(layer), fmt.Sprintf(`(() => { const b = document.querySelector('#strip .col[data-layer="%d"] .new-badge'); return b && getComputedStyle(b).visibility === 'visible'; })()`, layer))
		if bad := badgeClash(p, layer, false); bad != "" {
			t.Errorf("forward phase of layer %d: %s", layer, bad)
		}
	}
	p.checkClean()
}
