package server

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/backpropviz/backpropviz/engine"
)

// Trace frames are the binary websocket messages of docs/protocol.md:
//
//	offset 0   "BPV1"
//	offset 4   uint32 LE: length H of the JSON header (padded with spaces so 8+H is a multiple of 4)
//	offset 8   the JSON header (FrameHeader)
//	offset 8+H the payload: one tensor after another, each starting at a multiple of 4
const frameMagic = "BPV1"

// Tensor kinds of a frame (TensorEntry.Kind).
const (
	KindInput   = "input"   // the network input image (layer −1), (C, H, W)
	KindAct     = "act"     // a layer's output feature maps, (OutShape)
	KindGrad    = "grad"    // dL/d(output) of the visualized sample, (OutShape)
	KindGradIn  = "gradin"  // dL/d(input) of the visualized sample, (InShape)
	KindWeights = "weights" // W, e.g. (F, C, KH, KW) or (Out, In)
	KindBias    = "bias"    // b, (F)
	KindWGrad   = "wgrad"   // dL/dW of the batch, shape of W
	KindBGrad   = "bgrad"   // dL/db of the batch, (F)
	KindUpdate  = "update"  // ΔW applied by the last Update, shape of W
	KindBUpdate = "bupdate" // Δb applied by the last Update, (F)
	KindSwitch  = "switch"  // max-pool switches, int32, (OutShape)
)

// Encodings of a tensor (TensorEntry.Enc).
const (
	EncF32 = "f32" // little-endian float32: the engine's float64 rounded to float32
	EncQ8  = "q8"  // one signed byte per value, v ≈ q/127 · scale
	EncI32 = "i32" // little-endian int32
)

// allKinds lists the kinds in the order a frame carries them within a layer;
// a kind's bit in a kind mask is 1 << its index.
var allKinds = []string{KindInput, KindAct, KindGrad, KindGradIn, KindWeights, KindBias,
	KindWGrad, KindBGrad, KindUpdate, KindBUpdate, KindSwitch}

// kindMask is a set of tensor kinds, one bit per entry of allKinds.
type kindMask uint32

func kindBit(kind string) (kindMask, bool) {
	i := slices.Index(allKinds, kind)
	if i < 0 {
		return 0, false
	}
	return 1 << i, true
}

func (m kindMask) has(kind string) bool {
	b, ok := kindBit(kind)
	return ok && m&b != 0
}

// defaultKinds is every kind except gradin (dL/d input of layer i is the grad
// of layer i−1; only layer 0's is new, and the page does not draw it).
var defaultKinds = func() kindMask {
	var m kindMask
	for _, k := range allKinds {
		if k != KindGradIn {
			b, _ := kindBit(k)
			m |= b
		}
	}
	return m
}()

// Subscription is what one client draws: one sample's tensors of some kinds
// in some layers, and of the per-sample maps (C, H, W) possibly only a range
// of channels (what is on the client's screen).
type Subscription struct {
	Sample int        // index within the batch (clamped by the trainer)
	Probe  bool       // trace the fixed probe image instead of a batch sample
	Layers []LayerSub // what of which layer; nil means Kinds of every layer, all channels
	Kinds  kindMask   // the kinds of every layer when Layers is nil
	Exact  bool       // always f32, even while playing
}

// LayerSub selects some kinds of one layer and, for the kinds whose tensor
// is a stack of maps (C, H, W) — input, act, grad, gradin, switch — the
// channels [From, To) of it. To == 0 means all channels; a range past the
// tensor's channels is cut to them. Weights and their gradients are always
// whole.
type LayerSub struct {
	Layer    int // −1 for the input
	Kinds    kindMask
	From, To int // channels [From, To); To == 0: all
}

// sliced reports whether kind is cut by a channel range: per-sample
// tensors of shape (C, H, W).
func sliced(kind string, shape []int) bool {
	switch kind {
	case KindInput, KindAct, KindGrad, KindGradIn, KindSwitch:
		return len(shape) == 3
	}
	return false
}

