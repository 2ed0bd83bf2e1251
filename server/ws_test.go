package server

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// expectedTensors lists (layer, kind, values) of a trace as a frame with
// subscription sub must carry them.
type wantTensor struct {
	layer int
	kind  string
	f     []float64
	i     []int32
}

func expectedTensors(tr *engine.Trace, sub *protocol.Subscription) []wantTensor {
	var out []wantTensor
	// cut returns the channels of a (C, H, W) tensor the subscription selects.
	cut := func(layer int, kind string, shape []int) (lo, hi int, ok bool) {
		from, to, ok := sub.Want(layer, kind)
		n := 1
		for _, d := range shape {
			n *= d
		}
		if !ok || to == 0 || !protocol.Sliced(kind, shape) {
			return 0, n, ok
		}
		plane := shape[1] * shape[2]
		to = min(to, shape[0])
		return min(from, to) * plane, to * plane, true
	}
	add := func(layer int, kind string, t *engine.Tensor) {
		if t == nil {
			return
		}
		if lo, hi, ok := cut(layer, kind, t.Shape); ok {
			out = append(out, wantTensor{layer: layer, kind: kind, f: t.Data[lo:hi]})
		}
	}
	add(-1, protocol.KindInput, tr.Input)
	for i, lt := range tr.Layers {
		add(i, protocol.KindAct, lt.Output)
		add(i, protocol.KindGrad, lt.GradOutput)
		add(i, protocol.KindGradIn, lt.GradInput)
		add(i, protocol.KindWeights, lt.Weights)
		add(i, protocol.KindBias, lt.Bias)
		add(i, protocol.KindWGrad, lt.GradWeights)
		add(i, protocol.KindBGrad, lt.GradBias)
		add(i, protocol.KindUpdate, lt.DeltaWeights)
		add(i, protocol.KindBUpdate, lt.DeltaBias)
		if lt.Switches != nil {
			if lo, hi, ok := cut(i, protocol.KindSwitch, lt.OutShape); ok {
				out = append(out, wantTensor{layer: i, kind: protocol.KindSwitch, i: lt.Switches[lo:hi]})
			}
		}
		add(i, protocol.KindSWGrad, lt.SampleGradWeights)
		add(i, protocol.KindSBGrad, lt.SampleGradBias)
	}
	return out
}

// checkExactFrame fails unless f carries exactly the tensors of ref that sub
// selects, each value equal to float32 of the engine's value.
func checkExactFrame(t *testing.T, f *protocol.Frame, ref *engine.Trace, sub protocol.Subscription) {
	t.Helper()
	if !f.Header.Exact {
		t.Fatalf("frame exact = false, want true")
	}
	want := expectedTensors(ref, &sub)
	if len(f.Tensors) != len(want) {
		var got []string
		for _, ft := range f.Tensors {
			got = append(got, ft.Kind)
		}
		t.Fatalf("frame has %d tensors %v, want %d", len(f.Tensors), got, len(want))
	}
	for _, w := range want {
		ft := f.Tensor(w.layer, w.kind)
		if ft == nil {
			t.Fatalf("frame lacks tensor %d:%s", w.layer, w.kind)
		}
		if w.i != nil {
			if !slices.Equal(ft.I32, w.i) {
				t.Fatalf("tensor %d:%s = %v, want %v", w.layer, w.kind, ft.I32, w.i)
			}
			continue
		}
		if ft.Enc != protocol.EncF32 || len(ft.F32) != len(w.f) {
			t.Fatalf("tensor %d:%s: enc %s, %d values, want f32, %d", w.layer, w.kind, ft.Enc, len(ft.F32), len(w.f))
		}
		for k, v := range w.f {
			if ft.F32[k] != float32(v) {
				t.Fatalf("tensor %d:%s[%d] = %v, want float32(%v) = %v", w.layer, w.kind, k, ft.F32[k], v, float32(v))
			}
		}
	}
	if h := f.Header; ref.Probs != nil {
		if h.Prediction == nil || *h.Prediction != ref.Prediction || h.Label != ref.Label {
			t.Fatalf("prediction %v label %d, want %d, %d", h.Prediction, h.Label, ref.Prediction, ref.Label)
		}
		if math.IsNaN(ref.BatchLoss) != (h.BatchLoss == nil) || h.BatchLoss != nil && float32(*h.BatchLoss) != float32(ref.BatchLoss) {
			t.Fatalf("batch_loss %v, want %v", h.BatchLoss, float32(ref.BatchLoss))
		}
	}
}

