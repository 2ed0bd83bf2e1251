// Package lesson reads lessons: small JSON files that set up a classroom
// room — the network, the data, the seed, the optimizer and its
// hyperparameters, the speed, what students may do in their forks, an
// optional starting model and the questions the teacher will ask
// (docs/lessons.md). Parse checks everything that needs no data set; the
// server checks the rest (the spec against the data's images, the prompts
// against the built network: CheckPrompts) before the room exists, so a
// lesson never starts half-configured.
package lesson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Limits of a lesson's texts and lists.
const (
	MaxTitleRunes       = 80
	MaxDescriptionRunes = 2000
	MaxPrompts          = 50
	maxSpecBytes        = 1000
	maxRate             = 1000 // the server's own bound applies too
)

// Fork controls: what a student may do in a fork of a lesson's room.
const (
	ControlPlay      = "play"      // play (and choose the speed)
	ControlStep      = "step"      // step a phase, a batch (an epoch where the server allows it)
	ControlLR        = "lr"        // the learning rate and its schedule (decay)
	ControlOptimizer = "optimizer" // the optimizer and its other hyperparameters, the batch size
	ControlReset     = "reset"     // reset the network, from any seed
	ControlSpec      = "spec"      // apply another network spec, load a saved model
	ControlData      = "data"      // choose another data set
)

// Controls lists the fork controls in the order the docs give them.
var Controls = []string{ControlPlay, ControlStep, ControlLR, ControlOptimizer, ControlReset, ControlSpec, ControlData}

// Lesson is a parsed, checked lesson.
type Lesson struct {
	Name        string // the embedded lesson's name, or the file's name ("" for an upload)
	Path        string // the lesson file as -lesson named it ("" for an embedded lesson or an upload)
	Title       string
	Description string
	Spec        string // "" with a model: the model's
	Data        string // "" with a model: the model's
	Seed        *int64 // nil: 1, or the model's
	Hyper       Hyper  // over the defaults, or over the model's
	Speed       *protocol.Speed
	Fork        Fork
	Model       []byte // the saved model to start from (docs/model-format.md); nil: new weights
	Prompts     []protocol.PromptSpec
}

// Hyper is the lesson's optimizer and hyperparameters, each optional: the
// keys of protocol.Hyper (and of the "set" command).
type Hyper struct {
	Opt      *string  `json:"opt,omitempty"`
	LR       *float64 `json:"lr,omitempty"`
	Momentum *float64 `json:"momentum,omitempty"`
	Nesterov *bool    `json:"nesterov,omitempty"`
	WD       *float64 `json:"wd,omitempty"`
	Beta1    *float64 `json:"beta1,omitempty"`
	Beta2    *float64 `json:"beta2,omitempty"`
	Eps      *float64 `json:"eps,omitempty"`
	Alpha    *float64 `json:"alpha,omitempty"`
	Centered *bool    `json:"centered,omitempty"`
	Decay    *float64 `json:"decay,omitempty"`
	Batch    *int     `json:"batch,omitempty"`
}

// Args are the hyperparameters as the arguments of a "set" command.
func (h Hyper) Args() protocol.CmdArgs {
	return protocol.CmdArgs{Opt: h.Opt, LR: h.LR, Momentum: h.Momentum, Nesterov: h.Nesterov, WD: h.WD,
		Beta1: h.Beta1, Beta2: h.Beta2, Eps: h.Eps, Alpha: h.Alpha, Centered: h.Centered, Decay: h.Decay, Batch: h.Batch}
}

// Over returns base with the lesson's hyperparameters applied.
func (h Hyper) Over(base engine.Hyper) engine.Hyper {
	setF := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	if h.Opt != nil {
		base.Optimizer = strings.ToLower(*h.Opt)
	}
	setF(&base.LearningRate, h.LR)
	setF(&base.Momentum, h.Momentum)
	setF(&base.WeightDecay, h.WD)
	setF(&base.Beta1, h.Beta1)
	setF(&base.Beta2, h.Beta2)
	setF(&base.Epsilon, h.Eps)
	setF(&base.Alpha, h.Alpha)
	setF(&base.DecayEpochs, h.Decay)
	if h.Nesterov != nil {
		base.Nesterov = *h.Nesterov
	}
	if h.Centered != nil {
		base.Centered = *h.Centered
	}
	if h.Batch != nil {
		base.BatchSize = *h.Batch
	}
	return base
}

