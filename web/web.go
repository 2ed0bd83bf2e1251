// Package web serves the pages of backpropviz: it builds view models from
// the request, the engine's defaults and what the server decided (rooms,
// codes, refusals), renders the templ components of package templates, and
// serves the static front end (embedded, or from disk in development).
package web

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/backpropviz/backpropviz/static"
	"github.com/backpropviz/backpropviz/templates"
)

// Config configures the pages.
type Config struct {
	// Version is shown in the footer and appended to asset URLs; default
	// "dev".
	Version string
	// DevStatic, if set, serves /static/ from this directory on disk instead
	// of the embedded copy, so front-end edits show on reload.
	DevStatic string
	// RoomKeyRequired says that creating a room from the join page asks
	// for the operator's room key.
	RoomKeyRequired bool
	// Datasets is the lab's data menu; default MNIST and shapes.
	Datasets []Option
	// Lessons are the embedded lessons the create-room form offers.
	Lessons []Option
	// Logger receives render errors; default slog.Default().
	Logger *slog.Logger
}

// Option is one choice of a menu.
type Option = templates.Option

// Site is the pages of one server, built once from its Config.
type Site struct {
	cfg    Config
	files  fs.FS        // the front end
	assets *builtAssets // its bundled, minified form (nil with DevStatic)
}

// New returns the pages configured by cfg (zero fields take their
// defaults).
func New(cfg Config) *Site {
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var files fs.FS = static.FS
	s := &Site{cfg: cfg, files: files}
	if cfg.DevStatic != "" {
		// development: the pages load the sources, read from disk
		s.files = os.DirFS(cfg.DevStatic)
		return s
	}
	a, err := embeddedAssets()
	if err != nil {
		cfg.Logger.Error("front end: pages load the sources of what could not be built", "err", err)
	}
	s.assets = a
	return s
}

// withAssets gives the templates of r's page the URLs of the built front
// end (see templates.AssetURL).
func (s *Site) withAssets(r *http.Request) *http.Request {
	if s.assets == nil {
		return r
	}
	return r.WithContext(templates.WithAssets(r.Context(), s.assets.url))
}

// Mount registers the routes of the lab and the front end on r:
//
//	GET /          the live lab (query: the lab's parameters, see docs/protocol.md)
//	GET /static/*  the front end: ES modules, CSS, vendored libraries
//
// The classroom pages are rendered by the server's handlers, which decide
// what they show (see Join, Room, Fork).
func (s *Site) Mount(r chi.Router) {
	r.Get("/", s.serveLab)
	r.Handle("/static/*", http.StripPrefix("/static/", s.assets.handler(staticHandler(s.files, s.cfg.DevStatic == ""))))
}

// staticHandler serves files with a no-cache policy: the browser revalidates,
// so a new version's ES modules (imported without a version in their URL)
// are never mixed with an old one's. Each file has an ETag from the hash of
// its content, so a revalidation of an unchanged file is a 304 without a
// body. immutable says the files never change while the server runs (the
// embedded copy): their ETags are computed once.
func staticHandler(files fs.FS, immutable bool) http.Handler {
	fsrv := http.FileServerFS(files)
	var etags sync.Map // file name → ETag, when immutable
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		tag, ok := etags.Load(name)
		if !ok {
			if b, err := fs.ReadFile(files, name); err == nil {
				tag = contentETag(b)
				if immutable {
					etags.Store(name, tag)
				}
			}
		}
		if tag != nil {
			w.Header().Set("ETag", tag.(string))
		}
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}

// contentETag is the ETag of content b: weak, since the server may send
// the file compressed or not.
func contentETag(b []byte) string {
	sum := sha256.Sum256(b)
	return `W/"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}

// render writes a page of the classroom with the given HTTP status.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	// The Content-Security-Policy and the other security headers are set
	// for every response by the server's middleware.
	h := w.Header()
	h.Set("Cache-Control", "no-store") // owner links and forks are per user
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(s.withAssets(r).Context(), w); err != nil {
		s.cfg.Logger.Error("render page", "path", r.URL.Path, "err", err)
	}
}
