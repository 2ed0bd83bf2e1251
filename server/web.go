package server

import (
	"log/slog"

	"github.com/backpropviz/backpropviz/web"
	"github.com/go-chi/chi/v5"
)

// mountWeb registers the pages and static files of package web.
func mountWeb(r chi.Router, cfg Config, log *slog.Logger) {
	web.Mount(r, web.Config{Version: cfg.Version, DevStatic: cfg.DevStatic, WSPath: "/ws", Logger: log})
}
