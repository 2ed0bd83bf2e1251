package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRefusedOriginsAreLogged: a form posted from another site
// (http.CrossOriginProtection: by Sec-Fetch-Site, or by Origin for older
// browsers) and a websocket opened from another origin are refused with 403,
// each logged with the origin and the reason and counted; the same form
// from this site, from an allowed origin, and without any of the headers
// (not a browser) passes.
func TestRefusedOriginsAreLogged(t *testing.T) {
	var logs syncBuffer
	srv, err := New(Config{ShapesTrain: 400, ShapesTest: 100,
		ClassroomConfig: ClassroomConfig{AllowedOrigins: []string{"https://viz.school.example"}}},
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	host := strings.TrimPrefix(ts.URL, "http://")
	post := func(h map[string]string) int {
		req, _ := http.NewRequest("POST", ts.URL+"/rooms", strings.NewReader(url.Values{"name": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		return do(t, req).status
	}
	for _, c := range []struct {
		name    string
		headers map[string]string
		status  int
		reason  string
	}{
		{"cross-site by Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden, "Sec-Fetch-Site"},
		{"cross-site by Origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden, "Origin"},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": ts.URL}, http.StatusSeeOther, ""},
		{"allowed origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://viz.school.example"}, http.StatusSeeOther, ""},
		{"no browser", nil, http.StatusSeeOther, ""},
	} {
		before := strings.Count(logs.String(), "origin refused")
		if got := post(c.headers); got != c.status {
			t.Errorf("%s: POST /rooms status %d, want %d", c.name, got, c.status)
		}
		logged := logs.String()
		refusedNow := strings.Count(logged, "origin refused") - before
		if c.reason == "" && refusedNow != 0 {
			t.Errorf("%s: a refusal was logged", c.name)
		}
		if c.reason != "" {
			last := logged[strings.LastIndex(logged, "origin refused"):]
			if refusedNow != 1 || !strings.Contains(last, "origin=https://evil.example") || !strings.Contains(last, "reason=") || !strings.Contains(last, c.reason) {
				t.Errorf("%s: log %q, want one refusal with the origin and a reason naming %s", c.name, last, c.reason)
			}
		}
	}

	// A websocket from another origin.
	h := http.Header{"Origin": {"https://evil.example"}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws://"+host+"/ws?data=shapes", h)
	if err == nil {
		conn.Close()
		t.Fatal("websocket from another origin accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("websocket from another origin: %v, want 403", resp)
	}
	logged := logs.String()
	last := logged[strings.LastIndex(logged, "origin refused"):]
	if !strings.Contains(last, "path=/ws") || !strings.Contains(last, "origin=https://evil.example") || !strings.Contains(last, "-allowed-origins") {
		t.Errorf("websocket refusal logged as %q, want the path, the origin and the reason", last)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("origin")); got != 3 {
		t.Errorf("origin limit hits %v, want 3", got)
	}
}
