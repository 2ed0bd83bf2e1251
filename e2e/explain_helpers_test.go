package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/protocol"
)

// Helpers of the explain tests (explain_test.go, explain_room_test.go):
// stepping to a phase, finding a cell on screen, hovering and drilling
// into it, playing the conv explainer, paging the focus view, screenshots.

// stepTo steps phases until the phase indicator starts with label.
func stepTo(p *labPage, label string) {
	p.t.Helper()
	for range 40 {
		if strings.HasPrefix(p.text("phase"), label) {
			return
		}
		before := p.text("phase")
		p.click("step-phase")
		// a click the page missed (it landed while the page moved) is
		// clicked again
		if !p.within(5*time.Second, fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before)) {
			p.click("step-phase")
		}
		p.waitFor("the next phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	}
	p.t.Fatalf("never reached %q (at %q)", label, p.text("phase"))
}

// rectOf returns the bounding box [left, top, width, height] of the first
// element matching a CSS selector.
func rectOf(p *labPage, sel string) [4]float64 {
	p.t.Helper()
	r := eval[[]float64](p, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return []; const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, sel))
	if len(r) != 4 {
		p.t.Fatalf("no element %s", sel)
	}
	return [4]float64{r[0], r[1], r[2], r[3]}
}

// cellPoint is the centre, in CSS pixels, of pixel (y, x) of the canvas
// matching sel.
func cellPoint(p *labPage, sel string, y, x int) (float64, float64) {
	p.t.Helper()
	wh := eval[[]float64](p, fmt.Sprintf(`(() => { const c = document.querySelector(%q); return [c.width, c.height]; })()`, sel))
	r := rectOf(p, sel)
	return r[0] + (float64(x)+0.5)*r[2]/wh[0], r[1] + (float64(y)+0.5)*r[3]/wh[1]
}

// hoverTip moves the pointer to (x, y) and returns the tooltip's lines.
func hoverTip(p *labPage, x, y float64) []string {
	p.t.Helper()
	p.do("leave", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 2, 2))
	p.do("hover a cell", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y))
	p.waitFor("the tooltip", `!document.getElementById('tooltip').hidden`)
	return eval[[]string](p, `[...document.querySelectorAll('#tooltip > div')].map(d => d.textContent)`)
}

// drill clicks (x, y) and waits for the panel's answer; it returns the
// panel's total and its latency in milliseconds.
func drill(p *labPage, x, y float64) (string, float64) {
	p.t.Helper()
	n := eval[string](p, `document.getElementById('explain').dataset.filled || '0'`)
	p.do("click a cell", chromedp.MouseClickXY(x, y))
	p.waitFor("the drill-down", fmt.Sprintf(`(() => { const e = document.getElementById('explain'); return !e.hidden && (e.dataset.filled || '0') !== %q || e.dataset.state === 'refused'; })()`, n))
	if st := eval[string](p, `document.getElementById('explain').dataset.state`); st != "answered" {
		p.t.Fatalf("drill-down refused: %q", eval[string](p, `document.getElementById('explain-body').textContent`))
	}
	ms, _ := strconv.ParseFloat(eval[string](p, `document.getElementById('explain').dataset.latencyMs`), 64)
	return eval[string](p, `document.querySelector('[data-testid=explain-total]').textContent`), ms
}

// shot saves a 1280×720 screenshot as dir/name when E2E_SCREENSHOTS=dir.
func shot(p *labPage, name string) {
	p.t.Helper()
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // from the repository's root, as the docs name it
	}
	p.do("leave", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 2, 2))
	time.Sleep(200 * time.Millisecond) // the next animation frame
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

// lastTensor returns the newest frame tensor of layer's kind that the page
// received, waiting for one.
func lastTensor(t *testing.T, tap *frameTap, layer int, kind string) *protocol.FrameTensor {
	t.Helper()
	for range 200 {
		tap.mu.Lock()
		for i := len(tap.frames) - 1; i >= 0; i-- {
			if tt := tap.frames[i].Tensor(layer, kind); tt != nil && tt.Enc == protocol.EncF32 {
				tap.mu.Unlock()
				return tt
			}
		}
		tap.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no exact %s of layer %d received (tap errors %v)", kind, layer, tap.errs)
	return nil
}

// walkTo opens the walkthrough of grad for filter f and channel c, plays
// it to its end and returns its finished grid.
func walkTo(p *labPage, grad string, f, c int) []float64 {
	p.t.Helper()
	p.do("choose "+grad, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const set = (id, v) => { const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); };
		document.getElementById('walk-speed').value = '60';
		set('walk-grad', %q); set('walk-filter', '%d'); set('walk-channel', '%d');
	})()`, grad, f, c)))
	p.waitFor("the walkthrough", fmt.Sprintf(`(() => { const s = document.getElementById('conv-explainer').dataset; return s.state === 'ready' && s.grad === %q && s.step === '0'; })()`, grad))
	p.click("walk-play")
	p.waitFor("the walkthrough's end", `document.getElementById('conv-explainer').dataset.state === 'done'`)
	var res []float64
	if err := json.Unmarshal([]byte(eval[string](p, `document.getElementById('conv-explainer').dataset.result`)), &res); err != nil {
		p.t.Fatalf("data-result: %v", err)
	}
	return res
}

// scrubTo moves the conv explainer's scrubber from about half way on to the
// first step whose text does not match the regular expression not.
func scrubTo(p *labPage, not string) {
	p.t.Helper()
	p.do("scrub", chromedp.Evaluate[chromedp.Void](`(() => {
		const r = document.getElementById('walk-scrub');
		for (let k = Math.floor(Number(r.max) * 0.55); k <= Number(r.max); k++) {
			r.value = String(k); r.dispatchEvent(new Event('input'));
			if (!new RegExp(`+strconv.Quote(not)+`).test(document.getElementById('walk-text').textContent)) return;
		}
	})()`))
}

// pageTo shows the focus view's out page o and in page i.
func pageTo(p *labPage, o, i int) {
	p.t.Helper()
	p.do("page", chromedp.Evaluate[chromedp.Void](`(() => {
		const click = (id, n) => { for (let k = 0; k < n; k++) document.getElementById(id).click(); };
		click('focus-out-prev', 8); click('focus-in-prev', 8);
		click('focus-out-next', `+itoa(o)+`); click('focus-in-next', `+itoa(i)+`);
	})()`))
	p.waitFor("the page drawn", `(() => { const c = document.querySelector('#focus canvas[data-focus=W].map'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (!(d[i] === 255 && d[i + 1] === 255 && d[i + 2] === 255) && !(d[i] === 238 && d[i + 1] === 240)) return true; return false; })()`)
}