// Fork is what students may do with the room: fork it or not, and in a
// fork use which controls.
type Fork struct {
	Allowed  bool
	Controls []string // of Controls; nil: all of them
}

// Allows reports whether a fork offers control c (one of Controls).
func (f Fork) Allows(c string) bool { return f.Controls == nil || slices.Contains(f.Controls, c) }

// file is a lesson as written (docs/lessons.md).
type file struct {
	Title       string                `json:"title"`
	Description string                `json:"description"`
	Spec        string                `json:"spec"`
	Data        string                `json:"data"`
	Seed        *int64                `json:"seed"`
	Hyper       *Hyper                `json:"hyper"`
	Speed       *protocol.Speed       `json:"speed"`
	Fork        *forkFile             `json:"fork"`
	Model       string                `json:"model"`
	ModelBase64 string                `json:"model_base64"`
	Prompts     []protocol.PromptSpec `json:"prompts"`
}

type forkFile struct {
	Allowed  *bool     `json:"allowed"`
	Controls *[]string `json:"controls"`
}

// dataNameRE is what a data set's name looks like (the server's menu
// says which exist).
var dataNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Error is a lesson's refusal: the field and what is wrong with it.
type Error struct {
	Field string // e.g. "hyper.lr", "prompts[2].layer"; "" for the file as a whole
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "lesson: " + e.Msg
	}
	return "lesson: " + e.Field + ": " + e.Msg
}

