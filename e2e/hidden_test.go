package e2e

import (
	"bufio"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// framesSent reads bpv_frames_sent_total from the server's /metrics.
func framesSent(t *testing.T, base string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "bpv_frames_sent_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("/metrics has no bpv_frames_sent_total")
	return 0
}

// TestHiddenTabGetsNoFrames: while the lab's tab is hidden the server sends
// it no trace frames, though training goes on and its states arrive; shown
// again, it gets frames again.
func TestHiddenTabGetsNoFrames(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1200, 800)
	spec := "conv(2,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&speed=step&rate=20&spec="+neturl.QueryEscape(spec)))
	p.waitFor("the first state", `document.getElementById('step-count').textContent === '0'`)
	// the page's script has the network (the step counter is in the HTML)
	p.waitFor("the network", `document.querySelectorAll('#strip canvas[data-testid=act-map]').length > 0`)
	p.click("play")
	p.waitFor("playing", `Number(document.getElementById('step-count').textContent) >= 5`)

	// The tab is hidden: as the browser does, document.hidden turns true and
	// visibilitychange fires.
	eval[bool](p, `Object.defineProperty(document, 'hidden', {configurable: true, get: () => true}),
		document.dispatchEvent(new Event('visibilitychange')), true`)
	// the frame in flight when the tab was hidden may still be counted
	step := func() int { n, _ := strconv.Atoi(p.text("step-count")); return n }
	s0 := step()
	p.waitFor("a few steps", `Number(document.getElementById('step-count').textContent) >= `+strconv.Itoa(s0+5))
	before := framesSent(t, base)
	s1 := step()
	p.waitFor("more steps while hidden", `Number(document.getElementById('step-count').textContent) >= `+strconv.Itoa(s1+20))
	if after := framesSent(t, base); after != before {
		t.Errorf("%v frames sent to the hidden tab during %d steps", after-before, step()-s1)
	}

	eval[bool](p, `Object.defineProperty(document, 'hidden', {configurable: true, get: () => false}),
		document.dispatchEvent(new Event('visibilitychange')), true`)
	deadline := time.Now().Add(30 * time.Second)
	for framesSent(t, base) < before+3 {
		if time.Now().After(deadline) {
			t.Fatal("no frames after the tab was shown again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.checkClean()
}