// DefaultSubscription is everything of sample 0.
func DefaultSubscription() Subscription { return Subscription{Kinds: defaultKinds} }

// want reports whether the subscription selects kind of layer, and which
// channels [from, to) of it (to == 0: all).
func (s *Subscription) want(layer int, kind string) (from, to int, ok bool) {
	if s.Layers == nil {
		return 0, 0, s.Kinds.has(kind)
	}
	for _, l := range s.Layers {
		if l.Layer == layer && l.Kinds.has(kind) {
			return l.From, l.To, true
		}
	}
	return 0, 0, false
}

// normalizeLayers returns the canonical form of a list of layer selections,
// so that equal selections have equal keys: per layer and kind the smallest
// channel range covering every range asked for (all channels if one asked
// for all), kinds of one layer with the same range merged into one entry,
// entries sorted by layer and range, empty ones dropped. The result is
// non-nil (an empty list selects nothing).
func normalizeLayers(in []LayerSub) []LayerSub {
	type lk struct{ layer, kind int }
	type rng struct{ from, to int }
	hull := map[lk]rng{}
	for _, l := range in {
		if l.To != 0 && l.To <= l.From {
			continue // an empty range
		}
		for k := range allKinds {
			if l.Kinds&(1<<k) == 0 {
				continue
			}
			key := lk{l.Layer, k}
			r, seen := hull[key]
			switch {
			case !seen:
				r = rng{l.From, l.To}
			case r.to == 0 || l.To == 0:
				r = rng{0, 0}
			default:
				r = rng{min(r.from, l.From), max(r.to, l.To)}
			}
			if r.to == 0 {
				r.from = 0
			}
			hull[key] = r
		}
	}
	type group struct {
		layer int
		rng
	}
	kinds := map[group]kindMask{}
	for key, r := range hull {
		kinds[group{key.layer, r}] |= 1 << key.kind
	}
	out := make([]LayerSub, 0, len(kinds))
	for g, m := range kinds {
		out = append(out, LayerSub{Layer: g.layer, Kinds: m, From: g.from, To: g.to})
	}
	slices.SortFunc(out, func(a, b LayerSub) int {
		if a.Layer != b.Layer {
			return a.Layer - b.Layer
		}
		if a.From != b.From {
			return a.From - b.From
		}
		return a.To - b.To
	})
	return out
}

// key identifies subscriptions that produce identical frames (Layers must
// be normalized, see normalizeLayers).
func (s *Subscription) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%t/%t/", s.Sample, s.Probe, s.Exact)
	if s.Layers == nil {
		fmt.Fprintf(&b, "all:%d", s.Kinds)
	}
	for _, l := range s.Layers {
		fmt.Fprintf(&b, "%d:%d:%d-%d,", l.Layer, l.Kinds, l.From, l.To)
	}
	return b.String()
}

// WirePhase is a phase as the protocol shows it.
type WirePhase struct {
	Kind  string `json:"kind"`  // forward, loss, backward, update
	Layer int    `json:"layer"` // −1 for loss and update
	Label string `json:"label"` // e.g. "backward · maxpool 1"
}

// FrameHeader is the JSON header of a trace frame.
type FrameHeader struct {
	Seq        uint64        `json:"seq"`
	Step       int           `json:"step"`
	Epoch      int           `json:"epoch"`
	Done       *WirePhase    `json:"done"` // null before the first phase of a step
	Next       *WirePhase    `json:"next"`
	Keyframe   bool          `json:"keyframe"`
	Exact      bool          `json:"exact"`
	Probe      bool          `json:"probe"`
	Sample     int           `json:"sample"` // −1 for the probe or before the step started
	Index      int           `json:"index"`  // index in the training set, −1 if none
	Label      int           `json:"label"`
	Prediction *int          `json:"prediction,omitempty"`
	Loss       *F32          `json:"loss,omitempty"`
	BatchLoss  *F32          `json:"batch_loss,omitempty"`
	Probs      []F32         `json:"probs,omitempty"`
	Tensors    []TensorEntry `json:"tensors"`
	// Published is the server's clock when the frame was published, Unix
	// milliseconds (absent if unknown): step-to-screen latency.
	Published int64 `json:"published_unix_ms,omitempty"`
}

