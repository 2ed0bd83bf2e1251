package engine

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A layer case pins a layer's forward output and gradients on a small input;
// the format is described in docs of the shared layer-cases spec: kind,
// layout, config, inputs, expected, tolerance. Unknown keys are ignored.
type layerCase struct {
	Name      string                 `json:"name"`
	Kind      string                 `json:"kind"`
	Layout    string                 `json:"layout"`
	Config    json.RawMessage        `json:"config"`
	Inputs    map[string]*caseTensor `json:"inputs"`
	Expected  map[string]*caseTensor `json:"expected"`
	Tolerance struct {
		Abs float64 `json:"float64_abs"`
		Rel float64 `json:"float64_rel"`
	} `json:"tolerance"`
}

type caseTensor struct {
	Shape []int     `json:"shape"`
	Dtype string    `json:"dtype"`
	Data  []float64 `json:"data"`
}

type convConfig struct {
	InChannels  int `json:"in_channels"`
	OutChannels int `json:"out_channels"`
	KernelH     int `json:"kernel_h"`
	KernelW     int `json:"kernel_w"`
	Stride      int `json:"stride"`
	Pad         int `json:"pad"`
	InH         int `json:"in_h"`
	InW         int `json:"in_w"`
	OutH        int `json:"out_h"`
	OutW        int `json:"out_w"`
}

type poolConfig struct {
	Kernel          int  `json:"kernel"`
	Stride          int  `json:"stride"`
	Pad             int  `json:"pad"`
	InH             int  `json:"in_h"`
	InW             int  `json:"in_w"`
	OutH            int  `json:"out_h"`
	OutW            int  `json:"out_w"`
	CountIncludePad bool `json:"count_include_pad"`
}

type leakyConfig struct {
	NegativeSlope float64 `json:"negative_slope"`
}

type denseConfig struct {
	InFeatures  int `json:"in_features"`
	OutFeatures int `json:"out_features"`
}

type lossConfig struct {
	Reduction string `json:"reduction"`
}

// TestLayerCases runs every testdata/cases/*.json as a subtest.
func TestLayerCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found %d cases in testdata/cases, want at least 20", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c layerCase
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatalf("decode %s: %v", f, err)
			}
			runCase(t, &c)
		})
	}
}

// batched reports whether the case's tensors carry a batch dimension.
func (c *layerCase) batched() bool { return !strings.HasPrefix(c.Layout, "CHW") }

// input returns inputs[name] as a batch tensor (N = 1 added for CHW).
func (c *layerCase) input(t *testing.T, name string) *Tensor {
	t.Helper()
	ct := c.Inputs[name]
	if ct == nil {
		t.Fatalf("case %s: no input %q", c.Name, name)
	}
	shape := ct.Shape
	if !c.batched() {
		shape = append([]int{1}, shape...)
	}
	if n := Shape(shape).Size(); n != len(ct.Data) {
		t.Fatalf("case %s: input %s has shape %v but %d values", c.Name, name, ct.Shape, len(ct.Data))
	}
	return &Tensor{Shape: shape, Data: append([]float64(nil), ct.Data...)}
}

func (c *layerCase) config(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Config, v); err != nil {
		t.Fatalf("case %s: config: %v", c.Name, err)
	}
}

// expect compares got with expected[name] elementwise, within the case's
// float64 tolerance.
func (c *layerCase) expect(t *testing.T, name string, got []float64) {
	t.Helper()
	want := c.Expected[name]
	if want == nil {
		t.Fatalf("case %s: no expected %q", c.Name, name)
	}
	if len(got) != len(want.Data) {
		t.Fatalf("%s: got %d values, want %d (shape %v)", name, len(got), len(want.Data), want.Shape)
	}
	bad := 0
	for i, w := range want.Data {
		if d := math.Abs(got[i] - w); !(d <= c.Tolerance.Abs+c.Tolerance.Rel*math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], w)
			}
			bad++
		}
	}
}

