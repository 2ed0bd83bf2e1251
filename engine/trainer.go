package engine

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
)

// Config fixes a network and how it trains: the same Config and the same
// sequence of commands give the same numbers, bit for bit.
type Config struct {
	Spec  string // network spec (see ParseSpec); "" means DefaultSpec
	Seed  int64  // fixes the initial weights and the data order
	Hyper Hyper
}

// DefaultConfig is the default network with DefaultHyper and seed 1.
func DefaultConfig() Config {
	return Config{Spec: DefaultSpec, Seed: 1, Hyper: DefaultHyper()}
}

// LayerInfo describes one layer of a trainer's network.
type LayerInfo struct {
	Index       int
	Kind        string // "conv", "relu", ...
	Spec        string // spec token, e.g. "conv(8,5,s1,p2)"
	Name        string // kind and 1-based ordinal among layers of that kind: "conv 2"
	InShape     Shape
	OutShape    Shape
	ParamShapes [][]int // shapes of Params(), weights first; nil for none
}

// TraceOptions chooses the visualized sample.
type TraceOptions struct {
	// Sample is the index within the current batch (clamped to the batch).
	Sample int
	// Probe traces the fixed probe image (the first test image) through its
	// own forward and backward pass at the current weights instead. It is
	// not part of any update.
	Probe bool
	// Shares adds the sample's share of each parameter gradient to the
	// trace (LayerTrace.SampleGradWeights, SampleGradBias): it costs a
	// pass over the layers' weights, so only who draws them asks.
	Shares bool
	// Skip leaves parts out of every layer's trace (their fields stay nil),
	// so that a trace costs only what its reader draws: 0 gives them all.
	// TraceGradInput also spares the first layer's dL/dX, which training
	// does not compute and the trace otherwise does.
	Skip TraceParts
	// Borrow makes the trace's tensors views of the trainer's own buffers
	// instead of copies: the trace then costs almost nothing, but it is
	// valid only until the trainer is next called (a step, a phase, a
	// command, another Borrow trace) and must not be handed to another
	// goroutine. For a reader that is done with it at once, such as the
	// server encoding a frame.
	Borrow bool
	// Preview, before the first phase of a step has run (no batch drawn
	// yet), traces the probe image's forward pass and loss at the current
	// weights instead of leaving the maps nil (Trace.Probe is then true;
	// gradients stay nil): what a page shows when it opens.
	Preview bool
}

// TraceParts is a set of a LayerTrace's parts (TraceOptions.Skip).
type TraceParts uint16

const (
	TraceMaps        TraceParts = 1 << iota // Input, Output, Switches (and Trace.Input)
	TraceGradOutput                         // GradOutput
	TraceGradInput                          // GradInput
	TraceWeights                            // Weights, Bias
	TraceGradWeights                        // GradWeights, GradBias
	TraceDeltas                             // DeltaWeights, DeltaBias
	TraceOptState                           // OptState
)

// Trainer trains a network one phase at a time:
//
//	Forward(0) … Forward(L−1) → Loss → Backward(L−1) … Backward(0) → Update
//
// A Trainer is not safe for concurrent use: one goroutine owns it, and hands
// out Traces, which are immutable.
type Trainer struct {
	cfg     Config // cfg.Hyper is the hyperparameters of the current step
	pending *Hyper // set by SetHyper mid-step, applied when the next step starts
	data    Data
	specs   []LayerSpec
	layers  []Layer
	infos   []LayerInfo // the layers described (Layers), shared, never changed
	params  [][]*Param  // per layer
	pcopy   *paramCopy  // CopyParams's reused state (param_copy.go), made at its first call
	loss    SoftmaxCrossEntropy
	in      Shape // (C, H, W)
	cost    Cost  // per image
	classes int

	// The current step. progress counts the phases done in it (0: none).
	progress   int
	step       int // optimizer steps done since reset
	epoch      int
	cursor     int     // position in the epoch's permutation
	perm       []int32 // sample order of the epoch
	samples    int     // samples seen since reset
	lastHyper  Hyper   // the hyperparameters of the last Update
	lastRate   float64 // the learning rate of the last Update (Hyper.Rate)
	diverged   error
	given      *givenBatch // the batch SetBatch gave for the next step
	batchGiven bool        // the current step's batch came from SetBatch

	batchIdx  []int     // (N) training-set indices of the batch (−1 for a batch SetBatch gave)
	labels    []int     // (N)
	x         *Tensor   // (N, C, H, W) the batch
	xShape    []int     // x's shape, kept to avoid an allocation per step
	outs      []*Tensor // per layer: Y of the last Forward (owned by the layer)
	gradOuts  []*Tensor // per layer: dL/dY handed to Backward
	gradIns   []*Tensor // per layer: dL/dX returned by Backward (nil for a first conv layer: see Conv2D.SkipInputGrad)
	batchLoss float64

	// The optimizer and the last update.
	opt     optRun
	old     [][][]float64 // per layer and parameter: the values before the last Update (ckpt[k].weights)
	updated bool          // the last completed phase was an Update of this step
	// The states before the last two updates; ckpt[sound] is the start of
	// the last step whose loss was sound, where SetHyper goes back to after
	// a divergence (sound is −1 when there is none). See diverge.go.
	ckpt  [2]checkpoint
	sound int

	metrics runningMetrics

	// The probe and evaluation networks: own layers, weights copied in.
	probe        *Trainer
	probeVersion int       // weightsVersion the probe pass was run at
	probeInput   []float64 // (C, H, W) the probe image SetProbe gave; nil: the data set's (probe_input.go)
	probeLabel   int       // its label
	weightsVer   int
	eval         []Layer

	traceDeltas [][][]float64 // per layer and parameter: ΔW of a Borrow trace
}