// TensorEntry locates one tensor in the payload of a frame.
type TensorEntry struct {
	Layer int    `json:"layer"` // −1 for the input image
	Kind  string `json:"kind"`
	Shape []int  `json:"shape"` // of the values carried: (To−From, H, W) for a channel range
	// Channels is [from, to) when only those channels of a (C, H, W) tensor
	// are carried; absent when all are.
	Channels  []int  `json:"channels,omitempty"`
	Enc       string `json:"enc"`
	Offset    int    `json:"offset"` // bytes from the start of the payload, a multiple of 4
	Length    int    `json:"length"` // bytes
	Min       *F32   `json:"min"`    // exact extremes of the finite values of the whole tensor (all channels); null if none
	Max       *F32   `json:"max"`
	Scale     *F32   `json:"scale,omitempty"`     // q8 only: max |v| of the whole tensor
	Nonfinite int    `json:"nonfinite,omitempty"` // NaN and ±Inf cells of the whole tensor
}

// F32 is a number carried as float32 (the engine's float64 rounded), written
// in JSON with the shortest decimal that reads back as the same float32;
// NaN and ±Inf are written as null.
type F32 float32

// MarshalJSON implements json.Marshaler.
func (f F32) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 32), nil
}

// UnmarshalJSON implements json.Unmarshaler; null reads as NaN.
func (f *F32) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = F32(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 32)
	if err != nil {
		return err
	}
	*f = F32(v)
	return nil
}

func f32p(v float64) *F32 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	f := F32(v)
	return &f
}

// FrameMeta is what a frame says beyond the trace.
type FrameMeta struct {
	Seq      uint64
	Keyframe bool       // a fresh start: after connect, subscribe, pause, reset
	Exact    bool       // f32 for every float tensor; false allows q8
	Done     *WirePhase // nil before the first phase of a step
	Next     *WirePhase
	// Published is when the session published the frame (the end of the
	// phase it shows); zero leaves published_unix_ms out.
	Published time.Time
}

// FrameEncoder writes traces as frames. It keeps its scratch space between
// calls; it is not safe for concurrent use.
type FrameEncoder struct {
	srcs    []frameSrc
	entries []TensorEntry
}

// frameSrc is one tensor to write: float64 values or int32 switches.
type frameSrc struct {
	f []float64
	i []int32
}

