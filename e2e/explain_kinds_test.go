package e2e

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestExplainEveryKind: a network of every layer kind, a strided conv
// whose last input row and column no window reads among them: each
// layer's focus view draws, each of its Y and δ cells drills down to the
// tooltip's value, a cell no window reaches says so and is 0, and the
// strided conv's backward convolution ends equal to its frames.
func TestExplainEveryKind(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1280, 720)
	p.do("a 1280×720 screen", chromedp.EmulateViewport(1280, 720))
	tap := tapFrames(t, p)
	spec := "conv(4,3,s2,p0) tanh avgpool(2) conv(3,2,s1,p1) leakyrelu sigmoid maxpool(2) flatten dense(5)"
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=3&batch=4&spec="+url.QueryEscape(spec)))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.click("step-batch")
	p.waitFor("one step", `document.getElementById('step-count').textContent === '1'`)
	p.do("focus the page", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	p.do("open the focus view with F", chromedp.KeyEvent("f"))
	p.waitFor("the focus view", `!document.getElementById('focus').hidden`)
	targets := eval[[]string](p, `[...document.getElementById('focus-layer').options].map(o => o.value + ' ' + o.textContent)`)
	if len(targets) != 10 {
		t.Fatalf("focus targets %v, want the 9 layers and the loss", targets)
	}
	for _, tg := range targets {
		v, name, _ := strings.Cut(tg, " ")
		p.do("pick "+name, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('focus-layer'); s.value = `+strconv.Quote(v)+`; s.dispatchEvent(new Event('change')); })()`))
		keys := []string{"Y", "dY", "dX"}
		if name == "loss" {
			keys = []string{"z", "p", "dz"}
		}
		for _, key := range keys {
			sel := `#focus canvas.map[data-focus=` + key + `]`
			p.waitFor(name+" "+key+" drawn", `document.getElementById('focus').dataset.layer === `+strconv.Quote(v)+` && (() => { const c = document.querySelector(`+strconv.Quote(sel)+`); if (!c) return false; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (!(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244)) return true; return false; })()`)
			x, y := cellPoint(p, sel, 0, 0)
			tip := hoverTip(p, x, y)
			total, _ := drill(p, x, y)
			if total != tip[0] {
				t.Errorf("%s %s: explain-total %q, tooltip %q", name, key, total, tip[0])
			}
			p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))
			time.Sleep(110 * time.Millisecond) // within the server's 10 questions a second
		}
	}

	// conv 1 (stride 2, no padding) reads no window at row 11: dL/dX is 0 there
	p.do("pick conv 1", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('focus-layer'); s.value = '0'; s.dispatchEvent(new Event('change')); })()`))
	p.waitFor("conv 1", `document.getElementById('focus').dataset.layer === '0' && !!document.querySelector('#focus canvas.map[data-focus=dX]')`)
	x, y := cellPoint(p, `#focus canvas.map[data-focus=dX]`, 11, 4)
	if total, _ := drill(p, x, y); total != "0" {
		t.Errorf("dL/dX[0,11,4] of a stride-2 conv no window reads: %q, want 0", total)
	}
	if note := eval[string](p, `document.querySelector('#explain .xp-note')?.textContent || ''`); !strings.Contains(note, "No window reads row 11") {
		t.Errorf("the note of a cell no window reads: %q", note)
	}
	p.do("close the drill-down", chromedp.KeyEvent(kb.Escape))

	// its backward convolution, to the end, equals its frames
	p.click("focus-walk")
	p.waitFor("the conv explainer", `!document.querySelector('[data-testid=conv-explainer]').hidden`)
	const f, c = 2, 0
	res := walkTo(p, "dW", f, c)
	sw := lastTensor(t, tap, 0, "swgrad")
	for k, v := range res {
		if want := sw.F32[f*9+k]; float32(v) != want {
			t.Errorf("conv 1 dL/dW[%d,%d] cell %d: walkthrough %v, frame %v", f, c, k, float32(v), want)
		}
	}
	res = walkTo(p, "dX", f, c)
	gin := lastTensor(t, tap, 0, "gradin")
	if len(res) != 144 {
		t.Fatalf("conv 1 dL/dX walkthrough: %d cells, want 144", len(res))
	}
	for k, v := range res {
		if want, ok := value(gin, c, k/12, k%12); !ok || float32(v) != want {
			t.Errorf("conv 1 dL/dX[%d] cell %d: walkthrough %v, frame %v", c, k, float32(v), want)
		}
	}
	if got := eval[int](p, `Number(document.getElementById('conv-explainer').dataset.steps)`); got != 144 {
		t.Errorf("dL/dX walkthrough of %d steps, want one per input cell (144)", got)
	}
	p.checkClean()
}
