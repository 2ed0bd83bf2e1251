package server

import (
	"bytes"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// postLessonForm sends the create-room form as multipart with the fields
// given and, if not nil, a lesson file and a model file.
func postLessonForm(t *testing.T, ts *httptest.Server, fields map[string]string, lessonFile, model []byte) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, b := range map[string][]byte{"lesson_file": lessonFile, "model": model} {
		if b != nil {
			fw, _ := mw.CreateFormFile(name, name+".json")
			fw.Write(b)
		}
	}
	mw.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/rooms", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", ts.URL)
	return do(t, req)
}

// TestCreateRoomFormWithLesson: the join page offers the embedded lessons;
// the create-room form starts a room from one, or from an uploaded lesson
// file; the owner's page shows the lesson's title and its prompts in
// order, each with its Ask button, and a student's page does not; a bad,
// oversized or doubled lesson is refused on the form, naming the problem,
// and makes no room.
func TestCreateRoomFormWithLesson(t *testing.T) {
	srv, ts := newTestServer(t, Config{DataConfig: DataConfig{MaxLesson: 4096}})
	join := do(t, mustRequest(t, "GET", ts.URL+"/join"))
	for _, want := range []string{`name="lesson"`, `value="dying-relu"`, "Why ReLUs die at a high learning rate", `value="sgd-vs-adam"`, `name="lesson_file"`} {
		if !strings.Contains(html.UnescapeString(join.body), want) {
			t.Errorf("join page lacks %s", want)
		}
	}

	p := postLessonForm(t, ts, map[string]string{"lesson": "dying-relu"}, nil, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("POST /rooms with lesson=dying-relu: %d\n%.2000s", p.status, p.body)
	}
	rooms := srv.roomsOf()
	if len(rooms) != 1 || rooms[0].Lesson() == nil || rooms[0].Name != "Why ReLUs die at a high learning rate" {
		t.Fatalf("rooms %+v", rooms)
	}
	owner := do(t, mustRequest(t, "GET", ts.URL+p.header.Get("Location")))
	body := html.UnescapeString(owner.body)
	if !strings.Contains(body, `data-testid="lesson-title">Why ReLUs die at a high learning rate<`) {
		t.Errorf("owner page lacks the lesson's title")
	}
	last := -1
	for i, q := range rooms[0].Lesson().Prompts {
		at := strings.Index(body, `data-prompt-index="`+itoa(i)+`" data-testid="lesson-ask"`)
		if at < 0 || at < last || !strings.Contains(body, q.Question) {
			t.Errorf("prompt %d (%s) missing or out of order on the owner page", i, q.Kind)
		}
		last = at
	}
	if !strings.Contains(body, `id="lesson-prompts-data"`) || !strings.Contains(body, "conv 1, filter 0, input channel 0, tap (2, 2)") {
		t.Errorf("owner page lacks the prompts' data or where a prompt points")
	}
	viewer := do(t, mustRequest(t, "GET", ts.URL+"/r/"+rooms[0].Code))
	if strings.Contains(viewer.body, "lesson-ask") || strings.Contains(viewer.body, "lesson-prompts-data") {
		t.Errorf("a student's page shows the lesson's prompts")
	}

	upload := []byte(`{"title": "Uploaded", "spec": "` + tinySpec + `", "data": "shapes", "prompts": [{"kind": "pool_switch", "layer": 2}]}`)
	if p := postLessonForm(t, ts, map[string]string{"name": "Physics"}, upload, nil); p.status != http.StatusSeeOther {
		t.Fatalf("POST /rooms with a lesson file: %d\n%.2000s", p.status, p.body)
	}
	if rs := srv.roomsOf(); len(rs) != 2 || rs[1].Name != "Physics" || rs[1].Lesson().Title != "Uploaded" {
		t.Errorf("room from an uploaded lesson: %+v", rs[len(rs)-1])
	}

	for _, tc := range []struct {
		name        string
		fields      map[string]string
		file, model []byte
		status      int
		want        string
	}{
		{"bad field", nil, []byte(`{"title": "T", "spec": "dense(5)", "hyper": {"lr": 50}}`), nil, http.StatusUnprocessableEntity, "The lesson was refused: hyper: learning rate 50"},
		{"not for this server", nil, []byte(`{"title": "T", "spec": "dense(5)", "data": "nosuch"}`), nil, http.StatusUnprocessableEntity, "The lesson was refused: data:"},
		{"names a file", nil, []byte(`{"title": "T", "model": "m.json"}`), nil, http.StatusUnprocessableEntity, "model_base64"},
		{"unknown lesson", map[string]string{"lesson": "nope"}, nil, nil, http.StatusUnprocessableEntity, "no embedded lesson is called"},
		{"both lessons", map[string]string{"lesson": "dying-relu"}, upload, nil, http.StatusUnprocessableEntity, "not both"},
		{"lesson and model", map[string]string{"lesson": "dying-relu"}, nil, []byte("{}"), http.StatusUnprocessableEntity, "a saved model or a lesson"},
		{"too large", nil, bytes.Repeat([]byte(" "), 5000), nil, http.StatusRequestEntityTooLarge, "4096 bytes at most"},
		// larger than the whole form may be: the message names no model the teacher did not send
		{"far too large", nil, bytes.Repeat([]byte(" "), int(srv.cfg.MaxModel+srv.cfg.MaxLesson+formSlack)), nil, http.StatusRequestEntityTooLarge, "a lesson file at most 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := postLessonForm(t, ts, tc.fields, tc.file, tc.model)
			if p.status != tc.status || !strings.Contains(html.UnescapeString(p.body), tc.want) {
				t.Errorf("POST /rooms: %d, want %d with %q\n%.2000s", p.status, tc.status, tc.want, p.body)
			}
		})
	}
	if n := len(srv.roomsOf()); n != 2 {
		t.Errorf("%d rooms, want 2 (none from a refused form)", n)
	}
}
