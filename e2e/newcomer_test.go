package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// What a newcomer met: secrets in addresses, refused requests in the
// console, messages that never went away.

// requestLog records the addresses of a tab's requests and websockets and
// the answers' statuses.
type requestLog struct {
	mu     sync.Mutex
	urls   []string
	status map[string]int64
}

func logRequests(t *testing.T, p *labPage) *requestLog {
	t.Helper()
	l := &requestLog{status: map[string]int64{}}
	go func() {
		for ev, err := range chromedp.Events(p.ctx, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.urls = append(l.urls, ev.Request.URL)
			l.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(p.ctx, network.WebSocketCreated) {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.urls = append(l.urls, ev.URL)
			l.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(p.ctx, network.ResponseReceived) {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.status[ev.Response.URL] = ev.Response.Status
			l.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	return l
}

// TestTokensOutOfAddresses: a lab's resume token appears in no address the
// page requests (websocket, /probe, /model), so no console or log prints
// it, and a reload still resumes the lab; a tap on the drawing pad sends a
// dot the network sees (no refused request), and the model downloads.
func TestTokensOutOfAddresses(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 900)
	l := logRequests(t, p)
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=4"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.click("step-batch")
	p.waitFor("one step", `document.getElementById('step-count').textContent === '1'`)
	p.do("reload", chromedp.Reload())
	p.waitFor("the lab resumed at step 1", `document.getElementById('phase').textContent !== 'connecting…' && document.getElementById('step-count').textContent === '1'`)

	// a tap on the pad: a dot, sent and shown as the probe
	p.do("open the own input", chromedp.Evaluate[chromedp.Void](`document.getElementById('own-input').open = true; document.getElementById('draw-pad').scrollIntoView({ block: 'center' })`))
	r := rectOf(p, "#draw-pad")
	p.do("tap the pad", chromedp.MouseClickXY(r[0]+r[2]/2, r[1]+r[3]/2))
	p.waitFor("the probe answered", `!!document.body.dataset.probeAnsweredMs && document.getElementById('sample').value === 'probe'`)
	if h := p.text("draw-hint"); h != "" {
		t.Errorf("a dot on the pad got the hint %q", h)
	}
	// the model downloads (fetched with the token in a header)
	p.do("open the model controls", chromedp.Evaluate[chromedp.Void](`document.getElementById('model-controls').open = true; document.getElementById('model-download').scrollIntoView({ block: 'center' })`))
	p.click("model-download")
	p.waitFor("the model fetched", `performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/model') || !document.getElementById('alert-box').hidden`)
	if !eval[bool](p, `document.getElementById('alert-box').hidden`) {
		t.Errorf("download: %s", p.text("alert"))
	}

	tok := eval[string](p, `(history.state && history.state['bpv.resume /ws']) || ''`)
	l.mu.Lock()
	defer l.mu.Unlock()
	var ws, probe, model int
	for _, u := range l.urls {
		if strings.Contains(u, "resume=") || (tok != "" && strings.Contains(u, tok)) {
			t.Errorf("an address carries the resume token: %s", u)
		}
		switch {
		case strings.Contains(u, "/ws"):
			ws++
		case strings.Contains(u, "/probe"):
			probe++
		case strings.Contains(u, "/model"):
			model++
		}
	}
	if ws < 2 || probe < 1 || model < 1 {
		t.Errorf("requests seen: %d websockets, %d probes, %d models; want the lab's two websockets (before and after the reload), a probe and a model", ws, probe, model)
	}
	for u, s := range l.status {
		if s >= 400 {
			t.Errorf("%s answered %d", u, s)
		}
	}
	if tok == "" {
		t.Errorf("no resume token kept for the tab: the test proves less than it says")
	}
	p.checkClean()
}

// TestErrorClosesItself: an error message is read out (role alert), can be
// closed at once (×), and closes itself after some seconds.
func TestErrorClosesItself(t *testing.T) {
	p := openShapes(t, 1280, 800, "")
	// a spec the server refuses (a refused field's value is said under the
	// field instead)
	p.do("open the spec group", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=group-spec]').open = true`))
	p.do("type an invalid spec", chromedp.SetValue(chromedp.ID("spec"), "conv(8,5,s1,p2) relu nosuchlayer dense(5)"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('spec').dispatchEvent(new Event('input'))`))
	p.click("apply-spec")
	p.waitFor("the error message", `!document.getElementById('alert-box').hidden && document.getElementById('alert').textContent.length > 0`)
	if role := eval[string](p, `document.getElementById('alert').getAttribute('role')`); role != "alert" {
		t.Errorf("the message's role is %q, want alert (read out as it appears)", role)
	}
	if !eval[bool](p, `!!document.getElementById('alert-close') && document.getElementById('alert-close').offsetParent !== null`) {
		t.Errorf("the message has no close button")
	}
	ms := eval[string](p, `document.getElementById('alert-box').dataset.closesInMs || ''`)
	t.Logf("the message closes itself after %s ms", ms)
	var n int
	if _, err := fmt.Sscan(ms, &n); err != nil || n < 8000 {
		t.Errorf("the message closes after %q ms: want at least 8 s to read it", ms)
	}
	p.waitFor("the message closed by itself", `document.getElementById('alert-box').hidden`)
	p.checkClean()
}