// NewTrainer builds the network of cfg for data (whose training and test
// sets must share one image shape) and initialises it from cfg.Seed. Errors
// say what is wrong with the spec, the hyperparameters or the data.
func NewTrainer(cfg Config, data Data) (*Trainer, error) {
	if cfg.Spec == "" {
		cfg.Spec = DefaultSpec
	}
	if err := cfg.Hyper.Validate(); err != nil {
		return nil, err
	}
	if data.Train == nil || data.Train.Len() == 0 {
		return nil, fmt.Errorf("dataset %q has no training samples", data.Name)
	}
	in := Shape(slices.Clone(data.Train.Shape()))
	if data.Test != nil && !slices.Equal(data.Test.Shape(), in) {
		return nil, fmt.Errorf("dataset %q: test images %v differ from training images %v", data.Name, Shape(data.Test.Shape()), in)
	}
	specs, err := ParseSpec(cfg.Spec)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, data: data, specs: specs, in: in, classes: data.Train.NumClasses()}
	layers, err := BuildLayers(specs, in, t.classes, nil)
	if err != nil {
		return nil, err
	}
	t.cost = CostOf(layers)
	if err := t.checkBatch(cfg.Hyper.BatchSize); err != nil {
		return nil, err
	}
	t.Reset()
	return t, nil
}

// Reset rebuilds the network from the seed: step 0, the same initial weights
// bit for bit, fresh optimizer state, the first epoch's data order.
// Hyperparameters set with SetHyper are kept.
func (t *Trainer) Reset() {
	if t.pending != nil {
		t.cfg.Hyper = *t.pending
		t.pending = nil
	}
	rng := rand.New(rand.NewSource(t.cfg.Seed))
	layers, err := BuildLayers(t.specs, t.in, t.classes, rng)
	if err != nil {
		panic("engine: Trainer.Reset: " + err.Error()) // validated in NewTrainer/SetSpec
	}
	t.setLayers(layers)
	// Training needs no dL/d(input image); the trace computes the visualized
	// sample's on demand (see Trace).
	if c, ok := layers[0].(*Conv2D); ok {
		c.SkipInputGrad = true
	}
	t.progress, t.step, t.epoch, t.cursor, t.samples = 0, 0, 0, 0, 0
	t.perm = t.epochPerm(0, t.perm)
	t.diverged = nil
	t.given, t.batchGiven = nil, false
	t.batchLoss = math.NaN()
	t.metrics.reset()
	t.resetOptimizer()
	t.updated = false
	t.weightsVer++
	t.probe, t.eval = nil, nil
}

// setLayers makes layers the network and sizes the per-layer slices.
func (t *Trainer) setLayers(layers []Layer) {
	t.layers = layers
	t.params = make([][]*Param, len(layers))
	for i, l := range layers {
		t.params[i] = l.Params()
	}
	t.outs = make([]*Tensor, len(layers))
	t.gradOuts = make([]*Tensor, len(layers))
	t.gradIns = make([]*Tensor, len(layers))
	t.infos = layerInfos(layers, t.params)
}

// ResetSeed sets the seed and resets.
func (t *Trainer) ResetSeed(seed int64) {
	t.cfg.Seed = seed
	t.Reset()
}

func (t *Trainer) paramSlices() [][][]float64 {
	s := make([][][]float64, len(t.params))
	for i, ps := range t.params {
		for _, p := range ps {
			s[i] = append(s[i], make([]float64, len(p.Value.Data)))
		}
	}
	return s
}

// SetHyper changes the hyperparameters. Mid-step they take effect when the
// next step starts; between steps at once. Changing the optimizer starts it
// with fresh state (as constructing a new torch optimizer does). After a
// divergence, SetHyper abandons the diverged step (the weights were not
// updated) so training can go on with the next batch; unless the batch's
// data was at fault or the step's own loss was sound, it first goes back
// to the weights and optimizer state of the last step whose loss was sound
// (DivergedError.BackTo, see diverge.go), since those of the steps in
// between carry the blow-up. An invalid h changes nothing.
func (t *Trainer) SetHyper(h Hyper) error {
	if err := h.Validate(); err != nil {
		return err
	}
	if err := t.checkBatch(h.BatchSize); err != nil {
		return err
	}
	if t.diverged != nil {
		t.goBack()
		t.abandonStep()
	}
	if t.progress > 0 && !t.updated {
		t.pending = &h
		return nil
	}
	t.pending = nil
	t.cfg.Hyper = h
	return nil
}

