package server

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// The tiny network's layers: conv 1 (0), relu 1 (1), maxpool 1 (2),
// dense 1 (3).
const tinyQuery = "data=shapes&seed=7&batch=4&spec=conv(2,3,s1,p1)+relu+maxpool(2,s2,p0)+dense(5)"

// tinyConfig is the configuration tinyQuery asks for.
func tinyConfig() engine.Config {
	cfg := engine.Config{Spec: tinySpec, Seed: 7, Hyper: engine.DefaultHyper()}
	cfg.Hyper.BatchSize = 4
	return cfg
}

// answer reads until the message (of any type) that answers request id,
// decodes it into v (if not nil) and returns its type and text.
func (c *wsClient) answer(id int, v any) (string, []byte) {
	c.t.Helper()
	for range 10000 {
		m := c.next()
		if m.frame != nil {
			continue
		}
		var h struct {
			ID json.RawMessage `json:"id"`
		}
		json.Unmarshal(m.raw, &h)
		if string(h.ID) != itoa(id) {
			continue
		}
		if v != nil {
			if err := json.Unmarshal(m.raw, v); err != nil {
				c.t.Fatalf("decode %s: %v", m.raw, err)
			}
		}
		return m.typ, m.raw
	}
	c.t.Fatalf("no answer to %d", id)
	return "", nil
}

// mustAnswer sends a question and fails unless it is answered with a
// message of type typ, decoded into v.
func (c *wsClient) mustAnswer(msg map[string]any, typ string, v any) {
	c.t.Helper()
	id := c.send(msg)
	if got, raw := c.answer(id, v); got != typ {
		c.t.Fatalf("%v: answered %s, want %s", msg, raw, typ)
	}
}

// mustRefuse sends a question and fails unless it is refused with code and
// a message containing part.
func (c *wsClient) mustRefuse(msg map[string]any, code, part string) {
	c.t.Helper()
	id := c.send(msg)
	var r protocol.Reply
	if typ, raw := c.answer(id, &r); typ != "error" || r.Code != code || !strings.Contains(r.Message, part) {
		c.t.Errorf("%v: answered %s, want error %s with %q", msg, raw, code, part)
	}
}

// stepBatch sends step_batch and waits for its ack and frame.
func (c *wsClient) stepBatch() {
	c.t.Helper()
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		c.t.Fatalf("step_batch: %+v", r)
	}
	c.frame()
}

// subscribeAll subscribes to every kind of every layer of sample 1, exact,
// and returns the keyframe that answers it.
func (c *wsClient) subscribeAll() *protocol.Frame {
	c.t.Helper()
	c.reply(c.send(map[string]any{"type": "subscribe", "sample": 1, "exact": true, "kinds": protocol.Kinds}))
	for {
		if f := c.frame(); f.Header.Keyframe {
			return f
		}
	}
}

func sameF64(a protocol.F64, b float64) bool {
	return math.Float64bits(float64(a)) == math.Float64bits(b)
}

