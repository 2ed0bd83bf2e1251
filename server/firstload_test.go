package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	assetRef = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)
	// a static import (import … from "./x.js", import "./x.js"), which the
	// browser fetches before it runs the module; a dynamic one, import("./x.js"),
	// is fetched only when the page runs it (a part the user opens)
	importRef = regexp.MustCompile(`(?:\bfrom|\bimport)\s*['"]([^'"]+\.js)['"]`)
)

// loadPage fetches path and every asset a first load fetches (stylesheets,
// scripts and the ES modules they import statically, transitively) as a
// browser would, asking for gzip, and returns the body bytes on the wire
// (compressed where the server compressed) and the number of responses.
// What the page loads later (modules imported dynamically; uPlot, which it
// adds once the first maps are drawn and the charts near the screen, see
// static/js/render/charts.js) is not counted: e2e's TestFirstLoadInBrowser
// counts what a browser fetches until the load event, and
// BenchmarkFirstPaint reports it. etags, if not nil, holds the
// validators of an earlier load (sent as If-None-Match) and is filled with
// this load's.
func loadPage(t *testing.T, base, path string, etags map[string]string) (n, responses, page int) {
	t.Helper()
	tr := &http.Transport{DisableCompression: true} // count what the server sends
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	seen := map[string]bool{}
	queue := []string{path}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if tag := etags[p]; tag != "" {
			req.Header.Set("If-None-Match", tag)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 304 {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		n += len(raw)
		if responses == 0 {
			page = len(raw)
		}
		responses++
		if etags != nil && resp.Header.Get("ETag") != "" {
			etags[p] = resp.Header.Get("ETag")
		}
		if resp.StatusCode == 304 {
			body, _ := readUncompressed(t, client, base+p)
			raw = body
		} else if resp.Header.Get("Content-Encoding") == "gzip" {
			raw = gunzip(t, raw)
		}
		text := string(raw)
		for _, m := range assetRef.FindAllStringSubmatch(text, -1) {
			queue = append(queue, strings.ReplaceAll(m[1], "&amp;", "&"))
		}
		if strings.HasSuffix(strings.SplitN(p, "?", 2)[0], ".js") {
			u, _ := url.Parse(p)
			for _, m := range importRef.FindAllStringSubmatch(text, -1) {
				ref, _ := url.Parse(m[1])
				queue = append(queue, u.ResolveReference(ref).String())
			}
		}
	}
	return n, responses, page
}

// firstLoadBudget is the most bytes a first load of the lab page may take
// on the wire: 64 KiB.
const firstLoadBudget = 64 << 10

// TestFirstLoadBytes measures the bytes of a first load of the lab page
// (the bundled, minified front end) and of a reload (run with -v to see
// them): the first load within firstLoadBudget; a reload fetches the page
// again (it is never cached) and nothing else (every asset 304).
func TestFirstLoadBytes(t *testing.T) {
	_, ts := newTestServer(t, Config{Version: "v1"})
	etags := map[string]string{}
	first, n, _ := loadPage(t, ts.URL, "/", etags)
	if n < 4 {
		t.Fatalf("first load: %d responses; the page's styles and scripts not found", n)
	}
	again, _, page := loadPage(t, ts.URL, "/", etags)
	t.Logf("lab page: first load %d bytes in %d responses; reload %d bytes (the page %d)", first, n, again, page)
	if first > firstLoadBudget {
		t.Errorf("first load %d bytes, more than %d", first, firstLoadBudget)
	}
	if again-page > 0 {
		t.Errorf("reload %d bytes of a first load's %d: assets not revalidated with 304", again, first)
	}
}

// TestStaticCompressedWithETag: a script is sent gzipped with an ETag from
// its content; asking again with the ETag gets 304 and no body.
func TestStaticCompressedWithETag(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(tag string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", ts.URL+"/static/js/main.js", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if tag != "" {
			req.Header.Set("If-None-Match", tag)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	resp, body := get("")
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || tag == "" {
		t.Fatalf("GET main.js: %d, Content-Encoding %q, ETag %q; want 200, gzip and an ETag",
			resp.StatusCode, resp.Header.Get("Content-Encoding"), tag)
	}
	if !strings.Contains(string(gunzip(t, body)), "import") {
		t.Errorf("main.js decompressed is not the script")
	}
	resp, body = get(tag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("GET main.js with If-None-Match %s: %d, %d bytes; want 304 and none", tag, resp.StatusCode, len(body))
	}
	if resp, _ := get(`W/"other"`); resp.StatusCode != 200 {
		t.Errorf("GET main.js with another ETag: %d, want 200", resp.StatusCode)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readUncompressed fetches url without validators or compression (to read
// what a 304 stands for; not counted).
func readUncompressed(t *testing.T, client *http.Client, url string) ([]byte, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
