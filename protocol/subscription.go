package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/backpropviz/backpropviz/engine"
)

// KindMask is a set of tensor kinds, one bit per entry of Kinds.
type KindMask uint32

// KindBit returns the bit of kind, or false if kind is not one of Kinds.
func KindBit(kind string) (KindMask, bool) {
	i := slices.Index(Kinds, kind)
	if i < 0 {
		return 0, false
	}
	return 1 << i, true
}

// MaskOf returns the set of kinds, or an error naming one that is not one
// of Kinds.
func MaskOf(kinds ...string) (KindMask, error) {
	var m KindMask
	for _, k := range kinds {
		b, ok := KindBit(k)
		if !ok {
			return 0, fmt.Errorf("tensor kind %q: want one of %v", k, Kinds)
		}
		m |= b
	}
	return m, nil
}

// Has reports whether kind is in the set.
func (m KindMask) Has(kind string) bool {
	b, ok := KindBit(kind)
	return ok && m&b != 0
}

// DefaultKinds is every kind except gradin (dL/d input of layer i is the
// grad of layer i−1; only layer 0's is new, and the page does not draw it)
// and the per-sample gradients swgrad and sbgrad (computed only for a
// subscription that asks for them).
var DefaultKinds = func() KindMask {
	var m KindMask
	for _, k := range Kinds {
		if k != KindGradIn && k != KindSWGrad && k != KindSBGrad {
			b, _ := KindBit(k)
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
	Kinds  KindMask   // the kinds of every layer when Layers is nil
	Exact  bool       // always f32, even while playing
	// MapStats asks for each map's colour-scale statistics (a page whose
	// maps each have their own range); every frame carries the whole
	// tensor's.
	MapStats bool
}

// LayerSub selects some kinds of one layer and, for the kinds whose tensor
// is a stack of maps (C, H, W) — input, act, grad, gradin, switch — the
// channels [From, To) of it. To == 0 means all channels; a range past the
// tensor's channels is cut to them. Weights and their gradients are always
// whole.
type LayerSub struct {
	Layer    int // −1 for the input
	Kinds    KindMask
	From, To int // channels [From, To); To == 0: all
}

// Sliced reports whether a tensor of kind and shape is cut by a channel
// range: per-sample tensors of shape (C, H, W).
func Sliced(kind string, shape []int) bool {
	switch kind {
	case KindInput, KindAct, KindGrad, KindGradIn, KindSwitch:
		return len(shape) == 3
	}
	return false
}

// DefaultSubscription is everything of sample 0 but gradin, swgrad and
// sbgrad.
func DefaultSubscription() Subscription { return Subscription{Kinds: DefaultKinds} }

// Want reports whether the subscription selects kind of layer, and which
// channels [from, to) of it (to == 0: all).
func (s *Subscription) Want(layer int, kind string) (from, to int, ok bool) {
	if s.Layers == nil {
		return 0, 0, s.Kinds.Has(kind)
	}
	for _, l := range s.Layers {
		if l.Layer == layer && l.Kinds.Has(kind) {
			return l.From, l.To, true
		}
	}
	return 0, 0, false
}

// Shares reports whether the subscription selects a per-sample gradient
// (swgrad or sbgrad) of some layer: its traces need
// engine.TraceOptions.Shares.
func (s *Subscription) Shares() bool {
	const shares = 1<<11 | 1<<12 // KindSWGrad, KindSBGrad: see TestNewKindsAppended
	if s.Layers == nil {
		return s.Kinds&shares != 0
	}
	for _, l := range s.Layers {
		if l.Kinds&shares != 0 {
			return true
		}
	}
	return false
}

// kindParts is the part of an engine trace that holds each kind (per-sample
// shares come from TraceOptions.Shares instead).
var kindParts = map[string]engine.TraceParts{
	KindInput: engine.TraceMaps, KindAct: engine.TraceMaps, KindSwitch: engine.TraceMaps,
	KindGrad: engine.TraceGradOutput, KindGradIn: engine.TraceGradInput,
	KindWeights: engine.TraceWeights, KindBias: engine.TraceWeights,
	KindWGrad: engine.TraceGradWeights, KindBGrad: engine.TraceGradWeights,
	KindUpdate: engine.TraceDeltas, KindBUpdate: engine.TraceDeltas,
}

// TraceParts returns the parts of an engine trace that frames for the
// subscription read: a trace for it may skip every other part
// (engine.TraceOptions.Skip = ^TraceParts()). No frame carries the
// optimizer state.
func (s *Subscription) TraceParts() engine.TraceParts {
	kinds := s.Kinds
	if s.Layers != nil {
		kinds = 0
		for _, l := range s.Layers {
			kinds |= l.Kinds
		}
	}
	var p engine.TraceParts
	for code, k := range Kinds {
		if kinds&(1<<code) != 0 {
			p |= kindParts[k]
		}
	}
	return p
}

// NormalizeLayers returns the canonical form of a list of layer
// selections, so that equal selections have equal keys: per layer and kind
// the smallest channel range covering every range asked for (all channels if
// one asked for all), kinds of one layer with the same range merged into one
// entry, entries sorted by layer and range, empty ones dropped. The result
// is non-nil (an empty list selects nothing).
func NormalizeLayers(in []LayerSub) []LayerSub {
	type lk struct{ layer, kind int }
	type rng struct{ from, to int }
	hull := map[lk]rng{}
	for _, l := range in {
		if l.To != 0 && l.To <= l.From {
			continue // an empty range
		}
		for k := range Kinds {
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
	kinds := map[group]KindMask{}
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

// Key identifies subscriptions that produce identical frames (Layers must
// be normalized, see NormalizeLayers).
func (s *Subscription) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%t/%t/", s.Sample, s.Probe, s.Exact)
	if s.Layers == nil {
		fmt.Fprintf(&b, "all:%d", s.Kinds)
	}
	for _, l := range s.Layers {
		fmt.Fprintf(&b, "%d:%d:%d-%d,", l.Layer, l.Kinds, l.From, l.To)
	}
	if s.MapStats {
		b.WriteString("/maps")
	}
	return b.String()
}

// ParseSubscription reads a subscribe message; absent fields take the
// defaults (sample 0, all layers, every kind but gradin, swgrad and sbgrad,
// q8 while playing).
func ParseSubscription(m *ClientMsg) (Subscription, error) {
	sub := DefaultSubscription()
	if len(m.Sample) > 0 {
		n, probe, err := ParseSample(m.Sample)
		if err != nil {
			return sub, err
		}
		sub.Sample, sub.Probe = n, probe
	}
	if m.Probe != nil && *m.Probe {
		sub.Probe = true
	}
	if m.Exact != nil {
		sub.Exact = *m.Exact
	}
	if m.MapStats != nil {
		sub.MapStats = *m.MapStats
	}
	if m.Kinds != nil {
		kinds, err := MaskOf(m.Kinds...)
		if err != nil {
			return sub, err
		}
		sub.Kinds = kinds
	}
	if len(m.Layers) > 0 && string(m.Layers) != `"all"` && string(m.Layers) != "null" {
		layers, err := parseLayers(m.Layers, sub.Kinds)
		if err != nil {
			return sub, err
		}
		sub.Layers = layers
	}
	return sub, nil
}

// MaxChannel bounds the channel numbers of a subscription.
const MaxChannel = 1 << 16

// maxLayer bounds the layer indices of a subscription.
const maxLayer = 1000

// parseLayers reads the "layers" of a subscribe message: a list whose
// items are layer indices (kinds: the message's kinds, all channels) or
// objects {"layer":0,"kinds":["act","grad"],"channels":[0,4]} (kinds absent:
// the message's kinds; channels absent: all; [from, to) otherwise). The
// result is normalized (see NormalizeLayers).
func parseLayers(raw json.RawMessage, kinds KindMask) ([]LayerSub, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("layers %.100s: want \"all\" or a list of layer indices or {layer, kinds, channels}", raw)
	}
	out := make([]LayerSub, 0, len(items))
	for _, it := range items {
		var l LayerSub
		var idx int
		if err := json.Unmarshal(it, &idx); err == nil {
			l = LayerSub{Layer: idx, Kinds: kinds}
		} else {
			var o struct {
				Layer    *int     `json:"layer"`
				Kinds    []string `json:"kinds"`
				Channels []int    `json:"channels"`
			}
			if err := json.Unmarshal(it, &o); err != nil || o.Layer == nil {
				return nil, fmt.Errorf("layers item %.100s: want a layer index or {\"layer\":i,\"kinds\":[…],\"channels\":[from,to]}", it)
			}
			l = LayerSub{Layer: *o.Layer, Kinds: kinds}
			if o.Kinds != nil {
				m, err := MaskOf(o.Kinds...)
				if err != nil {
					return nil, fmt.Errorf("layer %d: %w", *o.Layer, err)
				}
				l.Kinds = m
			}
			if o.Channels != nil {
				if len(o.Channels) != 2 || o.Channels[0] < 0 || o.Channels[1] <= o.Channels[0] || o.Channels[1] > MaxChannel {
					return nil, fmt.Errorf("layer %d: channels %v: want [from, to] with 0 ≤ from < to ≤ %d", *o.Layer, o.Channels, MaxChannel)
				}
				l.From, l.To = o.Channels[0], o.Channels[1]
			}
		}
		if l.Layer < -1 || l.Layer > maxLayer {
			return nil, fmt.Errorf("layer %d: want −1 (the input) or a layer index", l.Layer)
		}
		out = append(out, l)
	}
	return NormalizeLayers(out), nil
}

// ParseSample reads a sample parameter: an index in the batch (a JSON
// number or a string of digits) or "probe".
func ParseSample(raw json.RawMessage) (n int, probe bool, err error) {
	var v any
	if json.Unmarshal(raw, &v) == nil {
		switch v := v.(type) {
		case string:
			if v == "probe" {
				return 0, true, nil
			}
			n, err = strconv.Atoi(v)
		case float64:
			n = int(v)
			if float64(n) != v {
				err = errors.New("not an integer")
			}
		default:
			err = errors.New("not an index")
		}
		if err == nil && n >= 0 && n < engine.MaxBatchSize {
			return n, false, nil
		}
	}
	return 0, false, fmt.Errorf("sample %s: want 0 … %d or \"probe\"", raw, engine.MaxBatchSize-1)
}
