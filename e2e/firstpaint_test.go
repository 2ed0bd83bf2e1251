package e2e

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/server"
)

// firstPaintTimeline runs in the page before its scripts: it records, in
// performance.now() milliseconds, the load event, the websocket's steps
// (created, open, the first message of each type, the first frame, the
// first message sent) and when the input or the first feature map first
// shows a pixel that is neither transparent nor the blank grey
// (238, 240, 244), read back every animation frame.
const firstPaintTimeline = `window.__t = {};
addEventListener('load', () => { __t.load = performance.now(); });
document.addEventListener('DOMContentLoaded', () => { __t.dcl = performance.now(); });
(() => {
  const WS = window.WebSocket;
  const mark = (k) => { if (__t[k] === undefined) __t[k] = performance.now(); };
  window.WebSocket = function (...args) {
    const ws = new WS(...args);
    mark('ws');
    ws.addEventListener('open', () => mark('open'));
    ws.addEventListener('message', (e) => {
      if (typeof e.data !== 'string') { mark('frame'); return; }
      try { mark('msg ' + JSON.parse(e.data).type); } catch (_) {}
    });
    const send = ws.send;
    ws.send = function (d) { try { mark('send ' + JSON.parse(d).type); } catch (_) {} return send.call(this, d); };
    return ws;
  };
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket.prototype = WS.prototype;
})();
window.__long = [];
try { new PerformanceObserver((l) => { for (const e of l.getEntries()) __long.push(Math.round(e.startTime) + '+' + Math.round(e.duration)); }).observe({ type: 'longtask', buffered: true }); } catch (_) {}
(function watch() {
  if (__t.canvas === undefined && document.querySelector('canvas[data-testid=act-map]')) __t.canvas = performance.now();
  // the input and the first feature map (reading every canvas back each
  // animation frame would slow the page it measures)
  for (const c of [document.querySelector('canvas[data-testid=input-map]'), document.querySelector('canvas[data-testid=act-map]')]) {
    if (!c) continue;
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] && !(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244)) { __t.map = performance.now(); return; }
    }
  }
  requestAnimationFrame(watch);
})();`

