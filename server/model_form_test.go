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

// postRoomForm sends the create-room form as multipart, with model as the
// file (none if nil).
func postRoomForm(t *testing.T, ts *httptest.Server, name string, model []byte) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("name", name)
	if model != nil {
		fw, err := mw.CreateFormFile("model", "model.json")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(model)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/rooms", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", ts.URL)
	return do(t, req)
}

// The create-room form starts a room from a saved model; a bad model or one
// over -max-model is refused on the form with what is wrong, and no room
// is made.
func TestCreateRoomFormWithModel(t *testing.T) {
	srv, ts := newTestServer(t, Config{DataConfig: DataConfig{MaxModel: 64 << 10}})
	_, tok := labWithSteps(t, ts, "4", 3)
	model := getModel(t, ts, "resume="+tok)

	p := postRoomForm(t, ts, "Chemistry", model)
	if p.status != http.StatusSeeOther {
		t.Fatalf("POST /rooms with a model: %d\n%s", p.status, p.body)
	}
	rooms := srv.roomsOf()
	if len(rooms) != 1 {
		t.Fatalf("%d rooms, want 1", len(rooms))
	}
	if got := getModel(t, ts, "room="+rooms[0].Code+"&owner="+rooms[0].OwnerToken()); !bytes.Equal(got, model) {
		t.Errorf("the room's model differs from the file of the form")
	}

	for _, tt := range []struct {
		name   string
		model  []byte
		status int
		want   string
	}{
		{"truncated", model[:len(model)/3], http.StatusUnprocessableEntity, "The saved model was refused: load model: file is truncated"},
		{"beyond float32", mutate(t, model, func(m map[string]any) { m["params"].([]any)[0].(map[string]any)["value"].([]any)[0] = 1e300 }), http.StatusUnprocessableEntity, "beyond float32"},
		{"too large", bytes.Repeat([]byte(" "), 100<<10), http.StatusRequestEntityTooLarge, "65536 bytes at most"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := postRoomForm(t, ts, "Bad", tt.model)
			if p.status != tt.status || !strings.Contains(html.UnescapeString(p.body), tt.want) {
				t.Errorf("POST /rooms: %d, want %d with %q\n%.2000s", p.status, tt.status, tt.want, p.body)
			}
		})
	}
	// without a file: a new network, as before
	if p := postRoomForm(t, ts, "Physics", nil); p.status != http.StatusSeeOther {
		t.Errorf("POST /rooms without a model: %d", p.status)
	}
	if n := len(srv.roomsOf()); n != 2 {
		t.Errorf("%d rooms, want 2 (no room from a refused form)", n)
	}
}