// TestExplain asks a lab how numbers were computed and checks the answers
// against a trainer stepped the same way: values and sums bit for bit, all
// terms in the engine's order under the limit, the largest ones and the
// folded sum over it.
func TestExplain(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, tinyQuery)
	c.expect("welcome", nil)
	c.stepBatch()
	ref := shapesTrainer(t, srv, tinyConfig())
	if err := ref.StepBatch(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q     engine.ExplainQuery
		limit int
	}{
		{engine.ExplainQuery{Layer: 0, Tensor: "Y", Index: []int{1, 5, 6}, Sample: 2}, 256},
		{engine.ExplainQuery{Layer: 0, Tensor: "dW", Index: []int{1, 0, 2, 1}, Sample: 1}, 256},
		{engine.ExplainQuery{Layer: 0, Tensor: "dW", Index: []int{1, 0, 2, 1}, Sample: 1}, 5},
		{engine.ExplainQuery{Layer: 0, Tensor: "dX", Index: []int{0, 3, 4}}, 0},
		{engine.ExplainQuery{Layer: 2, Tensor: "dY", Index: []int{0, 1, 1}, Sample: 3}, 256},
		{engine.ExplainQuery{Layer: 3, Tensor: "updateW", Index: []int{2, 7}}, 256},
		{engine.ExplainQuery{Layer: -1, Tensor: "loss", Sample: 1}, 256},
		{engine.ExplainQuery{Layer: -1, Tensor: "p", Index: []int{3}, Probe: true}, 256},
	}
	for _, tt := range tests {
		q := tt.q
		want, err := ref.Explain(q)
		if err != nil {
			t.Fatal(err)
		}
		msg := map[string]any{"type": "explain", "layer": q.Layer, "tensor": q.Tensor, "sample": q.Sample, "probe": q.Probe, "limit": tt.limit}
		if q.Index != nil {
			msg["index"] = q.Index
		}
		var got protocol.Explanation
		c.mustAnswer(msg, "explanation", &got)
		if got.Layer != want.Layer || got.Name != want.Name || got.Tensor != want.Tensor || !slices.Equal(got.Index, nonNilInts(want.Index)) ||
			got.Sample != want.Sample || got.Probe != want.Probe || got.Step != 1 || got.Formula != want.Formula || got.Note != want.Note {
			t.Errorf("%+v: answered %s %s %v sample %d step %d formula %q", q, got.Name, got.Tensor, got.Index, got.Sample, got.Step, got.Formula)
		}
		if !sameF64(got.Value, want.Value) || !sameF64(got.Sum, want.Sum) || got.TermsTotal != len(want.Terms) {
			t.Errorf("%+v: value %v sum %v of %d terms, want %v, %v of %d", q, got.Value, got.Sum, got.TermsTotal, want.Value, want.Sum, len(want.Terms))
		}
		terms, folded, foldedSum := want.Terms, 0, 0.0
		if len(terms) > tt.limit {
			f := want.Largest(tt.limit)
			terms, folded, foldedSum = f.Top, f.Folded, f.FoldedSum
		}
		if len(got.Terms) != len(terms) || got.Folded != folded || !sameF64(got.FoldedSum, foldedSum) {
			t.Fatalf("%+v: %d terms, %d folded (%v), want %d, %d (%v)", q, len(got.Terms), got.Folded, got.FoldedSum, len(terms), folded, foldedSum)
		}
		for k, w := range terms {
			g := got.Terms[k]
			if g.A.Name != w.A.Name || !slices.Equal(g.A.Index, w.A.Index) || !sameF64(g.A.Value, w.A.Value) || !sameF64(g.Product, w.Product) ||
				(g.B == nil) != (w.B.Name == "") || g.Padding != w.Padding || g.Winner != w.Winner ||
				!slices.Equal(g.Rotated, w.Rotated) || !slices.Equal(g.Dilated, w.Dilated) || !slices.Equal(g.Switch, w.Switch) {
				t.Fatalf("%+v: term %d = %+v, want %+v", q, k, g, w)
			}
			if g.B != nil && (g.B.Name != w.B.Name || !sameF64(g.B.Value, w.B.Value)) {
				t.Fatalf("%+v: term %d b = %+v, want %+v", q, k, g.B, w.B)
			}
		}
		if (got.Window == nil) != (want.Window == nil) || (got.Batch == nil) != (want.Batch == nil) || (got.Update == nil) != (want.Update == nil) || len(got.Lines) != len(want.Lines) {
			t.Errorf("%+v: window %v batch %v update %v lines %d", q, got.Window, got.Batch, got.Update, len(got.Lines))
		}
		if want.Batch != nil && (got.Batch.N != want.Batch.N || !slices.Equal(got.Batch.Shares, want.Batch.Shares)) {
			t.Errorf("%+v: batch %+v, want %+v", q, got.Batch, want.Batch)
		}
		if want.Update != nil && (!sameF64(got.Update.After, want.Update.After) || got.Update.Optimizer != want.Update.Optimizer) {
			t.Errorf("%+v: update %+v, want %+v", q, got.Update, want.Update)
		}
	}
}

