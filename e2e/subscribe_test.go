package e2e

import (
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
)

// wireLayer is one item of the "layers" of a subscribe message.
type wireLayer struct {
	Layer    int      `json:"layer"`
	Kinds    []string `json:"kinds"`
	Channels []int    `json:"channels"`
}

// subscription returns the layers the page last subscribed to (the page
// keeps them in <body data-subscription>).
func subscription(p *labPage) []wireLayer {
	p.t.Helper()
	var ls []wireLayer
	if err := json.Unmarshal([]byte(eval[string](p, `document.body.dataset.subscription || '[]'`)), &ls); err != nil {
		p.t.Fatalf("decode the page's subscription: %v", err)
	}
	return ls
}

// kindsOf returns the kinds subscribed of layer.
func kindsOf(ls []wireLayer, layer int) []string {
	var out []string
	for _, l := range ls {
		if l.Layer == layer {
			out = append(out, l.Kinds...)
		}
	}
	return out
}

// TestSubscriptionFollowsScreen opens a room as a student on a 1366×768
// screen: the page subscribes only to the maps on screen (the first rows
// of channels of the strip, not the dense layer to the right, not the
// panels below), and scrolling brings the rest in: the page re-subscribes,
// a frame arrives and the canvas that came into view is drawn.
func TestSubscriptionFollowsScreen(t *testing.T) {
	srv, base := startServer(t)
	room := createRoom(t, srv, "subscriptions")
	p := openBrowser(t, 1366, 768)
	p.do("open the room as a student", chromedp.Navigate(base+"/r/"+room.Code))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.waitFor("a subscription", `document.body.dataset.subscription !== undefined`)

	ls := subscription(p)
	t.Logf("subscription at 1366×768: %s", eval[string](p, `document.body.dataset.subscription`))
	if k := kindsOf(ls, -1); len(k) != 1 || k[0] != "input" {
		t.Errorf("input layer kinds %v, want [input]", k)
	}
	last := eval[int](p, `document.querySelectorAll('#strip .col[data-testid^=layer-]').length`) - 1
	if k := kindsOf(ls, last); len(k) != 0 {
		t.Errorf("layer %d (off screen to the right) subscribed: %v", last, k)
	}
	for _, l := range ls {
		for _, k := range l.Kinds {
			if k != "input" && k != "act" && k != "grad" {
				t.Errorf("layer %d: kind %s subscribed, but no panel is on screen", l.Layer, k)
			}
		}
		if l.Layer == 0 && (len(l.Channels) != 2 || l.Channels[1] >= 8) {
			t.Errorf("layer 0 channels %v, want the first rows only (of 8)", l.Channels)
		}
	}
	if s := painted(p, "canvas[data-testid=filter-weights]"); s.Painted != 0 {
		t.Errorf("filters off screen drawn: %+v", s)
	}

	// Scroll the filters of conv 1 into view: they are subscribed and drawn.
	p.do("scroll to the filters", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=conv-panel-0]').scrollIntoView()`))
	p.waitFor("the filters subscribed", `JSON.parse(document.body.dataset.subscription).some(l => l.layer === 0 && l.kinds.includes('weights'))`)
	p.waitFor("the filters drawn", `(() => { const c = document.querySelector('canvas[data-testid=filter-weights]'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })()`)
	ls = subscription(p)
	if k := kindsOf(ls, -1); len(k) != 0 {
		t.Errorf("the input, scrolled out of view, still subscribed: %v", k)
	}

	// Back up and along the strip to the last layer: it comes in (drawn as
	// "not computed yet": the room has not run a phase).
	p.do("scroll the strip to its end", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.querySelector('.strip-wrap').scrollLeft = 1e6`))
	p.waitFor("the last layer subscribed", `JSON.parse(document.body.dataset.subscription).some(l => l.layer === `+itoa(last)+` && l.kinds.includes('act'))`)
	p.waitFor("the last layer drawn", `(() => { const c = document.querySelector('#strip .col[data-layer="`+itoa(last)+`"] canvas[data-testid=act-map]'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })()`)
	p.checkClean()
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