// TestConnectDefaultNetwork connects with no parameters: the default network
// on MNIST. welcome, state and a keyframe arrive in order, and the
// keyframe's weights are the engine's.
func TestConnectDefaultNetwork(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, "")

	var w protocol.Welcome
	if m := c.next(); m.typ != "welcome" {
		t.Fatalf("first message %q, want welcome", m.raw)
	} else if err := json.Unmarshal(m.raw, &w); err != nil {
		t.Fatal(err)
	}
	if w.Session == "" || len(w.Resume) < 32 || w.Resumed {
		t.Errorf("welcome session %q resume %q resumed %v", w.Session, w.Resume, w.Resumed)
	}
	if w.Config.Spec != engine.DefaultSpec || w.Config.Data != protocol.DataMNIST || len(w.Layers) != 7 || len(w.Classes) != 10 {
		t.Errorf("welcome config %+v, %d layers, %d classes", w.Config, len(w.Layers), len(w.Classes))
	}
	if !slices.Equal(w.InputShape, []int{1, 28, 28}) || !slices.Equal(w.Layers[6].OutShape, []int{10}) {
		t.Errorf("input shape %v, last layer %v", w.InputShape, w.Layers[6].OutShape)
	}
	if w.Limits.MaxFPS != 30 || w.Limits.MaxMessage != 16<<10 {
		t.Errorf("limits %+v", w.Limits)
	}
	var st testState
	if m := c.next(); m.typ != "state" {
		t.Fatalf("second message %q, want state", m.raw)
	} else if err := json.Unmarshal(m.raw, &st); err != nil {
		t.Fatal(err)
	}
	if st.Step != 0 || st.Done != nil || st.Playing || st.Next == nil || st.Next.Label != "forward · conv 1" {
		t.Errorf("state %+v, want step 0, not started, next forward · conv 1", st)
	}
	m := c.next()
	if m.typ == "metrics" {
		m = c.next()
	}
	if m.frame == nil || !m.frame.Header.Keyframe {
		t.Fatalf("third message %q, want a keyframe", m.raw)
	}
	data, err := srv.data.get(protocol.DataMNIST)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := engine.NewTrainer(engine.DefaultConfig(), data)
	if err != nil {
		t.Fatal(err)
	}
	// Before the first phase the page opens drawn: the probe image's
	// forward pass, the same as the engine's preview.
	checkExactFrame(t, m.frame, ref.Trace(engine.TraceOptions{Preview: true}), protocol.DefaultSubscription())
	if h := m.frame.Header; m.frame.Tensor(0, protocol.KindWeights) == nil || m.frame.Tensor(-1, protocol.KindInput) == nil ||
		m.frame.Tensor(0, protocol.KindAct) == nil || m.frame.Tensor(0, protocol.KindGrad) != nil || !h.Probe || h.Prediction == nil {
		t.Errorf("keyframe before the first phase: want the probe's input, maps and prediction, weights, and no gradient")
	}

	// One full step of the default network, exact.
	id := c.cmd("step_batch", nil)
	if r := c.reply(id); r.Type != "ack" {
		t.Fatalf("step_batch: %+v", r)
	}
	f := c.frame()
	if err := ref.StepBatch(); err != nil {
		t.Fatal(err)
	}
	checkExactFrame(t, f, ref.Trace(engine.TraceOptions{}), protocol.DefaultSubscription())
	if f.Header.Step != 1 || f.Header.Done == nil || f.Header.Done.Kind != "update" {
		t.Errorf("after step_batch: step %d done %+v", f.Header.Step, f.Header.Done)
	}
}

