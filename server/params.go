package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Lab settings: the lab page's URL parameters and the "set" command share
// one parser and one validation.

// ShapesSpec is the default network for the 12×12 shapes set: small
// enough that its 3×3 filters visibly become edge detectors in seconds.
const ShapesSpec = "conv(4,3,s1,p1) relu maxpool(2,s2,p0) conv(8,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"

// DefaultSpecFor returns the default network spec for a data set name.
func DefaultSpecFor(data string) string {
	if data == protocol.DataShapes {
		return ShapesSpec
	}
	return engine.DefaultSpec
}

// maxSpecLen bounds a network spec typed by a user, in bytes.
const maxSpecLen = 1000

// LabParams are the settings of a lab session.
type LabParams struct {
	Config engine.Config // spec, seed, hyperparameters
	Data   string        // protocol.DataMNIST or protocol.DataShapes
	Sample int           // visualized sample index in the batch
	Probe  bool          // visualize the fixed probe image instead
	Speed  protocol.Speed
}

// DefaultLabParams is the default network on MNIST, sample 0, 10 steps per
// second.
func DefaultLabParams() LabParams {
	return LabParams{Config: engine.DefaultConfig(), Data: protocol.DataMNIST, Speed: protocol.Speed{Unit: protocol.UnitStep, Rate: 10}}
}

// ParseLabParams reads the lab's URL parameters (spec, seed, opt, lr,
// momentum, nesterov, wd, beta1, beta2, eps, alpha, centered, decay, batch, data, sample, speed,
// rate) over the defaults. Other parameters are ignored. An invalid
// parameter is left at its default and the others still apply: the result
// is always usable, and the error (if any) lists every parameter that was
// left out, each with what it accepts, separated by "; ". Parameters are
// taken in the order above; one that conflicts with those taken before it
// (nesterov=1 with momentum=0) is the one left out. The spec is checked
// against the data only when the trainer is built.
func ParseLabParams(q url.Values, lim protocol.Limits) (LabParams, error) {
	var taken []string
	var errs []string
	p := DefaultLabParams()
	for _, k := range protocol.LabKeys {
		if !q.Has(k) {
			continue
		}
		np, err := applyLabKeys(q, append(taken, k), lim)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		taken, p = append(taken, k), np
	}
	if len(errs) > 0 {
		return p, errors.New(strings.Join(errs, "; "))
	}
	return p, nil
}

// applyLabKeys applies the URL parameters keys of q over the defaults.
func applyLabKeys(q url.Values, keys []string, lim protocol.Limits) (LabParams, error) {
	var a protocol.CmdArgs
	for _, k := range keys {
		if err := parseLabParam(&a, k, q.Get(k)); err != nil {
			return LabParams{}, err
		}
	}
	p, ch, err := DefaultLabParams().apply(&a, lim)
	if ch.dataOnly {
		// A link naming only the data opens with the network made for it.
		p.Config.Spec = DefaultSpecFor(p.Data)
	}
	return p, err
}

func parseLabParam(a *protocol.CmdArgs, key, v string) error {
	num := func() (*float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: %q is not a number", key, v)
		}
		return &f, nil
	}
	var err error
	switch key {
	case "spec":
		a.Spec = &v
	case "opt":
		a.Opt = &v
	case "data":
		a.Data = &v
	case "seed":
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			return fmt.Errorf("seed: %q is not an integer", v)
		}
		a.Seed = &n
	case "batch":
		n, perr := strconv.Atoi(v)
		if perr != nil {
			return fmt.Errorf("batch: %q is not an integer", v)
		}
		a.Batch = &n
	case "nesterov", "centered":
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			return fmt.Errorf("%s: %q: want 0 or 1", key, v)
		}
		if key == "centered" {
			a.Centered = &b
		} else {
			a.Nesterov = &b
		}
	case "sample":
		a.Sample = json.RawMessage(strconv.Quote(v))
	case "speed":
		if a.Speed == nil {
			// A unit without a rate keeps the default rate.
			a.Speed = &protocol.Speed{Rate: DefaultLabParams().Speed.Rate}
		}
		a.Speed.Unit = v
	case "rate":
		f, nerr := num()
		if nerr != nil {
			return nerr
		}
		if a.Speed == nil {
			a.Speed = &protocol.Speed{}
		}
		a.Speed.Rate = *f
	case "lr":
		a.LR, err = num()
	case "decay":
		a.Decay, err = num()
	case "momentum":
		a.Momentum, err = num()
	case "wd":
		a.WD, err = num()
	case "beta1":
		a.Beta1, err = num()
	case "beta2":
		a.Beta2, err = num()
	case "eps":
		a.Eps, err = num()
	case "alpha":
		a.Alpha, err = num()
	}
	return err
}

