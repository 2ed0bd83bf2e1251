// Package web serves the pages of backpropviz: it builds view models from
// the request and the engine's defaults, renders the templ components of
// package templates, and serves the static front end (embedded, or from disk
// in development).
package web

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/static"
	"github.com/backpropviz/backpropviz/templates"
)

// Config configures the pages.
type Config struct {
	// Version is shown in the footer and appended to asset URLs.
	Version string
	// DevStatic, if set, serves /static/ from this directory on disk instead
	// of the embedded copy, so front-end edits show on reload.
	DevStatic string
	// WSPath is the websocket endpoint the page connects to; default "/ws".
	WSPath string
	// Logger receives render errors; default slog.Default().
	Logger *slog.Logger
}

// Mount registers the page routes on r:
//
//	GET /          the live lab (query: the lab's parameters, see docs/protocol.md)
//	GET /static/*  the front end: ES modules, CSS, vendored libraries
func Mount(r chi.Router, cfg Config) {
	if cfg.WSPath == "" {
		cfg.WSPath = "/ws"
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var files fs.FS = static.FS
	if cfg.DevStatic != "" {
		files = os.DirFS(cfg.DevStatic)
	}
	r.Get("/", labHandler(cfg))
	r.Handle("/static/*", http.StripPrefix("/static/", staticHandler(files)))
}

// staticHandler serves files with a no-cache policy: the browser revalidates,
// so a new version's ES modules (imported without a version in their URL)
// are never mixed with an old one's.
func staticHandler(files fs.FS) http.Handler {
	fsrv := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}

func labHandler(cfg Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		vm := LabModel(r.URL.Query(), cfg)
		// The Content-Security-Policy (default-src 'self', no inline script
		// or style) is set for every response by the server's middleware;
		// the page needs nothing beyond it.
		w.Header().Set("Cache-Control", "no-cache")
		templ.Handler(templates.LabPage(vm), templ.WithErrorHandler(func(r *http.Request, err error) http.Handler {
			cfg.Logger.Error("render lab page", "err", err)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
			})
		})).ServeHTTP(w, r)
	}
}

// LabModel builds the lab page's view model: the engine's defaults,
// overridden by the lab's URL parameters (spec, seed, data, opt, momentum,
// lr, batch, speed, rate). Values are shown as given; the server validates
// them when the page connects and the page then shows what is in effect.
func LabModel(q url.Values, cfg Config) templates.Lab {
	def := engine.DefaultConfig()
	get := func(key, fallback string) string {
		if v := strings.TrimSpace(q.Get(key)); v != "" {
			return v
		}
		return fallback
	}
	opt := get("opt", def.Hyper.Optimizer)
	momentum := get("momentum", strconv.FormatFloat(def.Hyper.Momentum, 'g', -1, 64))
	choice := "adam"
	if opt == engine.OptSGD {
		choice = "sgd"
		if m, err := strconv.ParseFloat(momentum, 64); err == nil && m > 0 {
			choice = "momentum"
		}
	}
	speed := get("speed", "step") + ":" + get("rate", "10")
	speeds := []templates.Option{
		{Value: "phase:1", Label: "1 phase / s"},
		{Value: "phase:3", Label: "3 phases / s"},
		{Value: "phase:10", Label: "10 phases / s"},
		{Value: "step:1", Label: "1 step / s"},
		{Value: "step:10", Label: "10 steps / s"},
		{Value: "step:50", Label: "50 steps / s"},
		{Value: "step:0", Label: "as fast as possible"},
	}
	if !hasOption(speeds, speed) {
		speeds = append(speeds, templates.Option{Value: speed, Label: strings.Replace(speed, ":", " ", 1) + " / s"})
	}
	return templates.Lab{
		Version: cfg.Version,
		Spec:    get("spec", def.Spec),
		Seed:    get("seed", strconv.FormatInt(def.Seed, 10)),
		Data:    get("data", "mnist"),
		Opt:     choice,
		LR:      get("lr", strconv.FormatFloat(def.Hyper.LearningRate, 'g', -1, 64)),
		Batch:   get("batch", strconv.Itoa(def.Hyper.BatchSize)),
		Speed:   speed,
		Datasets: []templates.Option{
			{Value: "mnist", Label: "MNIST digits"},
			{Value: "shapes", Label: "shapes"},
		},
		Optimizers: []templates.Option{
			{Value: "sgd", Label: "SGD"},
			{Value: "momentum", Label: "SGD + momentum"},
			{Value: "adam", Label: "Adam"},
		},
		Speeds: speeds,
		Ranges: []templates.Option{
			{Value: "layer", Label: "per layer"},
			{Value: "map", Label: "per map"},
		},
		Outliers: []templates.Option{
			{Value: "clamp", Label: "clamp 99th pct"},
			{Value: "full", Label: "full range"},
			{Value: "symlog", Label: "symmetric log"},
		},
		Diverging: []templates.Option{
			{Value: "blue-orange", Label: "blue–orange"},
			{Value: "puor", Label: "purple–orange"},
		},
		Sequential: []templates.Option{
			{Value: "viridis", Label: "viridis"},
			{Value: "magma", Label: "magma"},
			{Value: "gray", Label: "grey"},
		},
		Config: templates.LabConfig{WS: cfg.WSPath, Version: cfg.Version},
	}
}

func hasOption(opts []templates.Option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}
