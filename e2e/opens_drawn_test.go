package e2e

import (
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
// it shows. It logs the time from the load event to the first map drawn
// (run with -v); it asserts the behaviour, not the time.
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
	p.checkClean()
}