// TestQuestionErrors: malformed questions and questions the step cannot
// answer yet are refused as invalid with the engine's reason.
func TestQuestionErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxQuestions: 1000})
	c := dial(t, ts, tinyQuery)
	c.expect("welcome", nil)
	explain := func(kv ...any) map[string]any {
		m := map[string]any{"type": "explain"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	// before the first phase the page shows the probe's forward pass: its
	// numbers are explained, the rest refused with the reason
	var pre protocol.Explanation
	c.mustAnswer(explain("layer", 0, "tensor", "Y", "index", []int{0, 0, 0}), "explanation", &pre)
	if !pre.Probe || !strings.Contains(pre.Note, "preview") {
		t.Errorf("Y of conv 1 before the first phase: probe %v, note %q; want the preview's, said so", pre.Probe, pre.Note)
	}
	c.mustRefuse(explain("layer", 0, "tensor", "dX", "index", []int{0, 0, 0}), "invalid", "no step has started")
	c.mustRefuse(map[string]any{"type": "walk", "layer": 0, "grad": "dW"}, "invalid", "not computed yet")
	c.mustRefuse(map[string]any{"type": "gradcheck", "layer": 0, "param": "W", "index": []int{0, 0, 0, 0}}, "invalid", "not computed yet")
	for range 3 { // forward of every layer but the last
		c.reply(c.cmd("step_phase", nil))
	}
	c.mustRefuse(explain("layer", 3, "tensor", "Y", "index", []int{0}), "invalid", "forward · dense 1 has not run")
	c.mustRefuse(explain("layer", 1, "tensor", "dX", "index", []int{0, 0, 0}), "invalid", "backward · relu 1 has not run")
	c.stepBatch()
	for _, tt := range []struct {
		msg  map[string]any
		code string
		part string
	}{
		{explain("layer", 0, "tensor", "Y", "index", []int{2, 0, 0}), "invalid", "outside Y of conv 1"},
		{explain("layer", 0, "tensor", "Y", "index", []int{0, 0}), "invalid", "want 3 indices"},
		{explain("layer", 1, "tensor", "dW", "index", []int{0}), "invalid", "relu 1 has no parameters"},
		{explain("layer", 4, "tensor", "Y", "index", []int{0}), "invalid", "layers 0 … 3"},
		{explain("layer", 0, "tensor", "Y", "index", []int{0, 0, 0}, "sample", 4), "invalid", "the batch has samples 0 … 3"},
		{explain("layer", 0, "tensor", "Q", "index", []int{0, 0, 0}), "invalid", `tensor "Q"`},
		{explain("layer", 0, "tensor", "Y", "index", []int{0, 0, 0}, "limit", 4097), "invalid", "limit 4097"},
		{explain("layer", 0, "tensor", "Y", "index", "0,0,0"), "invalid", "index: want a list"},
		{explain("layer", "0", "tensor", "Y"), "invalid", "layer: want an integer"},
		{explain("tensor", "Y"), "invalid", "layer: required"},
		{map[string]any{"type": "walk", "layer": 1, "grad": "dW"}, "invalid", "relu 1 is a relu layer"},
		{map[string]any{"type": "walk", "layer": 0, "grad": "dW", "filter": 2}, "invalid", "filter 2 of conv 1"},
		{map[string]any{"type": "walk", "layer": 0, "grad": "dZ"}, "invalid", `grad "dZ"`},
		{map[string]any{"type": "gradcheck", "layer": 0, "param": "W", "index": []int{0, 0, 0, 0}, "h": 0}, "invalid", "h 0"},
		{map[string]any{"type": "gradcheck", "layer": 0, "param": "W", "index": []int{0, 0, 3, 0}}, "invalid", "outside W of conv 1"},
		{map[string]any{"type": "gradcheck", "layer": 2, "param": "b", "index": []int{0}}, "invalid", "maxpool 1 has no parameters"},
		{map[string]any{"type": "gradcheck", "layer": 0, "param": "W", "index": []int{0, 0, 0, 0}, "h": "x"}, "invalid", "h: want a number"},
		{map[string]any{"type": "look", "layer": 0, "tensor": "dW", "index": []int{9, 0, 0, 0}}, "invalid", "outside dW of conv 1"},
	} {
		c.mustRefuse(tt.msg, tt.code, tt.part)
	}
	// the connection still answers
	if r := c.reply(c.send(map[string]any{"type": "ping"})); r.Type != "pong" {
		t.Fatalf("ping after refusals: %+v", r)
	}
}

// TestWalk: the walk-through of conv 1 is the engine's, its dW result is
// the per-sample share the frames' swgrad carries, its dX result the
// frames' gradin.
func TestWalk(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, tinyQuery)
	c.expect("welcome", nil)
	c.stepBatch()
	ref := shapesTrainer(t, srv, tinyConfig())
	if err := ref.StepBatch(); err != nil {
		t.Fatal(err)
	}
	id := c.send(map[string]any{"type": "subscribe", "sample": 2, "exact": true,
		"layers": []any{map[string]any{"layer": 0, "kinds": []string{"swgrad", "sbgrad", "gradin", "wgrad"}}}})
	c.reply(id)
	f := c.frame()
	sw, sb, gradin := f.Tensor(0, protocol.KindSWGrad), f.Tensor(0, protocol.KindSBGrad), f.Tensor(0, protocol.KindGradIn)
	if sw == nil || sb == nil || gradin == nil || !slices.Equal(sw.Shape, []int{2, 1, 3, 3}) || !slices.Equal(sb.Shape, []int{2}) {
		t.Fatalf("frame tensors %+v", f.Header.Tensors)
	}
	shares, err := ref.SampleShare(0, engine.TraceOptions{Sample: 2})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range shares[0].Data {
		if sw.F32[k] != float32(v) {
			t.Fatalf("swgrad[%d] = %v, want float32 of the share %v", k, sw.F32[k], v)
		}
	}
	for _, tt := range []struct {
		grad    string
		f, ch   int
		result  []float64
		sample  int
		probe   bool
		results int
	}{
		{"dW", 1, 0, shares[0].Data[9:18], 2, false, 9},
		{"dX", 1, 0, nil, 2, false, 144},
		{"dX", 0, 0, nil, 0, true, 144},
	} {
		want, err := ref.WalkConv(0, tt.grad, tt.f, tt.ch, engine.TraceOptions{Sample: tt.sample, Probe: tt.probe})
		if err != nil {
			t.Fatal(err)
		}
		var got protocol.Walkthrough
		c.mustAnswer(map[string]any{"type": "walk", "layer": 0, "grad": tt.grad, "filter": tt.f, "channel": tt.ch, "sample": tt.sample, "probe": tt.probe}, "walkthrough", &got)
		if got.Name != "conv 1" || got.Grad != tt.grad || got.Filter != tt.f || got.Channel != tt.ch || got.Probe != tt.probe ||
			got.KH != 3 || got.KW != 3 || got.Stride != 1 || got.Pad != 1 || got.InH != 12 || got.OutH != 12 || len(got.Result) != tt.results {
			t.Fatalf("walk %s: %+v", tt.grad, got)
		}
		if !slices.Equal(got.Result, want.Result) || !slices.Equal(got.X, want.X) || !slices.Equal(got.Delta, want.Delta) || !slices.Equal(got.W, want.W) || len(got.Steps) != len(want.Steps) {
			t.Fatalf("walk %s: result, planes or steps differ from the engine's", tt.grad)
		}
		if tt.result != nil && !slices.Equal(got.Result, tt.result) {
			t.Errorf("walk dW result %v, want the share %v", got.Result, tt.result)
		}
		for k, s := range want.Steps {
			g := got.Steps[k]
			if !slices.Equal(g.At, s.At[:]) || !slices.Equal(g.Products, s.Products) || !slices.Equal(g.Sums, s.Sums) || !slices.Equal(g.Taps, s.Taps) {
				t.Fatalf("walk %s step %d: %+v, want %+v", tt.grad, k, g, s)
			}
			if tt.grad == "dX" && (!slices.Equal(g.Origin, s.Origin[:]) || !sameF64(*g.Partial, s.Partial) || !sameF64(*g.Value, s.Value)) {
				t.Fatalf("walk dX step %d: %+v, want %+v", k, g, s)
			}
		}
		if tt.grad == "dX" {
			if got.DilatedH != 14 || got.DilatedW != 14 || !slices.Equal(got.Dilated, want.Dilated) {
				t.Errorf("walk dX plane %d×%d", got.DilatedH, got.DilatedW)
			}
			if !tt.probe {
				for k, v := range got.Result {
					if gradin.F32[tt.ch*144+k] != float32(v) {
						t.Fatalf("walk dX result[%d] = %v, frame's gradin %v", k, v, gradin.F32[tt.ch*144+k])
					}
				}
			}
		}
	}
}