// Encode writes the tensors of tr selected by sub as one frame. The returned
// slice is new (it may be kept, e.g. in a websocket.PreparedMessage).
func (e *FrameEncoder) Encode(tr *engine.Trace, sub *Subscription, meta FrameMeta) ([]byte, error) {
	e.srcs, e.entries = e.srcs[:0], e.entries[:0]
	off := 0
	add := func(layer int, kind string, shape []int, f []float64, i []int32) {
		from, to, ok := sub.want(layer, kind)
		if !ok || (f == nil && i == nil) {
			return
		}
		ent := TensorEntry{Layer: layer, Kind: kind, Shape: shape, Offset: off}
		// stats over the whole tensor: a viewer's extremes and q8 scale do
		// not depend on which channels it shows
		var lo, hi float64
		bad := 0
		if i != nil {
			ent.Enc = EncI32
			if len(i) > 0 {
				lo, hi = float64(slices.Min(i)), float64(slices.Max(i))
				ent.Min, ent.Max = f32p(lo), f32p(hi)
			}
		} else {
			lo, hi, bad = stats(f)
			if bad < len(f) {
				ent.Min, ent.Max = f32p(lo), f32p(hi)
			}
			ent.Nonfinite = bad
		}
		if to > 0 && sliced(kind, shape) {
			c, plane := shape[0], shape[1]*shape[2]
			to = min(to, c)
			from = min(from, to)
			if from > 0 || to < c {
				ent.Channels = []int{from, to}
				ent.Shape = []int{to - from, shape[1], shape[2]}
				if f != nil {
					f = f[from*plane : to*plane]
				} else {
					i = i[from*plane : to*plane]
				}
			}
		}
		switch {
		case i != nil:
			ent.Length = 4 * len(i)
		case meta.Exact:
			ent.Enc, ent.Length = EncF32, 4*len(f)
		default:
			ent.Enc, ent.Length = EncQ8, len(f)
			ent.Scale = f32p(max(-lo, hi, 0))
		}
		off += (ent.Length + 3) &^ 3
		e.entries = append(e.entries, ent)
		e.srcs = append(e.srcs, frameSrc{f: f, i: i})
	}
	tensor := func(layer int, kind string, t *engine.Tensor) {
		if t != nil {
			add(layer, kind, t.Shape, t.Data, nil)
		}
	}
	tensor(-1, KindInput, tr.Input)
	for i := range tr.Layers {
		lt := &tr.Layers[i]
		tensor(i, KindAct, lt.Output)
		tensor(i, KindGrad, lt.GradOutput)
		tensor(i, KindGradIn, lt.GradInput)
		tensor(i, KindWeights, lt.Weights)
		tensor(i, KindBias, lt.Bias)
		tensor(i, KindWGrad, lt.GradWeights)
		tensor(i, KindBGrad, lt.GradBias)
		tensor(i, KindUpdate, lt.DeltaWeights)
		tensor(i, KindBUpdate, lt.DeltaBias)
		if lt.Switches != nil {
			add(i, KindSwitch, lt.OutShape, nil, lt.Switches)
		}
	}

	h := FrameHeader{
		Seq: meta.Seq, Step: tr.Step, Epoch: tr.Epoch, Done: meta.Done, Next: meta.Next,
		Keyframe: meta.Keyframe, Exact: meta.Exact, Probe: tr.Probe,
		Sample: tr.Sample, Index: tr.Index, Label: tr.Label, Tensors: e.entries,
	}
	if !meta.Published.IsZero() {
		h.Published = meta.Published.UnixMilli()
	}
	if tr.Probs != nil {
		p := tr.Prediction
		h.Prediction = &p
		h.Loss, h.BatchLoss = nanF32(tr.Loss), nanF32(tr.BatchLoss)
		h.Probs = make([]F32, len(tr.Probs))
		for i, v := range tr.Probs {
			h.Probs[i] = F32(v)
		}
	}
	hj, err := json.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("encode frame header: %w", err)
	}
	hlen := (len(hj) + 3) &^ 3 // 8 + hlen is a multiple of 4
	out := make([]byte, 8+hlen+off)
	copy(out, frameMagic)
	binary.LittleEndian.PutUint32(out[4:], uint32(hlen))
	n := copy(out[8:], hj)
	for k := 8 + n; k < 8+hlen; k++ {
		out[k] = ' '
	}
	payload := out[8+hlen:]
	for k, ent := range e.entries {
		dst := payload[ent.Offset : ent.Offset+ent.Length]
		src := e.srcs[k]
		switch ent.Enc {
		case EncI32:
			for j, v := range src.i {
				binary.LittleEndian.PutUint32(dst[4*j:], uint32(v))
			}
		case EncF32:
			for j, v := range src.f {
				binary.LittleEndian.PutUint32(dst[4*j:], math.Float32bits(float32(v)))
			}
		case EncQ8:
			quantize(dst, src.f, ent.Scale)
		}
	}
	clear(e.srcs) // drop references to the trace
	return out, nil
}

// nanF32 is a non-nil F32 even for NaN (written as null).
func nanF32(v float64) *F32 { f := F32(v); return &f }