// loadedBytes sums, over the document and every resource that started
// before the load event, the bytes of the body as sent (compressed where
// the server compressed) and as transferred (headers included), and lists
// the resources.
const loadedBytes = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const rs = performance.getEntriesByType('resource').filter((r) => r.startTime <= __t.load);
  const all = [nav, ...rs];
  return {
    body: all.reduce((s, r) => s + r.encodedBodySize, 0),
    transfer: all.reduce((s, r) => s + r.transferSize, 0),
    files: all.map((r) => new URL(r.name).pathname + ' ' + r.encodedBodySize),
    long: __long.map((x) => { const [s, d] = x.split('+'); return Math.round(s - __t.load) + '+' + d; }),
  };
})()`

type loaded struct {
	Body     float64  `json:"body"`
	Transfer float64  `json:"transfer"`
	Files    []string `json:"files"`
	Long     []string `json:"long"`
}

// BenchmarkFirstPaint opens the lab b.N times, each in a new browser
// context (an empty cache, as a first visit), on a server on loopback, and
// reports the medians of the bytes a first load fetches until the load
// event (B-body: the bodies as sent; B-wire: with headers) and of the time
// from the load event to the first feature map drawn with real data
// (ms-to-map), after one load not counted (the server's first session
// loads its data). With -v it logs each run's timeline (milliseconds after the
// load event of the websocket's steps).
//
//	go test ./e2e -run '^$' -bench FirstPaint -benchtime 9x -v
func BenchmarkFirstPaint(b *testing.B) {
	exe := os.Getenv("E2E_BROWSER")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		b.Skip("no Chromium at", exe)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(server.Config{ShapesTrain: 600, ShapesTest: 200, MaxSessions: 1000, MaxSessionsPerAddr: 1000}, log)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	}()
	dir, err := os.MkdirTemp("", "bpv-chromium-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.UserDataDir(dir), chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-gpu", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil {
		b.Fatalf("start Chromium: %v", err)
	}
	// a first session makes the server load its data: not what a page
	// waits for on a running server
	firstPaint(b, bctx, ts.URL+"/")
	var body, wire, toMap []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ld, t := firstPaint(b, bctx, ts.URL+"/")
		body = append(body, ld.Body)
		wire = append(wire, ld.Transfer)
		toMap = append(toMap, t["map"]-t["load"])
		if i == 0 {
			b.Logf("first load: %s", strings.Join(ld.Files, ", "))
		}
		var steps []string
		for k, v := range t {
			steps = append(steps, fmt.Sprintf("%s %+.0f", k, v-t["load"]))
		}
		slices.SortFunc(steps, func(x, y string) int {
			var a, b float64
			fmt.Sscan(x[strings.LastIndexByte(x, ' ')+1:], &a)
			fmt.Sscan(y[strings.LastIndexByte(y, ' ')+1:], &b)
			return cmp.Compare(a, b)
		})
		b.Logf("run %d: %d B, timeline (ms after load): %s; long tasks (start+ms): %s", i, int(ld.Body), strings.Join(steps, ", "), strings.Join(ld.Long, " "))
	}
	b.StopTimer()
	b.ReportMetric(median(body), "B-body")
	b.ReportMetric(median(wire), "B-wire")
	b.ReportMetric(median(toMap), "ms-to-map")
	b.ReportMetric(slices.Min(toMap), "ms-to-map-min")
	b.ReportMetric(slices.Max(toMap), "ms-to-map-max")
}

// firstPaint loads url in a new browser context and returns what it
// fetched until the load event and its timeline (firstPaintTimeline).
func firstPaint(b *testing.B, bctx context.Context, url string) (loaded, map[string]float64) {
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	if _, err := chromedp.Call(tctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstPaintTimeline}); err != nil {
		b.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		b.Fatalf("open the lab: %v", err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`__t.map !== undefined && __t.load !== undefined`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(50*time.Second))); err != nil {
		b.Fatalf("waiting for a feature map drawn: %v", err)
	}
	ld, err := chromedp.Run(tctx, chromedp.Evaluate[loaded](loadedBytes))
	if err != nil {
		b.Fatal(err)
	}
	t, err := chromedp.Run(tctx, chromedp.Evaluate[map[string]float64](`__t`))
	if err != nil {
		b.Fatal(err)
	}
	return ld, t
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// firstLoadBudget is the most bytes a first load of the lab may fetch
// until the load event: 64 KiB (server's TestFirstLoadBytes counts the
// same without a browser).
const firstLoadBudget = 64 << 10

// TestFirstLoadInBrowser: what a browser fetches for a first visit of the
// lab until the load event (the page, its styles and the modules it
// imports statically, as sent, compressed) is at most firstLoadBudget;
// uPlot is not among it, and the charts are drawn with it once the page
// has drawn its first maps and the charts are scrolled to.
func TestFirstLoadInBrowser(t *testing.T) {
	url := startLab(t)
	p := openBrowser(t, 1400, 1000)
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstPaintTimeline}); err != nil {
		t.Fatal(err)
	}
	p.do("open the lab", chromedp.Navigate(url+"/"))
	p.waitFor("a feature map drawn", `__t.map !== undefined && __t.load !== undefined`)
	ld := eval[loaded](p, loadedBytes)
	t.Logf("first load: %d bytes (%d with headers): %s", int(ld.Body), int(ld.Transfer), strings.Join(ld.Files, ", "))
	if len(ld.Files) < 3 {
		t.Fatalf("first load lists %d files: %v; want the page, its styles and its script", len(ld.Files), ld.Files)
	}
	if ld.Body > firstLoadBudget {
		t.Errorf("first load %d bytes, more than %d", int(ld.Body), firstLoadBudget)
	}
	for _, f := range ld.Files {
		if strings.Contains(f, "uPlot") {
			t.Errorf("uPlot fetched before the load event: %s", f)
		}
	}
	p.do("scroll to the charts", chromedp.ScrollIntoView(chromedp.ID("acc-chart")))
	p.waitFor("the charts drawn with uPlot", `!!document.querySelector('#loss-chart .uplot canvas') && !!document.querySelector('#acc-chart .uplot canvas')`)
	p.checkClean()
}
