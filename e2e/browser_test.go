// Package e2e drives the lab page in a real headless Chromium against the
// real server (server.New on a loopback httptest server).
//
// Without Chromium the tests skip, unless E2E_REQUIRE_BROWSER=1 (as in CI),
// which turns a missing browser into a failure. E2E_SCREENSHOT=path saves a
// screenshot of the lab, paused in the middle of a backward pass, to path
// (docs/screenshot.png for the README); E2E_DATA=mnist runs on MNIST instead
// of the procedural shapes.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/backpropviz/backpropviz/server"
)

// findBrowser returns the path of a Chromium-compatible browser, or skips
// (fails with E2E_REQUIRE_BROWSER=1) when there is none.
func findBrowser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("E2E_BROWSER"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("E2E_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found and E2E_REQUIRE_BROWSER=1: install chromium (apt-get install chromium)")
	}
	t.Skip("no Chromium found; set E2E_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// startLab starts the real server on loopback and returns its URL.
func startLab(t *testing.T) string {
	t.Helper()
	_, url := startServer(t)
	return url
}

// startServer starts the real server on loopback and returns it and its
// URL; it is shut down when the test ends.
func startServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(server.Config{ShapesTrain: 600, ShapesTest: 200}, log)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	return srv, ts.URL
}

// page is one browser tab with the lab loaded, collecting script
// exceptions and Content-Security-Policy violations.
type labPage struct {
	t          *testing.T
	ctx        context.Context
	exceptions chan string
}

func openBrowser(t *testing.T, width, height int) *labPage {
	t.Helper()
	exe := findBrowser(t)
	dir, err := os.MkdirTemp("", "bpv-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium may write into its profile for a moment after it exits.
		for i := 0; i < 20; i++ {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		t.Fatalf("start Chromium: %v", err)
	}
	p := &labPage{t: t, ctx: ctx, exceptions: make(chan string, 16)}
	exc := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exc {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := fmt.Sprintf("%s (%s:%d:%d)", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
			if d.Exception != nil && d.Exception.Description != "" {
				msg += ": " + d.Exception.Description
			}
			select {
			case p.exceptions <- msg:
			default:
			}
		}
	}()
	// reduced motion: the page follows the lesson by jumping, not by a
	// smooth scroll, so a test that steps and then points at a map finds it
	// where it stays (TestFollowTheLesson turns smooth scrolling back on)
	prefersMotion(t, ctx, "reduce")
	// record CSP violations before any script of the page runs
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
	})
	if err != nil {
		t.Fatalf("add CSP listener: %v", err)
	}
	return p
}

// do runs steps with a timeout.
func (p *labPage) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](p *labPage, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true.
func (p *labPage) waitFor(what, cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(40*time.Millisecond), chromedp.WithPollingTimeout(25*time.Second))); err != nil {
		p.t.Fatalf("waiting for %s (%s): %v\nphase: %q", what, cond, err, eval[string](p, `document.getElementById('phase').textContent`))
	}
}

func (p *labPage) text(id string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
}

// painted counts, over the canvases matching a selector, the pixels drawn
// (alpha > 0) and the distinct colours among them.
type paintStats struct {
	Canvases int `json:"canvases"`
	Painted  int `json:"painted"`
	Distinct int `json:"distinct"`
}

func painted(p *labPage, sel string) paintStats {
	p.t.Helper()
	return eval[paintStats](p, fmt.Sprintf(`(() => {
		const cs = [...document.querySelectorAll(%q)];
		let painted = 0; const colours = new Set();
		for (const c of cs) {
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			for (let i = 0; i < d.length; i += 4) {
				if (d[i + 3] === 0) continue;
				painted++;
				if (colours.size < 1000) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
			}
		}
		return { canvases: cs.length, painted, distinct: colours.size };
	})()`, sel))
}

func (p *labPage) click(id string) {
	p.t.Helper()
	p.do("click #"+id, chromedp.Click(chromedp.ID(id)))
}

