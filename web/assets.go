package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/backpropviz/backpropviz/static"
)

// The front end as the pages load it: at start the server bundles the
// pages' ES modules and minifies the styles, from the embedded sources, in
// memory (nothing built is committed). The scripts are split: each entry
// point (a page's script) becomes one minified module with everything it
// imports statically, and each module imported dynamically (import('./x.js'),
// for what a page needs only when it is opened) becomes a file of its own,
// with the code shared between them in chunks, so a first load fetches only
// what the first screen runs. Each built file is served under a name that
// carries the hash of its content (js/main.3f2a9c1e.js), so it may be cached
// for a year; it is gzipped once, at start. The sources stay served under
// their own names.

// bundled are the scripts a page loads (the entry points of the bundles).
var bundled = []string{"js/main.js", "js/classroom.js"}

// minified are the styles, minified alone.
var minified = []string{"css/lab.css", "css/explain.css", "css/devices.css", "css/lesson.css", "css/drawpad.css", "css/timeline.css", "css/classroom.css", "css/prompt.css", "vendor/uplot/uPlot.min.css"}

// hashedAsIs are files served under a content-hashed name unchanged.
var hashedAsIs = []string{"vendor/uplot/uPlot.iife.min.js", "favicon.svg"}

// builtFile is one file of the built front end.
type builtFile struct {
	body  []byte // as served without compression
	gz    []byte // gzipped; nil if that is not smaller
	ctype string
	etag  string
}

// builtAssets is the built front end: URLs by source name and files by
// their served path under /static/.
type builtAssets struct {
	urls  map[string]string     // "js/main.js" → "/static/js/main.3f2a9c1e.js"
	files map[string]*builtFile // "js/main.3f2a9c1e.js" → the file
}

// url is the URL of the built form of the source name, or "" if there is
// none.
func (a *builtAssets) url(name string) string {
	if a == nil {
		return ""
	}
	return a.urls[name]
}

// buildAssets bundles and minifies the front end of files. A file that
// cannot be built is left out (its page then loads the source), and the
// error says which and why.
func buildAssets(files fs.FS) (*builtAssets, error) {
	a := &builtAssets{urls: map[string]string{}, files: map[string]*builtFile{}}
	var errs []string
	if err := a.bundle(files, bundled); err != nil {
		errs = append(errs, err.Error())
	}
	for _, name := range minified {
		src, err := fs.ReadFile(files, name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		res := api.Transform(string(src), api.TransformOptions{Loader: api.LoaderCSS, MinifyWhitespace: true, MinifySyntax: true})
		if len(res.Errors) > 0 {
			errs = append(errs, fmt.Sprintf("%s: %s", name, res.Errors[0].Text))
			continue
		}
		a.add(name, res.Code)
	}
	for _, name := range hashedAsIs {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		a.add(name, b)
	}
	if len(errs) > 0 {
		return a, fmt.Errorf("build the front end: %s", strings.Join(errs, "; "))
	}
	return a, nil
}

// add records the built form of the source name.
func (a *builtAssets) add(name string, body []byte) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:4])
	ext := path.Ext(name)
	served := strings.TrimSuffix(name, ext) + "." + hash + ext
	a.urls[name] = "/static/" + served
	a.files[served] = newBuiltFile(body, ext)
}

// newBuiltFile is body served as a file of extension ext, gzipped at the
// best level once.
func newBuiltFile(body []byte, ext string) *builtFile {
	f := &builtFile{body: body, ctype: mime.TypeByExtension(ext), etag: contentETag(body)}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	if buf.Len() < len(body) {
		f.gz = buf.Bytes()
	}
	return f
}

// outDir is where esbuild places the files it builds (in memory only).
const outDir = "/out"

// bundle builds the ES modules entries, with everything they import, into
// minified modules split at dynamic imports (see above), and records them.
// esbuild names each output by the hash of its content and of the files it
// imports, so a chunk's name changes when any part of it does.
func (a *builtAssets) bundle(files fs.FS, entries []string) error {
	res := api.Build(api.BuildOptions{
		EntryPoints:       entries,
		Bundle:            true,
		Write:             false,
		Splitting:         true,
		Format:            api.FormatESModule,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Outdir:            outDir,
		Outbase:           ".",
		EntryNames:        "[dir]/[name].[hash]",
		ChunkNames:        "js/chunk.[hash]",
		Plugins:           []api.Plugin{fsPlugin(files)},
		LogLevel:          api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		if e.Location != nil {
			return fmt.Errorf("%s:%d: %s", e.Location.File, e.Location.Line, e.Text)
		}
		return fmt.Errorf("bundle %s: %s", strings.Join(entries, ", "), e.Text)
	}
	for _, f := range res.OutputFiles {
		served, ok := strings.CutPrefix(f.Path, outDir+"/")
		if !ok || path.Ext(served) != ".js" {
			return fmt.Errorf("bundle: unexpected output %s", f.Path)
		}
		a.files[served] = newBuiltFile(f.Contents, ".js")
		// an entry point's built name is its source name with a hash
		if base, _, ok := strings.Cut(path.Base(served), "."); ok {
			src := path.Join(path.Dir(served), base+".js")
			if slices.Contains(entries, src) {
				a.urls[src] = "/static/" + served
			}
		}
	}
	for _, e := range entries {
		if a.urls[e] == "" {
			return fmt.Errorf("bundle: no output for %s", e)
		}
	}
	return nil
}

// fsPlugin makes esbuild read the modules from files: imports are paths
// relative to the importing module.
func fsPlugin(files fs.FS) api.Plugin {
	return api.Plugin{Name: "static", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
			p := args.Path
			if args.Kind != api.ResolveEntryPoint {
				if !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") {
					return api.OnResolveResult{}, fmt.Errorf("import %q: only relative imports of the front end", p)
				}
				p = path.Join(path.Dir(args.Importer), p)
			}
			return api.OnResolveResult{Path: p, Namespace: "static"}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "static"}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
			src, err := fs.ReadFile(files, args.Path)
			if err != nil {
				return api.OnLoadResult{}, err
			}
			s := string(src)
			return api.OnLoadResult{Contents: &s, Loader: api.LoaderJS}, nil
		})
	}}
}

// handler serves the built files (under /static/, the prefix stripped)
// with a year's caching, and passes every other path to next.
func (a *builtAssets) handler(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := a.files[r.URL.Path]
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", f.etag)
		h.Set("Content-Type", f.ctype)
		h.Add("Vary", "Accept-Encoding")
		if r.Header.Get("If-None-Match") == f.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := f.body
		if f.gz != nil && acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = f.gz
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// embeddedAssets builds the embedded front end once per process: it never
// changes while the process runs.
var embeddedAssets = sync.OnceValues(func() (*builtAssets, error) { return buildAssets(static.FS) })
