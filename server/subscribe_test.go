package server

import (
	"slices"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// TestSubscribeChannelRange subscribes to ranges of channels over a real
// websocket: each frame carries only the tensors and channels asked for,
// with the shape of the slice, and its numbers are the engine's.
func TestSubscribeChannelRange(t *testing.T) {
	const spec = "conv(4,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&seed=3&batch=2&spec="+strings.ReplaceAll(spec, " ", "+"))
	c.expect("welcome", nil)
	c.frame()
	cfg := engine.Config{Spec: spec, Seed: 3, Hyper: engine.DefaultHyper()}
	cfg.Hyper.BatchSize = 2
	ref := shapesTrainer(t, srv, cfg)
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch: %+v", r)
	}
	c.frame() // the step's frame, before any subscribe
	if err := ref.StepBatch(); err != nil {
		t.Fatal(err)
	}
	tr := ref.Trace(engine.TraceOptions{})

	// want is one tensor a frame must carry: values of channels [from, to)
	// (to == 0: the whole tensor, no "channels" in the entry).
	type want struct {
		layer    int
		kind     string
		from, to int
	}
	tests := []struct {
		name   string
		layers any
		kinds  []string
		want   []want
	}{
		{"one range, two kinds",
			[]any{map[string]any{"layer": 0, "kinds": []string{"act", "grad"}, "channels": []int{1, 3}}}, nil,
			[]want{{0, protocol.KindAct, 1, 3}, {0, protocol.KindGrad, 1, 3}}},
		{"old form beside a range cut to the tensor",
			[]any{-1, map[string]any{"layer": 2, "kinds": []string{"switch", "act"}, "channels": []int{2, 9}}}, []string{"input", "weights"},
			[]want{{-1, protocol.KindInput, 0, 0}, {2, protocol.KindAct, 2, 4}, {2, protocol.KindSwitch, 2, 4}}},
		{"all channels: no channels field",
			[]any{map[string]any{"layer": 1, "kinds": []string{"grad"}, "channels": []int{0, 4}}}, nil,
			[]want{{1, protocol.KindGrad, 0, 0}}},
		{"two ranges of one layer: the range covering both",
			[]any{map[string]any{"layer": 0, "kinds": []string{"act"}, "channels": []int{0, 1}},
				map[string]any{"layer": 0, "kinds": []string{"act"}, "channels": []int{2, 3}}}, nil,
			[]want{{0, protocol.KindAct, 0, 3}}},
		{"weights are never cut",
			[]any{map[string]any{"layer": 0, "kinds": []string{"weights", "wgrad"}, "channels": []int{0, 1}}}, nil,
			[]want{{0, protocol.KindWeights, 0, 0}, {0, protocol.KindWGrad, 0, 0}}},
		{"nothing", []any{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := map[string]any{"type": "subscribe", "exact": true, "layers": tt.layers}
			if tt.kinds != nil {
				msg["kinds"] = tt.kinds
			}
			if r := c.reply(c.send(msg)); r.Type != "ack" {
				t.Fatalf("subscribe: %+v", r)
			}
			f := c.frame()
			if len(f.Tensors) != len(tt.want) {
				var got []string
				for _, ft := range f.Tensors {
					got = append(got, itoa(ft.Layer)+":"+ft.Kind)
				}
				t.Fatalf("frame has tensors %v, want %d: %+v", got, len(tt.want), tt.want)
			}
			for _, w := range tt.want {
				ft := f.Tensor(w.layer, w.kind)
				if ft == nil {
					t.Fatalf("frame lacks %d:%s", w.layer, w.kind)
				}
				var full *engine.Tensor
				var sw []int32
				shape := []int(nil)
				switch {
				case w.layer == -1:
					full = tr.Input
				case w.kind == protocol.KindAct:
					full = tr.Layers[w.layer].Output
				case w.kind == protocol.KindGrad:
					full = tr.Layers[w.layer].GradOutput
				case w.kind == protocol.KindWeights:
					full = tr.Layers[w.layer].Weights
				case w.kind == protocol.KindWGrad:
					full = tr.Layers[w.layer].GradWeights
				case w.kind == protocol.KindSwitch:
					sw, shape = tr.Layers[w.layer].Switches, tr.Layers[w.layer].OutShape
				}
				if full != nil {
					shape = full.Shape
				}
				lo, hi := 0, 1
				for _, d := range shape {
					hi *= d
				}
				wantShape := shape
				if w.to > 0 {
					plane := shape[1] * shape[2]
					lo, hi = w.from*plane, w.to*plane
					wantShape = []int{w.to - w.from, shape[1], shape[2]}
					if !slices.Equal(ft.Channels, []int{w.from, w.to}) {
						t.Errorf("%d:%s channels %v, want [%d %d]", w.layer, w.kind, ft.Channels, w.from, w.to)
					}
				} else if ft.Channels != nil {
					t.Errorf("%d:%s channels %v, want none (all)", w.layer, w.kind, ft.Channels)
				}
				if !slices.Equal(ft.Shape, wantShape) {
					t.Errorf("%d:%s shape %v, want %v", w.layer, w.kind, ft.Shape, wantShape)
				}
				if sw != nil {
					if !slices.Equal(ft.I32, sw[lo:hi]) {
						t.Errorf("%d:switch = %v, want %v", w.layer, ft.I32, sw[lo:hi])
					}
					continue
				}
				vals := full.Data[lo:hi]
				if ft.Enc != protocol.EncF32 || len(ft.F32) != len(vals) {
					t.Fatalf("%d:%s: enc %s, %d values, want f32, %d", w.layer, w.kind, ft.Enc, len(ft.F32), len(vals))
				}
				for k, v := range vals {
					if ft.F32[k] != float32(v) {
						t.Fatalf("%d:%s[%d] = %v, want float32(%v)", w.layer, w.kind, k, ft.F32[k], v)
					}
				}
				// extremes are of the whole tensor, whatever the range
				lo32, hi32 := float32(slices.Min(full.Data)), float32(slices.Max(full.Data))
				if ft.Min == nil || ft.Max == nil || float32(*ft.Min) != lo32 || float32(*ft.Max) != hi32 {
					t.Errorf("%d:%s min/max %v/%v, want the whole tensor's %v/%v", w.layer, w.kind, ft.Min, ft.Max, lo32, hi32)
				}
			}
		})
	}

	// A malformed range is refused and changes nothing.
	r := c.reply(c.send(map[string]any{"type": "subscribe", "layers": []any{map[string]any{"layer": 0, "channels": []int{3, 1}}}}))
	if r.Type != "error" || r.Code != protocol.CodeInvalid {
		t.Errorf("channels [3, 1]: reply %+v, want error invalid", r)
	}
}

