package engine

import (
	"fmt"
	"runtime"
)

// MemoryEstimate is the memory a Trainer of a Config holds at most, in
// bytes, by part, with one Trace of everything alive beside it. It is
// computed from the spec and the input shape before anything is allocated
// (EstimateMemory), so that a server can refuse a network it has no memory
// for. Each part is an upper bound of what the trainer allocates for it.
type MemoryEstimate struct {
	// Params: weights W, b and their gradients dL/dW, dL/db, of the network
	// and of its probe and evaluation networks (each has its own copy).
	Params int64
	// Optimizer: the optimizer's state (momentum, Adam's m and v…) and
	// the two checkpoints of weights and state a refused update goes back
	// to (see diverge.go).
	Optimizer int64
	// Activations: at the batch size, the batch X and every layer's Y and
	// dL/dX (N, …), max-pooling switches and the loss's probabilities and
	// dL/dlogits; the probe network's at batch 1 and the evaluation
	// network's forward pass at its batch (at most the batch size).
	Activations int64
	// Scratch: each convolution's im2col and matrix buffers, one set per
	// core, and each dense layer's transposed operands, in each of the three
	// networks; the epoch's sample order.
	Scratch int64
	// Trace: one Trace of one sample with every part (maps, gradients,
	// weights, dL/dW, ΔW, optimizer state, the sample's share of dL/dW).
	Trace int64
}

// Total is the sum of the parts.
func (m MemoryEstimate) Total() int64 {
	return m.Params + m.Optimizer + m.Activations + m.Scratch + m.Trace
}

// String writes the total in MiB and its parts.
func (m MemoryEstimate) String() string {
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	return fmt.Sprintf("%.1f MiB (parameters %.1f, optimizer %.1f, activations %.1f, buffers %.1f, trace %.1f)",
		mib(m.Total()), mib(m.Params), mib(m.Optimizer), mib(m.Activations), mib(m.Scratch), mib(m.Trace))
}

// Sizes of the numbers a trainer keeps.
const (
	bytesF64 = 8 // float64: every tensor
	bytesI32 = 4 // int32: max-pooling switches, the epoch's sample order
)

// EstimateMemory estimates the memory of NewTrainer(cfg, data) after steps
// at cfg.Hyper.BatchSize, a probe pass, a test evaluation and a trace (see
// MemoryEstimate), without building the network. The error is the spec's
// (as NewTrainer would report it); the data set itself, shared by every
// trainer of it, is not counted.
func EstimateMemory(cfg Config, data Data) (MemoryEstimate, error) {
	if cfg.Spec == "" {
		cfg.Spec = DefaultSpec
	}
	if data.Train == nil || data.Train.Len() == 0 {
		return MemoryEstimate{}, fmt.Errorf("dataset %q has no training samples", data.Name)
	}
	specs, err := ParseSpec(cfg.Spec)
	if err != nil {
		return MemoryEstimate{}, err
	}
	dims, err := specDims(specs, Shape(data.Train.Shape()))
	if err != nil {
		return MemoryEstimate{}, err
	}
	if err := dimsCost(dims).checkBatch(cfg.Hyper.BatchSize); err != nil {
		return MemoryEstimate{}, err
	}
	opt, err := optimizerFor(cfg.Hyper.Optimizer)
	if err != nil {
		return MemoryEstimate{}, err
	}
	return estimate(dims, data.Train.NumClasses(), cfg.Hyper.BatchSize,
		len(opt.NewState(0).Buffers(Hyper{})), data.Train.Len(), runtime.GOMAXPROCS(0)), nil
}

// layerDims is what the memory of one layer depends on.
type layerDims struct {
	kind    string
	in, out Shape
	params  int // W and b
	kh, kw  int // conv: kernel
	pad     int // conv: padding
}

// specDims walks the layers' shapes from the input shape in, as
// BuildLayers does, without allocating their parameters.
func specDims(specs []LayerSpec, in Shape) ([]layerDims, error) {
	var dims []layerDims
	cur := in
	for i, ls := range specs {
		d := layerDims{kind: ls.Kind, in: cur, out: cur, kh: ls.KH, kw: ls.KW, pad: ls.Pad}
		var err error
		switch ls.Kind {
		case "conv", "maxpool", "avgpool":
			var oh, ow int
			if oh, ow, err = windowOut(ls.Kind, cur, ls.KH, ls.KW, ls.Stride, ls.Pad); err == nil {
				d.out = Shape{cur[0], oh, ow}
				if ls.Kind == "conv" {
					d.out[0] = ls.Filters
					d.params = ls.Filters*cur[0]*ls.KH*ls.KW + ls.Filters
				}
			}
		case "flatten":
			d.out = Shape{cur.Size()}
		case "dense":
			d.out = Shape{ls.Filters}
			d.params = cur.Size()*ls.Filters + ls.Filters
		}
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s) on input %v: %w", i+1, ls.Token, cur, err)
		}
		if c := dimsCost([]layerDims{d}); c.Params > MaxParams || c.MACs > MaxMACs || c.Activations > maxActivations {
			return nil, fmt.Errorf("layer %d (%s) on input %v is too large", i+1, ls.Token, cur)
		}
		dims = append(dims, d)
		cur = d.out
	}
	if c := dimsCost(dims); c.Params > MaxParams || c.MACs > MaxMACs || c.Activations > maxActivations {
		return nil, fmt.Errorf("the network is too large for this server")
	}
	return dims, nil
}