// TestStepPhaseExact steps phase by phase through more than one training
// step and compares every frame with a trainer stepped the same way.
func TestStepPhaseExact(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&seed=7&batch=4&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.expect("welcome", nil)
	c.frame()
	cfg := engine.Config{Spec: tinySpec, Seed: 7, Hyper: engine.DefaultHyper()}
	cfg.Hyper.BatchSize = 4
	ref := shapesTrainer(t, srv, cfg)

	sub := protocol.DefaultSubscription()
	sub.Kinds, _ = protocol.MaskOf(protocol.Kinds...) // gradin, swgrad and sbgrad too
	sub.Sample = 2
	opt := engine.TraceOptions{Sample: 2, Shares: true}
	id := c.send(map[string]any{"type": "subscribe", "sample": 2, "layers": "all", "kinds": protocol.Kinds})
	if r := c.reply(id); r.Type != "ack" {
		t.Fatalf("subscribe: %+v", r)
	}
	preview := opt
	preview.Preview = true
	checkExactFrame(t, c.frame(), ref.Trace(preview), sub)

	phases := 2*4 + 2 // 4 layers
	for i := range phases + 3 {
		id := c.cmd("step_phase", nil)
		if r := c.reply(id); r.Type != "ack" {
			t.Fatalf("step_phase %d: %+v", i, r)
		}
		var st testState
		c.expect("state", &st)
		f := c.frame()
		p, err := ref.StepPhase()
		if err != nil {
			t.Fatal(err)
		}
		if st.Done == nil || st.Done.Kind != phaseKinds[p.Kind] || st.Done.Layer != p.Layer || st.Done.Label != ref.PhaseLabel(p) {
			t.Fatalf("step_phase %d: state done %+v, want %v", i, st.Done, p)
		}
		if f.Header.Done == nil || *f.Header.Done != *st.Done || f.Header.Step != ref.Step() {
			t.Fatalf("step_phase %d: frame done %+v step %d, want %+v step %d", i, f.Header.Done, f.Header.Step, st.Done, ref.Step())
		}
		checkExactFrame(t, f, ref.Trace(opt), sub)
	}
}

// TestPlayPause plays at full speed, receives approximate frames, pauses,
// and checks the exact keyframe against a trainer stepped to the same place.
func TestPlayPause(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&batch=2&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.expect("welcome", nil)
	c.frame()
	id := c.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 0}})
	c.reply(id)
	id = c.cmd("play", nil)
	c.reply(id)
	approx, lastStep := 0, 0
	for approx < 5 {
		f := c.frame()
		if f.Header.Exact {
			continue
		}
		approx++
		if f.Header.Step <= lastStep {
			t.Fatalf("playing: step %d after %d", f.Header.Step, lastStep)
		}
		lastStep = f.Header.Step
		for _, ft := range f.Tensors {
			if ft.Enc == protocol.EncF32 {
				t.Fatalf("playing: tensor %d:%s is f32, want q8", ft.Layer, ft.Kind)
			}
			if ft.Enc == protocol.EncQ8 {
				s := float32(*ft.Scale) * (1 + 1e-6) // q/127·scale rounds in float32
				for _, v := range ft.F32 {
					if v > s || v < -s {
						t.Fatalf("q8 value %v outside ±scale %v", v, s)
					}
				}
			}
		}
	}
	id = c.cmd("pause", nil)
	c.reply(id)
	var f *protocol.Frame
	for f == nil || !f.Header.Keyframe {
		f = c.frame()
	}
	cfg := engine.DefaultConfig()
	cfg.Spec, cfg.Hyper.BatchSize = tinySpec, 2
	ref := shapesTrainer(t, srv, cfg)
	for ref.Step() < f.Header.Step {
		if err := ref.StepBatch(); err != nil {
			t.Fatal(err)
		}
	}
	for {
		d, ok := ref.Done()
		if ok && f.Header.Done != nil && phaseKinds[d.Kind] == f.Header.Done.Kind && d.Layer == f.Header.Done.Layer {
			break
		}
		if _, err := ref.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
	checkExactFrame(t, f, ref.Trace(engine.TraceOptions{}), protocol.DefaultSubscription())
}