func runCase(t *testing.T, c *layerCase) {
	var (
		l      Layer
		err    error
		params = map[string]*Param{}
	)
	switch c.Kind {
	case "conv2d":
		var cfg convConfig
		c.config(t, &cfg)
		var conv *Conv2D
		conv, err = NewConv2D(Shape{cfg.InChannels, cfg.InH, cfg.InW}, cfg.OutChannels, cfg.KernelH, cfg.KernelW, cfg.Stride, cfg.Pad)
		if err == nil {
			if got := conv.OutShape(); got[1] != cfg.OutH || got[2] != cfg.OutW {
				t.Errorf("output %d×%d, case says %d×%d", got[1], got[2], cfg.OutH, cfg.OutW)
			}
			l, params["W"], params["b"] = conv, conv.W, conv.B
		}
	case "maxpool2d", "avgpool2d":
		var cfg poolConfig
		c.config(t, &cfg)
		x := c.input(t, "X")
		in := Shape(x.Shape[1:])
		if c.Kind == "maxpool2d" {
			l, err = NewMaxPool2D(in, cfg.Kernel, cfg.Stride, cfg.Pad)
		} else {
			l, err = NewAvgPool2D(in, cfg.Kernel, cfg.Stride, cfg.Pad, cfg.CountIncludePad)
		}
		if err == nil {
			if got := l.OutShape(); got[1] != cfg.OutH || got[2] != cfg.OutW || in[1] != cfg.InH || in[2] != cfg.InW {
				t.Errorf("output %d×%d of input %v, case says %d×%d of %d×%d", got[1], got[2], in, cfg.OutH, cfg.OutW, cfg.InH, cfg.InW)
			}
		}
	case "relu", "leaky_relu", "tanh", "sigmoid":
		in := Shape(c.input(t, "X").Shape[1:])
		switch c.Kind {
		case "relu":
			l = NewReLU(in)
		case "leaky_relu":
			var cfg leakyConfig
			c.config(t, &cfg)
			l, err = NewLeakyReLU(in, cfg.NegativeSlope)
		case "tanh":
			l = NewTanh(in)
		default:
			l = NewSigmoid(in)
		}
	case "dense":
		var cfg denseConfig
		c.config(t, &cfg)
		in := Shape(c.input(t, "X").Shape[1:])
		if in.Size() != cfg.InFeatures {
			t.Fatalf("input %v has %d values, case says in_features %d", in, in.Size(), cfg.InFeatures)
		}
		var d *Dense
		d, err = NewDense(in, cfg.OutFeatures)
		if err == nil {
			l, params["W"], params["b"] = d, d.W, d.B
		}
	case "softmax_cross_entropy":
		runLossCase(t, c)
		return
	}
	if !caseKinds[c.Kind] || l == nil && err == nil {
		t.Fatalf("case %s: unknown kind %q", c.Name, c.Kind)
	}
	if err != nil {
		t.Fatalf("case %s: %v", c.Name, err)
	}
	for name, p := range params {
		v := c.input(t, name)
		if len(v.Data) != len(p.Value.Data) {
			t.Fatalf("input %s has %d values, layer %s wants %d", name, len(v.Data), l, len(p.Value.Data))
		}
		copy(p.Value.Data, v.Data)
		p.Grad.Zero()
	}
	y := l.Forward(c.input(t, "X"))
	c.expect(t, "Y", y.Data)
	if mp, ok := l.(*MaxPool2D); ok {
		sw := make([]float64, len(mp.Switches()))
		for i, s := range mp.Switches() {
			sw[i] = float64(s)
		}
		c.expect(t, "switches", sw)
	}
	dx := l.Backward(c.input(t, "dY"))
	c.expect(t, "dX", dx.Data)
	if len(params) > 0 {
		c.expect(t, "dW", params["W"].Grad.Data)
		c.expect(t, "db", params["b"].Grad.Data)
	}
}

func runLossCase(t *testing.T, c *layerCase) {
	var cfg lossConfig
	c.config(t, &cfg)
	var scale float64
	switch cfg.Reduction {
	case "mean":
		scale = 1
	case "sum":
		scale = 0 // set from N below
	default:
		t.Fatalf("reduction %q, want mean or sum", cfg.Reduction)
	}
	z := c.Inputs["logits"]
	lab := c.Inputs["labels"]
	if z == nil || lab == nil || len(z.Shape) != 2 {
		t.Fatalf("case %s: want inputs logits (N,K) and labels (N)", c.Name)
	}
	labels := make([]int, len(lab.Data))
	for i, v := range lab.Data {
		labels[i] = int(v)
	}
	if scale == 0 {
		scale = float64(z.Shape[0])
	}
	var l SoftmaxCrossEntropy
	loss := l.Forward(&Tensor{Shape: z.Shape, Data: z.Data}, labels)
	c.expect(t, "loss", []float64{loss * scale})
	c.expect(t, "per_sample_loss", l.PerSample)
	c.expect(t, "probs", l.Probs.Data)
	g := l.Backward()
	dz := make([]float64, len(g.Data))
	for i, v := range g.Data {
		dz[i] = v * scale
	}
	c.expect(t, "dlogits", dz)
}

// caseKinds are the kinds runCase knows; any other kind fails its case.
var caseKinds = map[string]bool{
	"conv2d": true, "maxpool2d": true, "avgpool2d": true, "relu": true, "leaky_relu": true,
	"tanh": true, "sigmoid": true, "dense": true, "softmax_cross_entropy": true,
}

func TestLayerCaseKinds(t *testing.T) {
	for _, k := range []string{"conv2", "Conv2D", "maxpool", "", "softmax"} {
		if caseKinds[k] {
			t.Errorf("kind %q accepted, want it to fail its case", k)
		}
	}
}