// TestGradCheck: a paused session checks a gradient as the engine does; a
// playing one refuses with "playing" and changes nothing.
func TestGradCheck(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, tinyQuery)
	c.expect("welcome", nil)
	c.stepBatch()
	ref := shapesTrainer(t, srv, tinyConfig())
	if err := ref.StepBatch(); err != nil {
		t.Fatal(err)
	}
	want, err := ref.GradCheck(3, 0, []int{4, 17}, 1e-4)
	if err != nil {
		t.Fatal(err)
	}
	var got protocol.GradCheck
	c.mustAnswer(map[string]any{"type": "gradcheck", "layer": 3, "param": "W", "index": []int{4, 17}, "h": 1e-4}, "gradcheck", &got)
	if got.Name != "dense 1" || got.Param != "W" || !slices.Equal(got.Index, []int{4, 17}) || !sameF64(got.H, 1e-4) ||
		!sameF64(got.Numeric, want.Numeric) || !sameF64(got.Backprop, want.Backprop) || !sameF64(got.LossPlus, want.LossPlus) ||
		!sameF64(got.RelError, want.RelError) || got.Kinks == nil || len(got.Kinks) != len(want.Kinks) {
		t.Errorf("gradcheck %+v, want %+v", got, want)
	}
	c.mustAnswer(map[string]any{"type": "gradcheck", "layer": 0, "param": "b", "index": []int{1}}, "gradcheck", &got)
	if !sameF64(got.H, engine.DefaultGradCheckH) || got.Param != "b" {
		t.Errorf("default h: %+v", got)
	}

	c.reply(c.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 2}}))
	c.reply(c.cmd("play", nil))
	c.mustRefuse(map[string]any{"type": "gradcheck", "layer": 0, "param": "W", "index": []int{0, 0, 0, 0}}, protocol.CodePlaying, msgGradCheckPlaying)
	// explanations are answered while playing
	c.mustAnswer(map[string]any{"type": "explain", "layer": -1, "tensor": "batchloss"}, "explanation", nil)
	c.reply(c.cmd("pause", nil))
	c.mustAnswer(map[string]any{"type": "gradcheck", "layer": 0, "param": "W", "index": []int{0, 0, 0, 0}}, "gradcheck", nil)
}

