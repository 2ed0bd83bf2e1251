package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

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

// TestBundleSplitsDynamicImports: a module imported statically joins its
// page's script; one imported with import() is a file of its own, served
// under a content-hashed name, which the script names; code both use is in
// a chunk the script imports.
func TestBundleSplitsDynamicImports(t *testing.T) {
	files := fstest.MapFS{
		"js/main.js":   {Data: []byte("import { a } from './a.js';\nimport { shared } from './shared.js';\nconsole.log(a(), shared());\ndocument.addEventListener('click', () => import('./late.js').then((m) => m.late()));\n")},
		"js/a.js":      {Data: []byte("export function a() { return 'module-a-static'; }\n")},
		"js/shared.js": {Data: []byte("export function shared() { return 'module-shared'; }\n")},
		"js/late.js":   {Data: []byte("import { shared } from './shared.js';\nexport function late() { return 'module-late-dynamic' + shared(); }\n")},
	}
	a := &builtAssets{urls: map[string]string{}, files: map[string]*builtFile{}}
	if err := a.bundle(files, []string{"js/main.js"}); err != nil {
		t.Fatal(err)
	}
	mainURL := a.url("js/main.js")
	main := a.files[strings.TrimPrefix(mainURL, "/static/")]
	if main == nil {
		t.Fatalf("js/main.js built as %q, not served", mainURL)
	}
	js := string(main.body)
	if !strings.Contains(js, "module-a-static") {
		t.Errorf("the statically imported module is not in the page's script:\n%s", js)
	}
	if strings.Contains(js, "module-late-dynamic") {
		t.Errorf("the dynamically imported module is in the page's script:\n%s", js)
	}
	var late string
	for name, f := range a.files {
		if strings.Contains(string(f.body), "module-late-dynamic") {
			late = name
		}
	}
	if late == "" || !strings.Contains(js, "import(\"./"+strings.TrimPrefix(late, "js/")+"\")") {
		t.Errorf("the dynamic import is not a file of its own named by the script (%q):\n%s", late, js)
	}
	if len(a.files) != 3 {
		t.Errorf("%d files built, want the script, the part loaded later and their shared chunk", len(a.files))
	}
}
