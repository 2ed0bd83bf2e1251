package server

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode uploaded JPEGs
	_ "image/png"  // decode drawings and uploaded PNGs
	"io"
	"math"
	"net"
	"net/http"
	"strconv"

	"golang.org/x/image/draw"

	"github.com/backpropviz/backpropviz/protocol"
)

// The user's own input: a drawing or an uploaded PNG or JPEG, prepared as
// MNIST's digits were (grey, the ink fitted into 20×20, centred by its
// centre of mass in 28×28, intensities x/255) and put through the network
// as the probe image (engine.Trainer.SetProbe).
//
//	POST /probe?resume=TOKEN&label=K   the body, an image, becomes the probe of a lab or fork
//	POST /probe?room=CODE&label=K      … of a room, by its owner: every page showing the probe sees it

// probePath is the route of the user's input. Its body has a limit of its
// own (MaxImage), not MaxBody.
const probePath = "/probe"

// Defaults of DataConfig's image limits.
const (
	defaultMaxImage     = 2 << 20
	defaultMaxImageSide = 4096
)

// imageSideError is an image wider or taller than MaxImageSide.
type imageSideError string

func (e imageSideError) Error() string { return string(e) }

// inkThreshold is the ink below which a pixel counts as background when the
// ink's bounding box is found.
const inkThreshold = 0.1