// traceFrames subscribes to everything exact, steps the session through
// phases phases and returns the frames of each (the frames' tensors and
// headers, less the publication's time and sequence).
func traceFrames(t *testing.T, c *wsClient, phases int) []*protocol.Frame {
	t.Helper()
	out := []*protocol.Frame{c.subscribeAll()}
	for range phases {
		c.reply(c.cmd("step_phase", nil))
		out = append(out, c.frame())
	}
	return out
}

// sameFrames reports whether two lists of frames carry the same tensors
// and the same step, phase and loss.
func sameFrames(a, b []*protocol.Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ha, hb := a[i].Header, b[i].Header
		if ha.Step != hb.Step || (ha.Done == nil) != (hb.Done == nil) || (ha.Done != nil && *ha.Done != *hb.Done) ||
			(ha.BatchLoss == nil) != (hb.BatchLoss == nil) || (ha.BatchLoss != nil && *ha.BatchLoss != *hb.BatchLoss) || len(a[i].Tensors) != len(b[i].Tensors) {
			return false
		}
		for k, ta := range a[i].Tensors {
			tb := b[i].Tensors[k]
			if ta.Layer != tb.Layer || ta.Kind != tb.Kind || !slices.Equal(ta.F32, tb.F32) || !slices.Equal(ta.I32, tb.I32) {
				return false
			}
		}
	}
	return true
}