// TestSlowClientDoesNotSlowOthers: two viewers of one session; the first
// stops reading. The trainer keeps going and the second keeps receiving
// frames while the first one's frames are dropped.
func TestSlowClientDoesNotSlowOthers(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	slow := dialWith(t, smallBufferDialer, ts, "batch=1")
	var w protocol.Welcome
	slow.expect("welcome", &w)
	// The slow client wants big frames: everything, exact.
	slow.send(map[string]any{"type": "subscribe", "exact": true, "kinds": protocol.Kinds})

	fast := dial(t, ts, "resume="+w.Resume)
	var w2 protocol.Welcome
	fast.expect("welcome", &w2)
	if w2.Session != w.Session || !w2.Resumed {
		t.Fatalf("second viewer joined %q (resumed %v), want %q", w2.Session, w2.Resumed, w.Session)
	}
	id := fast.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": 0}})
	fast.reply(id)
	id = fast.cmd("play", nil)
	fast.reply(id)

	dropped0 := counterValue(t, srv.metrics.framesDropped)
	frames := 0
	for counterValue(t, srv.metrics.framesDropped)-dropped0 < 5 {
		fast.frame()
		if frames++; frames > 10000 {
			t.Fatalf("the slow client's frames were never dropped")
		}
	}
	lastSeq, lastStep := uint64(0), 0
	for range 20 {
		f := fast.frame()
		if f.Header.Seq <= lastSeq || f.Header.Step < lastStep {
			t.Fatalf("fast client: seq %d step %d after seq %d step %d", f.Header.Seq, f.Header.Step, lastSeq, lastStep)
		}
		lastSeq, lastStep = f.Header.Seq, f.Header.Step
	}
	if lastStep < 2 {
		t.Errorf("trainer at step %d, want it running", lastStep)
	}
}

// TestInvalidURLParams: invalid lab parameters are reported after welcome
// and the defaults are used.
func TestInvalidURLParams(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&lr=-2")
	var w protocol.Welcome
	c.expect("welcome", &w)
	var e protocol.Reply
	c.expect("error", &e)
	if e.Code != protocol.CodeInvalid || !strings.Contains(e.Message, "learning rate") {
		t.Errorf("error %+v", e)
	}
	if w.Config.Hyper.LR != engine.DefaultHyper().LearningRate {
		t.Errorf("lr %v, want the default", w.Config.Hyper.LR)
	}
}

// TestTestCommand measures test accuracy and reports it in state and
// metrics.
func TestTestCommand(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.expect("welcome", nil)
	id := c.cmd("test", map[string]any{"max": 50})
	if r := c.reply(id); r.Type != "ack" {
		t.Fatalf("test: %+v", r)
	}
	var st struct {
		TestAcc  *float64 `json:"test_acc"`
		TestStep *int     `json:"test_step"`
	}
	c.expect("state", &st)
	if st.TestAcc == nil || *st.TestAcc < 0 || *st.TestAcc > 1 || math.Round(*st.TestAcc*50) != *st.TestAcc*50 {
		t.Errorf("test_acc %v, want k/50", st.TestAcc)
	}
	id = c.cmd("test", map[string]any{"max": 0})
	if r := c.reply(id); r.Type != "error" || r.Code != protocol.CodeInvalid {
		t.Errorf("test max 0: %+v", r)
	}
}

// TestRoutes checks the plain HTTP routes.
func TestRoutes(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	tests := []struct {
		path string
		code int
		body string // part of the body
	}{
		{"/healthz", 200, "ok"},
		{"/metrics", 200, "bpv_frames_sent_total"},
		{"/", 200, "<html"},
		// a path with no page: a page that says so, with the path escaped,
		// and links to the lab and the join page
		{"/nope", 404, `data-testid="not-found"`},
		{"/nope/%3Cb%3Ex", 404, `<code data-testid="not-found-path">/nope/&lt;b&gt;x</code>`},
		{"/r/", 404, `href="/join"`},
		{"/static/nope.js", 404, "not found"}, // a missing file of the front end stays plain
	}
	for _, tt := range tests {
		resp, err := http.Get(ts.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(strings.ToLower(string(body)), tt.body) {
			t.Errorf("GET %s: %d %.80q, want %d containing %q", tt.path, resp.StatusCode, body, tt.code, tt.body)
		}
	}
}
