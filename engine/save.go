package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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
	Epsilon      float64 `json:"epsilon"`
	BatchSize    int     `json:"batch_size"`
}

type savedParam struct {
	Layer int       `json:"layer"`
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Value []float64 `json:"value"`
	// Optimizer state of this parameter: SGD's momentum buffer, or Adam's m and v.
	Momentum []float64 `json:"momentum,omitempty"`
	AdamM    []float64 `json:"adam_m,omitempty"`
	AdamV    []float64 `json:"adam_v,omitempty"`
}

type savedOpt struct {
	Kind string `json:"kind"` // "sgd" or "adam"
	T    int    `json:"t"`    // optimizer steps taken (Adam's t; SGD: 0 means the momentum buffer is empty)
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
		Optimizer: savedOpt{Kind: t.optKind, T: t.optT},
	}
	// A changed optimizer starts with fresh state at the next step.
	fresh := h.Optimizer != t.optKind
	if fresh {
		f.Optimizer = savedOpt{Kind: h.Optimizer}
	}
	for i, ps := range t.params {
		for j, p := range ps {
			sp := savedParam{Layer: i, Name: p.Name, Shape: p.Value.Shape, Value: p.Value.Data}
			switch {
			case fresh:
			case t.optKind == OptSGD:
				sp.Momentum = t.bufs[i][j]
			case t.optKind == OptAdam:
				sp.AdamM, sp.AdamV = t.adamM[i][j], t.adamV[i][j]
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
// inconsistent file returns an error that says why.
func Load(r io.Reader, data Data) (*Trainer, error) {
	var f savedFile
	dec := json.NewDecoder(io.LimitReader(r, maxSaveBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("load model: file is truncated or empty: %w", err)
		}
		return nil, fmt.Errorf("load model: malformed JSON: %w", err)
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
	if f.Optimizer.Kind != t.cfg.Hyper.Optimizer {
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
			copy(p.Value.Data, sp.Value)
			switch t.optKind {
			case OptSGD:
				if err := check("momentum", sp.Momentum, false); err != nil {
					return nil, err
				}
				copy(t.bufs[i][j], sp.Momentum)
			case OptAdam:
				if err := check("adam_m", sp.AdamM, f.Optimizer.T > 0); err != nil {
					return nil, err
				}
				if err := check("adam_v", sp.AdamV, f.Optimizer.T > 0); err != nil {
					return nil, err
				}
				copy(t.adamM[i][j], sp.AdamM)
				copy(t.adamV[i][j], sp.AdamV)
			}
		}
	}
	t.step, t.epoch, t.cursor, t.samples, t.optT = f.Step, f.Epoch, f.Cursor, f.SamplesSeen, f.Optimizer.T
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
			if t.optKind == OptSGD && c.optKind == OptSGD {
				copy(c.bufs[i][j], t.bufs[i][j])
			}
			if t.optKind == OptAdam && c.optKind == OptAdam {
				copy(c.adamM[i][j], t.adamM[i][j])
				copy(c.adamV[i][j], t.adamV[i][j])
			}
		}
	}
	if c.optKind == t.optKind {
		c.optT = t.optT
	}
	// A step in progress has not moved the cursor: the clone starts that batch anew.
	c.step, c.epoch, c.cursor, c.samples = t.step, t.epoch, t.cursor, t.samples
	c.perm = slices.Clone(t.perm)
	c.lastLoss, c.testAcc, c.testAccStep = t.lastLoss, t.testAcc, t.testAccStep
	c.correct, c.correctPos = slices.Clone(t.correct), t.correctPos
	c.weightsVer++
	return c
}
