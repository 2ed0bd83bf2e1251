package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

func TestParseLabParams(t *testing.T) {
	lim := protocol.Limits{MaxBatch: 64, MaxRate: 100}
	def := DefaultLabParams()
	tests := []struct {
		query string
		check func(p LabParams) bool
		err   string // part of the error; "" for none
	}{
		{"", func(p LabParams) bool { return p == def }, ""},
		{"lr=0.05&opt=sgd&momentum=0.9&nesterov=1&wd=0.0001&batch=16", func(p LabParams) bool {
			h := p.Config.Hyper
			return h.LearningRate == 0.05 && h.Optimizer == engine.OptSGD && h.Momentum == 0.9 && h.Nesterov && h.WeightDecay == 0.0001 && h.BatchSize == 16
		}, ""},
		{"opt=rmsprop&lr=0.01&eps=1e-6", func(p LabParams) bool {
			h := p.Config.Hyper
			return h.Optimizer == engine.OptRMSprop && h.LearningRate == 0.01 && h.Epsilon == 1e-6 && h.Alpha == 0.99
		}, ""},
		{"spec=conv(4,3)+relu+dense(10)&seed=42&data=shapes", func(p LabParams) bool {
			return p.Config.Spec == "conv(4,3) relu dense(10)" && p.Config.Seed == 42 && p.Data == protocol.DataShapes
		}, ""},
		{"sample=3", func(p LabParams) bool { return p.Sample == 3 && !p.Probe }, ""},
		{"sample=probe", func(p LabParams) bool { return p.Probe }, ""},
		{"speed=phase&rate=2", func(p LabParams) bool { return p.Speed == protocol.Speed{Unit: protocol.UnitPhase, Rate: 2} }, ""},
		{"speed=phase", func(p LabParams) bool {
			return p.Speed == protocol.Speed{Unit: protocol.UnitPhase, Rate: def.Speed.Rate}
		}, ""},
		{"unrelated=1", func(p LabParams) bool { return p == def }, ""},
		{"lr=abc", nil, `lr: "abc" is not a number`},
		{"lr=-1", nil, "learning rate -1"},
		{"lr=NaN", nil, "lr"},
		{"seed=1.5", nil, "seed"},
		{"batch=65", nil, "at most 64"},
		{"batch=0", nil, "batch size 0"},
		{"nesterov=maybe", nil, "nesterov"},
		{"opt=sgd&nesterov=1&momentum=0", nil, "nesterov needs momentum"},
		{"opt=adagrad", nil, `optimizer "adagrad"`},
		{"data=CIFAR-10!", nil, `data "CIFAR-10!"`},
		{"spec=conv(8", nil, "spec"},
		{"spec=" + strings.Repeat("relu+", 300), nil, "spec"},
		{"sample=-1", nil, "sample"},
		{"sample=x", nil, "sample"},
		{"speed=epoch", nil, "speed unit"},
		{"rate=1000", nil, "speed rate"},
		{"speed=step&rate=-5", nil, "speed rate -5"},
		{"rate=-0.5", nil, "speed rate -0.5"},
		{"rate=Inf", nil, "rate"},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseLabParams(q, lim)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseLabParams(%q) error %v, want %q", tt.query, err, tt.err)
			}
		case err != nil:
			t.Errorf("ParseLabParams(%q): %v", tt.query, err)
		case !tt.check(p):
			t.Errorf("ParseLabParams(%q) = %+v", tt.query, p)
		}
	}
}

func TestDataSwitchPicksItsDefaultSpec(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	lim := cfg.limits()
	p, err := ParseLabParams(url.Values{"data": {"shapes"}}, lim)
	if err != nil {
		t.Fatal(err)
	}
	if p.Config.Spec != ShapesSpec {
		t.Errorf("data=shapes without spec: spec %q, want %q", p.Config.Spec, ShapesSpec)
	}
	p, err = ParseLabParams(url.Values{"data": {"shapes"}, "spec": {"conv(2,3) relu dense(5)"}}, lim)
	if err != nil {
		t.Fatal(err)
	}
	if p.Config.Spec != "conv(2,3) relu dense(5)" {
		t.Errorf("data=shapes with a spec: spec %q", p.Config.Spec)
	}
	mnist := protocol.DataMNIST
	// a "set" of the data alone keeps the spec for the session to check
	// (it fits, or the page is asked first: TestDataChangeKeepsOrAsksSpec)
	back, ch, err := p.apply(&protocol.CmdArgs{Data: &mnist}, lim)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config.Spec != p.Config.Spec || !ch.dataOnly || !ch.rebuild {
		t.Errorf("switching back to mnist: spec %q, dataOnly %v; want the spec kept for the session to check", back.Config.Spec, ch.dataOnly)
	}
	if DefaultSpecFor(mnist) != engine.DefaultSpec {
		t.Errorf("DefaultSpecFor(mnist) = %q", DefaultSpecFor(mnist))
	}
}
