package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseOrigins(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"https://Viz.Example.org", []string{"https://viz.example.org"}, false},
		{"https://viz.example.org:443/, http://lab:8080", []string{"https://viz.example.org", "http://lab:8080"}, false},
		{"viz.example.org", nil, true},
		{"ftp://viz.example.org", nil, true},
		{"https://viz.example.org/path", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseOrigins(tt.in)
		if (err != nil) != tt.wantErr || strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("ParseOrigins(%q) = %q, %v, want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOriginChecker(t *testing.T) {
	allowed, err := ParseOrigins("https://viz.school.example")
	if err != nil {
		t.Fatal(err)
	}
	check := OriginChecker(allowed)
	tests := []struct {
		name, host, origin string
		want               bool
	}{
		{"same host", "lab.local:8080", "http://lab.local:8080", true},
		{"same host, case", "LAB.local:8080", "http://lab.LOCAL:8080", true},
		{"no Origin: not a browser page", "lab.local:8080", "", true},
		{"another site", "lab.local:8080", "https://evil.example", false},
		{"same host, another port", "lab.local:8080", "http://lab.local:9090", false},
		{"listed origin behind a proxy", "127.0.0.1:8080", "https://viz.school.example", true},
		{"listed origin, default port", "127.0.0.1:8080", "https://viz.school.example:443", true},
		{"listed host, other scheme", "127.0.0.1:8080", "http://viz.school.example", false},
		{"null origin", "lab.local:8080", "null", false},
		{"suffix trick", "lab.local:8080", "http://lab.local:8080.evil.example", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.Host = tt.host
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if got := check(r); got != tt.want {
			t.Errorf("%s: check(Host %s, Origin %q) = %v, want %v", tt.name, tt.host, tt.origin, got, tt.want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("page"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	want := map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, d) {
			t.Errorf("CSP %q lacks %q", ContentSecurityPolicy, d)
		}
	}
	if strings.Contains(ContentSecurityPolicy, "unsafe-inline") || strings.Contains(ContentSecurityPolicy, "unsafe-eval") {
		t.Errorf("CSP %q allows inline script or eval", ContentSecurityPolicy)
	}
}
