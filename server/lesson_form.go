package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/backpropviz/backpropviz/lesson"
)

// The create-room form's lesson: an embedded one chosen by name (field
// "lesson") or a lesson file uploaded (field "lesson_file"), within
// MaxLesson bytes. An uploaded lesson carries its model as base64, never
// as a path (docs/lessons.md).

// lessonTooLarge is the message of a lesson file over the limit.
func lessonTooLarge(max int64) string {
	return fmt.Sprintf("The lesson file is larger than this server accepts (%d bytes at most).", max)
}

// formLesson reads the lesson the create-room form chose (nil: none). The
// form is parsed (see roomForm). It answers the request itself and reports
// false when the lesson is too large, malformed, or comes with a saved
// model.
func (s *Server) formLesson(w http.ResponseWriter, r *http.Request, withModel bool) (*lesson.Lesson, bool) {
	name := strings.TrimSpace(r.PostForm.Get("lesson"))
	var b []byte
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["lesson_file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			if fhs[0].Size > s.cfg.MaxLesson {
				s.metrics.limitHits.WithLabelValues("lesson_bytes").Inc()
				s.site.CreateRoomFailed(w, r, http.StatusRequestEntityTooLarge, lessonTooLarge(s.cfg.MaxLesson))
				return nil, false
			}
			f, err := fhs[0].Open()
			if err == nil {
				b, err = io.ReadAll(io.LimitReader(f, s.cfg.MaxLesson+1))
				f.Close()
			}
			if err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return nil, false
			}
		}
	}
	var l *lesson.Lesson
	var err error
	switch {
	case b == nil && name == "":
		return nil, true
	case withModel:
		err = errors.New("choose a saved model or a lesson, not both (a lesson names its own starting model)")
	case b != nil && name != "":
		err = errors.New("choose an embedded lesson or a lesson file, not both")
	case b != nil:
		l, err = lesson.Parse(b, nil, s.cfg.MaxModel)
	default:
		l, err = lesson.LoadEmbedded(name, s.cfg.MaxModel)
	}
	if err != nil {
		s.site.CreateRoomFailed(w, r, http.StatusUnprocessableEntity, lessonRefused(err))
		return nil, false
	}
	return l, true
}

// lessonRefused is what the create-room form says of a refused lesson.
func lessonRefused(err error) string {
	return "The lesson was refused: " + strings.TrimPrefix(err.Error(), "lesson: ")
}