// stats returns the extremes of the finite values of xs and how many are
// not finite.
func stats(xs []float64) (lo, hi float64, nonfinite int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	bad := 0.0 // stays 0 while every v is finite: v·0 is NaN for NaN and ±Inf
	for _, v := range xs {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		bad += v * 0
	}
	if bad == 0 {
		return lo, hi, 0
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range xs {
		if v-v != 0 { // NaN or ±Inf
			nonfinite++
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, nonfinite
}

// quantize writes q = round(v/scale·127) per value, rounding half away from
// zero; NaN is 0 and ±Inf ±127.
func quantize(dst []byte, xs []float64, scale *F32) {
	s := 0.0
	if scale != nil && *scale > 0 {
		s = 127 / float64(*scale)
	}
	for j, v := range xs {
		q := v * s
		switch {
		case q >= 0 && q < 127:
			dst[j] = byte(int8(q + 0.5))
		case q < 0 && q > -127:
			dst[j] = byte(int8(q - 0.5))
		case q >= 127: // the maximum, or +Inf
			dst[j] = 127
		case q <= -127:
			dst[j] = byte(0x81) // −127
		default: // NaN
			dst[j] = 0
		}
	}
}

// Frame is a decoded trace frame.
type Frame struct {
	Header  FrameHeader
	Tensors []FrameTensor
}

// FrameTensor is one decoded tensor: F32 holds f32 values or dequantized q8
// values (q/127·scale), I32 the switches.
type FrameTensor struct {
	TensorEntry
	F32 []float32
	I32 []int32
}

// Tensor returns the tensor of layer and kind, or nil.
func (f *Frame) Tensor(layer int, kind string) *FrameTensor {
	for i := range f.Tensors {
		if t := &f.Tensors[i]; t.Layer == layer && t.Kind == kind {
			return t
		}
	}
	return nil
}

// DecodeFrame parses a binary trace frame. It checks the magic, the header
// and that every tensor lies within the payload with the length its shape
// and encoding need.
func DecodeFrame(b []byte) (*Frame, error) {
	if len(b) < 8 || string(b[:4]) != frameMagic {
		return nil, errors.New("decode frame: bad magic")
	}
	hlen := int(binary.LittleEndian.Uint32(b[4:]))
	if hlen > len(b)-8 {
		return nil, fmt.Errorf("decode frame: header length %d past the end (%d bytes)", hlen, len(b))
	}
	f := &Frame{}
	if err := json.Unmarshal(b[8:8+hlen], &f.Header); err != nil {
		return nil, fmt.Errorf("decode frame header: %w", err)
	}
	payload := b[8+hlen:]
	for _, ent := range f.Header.Tensors {
		n := 1
		for _, d := range ent.Shape {
			n *= d
		}
		width := 4
		if ent.Enc == EncQ8 {
			width = 1
		}
		if ent.Length != n*width || ent.Offset < 0 || ent.Offset+ent.Length > len(payload) {
			return nil, fmt.Errorf("decode frame: tensor %d:%s: %d bytes at %d, want %d within %d", ent.Layer, ent.Kind, ent.Length, ent.Offset, n*width, len(payload))
		}
		src := payload[ent.Offset : ent.Offset+ent.Length]
		t := FrameTensor{TensorEntry: ent}
		switch ent.Enc {
		case EncF32:
			t.F32 = make([]float32, n)
			for j := range t.F32 {
				t.F32[j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*j:]))
			}
		case EncI32:
			t.I32 = make([]int32, n)
			for j := range t.I32 {
				t.I32[j] = int32(binary.LittleEndian.Uint32(src[4*j:]))
			}
		case EncQ8:
			s := float32(0)
			if ent.Scale != nil {
				s = float32(*ent.Scale) / 127
			}
			t.F32 = make([]float32, n)
			for j := range t.F32 {
				t.F32[j] = float32(int8(src[j])) * s
			}
		default:
			return nil, fmt.Errorf("decode frame: tensor %d:%s: unknown encoding %q", ent.Layer, ent.Kind, ent.Enc)
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}
