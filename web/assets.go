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
	"strconv"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/backpropviz/backpropviz/static"
)

// The front end as the pages load it: at start the server bundles each
// page's ES modules into one minified script and minifies the styles, from
// the embedded sources, in memory (nothing built is committed). Each built
// file is served under a name that carries the hash of its content
// (js/main.3f2a9c1e.js), so it may be cached for a year; it is compressed
// once, at start. The sources stay served under their own names.

// bundled are the scripts a page loads (the entry points of a bundle).
var bundled = []string{"js/main.js", "js/classroom.js"}

// minified are the styles, minified alone.
var minified = []string{"css/lab.css", "css/explain.css", "css/devices.css", "css/lesson.css", "css/drawpad.css", "css/classroom.css", "css/prompt.css", "vendor/uplot/uPlot.min.css"}

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
	for _, name := range bundled {
		b, err := bundle(files, name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		a.add(name, b)
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
	f := &builtFile{body: body, ctype: mime.TypeByExtension(ext), etag: contentETag(body)}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	if buf.Len() < len(body) {
		f.gz = buf.Bytes()
	}
	a.urls[name] = "/static/" + served
	a.files[served] = f
}

// bundle is the ES module name with everything it imports, in one minified
// module.
func bundle(files fs.FS, name string) ([]byte, error) {
	res := api.Build(api.BuildOptions{
		EntryPoints:       []string{name},
		Bundle:            true,
		Write:             false,
		Format:            api.FormatESModule,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Outfile:           "out.js",
		Plugins:           []api.Plugin{fsPlugin(files)},
		LogLevel:          api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		if e.Location != nil {
			return nil, fmt.Errorf("%s: %s:%d: %s", name, e.Location.File, e.Location.Line, e.Text)
		}
		return nil, fmt.Errorf("%s: %s", name, e.Text)
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("%s: %d output files, want 1", name, len(res.OutputFiles))
	}
	return res.OutputFiles[0].Contents, nil
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
