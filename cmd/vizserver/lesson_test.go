package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/server"
)

// -lesson NAME or FILE opens a room from the lesson at start-up, named
// after it unless -room names it; with -load it is refused; a bad lesson
// stops the server with the field and the problem.
func TestLessonFlag(t *testing.T) {
	o, err := parseFlags([]string{"-lesson", "sgd-vs-adam", "-max-lesson", "1MiB"}, io.Discard)
	if err != nil || o.lesson != "sgd-vs-adam" || o.cfg.MaxLesson != 1<<20 {
		t.Fatalf("-lesson: %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"-lesson", "x.json", "-load", "m.json", "-room", "R"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-lesson") {
		t.Errorf("-lesson with -load: %v", err)
	}
	t.Setenv("BPV_LESSON", "dying-relu")
	if o, err := parseFlags(nil, io.Discard); err != nil || o.lesson != "dying-relu" {
		t.Errorf("BPV_LESSON: %q, %v", o.lesson, err)
	}

	srv, err := server.New(server.Config{ShapesTrain: 50, ShapesTest: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := openLesson("sgd-vs-adam", srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := openRoom(&out, srv, "", nil, l, "http://x", "127.0.0.1:8080"); err != nil {
		t.Fatalf("openRoom from a lesson: %v", err)
	}
	if !strings.Contains(out.String(), `room "SGD vs Adam"`) || !strings.Contains(out.String(), "owner link") {
		t.Errorf("openRoom printed %q", out.String())
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "lesson.json")
	os.WriteFile(file, []byte(`{"title": "Mine", "spec": "dense(5)", "data": "shapes", "speed": {"unit": "step", "rate": 1}}`), 0o644)
	if l, err = openLesson(file, srv.Config()); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := openRoom(&out, srv, "Biology", nil, l, "http://x", "127.0.0.1:8080"); err != nil || !strings.Contains(out.String(), `room "Biology"`) {
		t.Errorf("openRoom from a lesson file with -room: %v, %q", err, out.String())
	}
	os.WriteFile(file, []byte(`{"title": "Bad", "spec": "dense(5)", "speed": {"unit": "epoch"}}`), 0o644)
	if _, err := openLesson(file, srv.Config()); err == nil || !strings.Contains(err.Error(), "speed.unit") {
		t.Errorf("a bad lesson file: %v", err)
	}
}
