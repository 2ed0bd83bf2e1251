package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLegendDescriptionTapped (390×844, touch, the default MNIST network):
// a legend's description longer than its five lines is cut; a tap shows
// it whole, another folds it again.
func TestLegendDescriptionTapped(t *testing.T) {
	_, base := startServer(t)
	p := device(t, openBrowser(t, 1280, 720), 390, 844, true)
	p.do("open the lab", chromedp.Navigate(base+"/"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.do("step a phase", chromedp.Evaluate[chromedp.Void](`document.getElementById('step-phase').click()`))
	p.waitFor("a description cut", `[...document.querySelectorAll('#strip .legend-desc')].some((d) => d.scrollHeight > d.clientHeight + 1)`)
	p.do("mark it", chromedp.Evaluate[chromedp.Void](`(() => { const d = [...document.querySelectorAll('#strip .legend-desc')].find((d) => d.scrollHeight > d.clientHeight + 1); d.id = 'cut-desc'; d.scrollIntoView({ block: 'center' }); })()`))
	p.do("tap it", chromedp.Click(chromedp.ID("cut-desc")))
	p.waitFor("the whole description", `(() => { const d = document.getElementById('cut-desc'); return d.dataset.open === 'true' && d.scrollHeight <= d.clientHeight + 1; })()`)
	p.do("tap it again", chromedp.Click(chromedp.ID("cut-desc")))
	p.waitFor("cut again", `(() => { const d = document.getElementById('cut-desc'); return d.dataset.open === 'false' && d.scrollHeight > d.clientHeight + 1; })()`)
	p.checkClean()
}
