package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConvExplainerFollowsTheCell: with the drill-down on a cell of conv
// 2's δ (filter 2, row 3, column 4), C opens the backward convolution on
// that filter at the step where δ[2,3,4] slides over X, and its captions
// name that cell; a filter of the reader's own choice then starts at step 0.
// At 1280×720, on the shapes network at "backward · conv 2".
func TestConvExplainerFollowsTheCell(t *testing.T) {
	p := openShapes(t, 1280, 720, "&batch=4&speed=step")
	stepTo(p, "backward · conv 2")
	// conv 2's third δ map (channel 2), named for the test
	sel := `#chosen-map`
	if ch := eval[string](p, `(() => { const c = document.querySelectorAll('#strip .col[data-layer="3"] canvas[data-testid=grad-map]')[2]; c.id = 'chosen-map'; return c.getAttribute('aria-label') || ''; })()`); !strings.Contains(ch, "channel 2") {
		t.Fatalf("conv 2's third δ map is not channel 2: %q", ch)
	}
	p.do("bring the map into view", chromedp.Evaluate[chromedp.Void](`dispatchEvent(new WheelEvent('wheel')); document.querySelector('`+sel+`').scrollIntoView({ block: 'center' })`))
	p.waitFor("conv 2's δ drawn", notGrey(sel))
	x, y := cellPoint(p, sel, 3, 4)
	drill(p, x, y)
	q := eval[string](p, `document.querySelector('[data-testid=explain-total]').closest('#explain').textContent`)
	if !strings.Contains(q, "conv 2") {
		t.Fatalf("the drill-down is not about conv 2: %q", q)
	}
	p.do("press C", chromedp.KeyEvent("c"))
	p.waitFor("the backward convolution", `(() => { const s = document.getElementById('conv-explainer').dataset; return s.state === 'ready' && s.layer === '3' && s.grad === 'dW'; })()`)
	if f := eval[string](p, `document.getElementById('walk-filter').value`); f != "2" {
		t.Errorf("the explainer shows filter %s, want the chosen cell's 2", f)
	}
	cap2 := eval[string](p, `document.getElementById('walk-cap-2').textContent`)
	text := eval[string](p, `document.getElementById('walk-text').textContent`)
	if !strings.Contains(cap2, "(3,4)") || !strings.Contains(cap2, "chosen cell") || !strings.Contains(text, "δ[2,3,4]") {
		t.Errorf("captions at the chosen cell: %q / %q, want δ[2,3,4] named as the chosen cell", cap2, text)
	}
	// the reader's own choice: step 0 of the filter chosen, no chosen cell
	p.do("choose filter 1", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('walk-filter'); s.value = '1'; s.dispatchEvent(new Event('change')); })()`))
	p.waitFor("filter 1's walkthrough", `(() => { const s = document.getElementById('conv-explainer').dataset; return s.state === 'ready' && s.step === '0' && /δ\[1,/.test(document.getElementById('walk-text').textContent); })()`)
	if c := eval[string](p, `document.getElementById('walk-cap-2').textContent`); strings.Contains(c, "chosen cell") {
		t.Errorf("after the reader chose filter 1 the caption still speaks of the chosen cell: %q", c)
	}
	p.checkClean()
}
