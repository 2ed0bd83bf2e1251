package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/templates"
)

// labWS is the websocket of a lab page of its own (a private session).
const labWS = "/ws"

func (s *Site) serveLab(w http.ResponseWriter, r *http.Request) {
	vm := s.labModel(r.URL.Query(), labWS)
	// The Content-Security-Policy (default-src 'self', no inline script
	// or style) is set for every response by the server's middleware;
	// the page needs nothing beyond it.
	w.Header().Set("Cache-Control", "no-cache")
	templ.Handler(templates.LabPage(vm), templ.WithErrorHandler(func(r *http.Request, err error) http.Handler {
		s.cfg.Logger.Error("render lab page", "err", err)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		})
	})).ServeHTTP(w, s.withAssets(r))
}

// Labels of the lab page's choices, by the protocol's words.
var (
	dataLabels      = map[string]string{protocol.DataMNIST: "MNIST digits", protocol.DataShapes: "shapes"}
	optimizerLabels = map[string]string{"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}
	rangeLabels     = map[string]string{"layer": "per layer", "map": "per map"}
	outlierLabels   = map[string]string{"clamp": "clamp 99th pct", "full": "full range", "symlog": "symmetric log"}
	paletteLabels   = map[string]string{"blue-orange": "blue–orange", "puor": "purple–orange",
		"viridis": "viridis", "magma": "magma", "gray": "grey"}
)

// options are the choices of a menu: values in order, with their labels.
func options(values []string, labels map[string]string) []templates.Option {
	out := make([]templates.Option, len(values))
	for i, v := range values {
		out[i] = templates.Option{Value: v, Label: labels[v]}
	}
	return out
}

// labModel builds the lab page's view model for a page connected to the
// websocket ws: the engine's defaults, overridden by the lab's URL
// parameters (spec, seed, data, opt, lr, batch, speed, rate).
// Values are shown as given; the server validates them when the page
// connects and the page then shows what is in effect.
func (s *Site) labModel(q url.Values, ws string) templates.Lab {
	def := engine.DefaultConfig()
	get := func(key, fallback string) string {
		if v := strings.TrimSpace(q.Get(key)); v != "" {
			return v
		}
		return fallback
	}
	opt := get("opt", def.Hyper.Optimizer)
	choice := strings.ToLower(opt)
	if !slices.Contains(protocol.OptimizerChoices, choice) {
		choice = def.Hyper.Optimizer
	}
	speed := get("speed", protocol.UnitStep) + ":" + get("rate", "10")
	speeds := []templates.Option{
		{Value: "phase:1", Label: "1 phase/s"},
		{Value: "phase:3", Label: "3 phases/s"},
		{Value: "phase:10", Label: "10 phases/s"},
		{Value: "step:1", Label: "1 step/s"},
		{Value: "step:10", Label: "10 steps/s"},
		{Value: "step:50", Label: "50 steps/s"},
		{Value: "step:0", Label: "fastest"},
	}
	if !hasOption(speeds, speed) {
		unit, rate, _ := strings.Cut(speed, ":")
		if rate != "1" {
			unit += "s"
		}
		speeds = append(speeds, templates.Option{Value: speed, Label: rate + " " + unit + "/s"}) // 5 steps/s
	}
	return templates.Lab{
		Version:    s.cfg.Version,
		Spec:       get("spec", def.Spec),
		Seed:       get("seed", strconv.FormatInt(def.Seed, 10)),
		Data:       get("data", protocol.DataMNIST),
		Opt:        choice,
		LR:         get("lr", strconv.FormatFloat(def.Hyper.LearningRate, 'g', -1, 64)),
		Decay:      get("decay", strconv.FormatFloat(def.Hyper.DecayEpochs, 'g', -1, 64)),
		Batch:      get("batch", strconv.Itoa(def.Hyper.BatchSize)),
		Speed:      speed,
		Datasets:   s.datasets(),
		Optimizers: options(protocol.OptimizerChoices, optimizerLabels),
		Speeds:     speeds,
		Ranges:     options(protocol.ColourRanges, rangeLabels),
		Outliers:   options(protocol.Outliers, outlierLabels),
		Diverging:  options(protocol.DivergingPalettes, paletteLabels),
		Sequential: options(protocol.SequentialPalettes, paletteLabels),
		Config:     templates.LabConfig{WS: ws, Version: s.cfg.Version},
	}
}

// datasets is the data menu: the server's, or MNIST and shapes.
func (s *Site) datasets() []templates.Option {
	if s.cfg.Datasets != nil {
		return s.cfg.Datasets
	}
	return options([]string{protocol.DataMNIST, protocol.DataShapes}, dataLabels)
}

func hasOption(opts []templates.Option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}
