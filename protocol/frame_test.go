package protocol

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

func testTrace() *engine.Trace {
	return &engine.Trace{
		Step: 3, Started: true, Sample: 1, Index: 42, Label: 2, Prediction: 1,
		Probs: []float64{0.25, 0.5, 0.25}, Loss: 1.3862943611198906, BatchLoss: 0.1,
		Input: &engine.Tensor{Shape: []int{1, 2, 2}, Data: []float64{0, 0.5, 1, 0.25}},
		Layers: []engine.LayerTrace{
			{Index: 0, Kind: "conv", OutShape: engine.Shape{1, 2, 2},
				Output:     &engine.Tensor{Shape: []int{1, 2, 2}, Data: []float64{-1.5, 0.1, 3, 1e-9}},
				GradOutput: &engine.Tensor{Shape: []int{1, 2, 2}, Data: []float64{1e-7, -2e-7, math.NaN(), math.Inf(1)}},
				Weights:    &engine.Tensor{Shape: []int{1, 1, 1, 3}, Data: []float64{0.1, 0.2, 0.30000000000000004}},
			},
			{Index: 1, Kind: "maxpool", OutShape: engine.Shape{1, 1, 1},
				Output:   &engine.Tensor{Shape: []int{1, 1, 1}, Data: []float64{3}},
				Switches: []int32{2},
			},
		},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	tr := testTrace()
	sub := DefaultSubscription()
	var enc FrameEncoder
	for _, exact := range []bool{true, false} {
		b, err := enc.Encode(tr, &sub, FrameMeta{Seq: 9, Exact: exact, Next: &Phase{Kind: "update", Layer: -1, Label: "update"}})
		if err != nil {
			t.Fatal(err)
		}
		hlen := binary.LittleEndian.Uint32(b[4:])
		if string(b[:4]) != "BPV1" || (8+hlen)%4 != 0 {
			t.Fatalf("exact=%v: magic %q, payload at %d, want a multiple of 4", exact, b[:4], 8+hlen)
		}
		f, err := DecodeFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		h := f.Header
		if h.Seq != 9 || h.Step != 3 || h.Exact != exact || h.Index != 42 || *h.Prediction != 1 || float32(*h.Loss) != float32(tr.Loss) || len(h.Probs) != 3 {
			t.Fatalf("exact=%v: header %+v", exact, h)
		}
		if len(f.Tensors) != 6 { // input, act, grad, weights, act, switch
			t.Fatalf("exact=%v: %d tensors, want 6", exact, len(f.Tensors))
		}
		for _, ft := range f.Tensors {
			if ft.Offset%4 != 0 {
				t.Errorf("tensor %d:%s at offset %d", ft.Layer, ft.Kind, ft.Offset)
			}
		}
		sw := f.Tensor(1, KindSwitch)
		if sw.Enc != EncI32 || sw.I32[0] != 2 {
			t.Errorf("switches %+v", sw)
		}
		g := f.Tensor(0, KindGrad)
		if g.Nonfinite != 2 || float32(*g.Min) != -2e-7 || float32(*g.Max) != 1e-7 {
			t.Errorf("grad min %v max %v nonfinite %d, want -2e-7, 1e-7, 2", *g.Min, *g.Max, g.Nonfinite)
		}
		for _, tc := range []struct {
			layer int
			kind  string
			src   []float64
		}{
			{-1, KindInput, tr.Input.Data},
			{0, KindAct, tr.Layers[0].Output.Data},
			{0, KindGrad, tr.Layers[0].GradOutput.Data},
			{0, KindWeights, tr.Layers[0].Weights.Data},
		} {
			ft := f.Tensor(tc.layer, tc.kind)
			for k, v := range tc.src {
				got := ft.F32[k]
				if exact {
					if ft.Enc != EncF32 || (got != float32(v) && !math.IsNaN(v)) {
						t.Errorf("f32 %d:%s[%d] = %v, want %v", tc.layer, tc.kind, k, got, float32(v))
					}
					continue
				}
				if ft.Enc != EncQ8 {
					t.Fatalf("q8 frame: %d:%s enc %s", tc.layer, tc.kind, ft.Enc)
				}
				scale := float64(*ft.Scale)
				switch {
				case math.IsNaN(v):
					if got != 0 {
						t.Errorf("q8 NaN decodes to %v, want 0", got)
					}
				case math.IsInf(v, 1):
					if float64(got) != scale*127/127 {
						t.Errorf("q8 +Inf decodes to %v, want scale %v", got, scale)
					}
				case math.Abs(float64(got)-v) > scale/254*1.0001:
					t.Errorf("q8 %d:%s[%d] = %v, want %v ± %v", tc.layer, tc.kind, k, got, v, scale/254)
				}
			}
		}
		// Small gradients use the full range: the scale is their own max.
		if !exact && float32(*g.Scale) != 2e-7 {
			t.Errorf("grad scale %v, want 2e-7", *g.Scale)
		}
	}
}

func TestFrameSubscriptionFilter(t *testing.T) {
	tr := testTrace()
	tests := []struct {
		name  string
		sub   Subscription
		count int
	}{
		{"layer 0 only", Subscription{Layers: []LayerSub{{Layer: 0, Kinds: DefaultKinds}}}, 3},
		{"input only", Subscription{Layers: []LayerSub{{Layer: -1, Kinds: DefaultKinds}}}, 1},
		{"switches only", Subscription{Kinds: mask(KindSwitch)}, 1},
		{"nothing", Subscription{}, 0},
	}
	var enc FrameEncoder
	for _, tt := range tests {
		b, err := enc.Encode(tr, &tt.sub, FrameMeta{Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		f, err := DecodeFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Tensors) != tt.count {
			t.Errorf("%s: %d tensors, want %d", tt.name, len(f.Tensors), tt.count)
		}
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	var enc FrameEncoder
	sub := DefaultSubscription()
	good, err := enc.Encode(testTrace(), &sub, FrameMeta{Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("XXXX"), good[4:]...)},
		{"header past end", append(append([]byte{}, good[:4]...), 0xff, 0xff, 0, 0)},
		{"truncated payload", good[:len(good)-4]},
	}
	for _, tt := range tests {
		if _, err := DecodeFrame(tt.b); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func mask(kinds ...string) KindMask {
	m, err := MaskOf(kinds...)
	if err != nil {
		panic(err)
	}
	return m
}
