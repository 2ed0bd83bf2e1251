package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEpochRunHoldsStill runs Step epoch on MNIST at batch 1 (60,000 steps:
// long enough to watch) at 1280×720 and on a 390×844 phone: the epoch's
// progress shows, and no run control moves and the bar keeps its height
// while it runs and after it is paused.
func TestEpochRunHoldsStill(t *testing.T) {
	for _, size := range [][2]int{{1280, 720}, {390, 844}} {
		base := startLab(t)
		p := openBrowser(t, size[0], size[1])
		p.do("set the viewport", chromedp.EmulateViewport(int64(size[0]), int64(size[1])))
		p.do("open the lab", chromedp.Navigate(base+"/?seed=3&batch=1"))
		p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
		p.waitFor("the network", `document.querySelectorAll('#strip canvas[data-testid=act-map]').length > 0`)
		ids := []string{"play", "step-phase", "step-batch", "step-epoch"}
		where := func() map[string][4]float64 {
			m := map[string][4]float64{"bar": rectOf(p, ".topbar")}
			for _, id := range ids {
				m[id] = rectOf(p, "#"+id)
			}
			return m
		}
		before := where()
		same := func(when string) {
			t.Helper()
			for k, r := range where() {
				if r != before[k] {
					t.Errorf("%dx%d, %s: %s at %v, was %v", size[0], size[1], when, k, r, before[k])
				}
			}
		}
		p.do("Step epoch", chromedp.Click(chromedp.ID("step-epoch")))
		p.waitFor("the epoch's progress", `!document.getElementById('epoch-progress').hidden && /% of the epoch/.test(document.getElementById('epoch-progress').textContent)`)
		if r := rectOf(p, "#epoch-progress"); r[2] < 40 || r[3] < 8 {
			t.Errorf("%dx%d: the epoch's progress is %v px wide and %v high", size[0], size[1], r[2], r[3])
		}
		same("while the epoch runs")
		p.do("pause", chromedp.Click(chromedp.ID("play")))
		p.waitFor("paused", `document.getElementById('epoch-progress').hidden && document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
		same("after the pause")
		p.checkClean()
	}
}
