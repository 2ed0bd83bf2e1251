package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// mapsHash is a hash of the pixels of the input map and the first layer's
// feature maps.
const mapsHash = `(() => {
	let h = 0;
	for (const c of document.querySelectorAll('canvas[data-testid=input-map], .col[data-layer="0"] canvas[data-testid=act-map]')) {
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
	}
	return h;
})()`

// TestDrawPadInBrowser draws a stroke on the pad with real mouse events:
// the page shows the probe, the input and first-layer maps change and the
// probe is named with the label given; the time from the stroke's first
// pointer event to the redrawn maps is logged. Then a PNG is uploaded and
// the maps change again.
func TestDrawPadInBrowser(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1200, 1400)
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=5&batch=4&spec=conv(2,3,s1,p1)+relu+maxpool(2,s2,p0)+dense(5)"))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.click("step-batch")
	p.waitFor("step 1", `document.getElementById('step-count').textContent === '1'`)
	p.waitFor("the label menu", `document.getElementById('draw-label').options.length === 5`)
	p.do("label 3", chromedp.SetValue(chromedp.ID("draw-label"), "3"))
	p.do("open the pad", chromedp.Evaluate[chromedp.Void](`document.getElementById('own-input').open = true`))
	p.do("scroll to the pad", chromedp.Evaluate[chromedp.Void](`document.getElementById('draw-pad').scrollIntoView({block: 'center'})`))
	p.waitFor("maps drawn", `document.querySelectorAll('canvas[data-testid=input-map]').length > 0`)
	before := eval[int](p, mapsHash)
	box := eval[[]float64](p, `(() => { const r = document.getElementById('draw-pad').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	// measure in the page: from the first pointer event of the stroke to
	// the first animation frame whose maps differ
	eval[bool](p, `(() => {
		const pad = document.getElementById('draw-pad');
		const h0 = `+mapsHash+`;
		window.__strokeMs = null;
		pad.addEventListener('pointerdown', () => {
			const t0 = performance.now();
			const watch = () => {
				if (`+mapsHash+` !== h0 && document.getElementById('sample').value === 'probe') window.__strokeMs = performance.now() - t0;
				else requestAnimationFrame(watch);
			};
			requestAnimationFrame(watch);
		}, { once: true });
		return true;
	})()`)
	x, y := box[0]+box[2]*0.5, box[1]+box[3]*0.15
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 10; i++ {
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y+box[3]*0.07*float64(i), chromedp.ButtonLeft))
	}
	steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y+box[3]*0.7, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	p.do("draw a stroke", steps...)
	// the maps are above the pad: back to them (maps off the screen are not drawn)
	p.do("scroll to the maps", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	p.waitFor("the maps of the drawing", `window.__strokeMs !== null`)
	t.Logf("from the stroke to redrawn maps: %.0f ms (server's answer to the last image: %s ms)", eval[float64](p, `window.__strokeMs`), eval[string](p, `document.body.dataset.probeAnsweredMs || '?'`))
	p.waitFor("the probe named with class 3", `document.querySelector('.sample-info').textContent === 'probe image · label ' + document.getElementById('draw-label').options[3].textContent.split(' · ').pop()`)
	if after := eval[int](p, mapsHash); after == before {
		t.Errorf("the maps did not change after a stroke")
	}
	shot(p, "drawpad.png")

	// upload a PNG: a horizontal bar
	img := image.NewGray(image.Rect(0, 0, 40, 40))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for yy := 18; yy < 23; yy++ {
		for xx := 4; xx < 36; xx++ {
			img.Set(xx, yy, color.Gray{})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	path := filepath.Join(t.TempDir(), "bar.png")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	drawn := eval[int](p, mapsHash)
	p.do("upload a PNG", chromedp.SetUploadFiles(chromedp.ID("upload-input"), []string{path}))
	p.waitFor("the maps of the PNG", `(`+mapsHash+`) !== `+itoa(drawn))

	// a file that is no image: refused with the reason
	bad := filepath.Join(t.TempDir(), "notes.png")
	os.WriteFile(bad, []byte("not a picture"), 0o644)
	// the message closes itself after a while: record it when shown, as a
	// loaded machine may look later than a person would
	eval[bool](p, `(window.__alerts = [], new MutationObserver(() => __alerts.push(document.getElementById('alert').textContent)).observe(document.getElementById('alert'), { childList: true, characterData: true, subtree: true }), true)`)
	p.do("upload a non-image", chromedp.SetUploadFiles(chromedp.ID("upload-input"), []string{bad}))
	p.waitFor("the refusal", `__alerts.some((a) => a.includes('not a PNG or JPEG'))`)
	p.checkClean()
}
