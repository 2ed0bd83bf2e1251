package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestTmpTl(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 3000)
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=4&lr=0.2&opt=sgd&spec=conv(2,3,s1,p1)+relu+maxpool(2,s2,p0)+dense(5)"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.waitFor("the filters drawn", `document.querySelectorAll('canvas[data-layer="0"][data-kind="weights"]').length > 0 && `+filtersHash+` !== 0`)
	t.Logf("step 0 hash %d", eval[int](p, filtersHash))
	t.Logf("rects %v inner %v", eval[[]float64](p, `[...document.querySelectorAll('canvas[data-layer="0"][data-kind="weights"]')].map(c => c.getBoundingClientRect().bottom)`), eval[float64](p, `innerHeight`))
}
