package web

import (
	"net/http"
	"net/url"

	"github.com/a-h/templ"

	"github.com/backpropviz/backpropviz/templates"
)

// The classroom pages. The server decides (rooms, codes, owner tokens,
// limits); these functions only render its view models.

// ServeJoin renders the join page with the given HTTP status.
func ServeJoin(w http.ResponseWriter, r *http.Request, status int, vm templates.Join, cfg Config) {
	vm.Version = version(cfg)
	render(w, r, status, templates.JoinPage(vm), cfg)
}

// ServeRoom renders the lab page of a room (or of a student's fork of one):
// the lab connected to the websocket at wsPath, under the room bar.
func ServeRoom(w http.ResponseWriter, r *http.Request, bar templates.RoomBar, wsPath string, cfg Config) {
	cfg.WSPath = wsPath
	vm := LabModel(url.Values{}, cfg)
	render(w, r, http.StatusOK, templates.RoomPage(vm, bar), cfg)
}

func version(cfg Config) string {
	if cfg.Version == "" {
		return "dev"
	}
	return cfg.Version
}

func render(w http.ResponseWriter, r *http.Request, status int, c templ.Component, cfg Config) {
	// The Content-Security-Policy and the other security headers are set
	// for every response by the server's middleware.
	h := w.Header()
	h.Set("Cache-Control", "no-store") // owner links and forks are per user
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil && cfg.Logger != nil {
		cfg.Logger.Error("render page", "path", r.URL.Path, "err", err)
	}
}
