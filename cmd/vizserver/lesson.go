package main

import (
	"flag"

	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/server"
)

// lessonFlags binds the flags of lessons (docs/lessons.md): -lesson, the
// lesson the start-up room starts from, into name; -max-lesson into cfg.
func lessonFlags(fs *flag.FlagSet, cfg *server.Config, name *string) {
	fs.StringVar(name, "lesson", "", "open a room from this lesson at start-up: a lesson file (docs/lessons.md) or an embedded lesson's name ("+embeddedNames()+"); -room names the room, else the lesson's title does (env BPV_LESSON)")
	fs.Var(byteSize{&cfg.MaxLesson}, "max-lesson", "largest lesson file, uploaded on the create-room form or named by -lesson (1MiB, 12MiB); 0: enough for a base64 model of -max-model's default size (env BPV_MAX_LESSON)")
}

// embeddedNames lists the embedded lessons' names.
func embeddedNames() string {
	var s string
	for i, l := range lesson.Embedded() {
		if i > 0 {
			s += ", "
		}
		s += l.Name
	}
	return s
}

// openLesson reads the lesson of -lesson (nil for none), within the
// server's limits.
func openLesson(name string, cfg server.Config) (*lesson.Lesson, error) {
	if name == "" {
		return nil, nil
	}
	return lesson.Open(name, cfg.MaxLesson, cfg.MaxModel)
}
