package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	neturl "net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/protocol"
)

// value returns the value of channel ch, row y, column x of a (C, H, W)
// f32 tensor of a frame, possibly cut to a range of channels; ok is false
// if the frame does not carry that channel.
func value(t *protocol.FrameTensor, ch, y, x int) (v float32, ok bool) {
	from, to := 0, t.Shape[0]
	if len(t.Channels) == 2 {
		from, to = t.Channels[0], t.Channels[1]
	}
	if t.Enc != protocol.EncF32 || ch < from || ch >= to {
		return 0, false
	}
	return t.F32[((ch-from)*t.Shape[1]+y)*t.Shape[2]+x], true
}

// frameTap keeps the trace frames the page receives, read from the
// browser's network events.
type frameTap struct {
	mu     sync.Mutex
	frames []*protocol.Frame
	errs   []string
}

func tapFrames(t *testing.T, p *labPage) *frameTap {
	t.Helper()
	tap := &frameTap{}
	evs := chromedp.Events(p.ctx, network.WebSocketFrameReceived)
	go func() {
		for ev, err := range evs {
			if err != nil {
				return
			}
			if ev.Response == nil || ev.Response.Opcode != 2 {
				continue
			}
			f, err := protocol.DecodeFrame(ev.Response.PayloadData)
			tap.mu.Lock()
			if err != nil {
				tap.errs = append(tap.errs, err.Error())
			} else {
				tap.frames = append(tap.frames, f)
			}
			tap.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	return tap
}

// last returns the newest frame that carries channel ch of layer's kind.
func (tap *frameTap) last(layer int, kind string, ch int) (*protocol.Frame, *protocol.FrameTensor) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	for i := len(tap.frames) - 1; i >= 0; i-- {
		f := tap.frames[i]
		if t := f.Tensor(layer, kind); t != nil && len(t.Shape) == 3 {
			from, to := 0, t.Shape[0]
			if len(t.Channels) == 2 {
				from, to = t.Channels[0], t.Channels[1]
			}
			if ch >= from && ch < to {
				return f, t
			}
		}
	}
	return nil, nil
}

// magentaJS counts the pixels of the NaN/Inf colour (255, 0, 255) in the
// canvases of the maps.
const magentaJS = `(() => {
	let n = 0; const where = [];
	for (const c of document.querySelectorAll('canvas.map')) {
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let k = 0;
		for (let i = 0; i < d.length; i += 4) if (d[i + 3] && d[i] === 255 && d[i + 1] === 0 && d[i + 2] === 255) k++;
		if (k) { n += k; where.push(c.dataset.layer + ':' + c.dataset.kind + ':' + c.dataset.testid); }
	}
	return { pixels: n, canvases: where };
})()`

// TestScrolledMapsAreFinite is the student's screen of 1366×900 scrolled
// down: the page subscribes to the later channels of the strip (cut to a
// range), and every map that comes into view is drawn from its own
// channel — no NaN colour anywhere, the tooltip of a channel ≥ 8 gives the
// value the server sent for it, and the legend gives the whole tensor's
// extremes.
func TestScrolledMapsAreFinite(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1366, 900)
	tap := tapFrames(t, p)
	// the default network of MNIST, with five classes for the shapes
	spec := "conv(8,5,s1,p2) relu maxpool(2,s2,p0) conv(16,5,s1,p2) relu maxpool(3,s3,p0) dense(5)"
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&seed=7&batch=8&spec="+neturl.QueryEscape(spec)))
	p.waitFor("the first state", `/step 0$/.test(document.getElementById('phase').textContent)`)
	p.click("step-batch")
	p.waitFor("one step", `document.getElementById('step-count').textContent === '1'`)
	p.waitFor("an exact frame", `document.getElementById('approx').dataset.shown === 'false'`)

	// relu 2 (layer 4) has 16 channels in rows of 4: scrolled down, its
	// first rows leave the screen and the page asks for a cut range
	const layer = 4
	p.do("scroll down", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 700)`))
	p.waitFor("a cut range of relu 2 subscribed", `JSON.parse(document.body.dataset.subscription || '[]').some(l => l.layer === `+itoa(layer)+` && l.channels && l.channels[0] > 0)`)
	t.Logf("subscription after scrolling: %s", eval[string](p, `document.body.dataset.subscription`))

	// relu 2's maps of channel 12 … 15 drawn from the cut frame: no map
	// anywhere shows the NaN colour
	maps := `document.querySelectorAll('#strip .col[data-layer="` + itoa(layer) + `"] canvas[data-testid=act-map]')`
	drawn := func(ch int) string {
		return fmt.Sprintf(`(() => { const c = %s[%d]; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (!(d[i] === 238 && d[i + 1] === 240 && d[i + 2] === 244)) return true; return false; })()`, maps, ch)
	}
	p.waitFor("channel 15 of relu 2 drawn", drawn(15))
	var mag struct {
		Pixels   int      `json:"pixels"`
		Canvases []string `json:"canvases"`
	}
	raw := eval[json.RawMessage](p, magentaJS)
	if err := json.Unmarshal(raw, &mag); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	if mag.Pixels > 0 {
		t.Errorf("%d pixels in the NaN colour after scrolling, in %v", mag.Pixels, mag.Canvases)
	}

	// bring channel 12's map out from under the sticky top bar (the first
	// rows of relu 2 stay above the screen) and hover it
	const ch = 12
	p.do("scroll channel 12 into view", chromedp.Evaluate[chromedp.Void](`(() => {
		const r = `+maps+`[`+itoa(ch)+`].getBoundingClientRect();
		window.scrollBy(0, r.top - document.querySelector('.topbar').getBoundingClientRect().bottom - 10);
	})()`))
	p.waitFor("channel 12 uncovered", `(() => { const c = `+maps+`[`+itoa(ch)+`]; const r = c.getBoundingClientRect(); return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === c; })()`)
	p.waitFor("a cut range of relu 2 subscribed", `JSON.parse(document.body.dataset.subscription || '[]').some(l => l.layer === `+itoa(layer)+` && l.channels && l.channels[0] > 0 && l.channels[0] <= `+itoa(ch)+`)`)
	p.waitFor("channel 12 drawn", drawn(ch))
	var f *protocol.Frame
	var tt *protocol.FrameTensor
	for range 400 { // poll the frames received, up to 20 s
		if f, tt = tap.last(layer, "act", ch); f != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f == nil {
		t.Fatalf("no frame carried channel %d of layer %d act (tap errors %v)", ch, layer, tap.errs)
	}
	t.Logf("frame of step %d: layer %d act shape %v channels %v", f.Header.Step, layer, tt.Shape, tt.Channels)
	if len(tt.Channels) != 2 || tt.Channels[0] == 0 {
		t.Fatalf("layer %d act came whole (channels %v): the test needs a cut tensor", layer, tt.Channels)
	}
	sel := maps + `[` + itoa(ch) + `]`

	// hover the middle of the channel's map: the tooltip's number is the
	// frame's value of that cell
	box := eval[[]float64](p, `(() => { const r = `+sel+`.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	p.do("hover the map", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box[0]+box[2]*0.5, box[1]+box[3]*0.5))
	p.waitFor("the tooltip", `!document.getElementById('tooltip').hidden`)
	tip := eval[[]string](p, `[...document.querySelectorAll('#tooltip > div')].map(d => d.textContent)`)
	if len(tip) < 3 {
		t.Fatalf("tooltip = %q, want value, layer and position", tip)
	}
	pos := regexp.MustCompile(`^channel (\d+) · row (\d+), column (\d+)$`).FindStringSubmatch(tip[2])
	if pos == nil {
		t.Fatalf("tooltip position %q, want channel · row, column", tip[2])
	}
	c, _ := strconv.Atoi(pos[1])
	y, _ := strconv.Atoi(pos[2])
	x, _ := strconv.Atoi(pos[3])
	if c != ch {
		t.Errorf("tooltip of channel %d's map names channel %d", ch, c)
	}
	want, ok := value(tt, c, y, x)
	if !ok {
		t.Fatalf("frame lacks channel %d (channels %v, enc %s)", c, tt.Channels, tt.Enc)
	}
	got, err := strconv.ParseFloat(tip[0], 32)
	if err != nil || math.IsNaN(got) || math.IsInf(got, 0) {
		t.Errorf("tooltip value %q (%v): want a finite number", tip[0], err)
	} else if float32(got) != want {
		t.Errorf("tooltip of channel %d row %d column %d = %s, want the frame's %v", c, y, x, tip[0], want)
	}

	// relu 2's legend gives the extremes of the whole tensor, from the header
	rng := eval[string](p, `document.querySelector('#strip .col[data-layer="`+itoa(layer)+`"] .legend .legend-range').textContent`)
	nums := regexp.MustCompile(`[−-]?\d+(\.\d+)?(e[−-]?\d+)?`).FindAllString(rng, 2)
	if tt.Min == nil || tt.Max == nil || len(nums) != 2 {
		t.Fatalf("legend range %q, header min %v max %v", rng, tt.Min, tt.Max)
	}
	for i, w := range []float64{float64(*tt.Min), float64(*tt.Max)} {
		g, _ := strconv.ParseFloat(strings.ReplaceAll(nums[i], "−", "-"), 64)
		if math.Abs(g-w) > 0.005*math.Max(math.Abs(w), 1e-6) {
			t.Errorf("legend range %q: %s, want the whole tensor's %v (3 significant digits)", rng, nums[i], w)
		}
	}
	desc := eval[string](p, `document.querySelector('#strip .col[data-layer="`+itoa(layer)+`"] .legend .legend-desc').textContent`)
	t.Logf("relu 2 legend: %s · %s", rng, desc)
	// the scale's percentile is the whole tensor's, from the header, not
	// that of the channels received
	if tt.Stats == nil {
		t.Fatalf("layer %d act: no colour-scale statistics in the header", layer)
	}
	if want := "scale from the whole tensor, sample 0"; !strings.Contains(desc, want) {
		t.Errorf("legend %q does not say its scale is of the whole tensor (%q)", desc, want)
	}
	if m := regexp.MustCompile(`clamped at ±?([−-]?\d+(\.\d+)?(e[−-]?\d+)?), the 99th percentile of \|x\| > 0`).FindStringSubmatch(desc); m == nil {
		t.Errorf("legend %q does not give the clamp's percentile", desc)
	} else if g, _ := strconv.ParseFloat(strings.ReplaceAll(m[1], "−", "-"), 64); math.Abs(g-float64(tt.Stats.P99Abs)) > 0.005*float64(tt.Stats.P99Abs) {
		t.Errorf("legend %q: percentile %s, want the header's %v (the whole tensor's)", desc, m[1], tt.Stats.P99Abs)
	}
	if !strings.Contains(rng, "all channels") {
		t.Errorf("legend range %q does not say it covers all channels", rng)
	}
	p.checkClean()
}
