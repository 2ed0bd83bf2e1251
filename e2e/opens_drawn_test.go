package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// firstMapWatch runs in the page before its scripts: it records
// performance.now() at the load event and when a feature map first shows
// a pixel that is neither transparent nor the blank grey (238, 240, 244),
// checking every animation frame.
const firstMapWatch = `window.__loadAt = null; window.__firstMapAt = null;
addEventListener('load', () => { window.__loadAt = performance.now(); });
(function watch() {
  for (const c of document.querySelectorAll('canvas[data-testid=act-map], canvas[data-testid=input-map]')) {
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] && !(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244)) { window.__firstMapAt = performance.now(); return; }
    }
  }
  requestAnimationFrame(watch);
})();`

// TestPageOpensDrawn: a new lab draws real feature maps (the probe image's
// forward pass, before any step) without any click, and says which image
// it shows; a click on one of these maps explains its number (the drill-down
// reads the same preview and says so). It logs the time from the load event
// to the first map drawn (run with -v); it asserts the behaviour, not the
// time.
func TestPageOpensDrawn(t *testing.T) {
	url := startLab(t)
	p := openBrowser(t, 1400, 1000)
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstMapWatch}); err != nil {
		t.Fatal(err)
	}
	p.do("open the lab", chromedp.Navigate(url+"/"))
	p.waitFor("a feature map drawn without a click", `window.__firstMapAt !== null && window.__loadAt !== null`)
	ms := eval[float64](p, `window.__firstMapAt - window.__loadAt`)
	t.Logf("first feature map drawn %.0f ms after the load event", ms)
	if got := eval[string](p, `document.querySelector('.sample-info').textContent`); got == "" {
		t.Errorf("the sample caption is empty")
	}
	if step := p.text("step-count"); step != "0" {
		t.Errorf("step counter %q: the page must open drawn without training", step)
	}
	// the drill-down explains the preview's numbers: no dead end at step 0
	sel := `#strip .col[data-layer="0"] canvas[data-testid=act-map]`
	p.do("bring conv 1 into view", chromedp.Evaluate[chromedp.Void](`dispatchEvent(new WheelEvent('wheel')); document.querySelector('`+sel+`').scrollIntoView({ block: 'center' })`))
	p.waitFor("conv 1 drawn", `(() => { const c = document.querySelector('`+sel+`'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (d[i + 3] && !(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244)) return true; return false; })()`)
	x, y := cellPoint(p, sel, 3, 4)
	tip := hoverTip(p, x, y)
	if total, _ := drill(p, x, y); total != tip[0] {
		t.Errorf("conv 1's Y before any step: explain-total %q, tooltip %q", total, tip[0])
	}
	if note := eval[string](p, `document.getElementById('explain-body').textContent`); !strings.Contains(note, "preview") || !strings.Contains(note, "probe image") {
		t.Errorf("the drill-down before any step does not say it explains the preview: %q", note)
	}
	if step := p.text("step-count"); step != "0" {
		t.Errorf("step counter %q after a question: a question must not step", step)
	}
	p.checkClean()
}
