package protocol

import (
	"fmt"
	"slices"
	"strings"

	"github.com/backpropviz/backpropviz/engine"
)

// Questions: a client asks how a number was computed (explain), for a conv
// layer's backward convolution step by step (walk), or for a gradient check
// (gradcheck); the session's owner points every page at a cell (look). The
// engine answers in float64; the replies carry its numbers with full
// float64 precision (F64), non-finite ones as null.

// The tensors a question may name (ExplainRequest.Tensor): those of a layer,
// and those of the loss (layer LossLayer). They are the engine's names.
var (
	ExplainTensors = []string{engine.TensorY, engine.TensorDY, engine.TensorDX, engine.TensorDW,
		engine.TensorDB, engine.TensorUpdateW, engine.TensorUpdateB}
	LossTensors = []string{engine.TensorLoss, engine.TensorBatchLoss, engine.TensorProb, engine.TensorDLogit}
)

// LossLayer is the layer of a question about the loss.
const LossLayer = engine.LossLayer

// Walk gradients (WalkRequest.Grad) and checked parameters
// (GradCheckRequest.Param).
const (
	WalkDW = engine.TensorDW // dL/dW[f,c]: X[c] correlated with δ[f]
	WalkDX = engine.TensorDX // dL/dX[c]: rot180(W) over δ dilated and padded
	ParamW = "W"
	ParamB = "b"
)

// Terms of an explanation: at most MaxExplainLimit are sent; a request that
// gives no limit gets DefaultExplainLimit.
const (
	DefaultExplainLimit = 256
	MaxExplainLimit     = 4096
)

// MaxGradCheckH bounds the step of a gradient check (the engine's bound).
const MaxGradCheckH = engine.MaxGradCheckH

// ExplainRequest is an explain message: how was Tensor[Index] of Layer
// computed for one sample (or the probe)?
type ExplainRequest struct {
	Layer  int    // 0 … L−1, or LossLayer
	Tensor string // one of ExplainTensors, or of LossTensors at LossLayer
	Index  []int  // into the tensor (per sample for Y, dY, dX; into the parameter for dW, …); empty for loss and batchloss
	Sample int    // index in the batch
	Probe  bool   // ask about the probe image's own pass
	Limit  int    // terms at most (the largest by |product|): 0 … MaxExplainLimit
}

// WalkRequest is a walk message: the backward convolution of conv layer
// Layer for filter Filter and input channel Channel, step by step.
type WalkRequest struct {
	Layer           int
	Grad            string // WalkDW or WalkDX
	Filter, Channel int
	Sample          int
	Probe           bool
}

// GradCheckRequest is a gradcheck message: a central difference of the
// batch's loss in parameter Param[Index] of Layer, step H.
type GradCheckRequest struct {
	Layer int
	Param string // ParamW or ParamB
	Index []int
	H     float64 // 0 < H ≤ MaxGradCheckH; engine.DefaultGradCheckH if absent
}

// LookRequest is the owner's look message: every page of the session is
// to look at Tensor[Index] of Layer.
type LookRequest struct {
	Layer  int
	Tensor string
	Index  []int
}

// maxIndexLen bounds the length of an index (tensors have at most four
// dimensions).
const maxIndexLen = 8

// ParseExplain reads an explain message. layer and tensor are required;
// index is absent only for a scalar (loss, batchloss); sample defaults to
// 0, limit to DefaultExplainLimit. Whether the layer, tensor and index
// exist in the network, and whether the step has computed the number, the
// engine checks.
func ParseExplain(m *ClientMsg) (ExplainRequest, error) {
	r := ExplainRequest{Limit: DefaultExplainLimit}
	var err error
	if r.Layer, r.Tensor, r.Index, err = parseCell(m); err != nil {
		return r, err
	}
	if r.Sample, r.Probe, err = parseSampleOf(m); err != nil {
		return r, err
	}
	if m.Limit != nil {
		r.Limit = *m.Limit
		if r.Limit < 0 || r.Limit > MaxExplainLimit {
			return r, fmt.Errorf("limit %d: want 0 … %d terms", r.Limit, MaxExplainLimit)
		}
	}
	return r, nil
}

// ParseLook reads a look message: layer, tensor and index as in explain.
func ParseLook(m *ClientMsg) (LookRequest, error) {
	var r LookRequest
	var err error
	r.Layer, r.Tensor, r.Index, err = parseCell(m)
	return r, err
}