// checkBatch refuses a batch size whose step would cost too much (see
// Cost.checkBatch).
func (t *Trainer) checkBatch(n int) error { return t.cost.checkBatch(n) }

// checkBatch refuses a batch size whose step would cost more than
// MaxStepMACs multiply-adds or hold more than 16M activations.
func (c Cost) checkBatch(n int) error {
	if w := n * c.MACs; w > MaxStepMACs {
		return fmt.Errorf("batch size %d × %d multiply-adds per image is %d, at most %d: lower the batch size or use a smaller network", n, c.MACs, w, MaxStepMACs)
	}
	if a := n * c.Activations; a > 16<<20 {
		return fmt.Errorf("batch size %d × %d activations per image is %d, at most %d: lower the batch size or use a smaller network", n, c.Activations, a, 16<<20)
	}
	return nil
}

// SetSpec rebuilds the network from spec and resets. An invalid spec returns
// an error naming the layer and changes nothing.
func (t *Trainer) SetSpec(spec string) error {
	specs, err := ParseSpec(spec)
	if err != nil {
		return err
	}
	layers, err := BuildLayers(specs, t.in, t.classes, nil)
	if err != nil {
		return err
	}
	old := t.cost
	t.cost = CostOf(layers)
	if err := t.checkBatch(t.Config().Hyper.BatchSize); err != nil {
		t.cost = old
		return err
	}
	t.cfg.Spec, t.specs = spec, specs
	t.Reset()
	return nil
}

// SetData switches to another dataset and resets. The spec must fit the new
// image shape and number of classes; otherwise nothing changes.
func (t *Trainer) SetData(d Data) error {
	cfg := t.cfg
	if t.pending != nil {
		cfg.Hyper = *t.pending
	}
	nt, err := NewTrainer(cfg, d)
	if err != nil {
		return err
	}
	*t = *nt
	return nil
}

// Config returns the configuration: spec, seed and the hyperparameters that
// the next step will use.
func (t *Trainer) Config() Config {
	c := t.cfg
	if t.pending != nil {
		c.Hyper = *t.pending
	}
	return c
}

// Data returns the dataset the trainer reads.
func (t *Trainer) Data() Data { return t.data }

// InputShape is the per-sample input shape (C, H, W).
func (t *Trainer) InputShape() Shape { return slices.Clone(t.in) }

// Step is the number of optimizer steps since reset.
func (t *Trainer) Step() int { return t.step }

// Rate returns the learning rate the next Update uses: Hyper.LearningRate
// after the schedule (Hyper.Rate of the samples seen since reset).
func (t *Trainer) Rate() float64 {
	return t.cfg.Hyper.Rate(t.samples, t.data.Train.Len())
}

// Epoch is the number of completed epochs.
func (t *Trainer) Epoch() int { return t.epoch }

// EpochProgress is the part of the current epoch's training samples that
// completed steps have used, 0 ≤ p < 1.
func (t *Trainer) EpochProgress() float64 {
	n := len(t.perm)
	if n == 0 {
		return 0
	}
	return float64(t.cursor) / float64(n)
}

// StepsLeftInEpoch is how many more steps end the current epoch at the
// batch size the next step will use (the last of them may take fewer
// samples): the epoch counter changes after the step numbered
// Step() + StepsLeftInEpoch(). A batch given by SetBatch is not counted.
func (t *Trainer) StepsLeftInEpoch() int {
	b := t.cfg.Hyper.BatchSize
	if t.pending != nil {
		b = t.pending.BatchSize
	}
	left := len(t.perm) - t.cursor
	if b < 1 || left <= 0 {
		return 0
	}
	return (left + b - 1) / b
}

// Diverged returns the *DivergedError that stopped training, or nil.
func (t *Trainer) Diverged() error { return t.diverged }

// Layers describes the network's layers: a copy the caller may keep.
func (t *Trainer) Layers() []LayerInfo {
	infos := slices.Clone(t.infos)
	for i := range infos {
		in := &infos[i]
		in.InShape, in.OutShape = slices.Clone(in.InShape), slices.Clone(in.OutShape)
		in.ParamShapes = slices.Clone(in.ParamShapes)
		for j := range in.ParamShapes {
			in.ParamShapes[j] = slices.Clone(in.ParamShapes[j])
		}
	}
	return infos
}

// layerInfos describes layers with their parameters: made once for a
// network (setLayers), shared by every trace and label, never changed.
func layerInfos(layers []Layer, params [][]*Param) []LayerInfo {
	infos := make([]LayerInfo, len(layers))
	counts := map[string]int{}
	for i, l := range layers {
		counts[l.Kind()]++
		info := LayerInfo{Index: i, Kind: l.Kind(), Spec: l.String(), Name: fmt.Sprintf("%s %d", l.Kind(), counts[l.Kind()]),
			InShape: slices.Clone(l.InShape()), OutShape: slices.Clone(l.OutShape())}
		for _, p := range params[i] {
			info.ParamShapes = append(info.ParamShapes, slices.Clone(p.Value.Shape))
		}
		infos[i] = info
	}
	return infos
}
