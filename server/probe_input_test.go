package server

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// strokeImage is a w×h image with a bar of ink (ink on ground) at x ∈ [bx0,
// bx1), y ∈ [by0, by1).
func strokeImage(w, h, bx0, by0, bx1, by1 int, ink, ground color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := ground
			if x >= bx0 && x < bx1 && y >= by0 && y < by1 {
				c = ink
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// centreAndBox are the centre of mass and the ink's bounding box of a
// prepared 28×28 image.
func centreAndBox(x []float64, w int) (cx, cy float64, bw, bh int) {
	var m float64
	x0, y0, x1, y1 := w, w, -1, -1
	for i, v := range x {
		px, py := i%w, i/w
		m, cx, cy = m+v, cx+v*float64(px), cy+v*float64(py)
		if v > 0.1 {
			x0, y0, x1, y1 = min(x0, px), min(y0, py), max(x1, px), max(y1, py)
		}
	}
	return cx / m, cy / m, x1 - x0 + 1, y1 - y0 + 1
}

// A drawing is prepared as MNIST's digits were: fitted into 20×20, centred
// by its centre of mass in 28×28, values in [0, 1]; light on dark gives the
// same as dark on light; JPEG decodes too.
func TestPrepareImage(t *testing.T) {
	shape := []int{1, 28, 28}
	// a tall bar off to the upper left of a 200×120 white drawing
	dark := pngOf(t, strokeImage(200, 120, 10, 5, 40, 105, color.Black, color.White))
	x, err := prepareImage(dark, shape, 4096)
	if err != nil {
		t.Fatal(err)
	}
	cx, cy, bw, bh := centreAndBox(x, 28)
	if math.Abs(cx-13.5) > 0.6 || math.Abs(cy-13.5) > 0.6 {
		t.Errorf("centre of mass (%.2f, %.2f), want (13.5, 13.5)", cx, cy)
	}
	if bh < 19 || bh > 21 || bw < 5 || bw > 8 {
		t.Errorf("ink box %d×%d, want 20 tall and 6 wide (30:100 of it)", bw, bh)
	}
	if m := maxOf(x); m < 0.95 || m > 1 {
		t.Errorf("largest value %v, want full ink ≈ 1", m)
	}
	light, err := prepareImage(pngOf(t, strokeImage(200, 120, 10, 5, 40, 105, color.White, color.Black)), shape, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if math.Abs(x[i]-light[i]) > 1e-9 {
			t.Fatalf("light on dark differs from dark on light at %d: %v, %v", i, light[i], x[i])
		}
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, strokeImage(64, 64, 20, 10, 40, 50, color.Black, color.White), &jpeg.Options{Quality: 95})
	if j, err := prepareImage(jb.Bytes(), shape, 4096); err != nil || maxOf(j) < 0.9 {
		t.Errorf("JPEG: %v, largest %v", err, maxOf(j))
	}
	for _, bad := range []struct {
		name string
		b    []byte
		want string
	}{
		{"blank", pngOf(t, strokeImage(50, 50, 0, 0, 0, 0, color.Black, color.White)), "blank"},
		{"not an image", []byte("GIF89a? no: text"), "not a PNG or JPEG"},
		{"too wide", pngOf(t, image.NewGray(image.Rect(0, 0, 5000, 2))), "5000×2 pixels: at most 4096×4096"},
	} {
		if _, err := prepareImage(bad.b, shape, 4096); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.name, err, bad.want)
		}
	}
	if _, err := prepareImage(dark, []int{3, 28, 28}, 4096); err == nil || !strings.Contains(err.Error(), "grey") {
		t.Errorf("3 channels: error %v", err)
	}
}