// askAll asks c's session every kind of question, good and bad.
func askAll(t *testing.T, c *wsClient) {
	t.Helper()
	for _, q := range []map[string]any{
		{"type": "explain", "layer": 0, "tensor": "dX", "index": []int{1, 4, 4}, "sample": 1},
		{"type": "explain", "layer": 0, "tensor": "dW", "index": []int{1, 0, 1, 1}, "probe": true},
		{"type": "explain", "layer": 3, "tensor": "updateb", "index": []int{2}},
		{"type": "explain", "layer": -1, "tensor": "dz", "index": []int{0}, "probe": true},
		{"type": "explain", "layer": 2, "tensor": "Y", "index": []int{9, 0, 0}},
		{"type": "walk", "layer": 0, "grad": "dW", "filter": 1, "channel": 0},
		{"type": "walk", "layer": 0, "grad": "dX", "filter": 0, "channel": 0, "probe": true},
		{"type": "walk", "layer": 0, "grad": "dX", "filter": 0, "channel": 2},
		{"type": "gradcheck", "layer": 0, "param": "W", "index": []int{1, 0, 0, 2}, "h": 1e-3},
		{"type": "gradcheck", "layer": 3, "param": "b", "index": []int{0}},
		{"type": "look", "layer": 0, "tensor": "Y", "index": []int{0, 1, 1}},
	} {
		c.answer(c.send(q), nil)
	}
}

// TestQuestionsChangeNothing: a session asked every kind of question at
// every phase trains exactly as one never asked: the same frames, bit for
// bit, and the same state.
func TestQuestionsChangeNothing(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxQuestions: 1000, CmdRate: 1000})
	asked, quiet := dial(t, ts, tinyQuery), dial(t, ts, tinyQuery)
	for _, c := range []*wsClient{asked, quiet} {
		c.expect("welcome", nil)
		c.stepBatch()
	}
	phases := 2*4 + 2
	fa := []*protocol.Frame{asked.subscribeAll()}
	for range phases + 3 {
		askAll(t, asked)
		asked.reply(asked.cmd("step_phase", nil))
		fa = append(fa, asked.frame())
	}
	fq := traceFrames(t, quiet, phases+3)
	if !sameFrames(fa, fq) {
		t.Fatal("a session that was asked questions sends other frames than one never asked")
	}
	var sa, sq testState
	asked.reply(asked.cmd("step_batch", nil))
	quiet.reply(quiet.cmd("step_batch", nil))
	asked.expect("state", &sa)
	quiet.expect("state", &sq)
	if sa.Step != sq.Step || sa.Loss == nil || sq.Loss == nil || *sa.Loss != *sq.Loss {
		t.Errorf("state after questions %+v, never asked %+v", sa, sq)
	}
}