// change says what an applied set of arguments needs.
type change struct {
	rebuild  bool // spec, seed or data given: build a new network
	dataOnly bool // another data set without a spec
	hyper    bool // hyperparameters given
	sample   bool // the visualized sample changed
	speed    bool
}

// apply returns p with the arguments of a applied, validated as a whole: on
// error nothing is applied. It does not check the spec against the data
// (that needs the trainer).
func (p LabParams) apply(a *protocol.CmdArgs, lim protocol.Limits) (LabParams, change, error) {
	var ch change
	h := &p.Config.Hyper
	if a.Opt != nil {
		h.Optimizer = strings.ToLower(*a.Opt)
	}
	setF := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
			ch.hyper = true
		}
	}
	setF(&h.LearningRate, a.LR)
	setF(&h.DecayEpochs, a.Decay)
	setF(&h.Momentum, a.Momentum)
	setF(&h.WeightDecay, a.WD)
	setF(&h.Beta1, a.Beta1)
	setF(&h.Beta2, a.Beta2)
	setF(&h.Epsilon, a.Eps)
	setF(&h.Alpha, a.Alpha)
	if a.Opt != nil || a.Nesterov != nil || a.Centered != nil || a.Batch != nil {
		ch.hyper = true
	}
	if a.Nesterov != nil {
		h.Nesterov = *a.Nesterov
	}
	if a.Centered != nil {
		h.Centered = *a.Centered
	}
	if a.Batch != nil {
		h.BatchSize = *a.Batch
	}
	if h.BatchSize < 1 || h.BatchSize > lim.MaxBatch {
		return p, ch, batchError(h.BatchSize, lim.MaxBatch)
	}
	if err := h.Validate(); err != nil {
		return p, ch, err
	}
	if a.Spec != nil {
		s := strings.TrimSpace(*a.Spec)
		if len(s) > maxSpecLen {
			return p, ch, fmt.Errorf("spec: %d bytes, at most %d", len(s), maxSpecLen)
		}
		if _, err := engine.ParseSpec(s); s != "" && err != nil {
			return p, ch, fmt.Errorf("spec: %w", err)
		}
		p.Config.Spec, ch.rebuild = s, true
	}
	if a.Seed != nil {
		p.Config.Seed, ch.rebuild = *a.Seed, true
	}
	if a.Data != nil {
		d := strings.ToLower(*a.Data)
		if !dataNameRE.MatchString(d) {
			return p, ch, fmt.Errorf("data %.40q: a data set's name (%s, … as the data menu lists)", *a.Data, strings.Join(protocol.DataSets, ", "))
		}
		// A new data set without a spec keeps the network if it fits (the
		// session checks; see session.set).
		ch.dataOnly = a.Spec == nil && d != p.Data
		p.Data, ch.rebuild = d, true
	}
	if len(a.Sample) > 0 {
		n, probe, err := protocol.ParseSample(a.Sample)
		if err != nil {
			return p, ch, err
		}
		p.Sample, p.Probe, ch.sample = n, probe, true
	}
	if a.Speed != nil {
		sp := *a.Speed
		if sp.Unit == "" {
			sp.Unit = p.Speed.Unit
		}
		if sp.Unit != protocol.UnitPhase && sp.Unit != protocol.UnitStep {
			return p, ch, fmt.Errorf("speed unit %.40q: want %q or %q", sp.Unit, protocol.UnitPhase, protocol.UnitStep)
		}
		if math.IsNaN(sp.Rate) || sp.Rate < 0 || sp.Rate > lim.MaxRate {
			return p, ch, fmt.Errorf("speed rate %v: want 0 (as fast as possible) … %v per second", sp.Rate, lim.MaxRate)
		}
		p.Speed, ch.speed = sp, true
	}
	return p, ch, nil
}

// batchError says which batch sizes this server accepts: 1 … max.
func batchError(n, max int) error {
	return fmt.Errorf("batch size %d: want 1 … %d (this server allows at most %d)", n, max, max)
}