// parseCell reads the layer, tensor and index of an explain or look.
func parseCell(m *ClientMsg) (layer int, tensor string, index []int, err error) {
	if m.Layer == nil {
		return 0, "", nil, fmt.Errorf("layer: required (a layer index, or %d for the loss)", LossLayer)
	}
	layer = *m.Layer
	if layer < LossLayer || layer > maxLayer {
		return 0, "", nil, fmt.Errorf("layer %d: want a layer index, or %d for the loss", layer, LossLayer)
	}
	if m.Tensor == nil {
		return 0, "", nil, fmt.Errorf("tensor: required, one of %s (at layer %d: %s)",
			strings.Join(ExplainTensors, ", "), LossLayer, strings.Join(LossTensors, ", "))
	}
	tensor = *m.Tensor
	want := ExplainTensors
	if layer == LossLayer {
		want = LossTensors
	}
	if !slices.Contains(want, tensor) {
		return 0, "", nil, fmt.Errorf("tensor %.40q of layer %d: want one of %s", tensor, layer, strings.Join(want, ", "))
	}
	if index, err = parseIndex(m.Index); err != nil {
		return 0, "", nil, err
	}
	return layer, tensor, index, nil
}

func parseIndex(idx []int) ([]int, error) {
	if len(idx) > maxIndexLen {
		return nil, fmt.Errorf("index of %d numbers: a tensor has at most %d dimensions", len(idx), maxIndexLen)
	}
	for _, i := range idx {
		if i < 0 {
			return nil, fmt.Errorf("index %v: want numbers ≥ 0", idx)
		}
	}
	if idx == nil {
		idx = []int{}
	}
	return idx, nil
}

// parseSampleOf reads the sample and probe of a question (as a subscribe
// message has them).
func parseSampleOf(m *ClientMsg) (sample int, probe bool, err error) {
	if len(m.Sample) > 0 && string(m.Sample) != "null" {
		if sample, probe, err = ParseSample(m.Sample); err != nil {
			return 0, false, err
		}
	}
	if m.Probe != nil && *m.Probe {
		probe = true
	}
	return sample, probe, nil
}

// ParseWalk reads a walk message. layer and grad are required; filter,
// channel and sample default to 0. The engine checks them against the
// layer.
func ParseWalk(m *ClientMsg) (WalkRequest, error) {
	var r WalkRequest
	if m.Layer == nil {
		return r, fmt.Errorf("layer: required (a conv layer's index)")
	}
	r.Layer = *m.Layer
	if m.Grad == nil || (*m.Grad != WalkDW && *m.Grad != WalkDX) {
		g := "absent"
		if m.Grad != nil {
			g = fmt.Sprintf("%.40q", *m.Grad)
		}
		return r, fmt.Errorf("grad %s: want %q or %q", g, WalkDW, WalkDX)
	}
	r.Grad = *m.Grad
	if m.Filter != nil {
		r.Filter = *m.Filter
	}
	if m.Channel != nil {
		r.Channel = *m.Channel
	}
	var err error
	r.Sample, r.Probe, err = parseSampleOf(m)
	return r, err
}

// ParseGradCheck reads a gradcheck message. layer, param and index are
// required; h defaults to engine.DefaultGradCheckH and must be a number
// in (0, MaxGradCheckH].
func ParseGradCheck(m *ClientMsg) (GradCheckRequest, error) {
	r := GradCheckRequest{H: engine.DefaultGradCheckH}
	if m.Layer == nil {
		return r, fmt.Errorf("layer: required (the index of a layer with parameters)")
	}
	r.Layer = *m.Layer
	if m.Param == nil || (*m.Param != ParamW && *m.Param != ParamB) {
		p := "absent"
		if m.Param != nil {
			p = fmt.Sprintf("%.40q", *m.Param)
		}
		return r, fmt.Errorf("param %s: want %q or %q", p, ParamW, ParamB)
	}
	r.Param = *m.Param
	if m.Index == nil {
		return r, fmt.Errorf("index: required, e.g. [f, c, ky, kx] for W of a conv layer")
	}
	var err error
	if r.Index, err = parseIndex(m.Index); err != nil {
		return r, err
	}
	if m.H != nil {
		r.H = *m.H
		if !(r.H > 0 && r.H <= MaxGradCheckH) {
			return r, fmt.Errorf("h %v: want a step 0 < h ≤ %v (default %v)", r.H, MaxGradCheckH, engine.DefaultGradCheckH)
		}
	}
	return r, nil
}