// TestTracePartsFrames wants the frame of a trace that skips what a
// subscription does not read and borrows the trainer's buffers (what the
// session encodes) byte for byte the frame of the full, copied trace, for
// every kind alone, the default, per-layer selections and the probe, at
// every phase of a step.
func TestTracePartsFrames(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	cfg := engine.Config{Spec: "conv(4,3,s1,p1) relu maxpool(2,s2,p0) dense(5)", Seed: 3, Hyper: engine.DefaultHyper()}
	cfg.Hyper.BatchSize = 2
	ref := shapesTrainer(t, srv, cfg)
	subs := []protocol.Subscription{protocol.DefaultSubscription(), {Kinds: protocol.DefaultKinds, Probe: true}, {Sample: 1, Layers: []protocol.LayerSub{{Layer: 0, Kinds: 1 << 1, From: 1, To: 2}, {Layer: 2, Kinds: 1<<4 | 1<<10}}}}
	for code := range protocol.Kinds {
		subs = append(subs, protocol.Subscription{Kinds: 1 << code, Sample: 1})
	}
	var full, cheap protocol.FrameEncoder
	if err := ref.StepBatch(); err != nil {
		t.Fatal(err)
	}
	for range 2*len(ref.Layers()) + 2 {
		for _, sub := range subs {
			opt := engine.TraceOptions{Sample: sub.Sample, Probe: sub.Probe, Shares: sub.Shares()}
			want, err := full.Encode(ref.Trace(opt), &sub, protocol.FrameMeta{Exact: true})
			if err != nil {
				t.Fatal(err)
			}
			opt.Skip, opt.Borrow = ^sub.TraceParts(), true
			got, err := cheap.Encode(ref.Trace(opt), &sub, protocol.FrameMeta{Exact: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("after %v, subscription %s: the frame of the skipping trace differs from the full trace's", ref.Next(), sub.Key())
			}
		}
		if _, err := ref.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
	if p := (&protocol.Subscription{Kinds: 1 << 1}).TraceParts(); p != engine.TraceMaps {
		t.Errorf("act alone reads parts %b, want the maps %b", p, engine.TraceMaps)
	}
}