// prepareImage decodes a PNG or JPEG and prepares it for an input of
// shape (1, h, w) as MNIST was: ink (dark on light, or light on dark:
// whichever the border says is background) cropped to its bounding box,
// scaled to fit a box of 20/28 of the input keeping its aspect, placed so
// that its centre of mass is the input's centre, values in [0, 1].
func prepareImage(b []byte, shape []int, maxSide int) ([]float64, error) {
	if len(shape) != 3 || shape[0] != 1 {
		return nil, fmt.Errorf("this data set's images have %v channels: only grey (1 channel) images can be drawn", shape)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, errors.New("the file is not a PNG or JPEG image")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxSide || cfg.Height > maxSide {
		return nil, imageSideError(fmt.Sprintf("the %s image is %d×%d pixels: at most %d×%d", format, cfg.Width, cfg.Height, maxSide, maxSide))
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("the %s image could not be decoded: %v", format, err)
	}
	ink := inkOf(img)
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	// the bounding box of the ink
	x0, y0, x1, y1 := w, h, -1, -1
	for y := range h {
		for x := range w {
			if ink[y*w+x] > inkThreshold {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return nil, errors.New("the image is blank: draw or upload something to show the network")
	}
	crop := image.NewGray(image.Rect(0, 0, x1-x0+1, y1-y0+1))
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			crop.Pix[(y-y0)*crop.Stride+(x-x0)] = uint8(math.Round(ink[y*w+x] * 255))
		}
	}
	// fit into a box of 20/28 of the input, keeping the aspect
	H, W := shape[1], shape[2]
	box := max(1, int(math.Round(float64(min(H, W))*20/28)))
	cw, ch := crop.Rect.Dx(), crop.Rect.Dy()
	sw, sh := box, box
	if cw > ch {
		sh = max(1, int(math.Round(float64(ch)*float64(box)/float64(cw))))
	} else {
		sw = max(1, int(math.Round(float64(cw)*float64(box)/float64(ch))))
	}
	scaled := image.NewGray(image.Rect(0, 0, sw, sh))
	draw.CatmullRom.Scale(scaled, scaled.Rect, crop, crop.Rect, draw.Src, nil)
	// centre of mass of the scaled ink → the input's centre
	var m, mx, my float64
	for y := range sh {
		for x := range sw {
			v := float64(scaled.Pix[y*scaled.Stride+x])
			m, mx, my = m+v, mx+v*float64(x), my+v*float64(y)
		}
	}
	cx, cy := float64(sw-1)/2, float64(sh-1)/2
	if m > 0 {
		cx, cy = mx/m, my/m
	}
	ox := int(math.Round(float64(W-1)/2 - cx))
	oy := int(math.Round(float64(H-1)/2 - cy))
	out := make([]float64, H*W)
	for y := range sh {
		for x := range sw {
			if tx, ty := x+ox, y+oy; tx >= 0 && tx < W && ty >= 0 && ty < H {
				out[ty*W+tx] = float64(scaled.Pix[y*scaled.Stride+x]) / 255
			}
		}
	}
	return out, nil
}

// inkOf is each pixel's ink in [0, 1], row-major: 1 − luminance over a white
// background (transparent pixels are background), inverted when the
// border is mostly ink (light strokes on a dark ground, as MNIST's).
func inkOf(img image.Image) []float64 {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	ink := make([]float64, w*h)
	var border float64
	var nb int
	for y := range h {
		for x := range w {
			cr, cg, cb, ca := img.At(r.Min.X+x, r.Min.Y+y).RGBA() // premultiplied, 0 … 0xffff
			a := float64(ca) / 0xffff
			lum := (0.299*float64(cr)+0.587*float64(cg)+0.114*float64(cb))/0xffff + (1 - a)
			v := min(1, max(0, 1-lum))
			ink[y*w+x] = v
			if x == 0 || y == 0 || x == w-1 || y == h-1 {
				border, nb = border+v, nb+1
			}
		}
	}
	if nb > 0 && border/float64(nb) > 0.5 {
		for i := range ink {
			ink[i] = 1 - ink[i]
		}
	}
	return ink
}

// serveProbe answers POST /probe: the body, an image, is prepared and
// becomes the session's probe with the label of ?label=; the pages are
// sent new frames. A refusal says what is wrong and changes nothing.
func (s *Server) serveProbe(w http.ResponseWriter, r *http.Request) {
	if !s.up.CheckOrigin(r) {
		modelReply(w, &modelError{http.StatusForbidden, "A page of another site may not send an image here."})
		return
	}
	sess, err := s.modelSession(r, true)
	if err != nil {
		modelReply(w, err)
		return
	}
	label, err := strconv.Atoi(r.URL.Query().Get("label"))
	if err != nil {
		modelReply(w, &modelError{http.StatusBadRequest, "Say which class the image is: ?label=K."})
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxImage))
	var tooLarge *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooLarge):
		s.metrics.limitHits.WithLabelValues("image_bytes").Inc()
		modelReply(w, &modelError{http.StatusRequestEntityTooLarge, fmt.Sprintf("The image is larger than this server accepts (%d bytes at most).", s.cfg.MaxImage)})
		return
	case errors.As(err, &ne) && ne.Timeout():
		w.Header().Set("Connection", "close")
		modelReply(w, &modelError{http.StatusRequestTimeout, "The image arrived too slowly; try again."})
		return
	case err != nil:
		modelReply(w, &modelError{http.StatusBadRequest, "The image could not be read."})
		return
	}
	var shape []int
	if !sess.inSession(func() { shape = sess.t.InputShape() }) {
		modelReply(w, &modelError{http.StatusGone, "The session has ended."})
		return
	}
	x, err := prepareImage(b, shape, s.cfg.MaxImageSide)
	if err != nil {
		var side imageSideError
		if errors.As(err, &side) {
			s.metrics.limitHits.WithLabelValues("image_side").Inc()
		}
		modelReply(w, &modelError{http.StatusUnprocessableEntity, err.Error()})
		return
	}
	if !sess.inSession(func() {
		if err = sess.t.SetProbe(x, label); err == nil {
			msg := protocol.Marshal(protocol.ProbeChanged{Type: protocol.TypeProbe, V: protocol.Version, Label: label})
			for _, c := range sess.clients {
				c.reply(msg)
			}
			sess.publishFrames(sess.clients, true, true)
		}
	}) {
		modelReply(w, &modelError{http.StatusGone, "The session has ended."})
		return
	}
	if err != nil {
		modelReply(w, &modelError{http.StatusUnprocessableEntity, err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}` + "\n"))
}