func maxOf(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

func postProbe(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "image/png", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// POST /probe makes the image the session's probe, prepared for its input,
// with its label; a refusal names the problem and leaves the probe as it
// was.
func TestProbeInputHTTP(t *testing.T) {
	srv, ts := newTestServer(t, Config{DataConfig: DataConfig{MaxImage: 4096}})
	c, tok := labWithSteps(t, ts, "2", 1)
	sess := srv.sessions.lookup(tok)
	drawing := pngOf(t, strokeImage(60, 60, 25, 5, 35, 55, color.Black, color.White))
	probe := func() (own bool, tr *engine.Trace) {
		sess.inSession(func() { own, tr = sess.t.ProbeIsOwn(), sess.t.Trace(engine.TraceOptions{Probe: true}) })
		return
	}
	hits := counterValue(t, srv.metrics.limitHits.WithLabelValues("image_bytes"))
	for _, bad := range []struct {
		name, query string
		body        []byte
		status      int
		want        string
	}{
		{"no label", "resume=" + tok, drawing, 400, "label"},
		{"label not a class", "resume=" + tok + "&label=7", drawing, 422, "probe label 7: want 0 … 4"},
		{"not an image", "resume=" + tok + "&label=1", []byte("hello"), 422, "not a PNG or JPEG"},
		{"too large", "resume=" + tok + "&label=1", bytes.Repeat([]byte{0}, 5000), 413, "4096 bytes at most"},
		{"unknown lab", "resume=nope&label=1", drawing, 404, "No lab"},
	} {
		if code, msg := postProbe(t, ts.URL+"/probe?"+bad.query, bad.body); code != bad.status || !strings.Contains(msg, bad.want) {
			t.Errorf("%s: %d %s, want %d with %q", bad.name, code, msg, bad.status, bad.want)
		}
		if own, _ := probe(); own {
			t.Fatalf("%s: a refused image became the probe", bad.name)
		}
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("image_bytes")); got != hits+1 {
		t.Errorf("bpv_limit_hits_total{limit=image_bytes} %v → %v, want one more", hits, got)
	}
	if code, msg := postProbe(t, ts.URL+"/probe?resume="+tok+"&label=3", drawing); code != 200 {
		t.Fatalf("POST /probe: %d %s", code, msg)
	}
	want, _ := prepareImage(drawing, []int{1, 12, 12}, 4096)
	own, tr := probe()
	if !own || tr.Label != 3 || !same(tr.Input.Data, want) || math.IsNaN(tr.Loss) || tr.Layers[0].GradOutput == nil {
		t.Errorf("probe after POST: own %v label %d input as prepared %v loss %v", own, tr.Label, same(tr.Input.Data, want), tr.Loss)
	}
	// the page gets frames of it
	if f := c.frame(); f == nil {
		t.Errorf("no frame after the probe changed")
	}
}

func same(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// In a room, the owner's drawing becomes the room's probe: every page is
// told (a "probe" message) and gets frames; a viewer may not send one.
func TestRoomProbeFromOwner(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	room := newRoom(t, srv, "Art")
	owner := joinAsOwner(t, ts, room)
	owner.expect("welcome", nil)
	viewer := joinAsViewer(t, ts, room)
	viewer.expect("welcome", nil)
	drawing := pngOf(t, strokeImage(60, 60, 25, 5, 35, 55, color.Black, color.White))
	if code, msg := postProbe(t, ts.URL+"/probe?room="+room.Code+"&label=2", drawing); code != http.StatusForbidden {
		t.Errorf("a viewer's drawing: %d %s, want 403", code, msg)
	}
	if code, msg := postProbe(t, ts.URL+"/probe?room="+room.Code+"&owner="+room.OwnerToken()+"&label=2", drawing); code != 200 {
		t.Fatalf("the owner's drawing: %d %s", code, msg)
	}
	for _, c := range []*wsClient{owner, viewer} {
		var m struct {
			Label int `json:"label"`
		}
		c.expect("probe", &m)
		if m.Label != 2 {
			t.Errorf("probe message label %d, want 2", m.Label)
		}
	}
}
