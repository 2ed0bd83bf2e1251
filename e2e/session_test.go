package e2e

import (
	neturl "net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSessionInBrowser: a reload resumes the lab where it was; a reset with
// a new seed shows the seed in the controls, the header and the URL; a lab
// URL with some invalid parameters applies the others and names every
// invalid one.
func TestSessionInBrowser(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1200, 800)
	spec := "conv(2,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=7&batch=4&spec="+neturl.QueryEscape(spec)))
	p.waitFor("the first state", `document.getElementById('step-count').textContent === '0' && /step 0$/.test(document.getElementById('phase').textContent)`)
	for _, want := range []string{"1", "2"} {
		p.click("step-batch")
		p.waitFor("step "+want, `document.getElementById('step-count').textContent === '`+want+`'`)
	}

	// reload: the same session, at step 2
	p.do("reload", chromedp.Reload())
	p.waitFor("the resumed state", `document.getElementById('phase').textContent !== 'connecting…' && document.getElementById('step-count').textContent !== '0'`)
	if got := p.text("step-count"); got != "2" {
		t.Errorf("step after a reload = %q, want 2 (resumed)", got)
	}

	// reset with a new seed: no welcome, the state carries the seed
	p.do("type a seed", chromedp.SetValue(chromedp.ID("seed"), "123"))
	p.click("reset")
	p.waitFor("step 0 after the reset", `document.getElementById('step-count').textContent === '0'`)
	p.waitFor("the new seed shown", `document.getElementById('seed-shown').textContent === '123'`)
	if got := eval[string](p, `document.getElementById('seed').value`); got != "123" {
		t.Errorf("seed control = %q, want 123", got)
	}
	if loc := eval[string](p, `location.search`); !strings.Contains(loc, "seed=123") {
		t.Errorf("URL %q, want seed=123", loc)
	}

	// a new lab URL in the same tab starts a new session; the valid
	// parameters apply and every invalid one is named
	p.do("open a bad lab URL", chromedp.Navigate(base+"/?data=shapes&spec=foo&lr=abc&seed=x&batch=6"))
	p.waitFor("the error message", `!document.getElementById('alert-box').hidden && document.getElementById('alert').textContent.includes('URL parameters')`)
	msg := p.text("alert")
	for _, want := range []string{"spec", `lr: "abc"`, `seed: "x"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("alert %q does not name %q", msg, want)
		}
	}
	p.waitFor("the batch size from the URL", `document.getElementById('batch').value === '6'`)
	if got := p.text("step-count"); got != "0" {
		t.Errorf("step of a new lab = %q, want 0 (a new session)", got)
	}
	p.checkClean()
}