func fieldErr(field, format string, a ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// ReadFile reads a model file a lesson names by its path relative to the
// lesson file; nil: the lesson may not name files (an upload).
type ReadFile func(path string) ([]byte, error)

// Parse reads and checks a lesson. readFile reads the model file it names
// (nil: a lesson that names one is refused). maxModel bounds the model's
// bytes. The error is an *Error naming the field.
func Parse(b []byte, readFile ReadFile, maxModel int64) (*Lesson, error) {
	if !utf8.Valid(b) {
		return nil, fieldErr("", "the file is not UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fieldErr("", "text after the lesson's closing brace")
	}
	l := &Lesson{Title: strings.TrimSpace(f.Title), Description: strings.TrimSpace(f.Description),
		Spec: strings.TrimSpace(f.Spec), Data: strings.ToLower(strings.TrimSpace(f.Data)), Seed: f.Seed,
		Speed: f.Speed, Prompts: f.Prompts, Fork: Fork{Allowed: true}}
	if f.Hyper != nil {
		l.Hyper = *f.Hyper
	}
	for _, check := range []func(*Lesson, *file) error{checkTexts, checkNetwork, checkHyper, checkSpeed, checkFork} {
		if err := check(l, &f); err != nil {
			return nil, err
		}
	}
	if err := l.readModel(&f, readFile, maxModel); err != nil {
		return nil, err
	}
	if err := checkPromptsSpec(l); err != nil {
		return nil, err
	}
	return l, nil
}

// decodeError names the field of a JSON decoding error.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fieldErr(te.Field, "%s where the lesson wants %s", te.Value, te.Type)
	case errors.As(err, &se):
		return fieldErr("", "not valid JSON at byte %d: %v", se.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fieldErr(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "no such field (docs/lessons.md lists them)")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr("", "the file is empty or cut short")
	}
	return fieldErr("", "%v", err)
}

func checkTexts(l *Lesson, _ *file) error {
	switch n := utf8.RuneCountInString(l.Title); {
	case n == 0:
		return fieldErr("title", "missing: give the lesson a title")
	case n > MaxTitleRunes:
		return fieldErr("title", "%d characters, at most %d", n, MaxTitleRunes)
	}
	if n := utf8.RuneCountInString(l.Description); n > MaxDescriptionRunes {
		return fieldErr("description", "%d characters, at most %d", n, MaxDescriptionRunes)
	}
	return nil
}

func checkNetwork(l *Lesson, f *file) error {
	hasModel := f.Model != "" || f.ModelBase64 != ""
	if l.Spec == "" && !hasModel {
		return fieldErr("spec", "missing: give the network, e.g. %q (or a starting model)", engine.DefaultSpec)
	}
	if len(l.Spec) > maxSpecBytes {
		return fieldErr("spec", "%d bytes, at most %d", len(l.Spec), maxSpecBytes)
	}
	if l.Spec != "" {
		if _, err := engine.ParseSpec(l.Spec); err != nil {
			return fieldErr("spec", "%v", err)
		}
	}
	if l.Data == "" && !hasModel {
		l.Data = protocol.DataMNIST
	}
	if l.Data != "" && !dataNameRE.MatchString(l.Data) {
		return fieldErr("data", "%.40q is not a data set's name (%s, … as the server's data menu lists)", f.Data, strings.Join(protocol.DataSets, ", "))
	}
	return nil
}

func checkHyper(l *Lesson, _ *file) error {
	h := l.Hyper.Over(engine.DefaultHyper())
	if l.Hyper.Nesterov != nil && *l.Hyper.Nesterov && l.Hyper.Momentum == nil {
		return fieldErr("hyper.nesterov", "needs a momentum (hyper.momentum > 0)")
	}
	if err := h.Validate(); err != nil {
		return fieldErr("hyper", "%v", err)
	}
	return nil
}

func checkSpeed(l *Lesson, _ *file) error {
	sp := l.Speed
	if sp == nil {
		return nil
	}
	if sp.Unit != protocol.UnitPhase && sp.Unit != protocol.UnitStep {
		return fieldErr("speed.unit", "%.40q: want %q or %q", sp.Unit, protocol.UnitPhase, protocol.UnitStep)
	}
	if math.IsNaN(sp.Rate) || sp.Rate < 0 || sp.Rate > maxRate {
		return fieldErr("speed.rate", "%v: want 0 (as fast as possible) … %d per second", sp.Rate, maxRate)
	}
	return nil
}

func checkFork(l *Lesson, f *file) error {
	if f.Fork == nil {
		return nil
	}
	if f.Fork.Allowed != nil {
		l.Fork.Allowed = *f.Fork.Allowed
	}
	if f.Fork.Controls == nil {
		return nil
	}
	cs := []string{} // given, even empty: only these
	for i, c := range *f.Fork.Controls {
		if !slices.Contains(Controls, c) {
			return fieldErr(fmt.Sprintf("fork.controls[%d]", i), "%.40q: want one of %s", c, strings.Join(Controls, ", "))
		}
		if !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	l.Fork.Controls = cs
	return nil
}

// readModel reads the starting model: a file named relative to the lesson,
// or base64 in the lesson itself.
func (l *Lesson) readModel(f *file, readFile ReadFile, maxModel int64) error {
	var field string
	switch {
	case f.Model != "" && f.ModelBase64 != "":
		return fieldErr("model", "give either model (a file) or model_base64, not both")
	case f.Model != "":
		field = "model"
		if readFile == nil {
			return fieldErr(field, "an uploaded lesson cannot name a file (%.60q): put the model in model_base64", f.Model)
		}
		if strings.Contains(f.Model, "\\") || strings.HasPrefix(f.Model, "/") || slices.Contains(strings.Split(f.Model, "/"), "..") {
			return fieldErr(field, "%.60q: a path relative to the lesson's directory, inside it (no /, \\ or ..)", f.Model)
		}
		b, err := readFile(f.Model)
		if err != nil {
			return fieldErr(field, "%.60q cannot be read: %v", f.Model, err)
		}
		l.Model = b
	case f.ModelBase64 != "":
		field = "model_base64"
		b, err := base64.StdEncoding.DecodeString(f.ModelBase64)
		if err != nil {
			return fieldErr(field, "not standard base64: %v", err)
		}
		l.Model = b
	default:
		return nil
	}
	if int64(len(l.Model)) > maxModel {
		return fieldErr(field, "the model is %d bytes, this server accepts at most %d", len(l.Model), maxModel)
	}
	return nil
}
