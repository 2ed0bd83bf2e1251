package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// labWithSteps opens a shapes lab with the tiny network, takes n steps and
// returns the client and its resume token.
func labWithSteps(t *testing.T, ts *httptest.Server, seed string, n int) (*wsClient, string) {
	t.Helper()
	c := dial(t, ts, "data=shapes&batch=4&seed="+seed+"&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	var w protocol.Welcome
	c.expect("welcome", &w)
	for range n {
		if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
			t.Fatalf("step_batch: %+v", r)
		}
	}
	return c, w.Resume
}

func getModel(t *testing.T, ts *httptest.Server, query string) []byte {
	t.Helper()
	resp, err := http.Get(ts.URL + "/model?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /model?%s: %s %s", query, resp.Status, b)
	}
	return b
}

func postModel(t *testing.T, ts *httptest.Server, query string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(ts.URL+"/model?"+query, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &r)
	return resp.StatusCode, r.Error
}

// A model downloaded from one lab and loaded into another gives the second
// lab the same weights, optimizer state and step, bit for bit.
func TestModelDownloadLoad(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	_, tokA := labWithSteps(t, ts, "3", 3)
	b, tokB := labWithSteps(t, ts, "9", 1)
	resp, err := http.Get(ts.URL + "/model?resume=" + tokA)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="backpropviz-shapes-step3.json"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	model := getModel(t, ts, "resume="+tokA)
	if code, msg := postModel(t, ts, "resume="+tokB, model); code != http.StatusOK {
		t.Fatalf("load into lab B: %d %s", code, msg)
	}
	var w protocol.Welcome
	b.expect("welcome", &w)
	var st testState
	b.expect("state", &st)
	if w.Config.Seed != 3 || st.Step != 3 {
		t.Errorf("lab B after the load: seed %d step %d, want 3 and 3", w.Config.Seed, st.Step)
	}
	if again := getModel(t, ts, "resume="+tokB); !bytes.Equal(again, model) {
		t.Errorf("lab B's model differs from the file it loaded")
	}
	if r := b.reply(b.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch after the load: %+v", r)
	}
}

// mutate decodes a model, changes it and encodes it again.
func mutate(t *testing.T, model []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(model, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every bad file is refused with what is wrong, and the lab it was meant
// for is untouched.
func TestModelLoadRefusals(t *testing.T) {
	srv, ts := newTestServer(t, Config{DataConfig: DataConfig{MaxModel: 64 << 10}})
	_, tokA := labWithSteps(t, ts, "3", 2)
	model := getModel(t, ts, "resume="+tokA)
	_, tokB := labWithSteps(t, ts, "9", 1)
	before := getModel(t, ts, "resume="+tokB)
	firstValue := func(v any) func(m map[string]any) {
		return func(m map[string]any) {
			m["params"].([]any)[0].(map[string]any)["value"].([]any)[0] = v
		}
	}
	tests := []struct {
		name   string
		body   []byte
		status int
		want   string
	}{
		{"not JSON", []byte("this is no model"), 422, "malformed JSON"},
		{"empty", nil, 422, "truncated or empty"},
		{"truncated", model[:len(model)/2], 422, "truncated"},
		{"too large", bytes.Repeat([]byte(" "), 65<<10), 413, "65536 bytes at most"},
		{"two models", append(append([]byte{}, model...), model...), 422, "a file holds one model"},
		{"another format", mutate(t, model, func(m map[string]any) { m["format"] = "keras" }), 422, `format "keras"`},
		{"another spec than its weights", mutate(t, model, func(m map[string]any) { m["spec"] = "conv(3,3,s1,p1) relu maxpool(2,s2,p0) dense(5)" }), 422, "shape"},
		{"a spec that does not fit the data", mutate(t, model, func(m map[string]any) { m["spec"] = "conv(2,3,s1,p1) relu maxpool(2,s2,p0) dense(10)" }), 422, "load model"},
		{"weight beyond float32", mutate(t, model, firstValue(1e300)), 422, "beyond float32's range"},
		{"weight not a number", mutate(t, model, firstValue("NaN")), 422, "malformed JSON"},
		{"a data set this server lacks", mutate(t, model, func(m map[string]any) { m["data"] = "cifar" }), 422, `saved for data set "cifar"`},
		{"a batch above the server's", mutate(t, model, func(m map[string]any) { m["hyper"].(map[string]any)["batch_size"] = 500 }), 422, "batch size 500"},
	}
	hits := counterValue(t, srv.metrics.limitHits.WithLabelValues("model_bytes"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := postModel(t, ts, "resume="+tokB, tt.body)
			if code != tt.status || !strings.Contains(msg, tt.want) {
				t.Errorf("load: %d %q, want %d with %q", code, msg, tt.status, tt.want)
			}
			if after := getModel(t, ts, "resume="+tokB); !bytes.Equal(after, before) {
				t.Errorf("the lab changed after a refused load")
			}
		})
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("model_bytes")); got != hits+1 {
		t.Errorf("bpv_limit_hits_total{limit=model_bytes} went from %v to %v, want one more", hits, got)
	}
	if code, msg := postModel(t, ts, "resume=nosuchtoken", model); code != http.StatusNotFound || !strings.Contains(msg, "No lab") {
		t.Errorf("unknown token: %d %q", code, msg)
	}
	if code, _ := postModel(t, ts, "", model); code != http.StatusBadRequest {
		t.Errorf("no session named: %d", code)
	}
}

// A room starts from a saved model; only its owner downloads or loads.
func TestRoomFromModel(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	_, tok := labWithSteps(t, ts, "4", 3)
	model := getModel(t, ts, "resume="+tok)
	room, err := srv.CreateRoomFromModel("Biology", model)
	if err != nil {
		t.Fatalf("CreateRoomFromModel: %v", err)
	}
	if got := getModel(t, ts, "room="+room.Code+"&owner="+room.OwnerToken()); !bytes.Equal(got, model) {
		t.Errorf("the room's model differs from the file it started from")
	}
	resp, err := http.Get(ts.URL + "/model?room=" + room.Code)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's download: %s, want 403", resp.Status)
	}
	if code, msg := postModel(t, ts, "room="+room.Code, model); code != http.StatusForbidden || !strings.Contains(msg, "owner") {
		t.Errorf("a viewer's load: %d %q, want 403", code, msg)
	}
	if code, msg := postModel(t, ts, "room="+room.Code+"&owner="+room.OwnerToken(), model); code != http.StatusOK {
		t.Errorf("the owner's load: %d %q", code, msg)
	}
	if _, err := srv.CreateRoomFromModel("Broken", model[:100]); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("CreateRoomFromModel(truncated) error %v", err)
	}
}
