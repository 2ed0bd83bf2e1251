package protocol

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// decodeQuestion decodes a client message that must pass the envelope.
func decodeQuestion(t *testing.T, in string) ClientMsg {
	t.Helper()
	m, err := DecodeClientMsg([]byte(in))
	if err != nil {
		t.Fatalf("DecodeClientMsg(%s): %v", in, err)
	}
	return m
}

func TestParseExplain(t *testing.T) {
	tests := []struct {
		name, in string
		want     ExplainRequest
		err      string // a part of the error; "" for none
	}{
		{"full", `{"type":"explain","v":1,"id":7,"layer":3,"tensor":"dX","index":[0,5,5],"sample":2,"probe":false,"limit":100}`,
			ExplainRequest{Layer: 3, Tensor: "dX", Index: []int{0, 5, 5}, Sample: 2, Limit: 100}, ""},
		{"defaults", `{"type":"explain","layer":0,"tensor":"Y","index":[1,2,3]}`,
			ExplainRequest{Layer: 0, Tensor: "Y", Index: []int{1, 2, 3}, Limit: DefaultExplainLimit}, ""},
		{"loss without index", `{"type":"explain","layer":-1,"tensor":"loss"}`,
			ExplainRequest{Layer: -1, Tensor: "loss", Index: []int{}, Limit: DefaultExplainLimit}, ""},
		{"probe", `{"type":"explain","layer":1,"tensor":"dY","index":[0,0,0],"probe":true,"limit":0}`,
			ExplainRequest{Layer: 1, Tensor: "dY", Index: []int{0, 0, 0}, Probe: true}, ""},
		{"sample probe", `{"type":"explain","layer":1,"tensor":"dY","index":[0,0,0],"sample":"probe"}`,
			ExplainRequest{Layer: 1, Tensor: "dY", Index: []int{0, 0, 0}, Probe: true, Limit: DefaultExplainLimit}, ""},
		{"max limit", `{"type":"explain","layer":0,"tensor":"dW","index":[0,0,0,0],"limit":4096}`,
			ExplainRequest{Layer: 0, Tensor: "dW", Index: []int{0, 0, 0, 0}, Limit: 4096}, ""},
		{"no layer", `{"type":"explain","tensor":"Y","index":[0]}`, ExplainRequest{}, "layer: required"},
		{"no tensor", `{"type":"explain","layer":0,"index":[0]}`, ExplainRequest{}, "tensor: required"},
		{"unknown tensor", `{"type":"explain","layer":0,"tensor":"Z","index":[0]}`, ExplainRequest{}, `tensor "Z" of layer 0`},
		{"loss tensor of a layer", `{"type":"explain","layer":0,"tensor":"p","index":[0]}`, ExplainRequest{}, `tensor "p"`},
		{"layer tensor of the loss", `{"type":"explain","layer":-1,"tensor":"Y","index":[0]}`, ExplainRequest{}, `tensor "Y" of layer -1`},
		{"layer below", `{"type":"explain","layer":-2,"tensor":"Y","index":[0]}`, ExplainRequest{}, "layer -2"},
		{"negative index", `{"type":"explain","layer":0,"tensor":"Y","index":[0,-1,0]}`, ExplainRequest{}, "index [0 -1 0]"},
		{"long index", `{"type":"explain","layer":0,"tensor":"Y","index":[0,0,0,0,0,0,0,0,0]}`, ExplainRequest{}, "at most 8"},
		{"limit over", `{"type":"explain","layer":0,"tensor":"Y","index":[0,0,0],"limit":4097}`, ExplainRequest{}, "limit 4097"},
		{"limit negative", `{"type":"explain","layer":0,"tensor":"Y","index":[0,0,0],"limit":-1}`, ExplainRequest{}, "limit -1"},
		{"bad sample", `{"type":"explain","layer":0,"tensor":"Y","index":[0,0,0],"sample":-3}`, ExplainRequest{}, "sample -3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decodeQuestion(t, tt.in)
			got, err := ParseExplain(&m)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseExplain(%s) error %v, want one with %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExplain(%s): %v", tt.in, err)
			}
			if got.Layer != tt.want.Layer || got.Tensor != tt.want.Tensor || !slices.Equal(got.Index, tt.want.Index) ||
				got.Index == nil || got.Sample != tt.want.Sample || got.Probe != tt.want.Probe || got.Limit != tt.want.Limit {
				t.Errorf("ParseExplain(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseWalkGradCheckLook(t *testing.T) {
	m := decodeQuestion(t, `{"type":"walk","v":1,"id":8,"layer":3,"grad":"dW","filter":2,"channel":1,"sample":0,"probe":true}`)
	w, err := ParseWalk(&m)
	if err != nil || w != (WalkRequest{Layer: 3, Grad: "dW", Filter: 2, Channel: 1, Probe: true}) {
		t.Errorf("ParseWalk = %+v, %v", w, err)
	}
	m = decodeQuestion(t, `{"type":"walk","layer":0,"grad":"dX"}`)
	if w, err = ParseWalk(&m); err != nil || w != (WalkRequest{Grad: "dX"}) {
		t.Errorf("ParseWalk defaults = %+v, %v", w, err)
	}
	m = decodeQuestion(t, `{"type":"gradcheck","v":1,"id":9,"layer":3,"param":"W","index":[1,2,3,4],"h":1e-4}`)
	g, err := ParseGradCheck(&m)
	if err != nil || g.Layer != 3 || g.Param != "W" || !slices.Equal(g.Index, []int{1, 2, 3, 4}) || g.H != 1e-4 {
		t.Errorf("ParseGradCheck = %+v, %v", g, err)
	}
	m = decodeQuestion(t, `{"type":"gradcheck","layer":0,"param":"b","index":[1]}`)
	if g, err = ParseGradCheck(&m); err != nil || g.H != 1e-5 {
		t.Errorf("ParseGradCheck default h = %+v, %v", g, err)
	}
	m = decodeQuestion(t, `{"type":"look","v":1,"id":10,"layer":3,"tensor":"dX","index":[0,5,5]}`)
	l, err := ParseLook(&m)
	if err != nil || l.Layer != 3 || l.Tensor != "dX" || !slices.Equal(l.Index, []int{0, 5, 5}) {
		t.Errorf("ParseLook = %+v, %v", l, err)
	}

	bad := []struct {
		in, err string
		parse   func(*ClientMsg) error
	}{
		{`{"type":"walk","grad":"dW"}`, "layer: required", walkErr},
		{`{"type":"walk","layer":0}`, "grad absent", walkErr},
		{`{"type":"walk","layer":0,"grad":"dY"}`, `grad "dY"`, walkErr},
		{`{"type":"walk","layer":0,"grad":"dW","sample":"x"}`, "sample", walkErr},
		{`{"type":"gradcheck","param":"W","index":[0]}`, "layer: required", gradErr},
		{`{"type":"gradcheck","layer":0,"index":[0]}`, "param absent", gradErr},
		{`{"type":"gradcheck","layer":0,"param":"X","index":[0]}`, `param "X"`, gradErr},
		{`{"type":"gradcheck","layer":0,"param":"W"}`, "index: required", gradErr},
		{`{"type":"gradcheck","layer":0,"param":"W","index":[0],"h":0}`, "h 0", gradErr},
		{`{"type":"gradcheck","layer":0,"param":"W","index":[0],"h":-1e-5}`, "h -1e-05", gradErr},
		{`{"type":"look","tensor":"Y","index":[0]}`, "layer: required", lookErr},
		{`{"type":"look","layer":0,"tensor":"nope","index":[0]}`, `tensor "nope"`, lookErr},
	}
	for _, tt := range bad {
		m := decodeQuestion(t, tt.in)
		if err := tt.parse(&m); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want one with %q", tt.in, err, tt.err)
		}
	}
}

func walkErr(m *ClientMsg) error { _, err := ParseWalk(m); return err }
func gradErr(m *ClientMsg) error { _, err := ParseGradCheck(m); return err }
func lookErr(m *ClientMsg) error { _, err := ParseLook(m); return err }

// TestDecodeQuestionTypes: the question types pass the envelope; a field
// of the wrong JSON type is invalid and names the field.
func TestDecodeQuestionTypes(t *testing.T) {
	for _, typ := range []string{TypeExplain, TypeWalk, TypeGradCheck, TypeLook} {
		if _, err := DecodeClientMsg([]byte(`{"type":"` + typ + `"}`)); err != nil {
			t.Errorf("type %s: %v", typ, err)
		}
	}
	for _, in := range []struct{ msg, field string }{
		{`{"type":"explain","id":1,"layer":"3"}`, "layer: want an integer"},
		{`{"type":"explain","id":1,"index":"0,5,5"}`, "index: want a list"},
		{`{"type":"explain","id":1,"index":[0,"5"]}`, "index: want an integer"},
		{`{"type":"explain","id":1,"index":[0,1.5]}`, "index: want an integer"},
		{`{"type":"explain","id":1,"limit":true}`, "limit: want an integer"},
		{`{"type":"explain","id":1,"tensor":3}`, "tensor: want a string"},
		{`{"type":"walk","id":1,"filter":"a"}`, "filter: want an integer"},
		{`{"type":"gradcheck","id":1,"h":"1e-5"}`, "h: want a number"},
		{`{"type":"gradcheck","id":1,"param":0}`, "param: want a string"},
	} {
		_, err := DecodeClientMsg([]byte(in.msg))
		var e *MsgError
		if !errors.As(err, &e) || e.Code != CodeInvalid || string(e.ID) != "1" || !strings.HasPrefix(e.Message, in.field) {
			t.Errorf("%s: error %v, want invalid %q…", in.msg, err, in.field)
		}
	}
}

// TestF64: full float64 precision, JSON as encoding/json writes float64,
// non-finite values as null (read back as NaN).
func TestF64(t *testing.T) {
	for _, v := range []float64{0, 1, -2.5, 0.1 + 0.2, 1e-7, -3.0000000000000004e-9, 1e21, 123456.789, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		got, _ := F64(v).MarshalJSON()
		want, _ := json.Marshal(v)
		if string(got) != string(want) {
			t.Errorf("F64(%v) = %s, want %s", v, got, want)
		}
		var back F64
		if err := json.Unmarshal(got, &back); err != nil || float64(back) != v {
			t.Errorf("F64 %s read back as %v, %v", got, back, err)
		}
	}
	s := F64s{1.5, math.NaN(), math.Inf(-1), 0.30000000000000004}
	b, err := json.Marshal(struct {
		S F64s `json:"s"`
		N F64s `json:"n"`
		V F64  `json:"v"`
	}{S: s, V: F64(math.Inf(1))})
	if want := `{"s":[1.5,null,null,0.30000000000000004],"n":null,"v":null}`; err != nil || string(b) != want {
		t.Fatalf("marshal = %s, %v; want %s", b, err, want)
	}
	var back struct {
		S F64s `json:"s"`
		V F64  `json:"v"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.S) != 4 || back.S[0] != 1.5 || !math.IsNaN(back.S[1]) || !math.IsNaN(back.S[2]) || back.S[3] != 0.30000000000000004 || !math.IsNaN(float64(back.V)) {
		t.Errorf("read back %+v", back)
	}
}

// TestExplanationEncodes: an explanation with a folded term list, a
// non-finite value, a one-operand term and no window encodes and decodes.
func TestExplanationEncodes(t *testing.T) {
	e := Explanation{Type: TypeExplanation, V: Version, ID: json.RawMessage("7"), Layer: 3, Name: "conv 2",
		Tensor: "dX", Index: []int{0, 5, 5}, Value: F64(math.NaN()), Sum: 0.5,
		Terms: []Term{
			{A: Operand{Name: "dY", Index: []int{1, 2, 3}, Value: 0.25}, B: &Operand{Name: "W", Index: []int{1, 0, 4, 4}, Value: 2},
				Product: 0.5, Rotated: []int{0, 0}, Dilated: []int{5, 5}},
			{A: Operand{Name: "b", Index: []int{1}, Value: 0.125}, Product: 0.125},
		},
		TermsTotal: 3200, Folded: 3198, FoldedSum: -0.125, Lines: []Quantity{}}
	b := Marshal(e)
	for _, part := range []string{`"type":"explanation","v":1,"id":7,"layer":3,"name":"conv 2","tensor":"dX","index":[0,5,5]`,
		`"value":null,"sum":0.5`, `"b":null`, `"switch":null,"rotated":[0,0],"dilated":[5,5]`,
		`"terms_total":3200,"folded":3198,"folded_sum":-0.125,"lines":[],"window":null,"batch":null,"update":null`} {
		if !strings.Contains(string(b), part) {
			t.Errorf("explanation %s lacks %s", b, part)
		}
	}
	var back Explanation
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(back.Value)) || len(back.Terms) != 2 || back.Terms[1].B != nil || back.Terms[0].B.Value != 2 || back.Folded != 3198 {
		t.Errorf("read back %+v", back)
	}
}

// TestNewKindsAppended: the per-sample gradients come after every older
// kind (their codes are new), and the default subscription leaves them out.
func TestNewKindsAppended(t *testing.T) {
	n := len(Kinds)
	if Kinds[n-2] != KindSWGrad || Kinds[n-1] != KindSBGrad || slices.Index(Kinds, KindSwitch) != 10 {
		t.Errorf("Kinds = %v: want swgrad and sbgrad appended after switch (code 10)", Kinds)
	}
	for _, k := range []string{KindSWGrad, KindSBGrad, KindGradIn} {
		if DefaultKinds.Has(k) {
			t.Errorf("DefaultKinds has %s", k)
		}
	}
	if !DefaultKinds.Has(KindWGrad) {
		t.Errorf("DefaultKinds lacks wgrad")
	}
	sw, _ := KindBit(KindSWGrad)
	sb, _ := KindBit(KindSBGrad)
	for _, tt := range []struct {
		sub  Subscription
		want bool
	}{
		{DefaultSubscription(), false},
		{Subscription{Kinds: DefaultKinds | sw}, true},
		{Subscription{Layers: []LayerSub{{Layer: 0, Kinds: DefaultKinds}}}, false},
		{Subscription{Layers: []LayerSub{{Layer: 0, Kinds: DefaultKinds}, {Layer: 3, Kinds: sb}}}, true},
	} {
		if got := tt.sub.Shares(); got != tt.want {
			t.Errorf("%+v.Shares() = %v, want %v", tt.sub, got, tt.want)
		}
	}
}

// TestFrameCarriesShares: swgrad and sbgrad are written after a layer's
// other kinds when subscribed, and not by default.
func TestFrameCarriesShares(t *testing.T) {
	tr := testTrace()
	tr.Layers[0].SampleGradWeights = &engine.Tensor{Shape: []int{1, 1, 1, 3}, Data: []float64{0.5, -0.25, 1e-3}}
	tr.Layers[0].SampleGradBias = &engine.Tensor{Shape: []int{1}, Data: []float64{0.75}}
	var enc FrameEncoder
	def := DefaultSubscription()
	b, err := enc.Encode(tr, &def, FrameMeta{Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	f, err := DecodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Tensor(0, KindSWGrad) != nil || f.Tensor(0, KindSBGrad) != nil {
		t.Errorf("default subscription carries the shares")
	}
	sub, err := ParseSubscription(&ClientMsg{Layers: json.RawMessage(`[{"layer":0,"kinds":["swgrad","sbgrad","weights"]}]`)})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = enc.Encode(tr, &sub, FrameMeta{Exact: true}); err != nil {
		t.Fatal(err)
	}
	if f, err = DecodeFrame(b); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ft := range f.Tensors {
		kinds = append(kinds, ft.Kind)
	}
	if !slices.Equal(kinds, []string{KindWeights, KindSWGrad, KindSBGrad}) {
		t.Fatalf("kinds %v, want weights, swgrad, sbgrad", kinds)
	}
	sw := f.Tensor(0, KindSWGrad)
	if !slices.Equal(sw.Shape, []int{1, 1, 1, 3}) || sw.F32[1] != -0.25 || f.Tensor(0, KindSBGrad).F32[0] != 0.75 {
		t.Errorf("swgrad %+v", sw)
	}
}
