package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestHeaderFits: at the projector's and laptops' sizes every part of the
// header (the logo, the phase, each counter, each run control, the
// connection and "approximate while playing" badges, which keeps its place
// while hidden) has a box of its own: none drawn over another, none past
// the screen's edge, and each counter (step, epoch, batch loss, train and
// test accuracy, seed) shows its whole label and value once every counter
// holds a number; the phase, the longest of the network's, is said whole.
func TestHeaderFits(t *testing.T) {
	for _, size := range [][2]int{{1024, 768}, {1100, 800}, {1280, 720}, {1440, 900}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			p := openShapes(t, size[0], size[1], "&batch=4")
			p.click("step-batch")
			p.waitFor("a step", `document.getElementById('step-count').textContent === '1'`)
			p.click("step-batch")
			p.waitFor("two steps", `document.getElementById('step-count').textContent === '2'`)
			stepTo(p, "backward · maxpool 2") // the longest phase of the network
			shot(p, fmt.Sprintf("header-%dx%d.png", size[0], size[1]))
			var parts []struct {
				Name                     string
				Left, Right, Top, Bottom float64
				Text                     float64 // a counter's: the right edge of its label and value as drawn
			}
			raw := eval[string](p, `JSON.stringify((() => {
				const drawnRight = (node) => { const g = document.createRange(); g.selectNodeContents(node); return g.getBoundingClientRect().right; };
				const els = [...document.querySelectorAll('.topbar .brand .logo, .topbar .phase-box, .topbar .stats > div, .topbar .run > button, .topbar .run > .field, .topbar .badges > .badge')]
					.filter((e) => getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0);
				return els.map((e) => {
					const r = e.getBoundingClientRect();
					const dt = e.querySelector('dt'), dd = e.querySelector('dd');
					return { name: (dt ? dt.textContent : e.id || e.className), left: r.left, right: r.right, top: r.top, bottom: r.bottom,
						text: dt ? Math.max(drawnRight(dt), drawnRight(dd.firstChild)) : r.right };
				});
			})())`)
			if err := json.Unmarshal([]byte(raw), &parts); err != nil {
				t.Fatal(err)
			}
			if cut := eval[bool](p, `(() => { const e = document.getElementById('phase'); return e.scrollWidth > e.clientWidth; })()`); cut {
				t.Errorf("the phase %q is cut short", p.text("phase"))
			}
			if len(parts) < 12 {
				t.Fatalf("found %d parts of the header: %s", len(parts), raw)
			}
			for i, a := range parts {
				if a.Left < -0.5 || max(a.Right, a.Text) > float64(size[0])+0.5 {
					t.Errorf("%q is drawn from %.1f to %.1f, off a screen %d wide", a.Name, a.Left, max(a.Right, a.Text), size[0])
				}
				if a.Text > a.Right+0.5 {
					t.Errorf("counter %q is drawn to %.1f, past its box's edge %.1f", a.Name, a.Text, a.Right)
				}
				for _, b := range parts[i+1:] {
					if a.Left < b.Right-0.5 && b.Left < a.Right-0.5 && a.Top < b.Bottom-0.5 && b.Top < a.Bottom-0.5 {
						t.Errorf("%q (%.0f–%.0f × %.0f–%.0f) and %q (%.0f–%.0f × %.0f–%.0f) overlap",
							a.Name, a.Left, a.Right, a.Top, a.Bottom, b.Name, b.Left, b.Right, b.Top, b.Bottom)
					}
				}
			}
			// while playing the "approximate" badge shows its words in its place
			if w := eval[float64](p, `(() => { const a = document.getElementById('approx'); a.dataset.shown = 'true'; return a.getBoundingClientRect().width; })()`); w < 50 {
				t.Errorf("the approximate badge is %.0f px wide while shown: its words are missing", w)
			}
			p.checkClean()
		})
	}
}
