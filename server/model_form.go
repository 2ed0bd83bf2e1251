package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// ownBodyLimit says whether a request's body is bounded by its handler
// instead of MaxBody: a model file (POST /model, or the create-room form
// sent as multipart with a model).
func ownBodyLimit(r *http.Request) bool {
	if r.URL.Path == modelPath || r.URL.Path == probePath {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.URL.Path == "/rooms" && mt == "multipart/form-data"
}

// formSlack is what a create-room form may hold beyond its model file: the
// name, the key and the multipart framing.
const formSlack = 16 << 10

// roomForm reads the create-room form, as a plain form or as multipart
// with an optional model file, and returns the model's bytes (nil if
// none). It answers the request itself and reports false when the form
// cannot be read or the model is larger than MaxModel.
func (s *Server) roomForm(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxMessage))
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return nil, false
		}
		return nil, true
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxModel+s.cfg.MaxLesson+formSlack) // a model or a lesson (lesson_form.go)
	if err := r.ParseMultipartForm(s.cfg.MaxModel + s.cfg.MaxLesson + formSlack); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) { // the form cut short: which file was over is not known
			s.metrics.limitHits.WithLabelValues("room_form_bytes").Inc()
			s.site.CreateRoomFailed(w, r, http.StatusRequestEntityTooLarge, filesTooLarge(s.cfg.MaxModel, s.cfg.MaxLesson))
			return nil, false
		}
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	f, h, err := r.FormFile("model")
	if errors.Is(err, http.ErrMissingFile) || (err == nil && h.Size == 0) {
		return nil, true // no model chosen: new weights
	}
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	defer f.Close()
	if h.Size > s.cfg.MaxModel {
		s.metrics.limitHits.WithLabelValues("model_bytes").Inc()
		s.site.CreateRoomFailed(w, r, http.StatusRequestEntityTooLarge, modelTooLarge(s.cfg.MaxModel))
		return nil, false
	}
	b, err := io.ReadAll(f)
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	return b, true
}

// modelTooLarge is the message of a model file over the limit.
func modelTooLarge(max int64) string {
	return fmt.Sprintf("The model file is larger than this server accepts (%d bytes at most).", max)
}

// filesTooLarge is the message of a create-room form larger than a model
// and a lesson file together may be.
func filesTooLarge(maxModel, maxLesson int64) string {
	return fmt.Sprintf("The files sent are larger than this server accepts: a saved model has at most %d bytes, a lesson file at most %d.", maxModel, maxLesson)
}

// isModelError says whether err is a saved model's refusal (engine.Load's
// or loadModel's), to be shown as it is.
func isModelError(err error) bool { return strings.HasPrefix(err.Error(), "load model:") }
