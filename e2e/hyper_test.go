package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/backpropviz/backpropviz/protocol"
)

// stateTap keeps the hyperparameters of the last state message the page
// received from the server, read from the browser's network events.
type stateTap struct {
	mu    sync.Mutex
	hyper *protocol.Hyper
}

func tapStates(t *testing.T, p *labPage) *stateTap {
	t.Helper()
	tap := &stateTap{}
	evs := chromedp.Events(p.ctx, network.WebSocketFrameReceived)
	go func() {
		for ev, err := range evs {
			if err != nil {
				return
			}
			if ev.Response == nil || ev.Response.Opcode != 1 {
				continue
			}
			var m struct {
				Type  string          `json:"type"`
				Hyper *protocol.Hyper `json:"hyper"`
			}
			if json.Unmarshal([]byte(ev.Response.PayloadData), &m) == nil && m.Type == "state" && m.Hyper != nil {
				tap.mu.Lock()
				tap.hyper = m.Hyper
				tap.mu.Unlock()
			}
		}
	}()
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	return tap
}

func (tap *stateTap) last() protocol.Hyper {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	if tap.hyper == nil {
		return protocol.Hyper{}
	}
	return *tap.hyper
}

// typeInto types text into a number field as a person does: click, select
// all, type, Tab away (the change is sent on leaving the field).
func typeInto(p *labPage, id, text string) {
	p.t.Helper()
	x, y := center(p, id)
	p.do("type into "+id, chromedp.MouseClickXY(x, y),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).select()`, id)),
		chromedp.KeyEvent(text), chromedp.KeyEvent(kb.Tab))
}

// TestHyperparametersInThePage sets hyperparameters through the page's
// fields and reads them back from the server's state: the optimizer shows
// only its own fields; SGD's momentum and Nesterov, weight decay, Adam's
// β2 and RMSprop's α apply live; a refused value gets the server's message
// under its field and the field shows the value in effect again.
func TestHyperparametersInThePage(t *testing.T) {
	p := openShapes(t, 1440, 900, "")
	tap := tapStates(t, p)
	shown := func(id string) bool {
		return eval[bool](p, fmt.Sprintf(`document.getElementById(%q).offsetParent !== null`, id))
	}
	// Adam (the default): β1, β2, ε; no momentum, no α
	for id, want := range map[string]bool{"beta1": true, "beta2": true, "eps": true, "wd": true, "momentum": false, "nesterov": false, "alpha": false} {
		if shown(id) != want {
			t.Errorf("Adam: field %s shown = %v, want %v", id, !want, want)
		}
	}
	p.do("choose SGD", chromedp.SetValue(chromedp.ID("opt"), "sgd"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('opt').dispatchEvent(new Event('change'))`))
	p.waitFor("the server's SGD", `document.getElementById('hyper').dataset.opt === 'sgd'`)
	for id, want := range map[string]bool{"momentum": true, "nesterov": true, "wd": true, "beta1": false, "beta2": false, "eps": false, "alpha": false} {
		if shown(id) != want {
			t.Errorf("SGD: field %s shown = %v, want %v", id, !want, want)
		}
	}
	typeInto(p, "momentum", "0.5")
	p.waitFor("momentum 0.5 in the page", `document.getElementById('momentum').value === '0.5'`)
	x, y := center(p, "nesterov")
	p.do("tick Nesterov", chromedp.MouseClickXY(x, y))
	typeInto(p, "wd", "0.001")
	waitHyper(p, tap, "SGD with momentum 0.5, Nesterov, weight decay 0.001", func(h protocol.Hyper) bool {
		return h.Opt == "sgd" && h.Momentum == 0.5 && h.Nesterov && h.WD == 0.001
	})
	// a refused value: the server's message under the field, the value in effect again
	typeInto(p, "momentum", "1.5")
	p.waitFor("the server's message under the field", `document.getElementById('momentum-msg').textContent !== ''`)
	if msg := eval[string](p, `document.getElementById('momentum-msg').textContent`); !strings.Contains(msg, "momentum") {
		t.Errorf("message under the momentum field = %q, want the server's (naming momentum)", msg)
	}
	p.waitFor("the field reverted", `document.getElementById('momentum').value === '0.5'`)
	if h := tap.last(); h.Momentum != 0.5 {
		t.Errorf("after a refused momentum the server has %v, want 0.5", h.Momentum)
	}
	// Adam's β2 and RMSprop's α
	p.do("choose Adam", chromedp.SetValue(chromedp.ID("opt"), "adam"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('opt').dispatchEvent(new Event('change'))`))
	p.waitFor("Adam's fields", `document.getElementById('beta2').offsetParent !== null`)
	typeInto(p, "beta2", "0.99")
	waitHyper(p, tap, "Adam with β2 0.99", func(h protocol.Hyper) bool { return h.Opt == "adam" && h.Beta2 == 0.99 })
	p.do("choose RMSprop", chromedp.SetValue(chromedp.ID("opt"), "rmsprop"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('opt').dispatchEvent(new Event('change'))`))
	p.waitFor("RMSprop's fields", `document.getElementById('alpha').offsetParent !== null`)
	typeInto(p, "alpha", "0.9")
	waitHyper(p, tap, "RMSprop with α 0.9", func(h protocol.Hyper) bool { return h.Opt == "rmsprop" && h.Alpha == 0.9 })
	// it applies live: a step trains with it
	p.click("step-batch")
	p.waitFor("a step", `/step 1$/.test(document.getElementById('phase').textContent)`)
	p.checkClean()
}

// waitHyper waits until the server's last state has hyperparameters that ok.
func waitHyper(p *labPage, tap *stateTap, what string, ok func(protocol.Hyper) bool) {
	p.t.Helper()
	for range 200 {
		if ok(tap.last()) {
			return
		}
		p.waitFor("a moment", `new Promise((ok) => setTimeout(() => ok(true), 50))`)
	}
	p.t.Fatalf("the server never had %s: last state %+v", what, tap.last())
}
