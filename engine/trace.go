package engine

import "fmt"

// PhaseKind is the kind of one phase of a training step.
type PhaseKind int

const (
	PhaseForward  PhaseKind = iota // forward pass of one layer
	PhaseLoss                      // softmax cross-entropy on the logits
	PhaseBackward                  // backward pass of one layer
	PhaseUpdate                    // one optimizer step
)

// Phase is one phase of a training step:
//
//	Forward(0) … Forward(L−1) → Loss → Backward(L−1) … Backward(0) → Update
//
// Layer is the layer index for Forward and Backward, and −1 otherwise.
type Phase struct {
	Kind  PhaseKind
	Layer int
}

// String gives the kind and layer index, e.g. "backward 3" or "loss".
func (p Phase) String() string {
	switch p.Kind {
	case PhaseForward:
		return fmt.Sprintf("forward %d", p.Layer)
	case PhaseBackward:
		return fmt.Sprintf("backward %d", p.Layer)
	case PhaseLoss:
		return "loss"
	default:
		return "update"
	}
}

// Trace is an immutable snapshot of what the trainer has computed for the
// visualized sample up to and including phase Done. A field that the step has
// not computed yet is nil, never stale. Traces share nothing with the trainer
// and are safe to hand to another goroutine, except those taken with
// TraceOptions.Borrow, whose tensors are views valid until the trainer's next
// call.
type Trace struct {
	Spec  string // the network spec
	Seed  int64
	Step  int   // optimizer steps since reset
	Epoch int   // completed epochs
	Done  Phase // the last phase completed in the current step
	// Started is false before the first phase of a step has run (Done is
	// then meaningless and every per-step field is nil).
	Started bool
	Next    Phase // the phase that will run next
	Hyper   Hyper // in effect for the current step
	// Rate is the learning rate of the current step's Update:
	// Hyper.LearningRate after the schedule (Hyper.DecayEpochs).
	Rate float64

	Probe  bool // the sample is the fixed probe image, not part of the batch
	Sample int  // index within the batch (−1 for the probe)
	Index  int  // index of the sample in the training set (−1 for the probe and a batch SetBatch gave)
	Label  int
	Input  *Tensor // (C, H, W) the normalised input image

	Probs      []float64 // (K) softmax of the logits; nil before Loss
	Loss       float64   // this sample's cross-entropy; NaN before Loss
	BatchLoss  float64   // mean over the batch; NaN before Loss
	Prediction int       // argmax of the logits; −1 before Loss

	Layers []LayerTrace
}

// LayerTrace is what one layer computed for the visualized sample, plus the
// batch's parameter gradients.
type LayerTrace struct {
	Index    int
	Kind     string // "conv", "relu", "maxpool", ...
	Spec     string // the spec token, e.g. "conv(8,5,s1,p2)"
	Name     string // e.g. "conv 1", "relu 2": kind and 1-based ordinal among layers of that kind
	InShape  Shape
	OutShape Shape

	Input      *Tensor // (InShape) the layer's input feature maps
	Output     *Tensor // (OutShape) the layer's output feature maps
	GradOutput *Tensor // (OutShape) dL/dY for this sample
	GradInput  *Tensor // (InShape) dL/dX for this sample

	// Switches holds, for a max-pool layer, the flat index iy·W+ix into the
	// same channel's input plane of the cell that won each output cell;
	// shape (OutShape), nil for other layers or before Forward.
	Switches []int32

	Weights      *Tensor // current W, e.g. (F, C, KH, KW); after Update the new W
	Bias         *Tensor // current b (F)
	GradWeights  *Tensor // dL/dW of the batch (mean over samples), nil before Backward
	GradBias     *Tensor // dL/db of the batch
	DeltaWeights *Tensor // ΔW = W_new − W_old applied by the last Update; nil before it
	DeltaBias    *Tensor // Δb
	// SampleGradWeights and SampleGradBias are the visualized sample's
	// share of dL/dW and dL/db (see SampleShare): nil unless
	// TraceOptions.Shares asked for them, and before Backward.
	SampleGradWeights *Tensor
	SampleGradBias    *Tensor
	// Optimizer state after Update: the buffers the hyperparameters use,
	// keyed by the saved file's buffer name and the parameter's
	// ("momentum_W", "adam_m_W", "adam_v_W", "adam_m_b", ...); nil before
	// Update.
	OptState map[string]*Tensor
}
