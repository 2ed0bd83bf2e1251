package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestBuiltAssets: the embedded front end builds without an error; the lab
// page loads the bundled, content-hashed script and styles, which are
// served gzipped with a year's caching, and the sources stay served.
func TestBuiltAssets(t *testing.T) {
	a, err := embeddedAssets()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(append(append([]string{}, bundled...), minified...), hashedAsIs...) {
		if a.url(name) == "" {
			t.Errorf("%s: not built", name)
		}
	}
	r := chi.NewRouter()
	New(Config{Version: "v1"}).Mount(r)
	get := func(path string) *http.Response {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Result()
	}
	page, _ := io.ReadAll(get("/").Body)
	main := a.url("js/main.js")
	if !strings.Contains(string(page), `src="`+main+`"`) || strings.Contains(string(page), "/static/js/main.js") {
		t.Fatalf("the lab page does not load %s alone", main)
	}
	resp := get(main)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("GET %s: %d, Content-Encoding %q, Cache-Control %q", main, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(zr)
	if strings.Contains(string(js), "import ") || strings.Contains(string(js), "// ") {
		t.Errorf("the bundle still imports modules or keeps comments")
	}
	if !strings.Contains(string(js), "bpv:message") {
		t.Errorf("the bundle lacks the lab's code")
	}
	if resp := get("/static/js/main.js"); resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("the source main.js: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}
