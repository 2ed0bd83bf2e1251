package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/lesson"
)

// Rooms started from a lesson (docs/lessons.md): the lesson's network,
// data, seed, hyperparameters, speed and starting model make the room's
// trainer, every part checked before the room exists; the room keeps the
// lesson (its prompts for the owner's page, its fork controls for the
// students' forks).

// defaultMaxLesson is the default of DataConfig.MaxLesson: a lesson with a
// starting model of the default MaxModel in base64, and its texts.
const defaultMaxLesson = defaultMaxModel*4/3 + 64<<10

// Lesson is the lesson the room was started from, or nil.
func (r *Room) Lesson() *lesson.Lesson { return r.lesson.Load() }

// lessonError is a lesson's refusal by the server: what is wrong, named
// by the lesson's field, to be shown as it is (see isLessonError).
func lessonError(field string, err error) error {
	var le *lesson.Error
	if errors.As(err, &le) {
		return err
	}
	return &lesson.Error{Field: field, Msg: strings.TrimPrefix(err.Error(), "load model: ")}
}

// isLessonError says whether err is a lesson's refusal.
func isLessonError(err error) bool {
	var le *lesson.Error
	return errors.As(err, &le)
}

// CreateRoomFromLesson starts a room from the lesson l, named name (the
// lesson's title if name is empty), paused at step 0 or at its model's
// step. A lesson that does not fit this server (a data set it does not
// have, a spec that does not fit the data, a batch or speed over its
// limits, a prompt outside the network) is refused with a *lesson.Error
// naming the field, and nothing is started.
func (s *Server) CreateRoomFromLesson(name string, l *lesson.Lesson) (*Room, error) {
	if cleanRoomName(name) == "" {
		name = l.Title
	}
	var t *engine.Trainer
	var p LabParams
	var err error
	if l.Model != nil {
		if t, p, err = s.loadModel(l.Model); err != nil {
			return nil, lessonError("model", err)
		}
		if err := modelMatches(l, t, p); err != nil {
			return nil, err
		}
	} else {
		p = DefaultLabParams()
		p.Config.Spec, p.Data = l.Spec, l.Data
		if l.Seed != nil {
			p.Config.Seed = *l.Seed
		}
	}
	args := l.Hyper.Args()
	args.Speed = l.Speed
	if p, _, err = p.apply(&args, s.cfg.limits()); err != nil {
		field := "hyper"
		if strings.HasPrefix(err.Error(), "speed") {
			field = "speed"
		}
		return nil, lessonError(field, err)
	}
	var mem int64
	if t != nil {
		if err := t.SetHyper(p.Config.Hyper); err != nil {
			return nil, lessonError("hyper", err)
		}
		if err := l.CheckPrompts(t.Layers()); err != nil {
			return nil, err
		}
		if mem, err = s.reserveLoaded(t); err != nil {
			return nil, err
		}
	} else {
		data, err := s.data.get(p.Data)
		if err != nil {
			return nil, lessonError("data", err)
		}
		if t, mem, err = s.buildTrainer(p.Config, data, nil); err != nil {
			var mr memRefusal
			if errors.As(err, &mr) || errors.Is(err, errFull) {
				return nil, err // the server's own limits
			}
			return nil, lessonError("spec", err)
		}
		if err := l.CheckPrompts(t.Layers()); err != nil {
			s.sessions.unreserve(mem)
			return nil, err
		}
	}
	room, err := s.createRoomWith(name, t, mem, p)
	if err != nil {
		return nil, err
	}
	room.lesson.Store(l)
	if !l.Fork.Allowed {
		room.roster.mu.Lock()
		room.roster.locked = true
		room.roster.mu.Unlock()
	}
	s.log.Info("room started from a lesson", "room", room.Code, "lesson", l.Title, "prompts", len(l.Prompts))
	return room, nil
}

// modelMatches checks that the spec, data and seed a lesson gives beside
// its model are the model's.
func modelMatches(l *lesson.Lesson, t *engine.Trainer, p LabParams) error {
	switch cfg := t.Config(); {
	case l.Spec != "" && l.Spec != cfg.Spec:
		return &lesson.Error{Field: "spec", Msg: fmt.Sprintf("%q differs from the model's %q (leave it out to use the model's)", l.Spec, cfg.Spec)}
	case l.Data != "" && l.Data != p.Data:
		return &lesson.Error{Field: "data", Msg: fmt.Sprintf("%q differs from the model's %q", l.Data, p.Data)}
	case l.Seed != nil && *l.Seed != cfg.Seed:
		return &lesson.Error{Field: "seed", Msg: fmt.Sprintf("%d differs from the model's %d", *l.Seed, cfg.Seed)}
	}
	return nil
}
