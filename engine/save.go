package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// FileFormat and FileVersion identify a saved trainer (docs/model-format.md).
const (
	FileFormat  = "backpropviz-model"
	FileVersion = 1
)

// maxSaveBytes bounds what Load reads.
const maxSaveBytes = 256 << 20

// savedFile is the JSON layout of a saved trainer. Field names are the file
// format; see docs/model-format.md.
type savedFile struct {
	Format      string       `json:"format"`
	Version     int          `json:"version"`
	Spec        string       `json:"spec"`
	Data        string       `json:"data"`
	InputShape  []int        `json:"input_shape"`
	Classes     int          `json:"classes"`
	Seed        int64        `json:"seed"`
	Hyper       savedHyper   `json:"hyper"`
	Step        int          `json:"step"`
	Epoch       int          `json:"epoch"`
	Cursor      int          `json:"cursor"`
	SamplesSeen int          `json:"samples_seen"`
	Params      []savedParam `json:"params"`
	Optimizer   savedOpt     `json:"optimizer"`
}

type savedHyper struct {
	Optimizer    string  `json:"optimizer"`
	LearningRate float64 `json:"learning_rate"`
	Momentum     float64 `json:"momentum"`
	Nesterov     bool    `json:"nesterov"`
	WeightDecay  float64 `json:"weight_decay"`
	Beta1        float64 `json:"beta1"`
	Beta2        float64 `json:"beta2"`
	Alpha        float64 `json:"alpha"`
	Centered     bool    `json:"centered"`
	Epsilon      float64 `json:"epsilon"`
	BatchSize    int     `json:"batch_size"`
	DecayEpochs  float64 `json:"decay_epochs"`
}

// savedParam is one parameter in the file, with its optimizer state: each
// buffer of the optimizer's OptState is a field named by its
// StateBuffer.Name ("momentum", "adam_m", ...) after the value.
type savedParam struct {
	Layer int           `json:"layer"`
	Name  string        `json:"name"`
	Shape []int         `json:"shape"`
	Value []float64     `json:"value"`
	State []savedBuffer `json:"-"`
}

// savedBuffer is one buffer of a parameter's optimizer state.
type savedBuffer struct {
	Name string
	Data []float64
}