// checkClean fails on script exceptions and CSP violations.
func (p *labPage) checkClean() {
	p.t.Helper()
	select {
	case e := <-p.exceptions:
		p.t.Errorf("script exception in the page: %s", e)
	default:
	}
	if v := eval[[]string](p, `window.__csp || []`); len(v) > 0 {
		p.t.Errorf("Content-Security-Policy violations: %v", v)
	}
}

// TestPageHeaders checks that the lab page is served under a strict
// Content-Security-Policy: the page works without inline script or style
// (TestLabInBrowser fails on any violation), so the policy must say so.
func TestPageHeaders(t *testing.T) {
	base := startLab(t)
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval"} {
		if strings.Contains(csp, bad) {
			t.Errorf("Content-Security-Policy %q allows %s", csp, bad)
		}
	}
}

// TestLabInBrowser loads the lab, checks that every kind of map is drawn,
// plays, pauses, steps, hovers a cell, sends an invalid setting and measures
// the drawing rate while playing.
func TestLabInBrowser(t *testing.T) {
	base := startLab(t)
	w, h := 1600, 1000
	if os.Getenv("E2E_SCREENSHOT") != "" {
		w, h = 1920, 1200 // a projector's width
	}
	p := openBrowser(t, w, h)
	data := os.Getenv("E2E_DATA")
	if data == "" {
		data = "shapes"
	}
	spec := "conv(8,5,s1,p2) relu maxpool(2,s2,p0) conv(16,5,s1,p2) relu maxpool(3,s3,p0) dense(10)"
	if data == "shapes" {
		spec = strings.Replace(spec, "dense(10)", "dense(5)", 1) // five shape classes
	}
	url := base + "/?data=" + data + "&seed=7&batch=8&speed=step&rate=20&spec=" + neturl.QueryEscape(spec)
	p.do("open the lab", chromedp.Navigate(url))

	// welcome and keyframe: the phase indicator shows the step, filters are drawn
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.waitFor("filters drawn", `document.querySelectorAll('canvas[data-testid=filter-weights]').length > 0`)
	if got := eval[string](p, `document.getElementById('seed').value`); got != "7" {
		t.Errorf("seed control = %q, want 7 (from the URL)", got)
	}
	// before the first phase no batch exists: the page opens drawn with the
	// probe image's forward pass, and says so
	p.waitFor("the sample caption", `document.querySelector('.sample-info').textContent !== ''`)
	// while Show says sample 0
	if got := eval[string](p, `document.querySelector('.sample-info').textContent`); !strings.HasPrefix(got, "probe image (no batch yet: sample 0 from the first phase on) · label ") {
		t.Errorf("sample caption before the first phase = %q, want \"probe image (no batch yet: sample 0 …) · label …\"", got)
	}
	// the filters are below the fold: the page asks for them once they are on screen
	p.do("scroll to the filters", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=conv-panel-0]').scrollIntoView()`))
	p.waitFor("filter pixels", `[...document.querySelectorAll('canvas[data-testid=filter-weights]')].some(c => { const d = c.getContext('2d').getImageData(0,0,c.width,c.height).data; const s = new Set(); for (let i = 0; i < d.length; i += 4) if (d[i + 3]) s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); return s.size >= 3; })`)
	if s := painted(p, "canvas[data-testid=filter-weights]"); s.Painted == 0 || s.Distinct < 3 {
		t.Errorf("filters: %+v, want painted pixels in several colours", s)
	}
	p.waitFor("the filters subscribed", `JSON.parse(document.body.dataset.subscription || '[]').some(l => l.layer === 0 && l.kinds.includes('weights'))`)
	p.do("scroll back up", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	p.waitFor("the input subscribed again", `JSON.parse(document.body.dataset.subscription || '[]').some(l => l.layer === -1)`)

	// one phase: forward through the first layer draws the input and its feature maps
	phase0 := p.text("phase")
	p.click("step-phase")
	p.waitFor("the phase to change", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, phase0))
	if got := p.text("phase"); !strings.HasPrefix(got, "forward · ") {
		t.Errorf("phase after one step_phase = %q, want forward · …", got)
	}
	p.waitFor("feature maps drawn", `document.querySelector('#strip .col[data-layer="0"].active') !== null`)
	for _, sel := range []string{"canvas[data-testid=input-map]", `.col[data-layer="0"] canvas[data-testid=act-map]`} {
		// a map is first drawn blank (one colour) until its frame arrives:
		// wait for the frame's colours, then check them
		p.waitFor(sel+" painted", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(c => { const d = c.getContext('2d').getImageData(0,0,c.width,c.height).data; const s = new Set(); for (let i = 0; i < d.length; i += 4) if (d[i + 3]) s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); return s.size >= 2; })`, sel))
		if s := painted(p, sel); s.Painted == 0 || s.Distinct < 2 {
			t.Errorf("%s: %+v, want painted pixels in several colours", sel, s)
		}
	}

	// hover a feature map cell: the tooltip gives its exact value
	box := eval[[]float64](p, `(() => { const r = document.querySelector('.col[data-layer="0"] canvas[data-testid=act-map]').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	x, y := box[0]+box[2]*0.5, box[1]+box[3]*0.5
	p.do("hover a map", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y))
	p.waitFor("the tooltip", `!document.getElementById('tooltip').hidden`)
	tip := eval[[]string](p, `[...document.querySelectorAll('#tooltip > div')].map(d => d.textContent)`)
	number := regexp.MustCompile(`^[−-]?(\d+(\.\d+)?(e[−-]?\d+)?|0)$`)
	if len(tip) < 3 || !number.MatchString(tip[0]) {
		t.Errorf("tooltip = %q, want a number first, then layer and position", tip)
	} else if !strings.Contains(tip[1], "conv 1") || !strings.Contains(tip[2], "channel 0") {
		t.Errorf("tooltip = %q, want conv 1, channel 0", tip)
	}
	p.do("leave the map", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 5, 5))

	// play: the step counter runs, the loss chart gets points
	p.click("play")
	p.waitFor("steps while playing", `Number(document.getElementById('step-count').textContent) >= 3`)
	p.waitFor("points in the loss chart", `Number(document.getElementById('loss-chart').dataset.points) > 0`)
	// measureFPS counts animation frames and trace frames drawn over 90
	// animation frames while playing.
	measureFPS := func(what string) map[string]float64 {
		fps := eval[map[string]float64](p, `new Promise((resolve) => {
		const ts = []; const drawn0 = Number(document.body.dataset.framesDrawn);
		const tick = (t) => { ts.push(t); if (ts.length < 91) requestAnimationFrame(tick); else {
			const secs = (ts[ts.length - 1] - ts[0]) / 1000;
			let worst = 0; for (let i = 1; i < ts.length; i++) worst = Math.max(worst, ts[i] - ts[i - 1]);
			resolve({ raf: (ts.length - 1) / secs, drawn: (Number(document.body.dataset.framesDrawn) - drawn0) / secs, worstMs: worst, secs, drawMs: Number(document.body.dataset.drawMs) });
		} };
		requestAnimationFrame(tick);
	})`)
		t.Logf("while playing (%s): %.1f animation frames/s, %.1f trace frames drawn/s, %.1f ms of script per drawn frame, longest frame %.0f ms (over %.1f s)",
			what, fps["raf"], fps["drawn"], fps["drawMs"], fps["worstMs"], fps["secs"])
		if fps["drawn"] <= 0 {
			t.Errorf("%s: no trace frames drawn while playing: %v", what, fps)
		}
		return fps
	}
	measureFPS("the URL's speed")
	p.do("speed: 50 steps/s", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('speed'); s.value = 'step:50'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`))
	time.Sleep(time.Second)
	measureFPS("50 steps/s")
	// As fast as the CPU allows: frames are then bounded by the server's
	// frame rate (30 per second), not by the training speed.
	p.do("speed: as fast as possible", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('speed'); s.value = 'step:0'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`))
	time.Sleep(time.Second)
	measureFPS("as fast as possible")

	// pause: the button says Play again; one phase changes the indicator
	p.click("play")
	p.waitFor("paused", `document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
	p.waitFor("an exact frame after pausing", `document.getElementById('approx').dataset.shown === 'false'`)
	before := p.text("phase")
	p.click("step-phase")
	p.waitFor("the phase to change", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	t.Logf("phase: %q → %q", before, p.text("phase"))

	// keyboard: → steps one phase when the focus is on the page
	before = p.text("phase")
	p.do("focus the page", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	p.do("press →", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("→ to step a phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))

	// after a mouse click the button keeps the focus; the keys still work:
	// → steps a phase and Space plays, it does not click Step phase again
	p.click("step-phase")
	p.waitFor("the clicked step", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	if id := eval[string](p, `document.activeElement ? document.activeElement.id : ''`); id != "step-phase" {
		t.Logf("focus after the click: %q", id)
	}
	before = p.text("phase")
	p.do("press → on the focused button", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("→ to step a phase with a button focused", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	p.do("press Space on the focused button", chromedp.KeyEvent(" "))
	p.waitFor("Space to play", `document.getElementById('play').getAttribute('aria-pressed') === 'true'`)
	p.do("press Space again", chromedp.KeyEvent(" "))
	p.waitFor("Space to pause", `document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
	p.waitFor("an exact frame after pausing with Space", `document.getElementById('approx').dataset.shown === 'false'`)

	// → on a focused, closed list steps the lab; the list keeps its value
	speed := eval[string](p, `document.getElementById('speed').value`)
	before = p.text("phase")
	p.do("focus the speed list", chromedp.Evaluate[chromedp.Void](`document.getElementById("speed").focus()`))
	p.do("press → on the focused list", chromedp.KeyEvent(kb.ArrowRight))
	p.waitFor("→ to step a phase with a list focused", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	if got := eval[string](p, `document.getElementById('speed').value`); got != speed {
		t.Errorf("→ on the speed list changed it from %q to %q", speed, got)
	}

	// an invalid setting: the server's error shows, nothing changes
	lr := eval[string](p, `document.getElementById('lr').value`)
	// (SetValue fires input and change, as typing and leaving the field do)
	p.do("type an invalid learning rate", chromedp.SetValue(chromedp.ID("lr"), "-1"))
	p.waitFor("the error message under the field", `document.getElementById('lr-msg').textContent.length > 0`)
	if msg := p.text("lr-msg"); !strings.Contains(strings.ToLower(msg), "learning rate") {
		t.Errorf("lr's message = %q, want it to name the learning rate", msg)
	}
	if role := eval[string](p, `document.getElementById('lr-msg').getAttribute('role')`); role != "alert" {
		t.Errorf("lr's message role = %q, want alert (read out)", role)
	}
	// said once, under the field: not again in the alert over the maps
	if shown := eval[bool](p, `!document.getElementById('alert-box').hidden`); shown {
		t.Errorf("the refused learning rate is also in the alert over the maps: %q", p.text("alert"))
	}
	p.waitFor("the learning rate restored", fmt.Sprintf(`document.getElementById('lr').value === %q`, lr))

	// an invalid spec: the error shows and the field keeps the typed text
	// to be corrected
	const badSpec = "conv(8,5,s1,p2) relu nosuchlayer dense(5)"
	p.do("open the spec group", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=group-spec]').open = true`))
	p.do("type an invalid spec", chromedp.SetValue(chromedp.ID("spec"), badSpec),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('spec').dispatchEvent(new Event('input'))`))
	p.click("apply-spec")
	p.waitFor("the spec error", `!document.getElementById('alert-box').hidden && document.getElementById('alert').textContent.length > 0`)
	before = p.text("phase")
	p.click("step-phase") // a state arrives after the error: the field still keeps the text
	p.waitFor("a state after the error", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	if got := eval[string](p, `document.getElementById('spec').value`); got != badSpec {
		t.Errorf("spec field after a refused spec = %q, want the typed %q", got, badSpec)
	}

	// the URL carries the lab
	loc := eval[string](p, `location.search`)
	for _, want := range []string{"seed=7", "data=" + data, "spec="} {
		if !strings.Contains(loc, want) {
			t.Errorf("URL query %q lacks %q", loc, want)
		}
	}

	// controls are labelled
	unlabelled := eval[[]string](p, `[...document.querySelectorAll('button, select, input')].filter(e => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim())).map(e => e.id || e.outerHTML.slice(0, 60))`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}

	if path := os.Getenv("E2E_SCREENSHOT"); path != "" {
		// the picture shows the network's own spec, not the refused one
		p.do("restore the spec field", chromedp.Evaluate[chromedp.Void](`document.getElementById('spec').value = new URLSearchParams(location.search).get('spec') || document.getElementById('spec').defaultValue; document.getElementById('alert-box').hidden = true`))
		screenshot(t, p, path)
	}
	p.checkClean()
}

// screenshot trains for a while, pauses in the middle of a backward pass and
// saves the viewport as a PNG.
func screenshot(t *testing.T, p *labPage, path string) {
	t.Helper()
	p.click("play")
	p.waitFor("some training", `Number(document.getElementById('step-count').textContent) >= 150`)
	p.click("play")
	p.waitFor("paused", `document.getElementById('play').getAttribute('aria-pressed') === 'false'`)
	// step to "backward · maxpool 1"-like phases: through the forward pass and the loss
	for i := 0; i < 40; i++ {
		if strings.HasPrefix(p.text("phase"), "backward · conv 2") {
			break
		}
		before := p.text("phase")
		p.click("step-phase")
		p.waitFor("the next phase", fmt.Sprintf(`document.getElementById('phase').textContent !== %q`, before))
	}
	p.waitFor("an exact frame", `document.getElementById('approx').dataset.shown === 'false'`)
	p.click("measure-test")
	p.waitFor("a test accuracy", `document.getElementById('test-acc').textContent !== '—'`)
	// hover the strongest gradient cell of conv 2's δ
	pt := eval[[]float64](p, `(() => {
		const cs = [...document.querySelectorAll('.col[data-layer="3"] canvas[data-testid=grad-map]')];
		let best = [0, 0, -1];
		for (const c of cs.slice(0, 8)) {
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			const r = c.getBoundingClientRect();
			for (let i = 0; i < d.length; i += 4) {
				const dist = Math.abs(d[i] - 247) + Math.abs(d[i + 1] - 247) + Math.abs(d[i + 2] - 247);
				const k = i / 4, x = k % c.width, y = Math.floor(k / c.width);
				if (dist > best[2]) best = [r.left + (x + 0.5) * r.width / c.width, r.top + (y + 0.5) * r.height / c.height, dist];
			}
		}
		return best;
	})()`)
	p.do("hover a gradient", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, pt[0], pt[1]))
	p.waitFor("the tooltip", `!document.getElementById('tooltip').hidden`)
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	if more := os.Getenv("E2E_SCREENSHOT_MORE"); more != "" {
		// the rest of the page, a screen at a time, for a person to look at
		for i, y := range []int{900, 1800, 2700} {
			p.do("scroll", chromedp.Evaluate[chromedp.Void](fmt.Sprintf("window.scrollTo(0, %d)", y)))
			p.waitFor("drawn after scrolling", `!document.querySelector('canvas') || true`)
			time.Sleep(300 * time.Millisecond) // let the observer mark the panels visible and the next animation frame draw them
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if err := os.WriteFile(fmt.Sprintf("%s-%d.png", more, i+2), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// prefersMotion emulates the prefers-reduced-motion media feature ("reduce"
// or "no-preference").
func prefersMotion(t *testing.T, ctx context.Context, v string) {
	t.Helper()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: v}}})
	if err != nil {
		t.Fatalf("emulate prefers-reduced-motion: %s: %v", v, err)
	}
}

// within reports whether cond holds within d (polling, as waitFor does),
// without failing the test.
func (p *labPage) within(d time.Duration, cond string) bool {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(40*time.Millisecond), chromedp.WithPollingTimeout(d)))
	return err == nil
}