// dimsCost is CostOf the layers of dims.
func dimsCost(dims []layerDims) Cost {
	var c Cost
	for _, d := range dims {
		in, out := d.in.Size(), d.out.Size()
		c.Params += d.params
		c.Activations += out
		switch d.kind {
		case "conv":
			c.MACs += out * d.in[0] * d.kh * d.kw
		case "dense":
			c.MACs += in * out
		case "maxpool", "avgpool":
			c.MACs += in
		default:
			c.MACs += out
		}
	}
	return c
}

// estimate adds up the memory of a network of layers dims with classes
// outputs, trained at batch n with an optimizer of k state buffers per
// parameter, on a training set of trainLen samples, on slots cores.
func estimate(dims []layerDims, classes, n, k, trainLen, slots int) MemoryEstimate {
	var m MemoryEstimate
	params, maps, grads, switches := 0, 0, 0, 0
	for _, d := range dims {
		params += d.params
		maps += d.out.Size()
		grads += d.in.Size()
		if d.kind == "maxpool" {
			switches += d.out.Size()
		}
	}
	f := func(values int) int64 { return int64(values) * bytesF64 }
	P := params
	// The network, the probe's and the evaluation's: W, b and their gradients.
	m.Params = 3 * f(2*P)
	// The optimizer's state and two checkpoints of weights and state.
	m.Optimizer = f(k*P) + 2*f(P+k*P)

	// One pass at batch b: the batch, every Y and dL/dX, the switches and
	// the loss's (N, K) probabilities, dL/dlogits and per-sample losses.
	in := dims[0].in.Size()
	pass := func(b int, backward bool) int64 {
		v := b * (in + maps + 2*classes + 1)
		if backward {
			v += b * grads
		}
		return f(v) + int64(b*switches)*bytesI32
	}
	m.Activations = pass(n, true) + pass(1, true) + pass(min(evalBatch, n), false)

	// Each convolution's buffers (conv2d_gemm.go), per network and slot.
	for _, d := range dims {
		if d.kind == "conv" {
			m.Scratch += 3 * convScratchBytes(d, slots)
		}
	}
	// Each dense layer's buffers of forwardFast (dense_kernels.go), per
	// network at its batch b: from 8 samples on, a chunk of Xᵀ
	// (denseChunk, NP) and Yᵀ (Out, NP), NP = b padded to a multiple of 8
	// at most; below, Wᵀ (In, OutP) and Y (b, OutP), OutP = Out padded to
	// a multiple of 16 at most.
	for _, d := range dims {
		if d.kind != "dense" {
			continue
		}
		I, O := d.in.Size(), d.out.Size()
		op := (O + 15) &^ 15
		for _, b := range []int{n, 1, min(evalBatch, n)} {
			if b >= 8 {
				m.Scratch += f((min(I, denseChunk) + O) * (b + 7))
			} else {
				m.Scratch += f(I*op + b*op)
			}
		}
	}
	// The epoch's sample order and the shuffle's indices.
	m.Scratch += int64(trainLen) * (bytesI32 + 8)

	// The trace: the sample's maps, dL/dY and dL/dX (the first layer's
	// dL/dX included), switches; W, dL/dW, ΔW, the sample's share of dL/dW
	// and every optimizer buffer.
	m.Trace = f(in+maps+grads+classes) + int64(switches)*bytesI32 + f((4+k)*P)
	return m
}

// convScratchBytes bounds a Conv2D's buffers (convScratch): dL/dWᵀ, Wᵀ
// and the rotated filters once, and per slot every buffer a part may use:
// the im2col matrix and its gradient (K, P), dY_nᵀ (P, F), the padded
// dY_n and the wide dL/dX_n of the correlation at stride 1, the padded X_n
// and the wide Y_n of the shifted forward pass; offsets.
func convScratchBytes(d layerDims, slots int) int64 {
	C, H, W := d.in[0], d.in[1], d.in[2]
	F, OH, OW := d.out[0], d.out[1], d.out[2]
	K, P := C*d.kh*d.kw, OH*OW
	// Padded dL/dY for dL/dX (pad K−1−P on each side, at least 0).
	py, px := max(d.kh-1-d.pad, 0), max(d.kw-1-d.pad, 0)
	dyHp, dyWp := OH+2*py, OW+2*px
	// Padded X for the shifted forward pass.
	xHp, xWp := H+2*d.pad, W+2*d.pad
	perSlot := 2*K*P + P*F + F*dyHp*dyWp + C*((H-1)*dyWp+W) + C*xHp*xWp + F*((OH-1)*xWp+OW)
	once := 3*K*F + 2*K
	return int64(once+slots*perSlot) * bytesF64
}
