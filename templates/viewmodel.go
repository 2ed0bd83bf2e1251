package templates

import "strings"

// Option is one choice of a <select>.
type Option struct {
	Value    string
	Label    string
	Disabled bool // shown, not chosen (a data set that is not installed)
}

// Lab is the view model of the lab page: the controls' initial values, taken
// from the page URL over the defaults, and the choices they offer. The page's
// script replaces them with the values the server reports once connected.
type Lab struct {
	Version string // build version shown in the footer

	Spec  string // network spec, e.g. "conv(8,5,s1,p2) relu maxpool(2) dense(10)"
	Seed  string // integer seed of the initial weights and data order
	Data  string // data set: "mnist", "shapes", "fashion" or one of the server's -dataset
	Opt   string // optimizer choice: "sgd", "momentum" or "adam"
	LR    string // learning rate
	Decay string // epochs of the learning-rate schedule (0: constant)
	Batch string // batch size (samples per optimizer step)
	Speed string // speed choice "unit:rate", e.g. "step:10"

	// Viewer: the page watches a session it may not drive (a student in a
	// room): no control that would change training is shown, only what a
	// viewer can use (the sample shown, the colours, inspecting maps).
	Viewer bool
	// FoldOptimizer: the optimizer's group starts folded (a room's owner
	// page, whose room bar already takes part of a projector's screen).
	FoldOptimizer bool
	// NoEpoch: the session refuses "Step epoch" (a student's fork), so
	// the page does not offer it.
	NoEpoch bool
	// Only, if not nil, lists the only controls the page offers: a fork of
	// a lesson's room (see Offers).
	Only []string

	Datasets   []Option
	Optimizers []Option
	Speeds     []Option
	Ranges     []Option // colour range: per layer or per map
	Outliers   []Option // outlier handling of the colour scales
	Diverging  []Option // diverging palettes
	Sequential []Option // sequential palettes

	Config LabConfig // handed to the script as JSON
}

// LabConfig is the part of the view model the page's script reads (from a
// <script type="application/json" id="lab-config"> element).
type LabConfig struct {
	WS      string `json:"ws"`      // websocket path, "/ws"
	Version string `json:"version"` // build version
}

// optHas reports whether a field for the optimizers opts ("all" or names
// separated by spaces) belongs to optimizer opt.
func optHas(opts, opt string) bool {
	for _, o := range strings.Fields(opts) {
		if o == "all" || o == opt {
			return true
		}
	}
	return false
}
