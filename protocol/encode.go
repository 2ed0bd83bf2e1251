package protocol

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/backpropviz/backpropviz/engine"
)

// FrameEncoder writes traces as frames. It keeps its scratch space between
// calls; it is not safe for concurrent use.
type FrameEncoder struct {
	srcs    []frameSrc
	entries []TensorEntry
	cache   statsCache // colour-scale statistics of recent traces' tensors
	seq     uint64     // the publication the cache holds (FrameMeta.Seq)
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
	if meta.Seq != e.seq {
		// a new publication: a borrowed trace's tensors are the trainer's
		// own, the same addresses with new values
		e.cache.forget()
		e.seq = meta.Seq
	}
	e.cache.use(tr)
	off := 0
	add := func(layer int, kind string, shape []int, t *engine.Tensor, i []int32) {
		var f []float64
		if t != nil {
			f = t.Data
		}
		from, to, ok := sub.Want(layer, kind)
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
				ent.Min, ent.Max = F32Of(lo), F32Of(hi)
			}
		} else {
			lo, hi, bad = stats(f)
			if bad < len(f) {
				ent.Min, ent.Max = F32Of(lo), F32Of(hi)
			}
			ent.Nonfinite = bad
		}
		var st *tensorStats
		if f != nil {
			st = e.cache.get(t, sub.MapStats)
			whole := st.whole
			ent.Stats = &whole
		}
		mapFrom, mapTo := 0, math.MaxInt // the maps carried
		if to > 0 && Sliced(kind, shape) {
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
				mapFrom, mapTo = from, to
			}
		}
		if st != nil {
			ent.Flat, ent.Maps = st.carried(mapFrom, mapTo, sub.MapStats)
		}
		switch {
		case i != nil:
			ent.Length = 4 * len(i)
		case meta.Exact:
			ent.Enc, ent.Length = EncF32, 4*len(f)
		default:
			ent.Enc, ent.Length = EncQ8, len(f)
			ent.Scale = F32Of(max(-lo, hi, 0))
		}
		off += (ent.Length + 3) &^ 3
		e.entries = append(e.entries, ent)
		e.srcs = append(e.srcs, frameSrc{f: f, i: i})
	}
	tensor := func(layer int, kind string, t *engine.Tensor) {
		if t != nil {
			add(layer, kind, t.Shape, t, nil)
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
		tensor(i, KindSWGrad, lt.SampleGradWeights)
		tensor(i, KindSBGrad, lt.SampleGradBias)
	}

	h := FrameHeader{
		Seq: meta.Seq, Step: tr.Step, Epoch: tr.Epoch, Done: meta.Done, Next: meta.Next,
		Keyframe: meta.Keyframe, Exact: meta.Exact, Probe: tr.Probe,
		Sample: tr.Sample, Index: tr.Index, Label: tr.Label, Tensors: e.entries,
		History: meta.History,
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
	copy(out, Magic)
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
// zero; NaN is 0 and ±Inf ±127. A value within the scale, nearly every
// one, is rounded without a branch on its sign (a gradient's signs are
// random: a branch on them is mispredicted half the time); TestQuantize
// holds it to the plain comparisons.
func quantize(dst []byte, xs []float64, scale *F32) {
	s := 0.0
	if scale != nil && *scale > 0 {
		s = 127 / float64(*scale)
	}
	dst = dst[:len(xs)]
	for j, v := range xs {
		q := v * s
		if math.Abs(q) < 127 {
			dst[j] = byte(int8(q + math.Copysign(0.5, q)))
			continue
		}
		switch {
		case q >= 127: // the maximum, or +Inf
			dst[j] = 127
		case q <= -127:
			dst[j] = byte(0x81) // −127
		default: // NaN
			dst[j] = 0
		}
	}
}