// MarshalJSON writes the fixed fields, then the state buffers in order.
func (p savedParam) MarshalJSON() ([]byte, error) {
	type fixed savedParam // without the methods
	b, err := json.Marshal(fixed(p))
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // reopen the object
	for _, s := range p.State {
		name, _ := json.Marshal(s.Name)
		data, err := json.Marshal(s.Data)
		if err != nil {
			return nil, err
		}
		b = append(append(append(append(b, ','), name...), ':'), data...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the fixed fields and every state buffer any
// optimizer has; another field is an error. A null buffer is absent.
func (p *savedParam) UnmarshalJSON(b []byte) error {
	type fixed savedParam // without the methods
	var f fixed
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	*p = savedParam(f)
	known := stateBufferNames()
	for _, key := range slices.Sorted(maps.Keys(fields)) {
		switch strings.ToLower(key) {
		case "layer", "name", "shape", "value":
			continue
		}
		k := slices.IndexFunc(known, func(n string) bool { return strings.EqualFold(n, key) })
		if k < 0 {
			return fmt.Errorf("json: unknown field %q", key)
		}
		var d []float64
		if err := json.Unmarshal(fields[key], &d); err != nil {
			return err
		}
		if d != nil {
			p.State = append(p.State, savedBuffer{Name: known[k], Data: d})
		}
	}
	return nil
}

// state returns the buffer called name, nil if the file has none.
func (p *savedParam) state(name string) []float64 {
	for _, s := range p.State {
		if s.Name == name {
			return s.Data
		}
	}
	return nil
}

type savedOpt struct {
	Kind string `json:"kind"` // the optimizer the state belongs to: a name of OptimizerNames
	T    int    `json:"t"`    // steps the state has taken (Adam's t; SGD: 0 means the momentum buffer is empty)
}

// Save writes the trainer's whole state as JSON (docs/model-format.md): spec,
// dataset name, seed, hyperparameters, step, epoch and data cursor, weights,
// and optimizer state. A step in progress is not saved: loading resumes at
// the start of the step. Floats round-trip exactly.
func (t *Trainer) Save(w io.Writer) error {
	h := t.Config().Hyper
	f := savedFile{
		Format: FileFormat, Version: FileVersion, Spec: t.cfg.Spec, Data: t.data.Name,
		InputShape: slices.Clone(t.in), Classes: t.classes, Seed: t.cfg.Seed,
		Hyper: savedHyper(h), Step: t.step, Epoch: t.epoch, Cursor: t.cursor, SamplesSeen: t.samples,
		Optimizer: savedOpt{Kind: t.opt.kind, T: t.opt.t},
	}
	// A changed optimizer starts with fresh state at the next step.
	fresh := h.Optimizer != t.opt.kind
	if fresh {
		f.Optimizer = savedOpt{Kind: h.Optimizer}
	}
	for i, ps := range t.params {
		for j, p := range ps {
			sp := savedParam{Layer: i, Name: p.Name, Shape: p.Value.Shape, Value: p.Value.Data}
			if !fresh {
				for _, b := range t.opt.state[i][j].Buffers(h) {
					sp.State = append(sp.State, savedBuffer{Name: b.Name, Data: b.Data})
				}
			}
			f.Params = append(f.Params, sp)
		}
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("save trainer: %w", err)
	}
	return nil
}

// Load reads a trainer saved by Save, for data (whose name, image shape and
// number of classes must match the file). A malformed, truncated or
// inconsistent file, a weight beyond float32's range (which the trainer
// could not update) or anything after the model's JSON object returns an
// error that says why, naming the tensor and index of a weight.
func Load(r io.Reader, data Data) (*Trainer, error) {
	// A hyperparameter the file leaves out (files from before RMSprop have
	// no alpha) keeps its default.
	// Files from before the learning-rate schedule train at a constant
	// rate: decay_epochs left out is 0.
	f := savedFile{Hyper: savedHyper(DefaultHyper())}
	f.Hyper.DecayEpochs = 0
	dec := json.NewDecoder(io.LimitReader(r, maxSaveBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("load model: file is truncated or empty: %w", err)
		}
		return nil, fmt.Errorf("load model: malformed JSON: %w", err)
	}
	// One model a file: only white space may follow it.
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("load model: more data after the model's JSON object, which ends at byte %d: a file holds one model", end)
	}
	if f.Format != FileFormat {
		return nil, fmt.Errorf("load model: format %q, want %q", f.Format, FileFormat)
	}
	if f.Version != FileVersion {
		return nil, fmt.Errorf("load model: version %d, this build reads version %d", f.Version, FileVersion)
	}
	if f.Data != data.Name {
		return nil, fmt.Errorf("load model: saved for dataset %q, not %q", f.Data, data.Name)
	}
	if data.Train != nil && !slices.Equal(f.InputShape, data.Train.Shape()) {
		return nil, fmt.Errorf("load model: input shape %v does not match dataset %q's %v", f.InputShape, data.Name, data.Train.Shape())
	}
	t, err := NewTrainer(Config{Spec: f.Spec, Seed: f.Seed, Hyper: Hyper(f.Hyper)}, data)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if f.Classes != t.classes {
		return nil, fmt.Errorf("load model: %d classes, dataset has %d", f.Classes, t.classes)
	}
	if f.Optimizer.Kind != t.opt.kind {
		return nil, fmt.Errorf("load model: optimizer state is for %q but hyper.optimizer is %q", f.Optimizer.Kind, t.cfg.Hyper.Optimizer)
	}
	if f.Step < 0 || f.Epoch < 0 || f.Cursor < 0 || f.Cursor >= data.Train.Len() || f.Optimizer.T < 0 || f.SamplesSeen < 0 {
		return nil, fmt.Errorf("load model: step %d, epoch %d, cursor %d or optimizer t %d out of range", f.Step, f.Epoch, f.Cursor, f.Optimizer.T)
	}
	want := 0
	for _, ps := range t.params {
		want += len(ps)
	}
	if len(f.Params) != want {
		return nil, fmt.Errorf("load model: %d parameter tensors, spec %q has %d", len(f.Params), f.Spec, want)
	}
	k := 0
	for i, ps := range t.params {
		for j, p := range ps {
			sp := f.Params[k]
			k++
			where := fmt.Sprintf("load model: params[%d] (layer %d %s)", k-1, i, p.Name)
			if sp.Layer != i || sp.Name != p.Name {
				return nil, fmt.Errorf("%s: file has layer %d %q", where, sp.Layer, sp.Name)
			}
			if !slices.Equal(sp.Shape, p.Value.Shape) {
				return nil, fmt.Errorf("%s: shape %v, spec wants %v", where, sp.Shape, p.Value.Shape)
			}
			n := len(p.Value.Data)
			check := func(name string, d []float64, need bool) error {
				if d == nil && !need {
					return nil
				}
				if len(d) != n {
					return fmt.Errorf("%s: %s has %d values, want %d", where, name, len(d), n)
				}
				if bad, v := firstNonFinite(d); bad {
					return fmt.Errorf("%s: %s holds %v", where, name, v)
				}
				return nil
			}
			if err := check("value", sp.Value, true); err != nil {
				return nil, err
			}
			// The trainer keeps every weight within float32's range (the
			// page shows float32) and refuses an update beyond it.
			for k, v := range sp.Value {
				if math.Abs(v) > math.MaxFloat32 {
					return nil, fmt.Errorf("%s: value[%d] is %v, beyond float32's range (±%v)", where, k, v, float32(math.MaxFloat32))
				}
			}
			copy(p.Value.Data, sp.Value)
			for _, b := range t.opt.state[i][j].Buffers(t.cfg.Hyper) {
				d := sp.state(b.Name)
				if err := check(b.Name, d, f.Optimizer.T > 0 && !b.Optional); err != nil {
					return nil, err
				}
				copy(b.Data, d)
			}
		}
	}
	t.step, t.epoch, t.cursor, t.samples, t.opt.t = f.Step, f.Epoch, f.Cursor, f.SamplesSeen, f.Optimizer.T
	t.perm = t.epochPerm(t.epoch, t.perm)
	t.weightsVer++
	return t, nil
}

// Clone returns an independent copy of the trainer at the start of its
// current step (a step in progress is not copied): the same weights,
// optimizer state, hyperparameters, step, seed and data cursor, so both go on
// identically. Metrics are copied too.
func (t *Trainer) Clone() *Trainer {
	c, err := NewTrainer(t.Config(), t.data)
	if err != nil {
		panic("engine: Trainer.Clone: " + err.Error())
	}
	c.resetOptimizer()
	for i, ps := range t.params {
		for j, p := range ps {
			copy(c.params[i][j].Value.Data, p.Value.Data)
		}
	}
	if c.opt.kind == t.opt.kind {
		c.opt.copyFrom(&t.opt)
		// and the sound state a divergence goes back to
		if t.sound >= 0 {
			c.ckpt[0].copyFrom(&t.ckpt[t.sound])
			c.sound = 0
		}
	}
	// A step in progress has not moved the cursor: the clone starts that batch anew.
	c.step, c.epoch, c.cursor, c.samples = t.step, t.epoch, t.cursor, t.samples
	c.lastHyper, c.lastRate = t.lastHyper, t.lastRate
	c.perm = slices.Clone(t.perm)
	c.metrics = t.metrics.clone()
	c.weightsVer++
	return c
}
