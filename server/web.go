package server

import "github.com/go-chi/chi/v5"

// mountWeb registers the pages and static files of package web.
func mountWeb(r chi.Router, cfg Config) {
	_ = cfg // HOOK: web.Mount(r, web.Config{DevStatic: cfg.DevStatic}) once package web exists.
}
