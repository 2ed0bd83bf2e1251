package server

import (
	"math"
	"net/url"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
)

// fuzzLimits are the default limits a client is told.
func fuzzLimits(t testing.TB) protocol.Limits {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.limits()
}

// checkParams fails unless p is settings a session can run: valid
// hyperparameters within the limits, a known data set, a speed within the
// limits, a spec no longer than maxSpecLen.
func checkParams(t *testing.T, what string, p LabParams, lim protocol.Limits) {
	t.Helper()
	h := p.Config.Hyper
	switch {
	case h.Validate() != nil:
		t.Fatalf("%s: invalid hyperparameters accepted: %v", what, h.Validate())
	case h.BatchSize > lim.MaxBatch:
		t.Fatalf("%s: batch %d beyond the limit %d", what, h.BatchSize, lim.MaxBatch)
	case !dataNameRE.MatchString(p.Data):
		t.Fatalf("%s: data %q", what, p.Data)
	case math.IsNaN(p.Speed.Rate) || p.Speed.Rate < 0 || p.Speed.Rate > lim.MaxRate:
		t.Fatalf("%s: speed %v outside 0 … %v", what, p.Speed.Rate, lim.MaxRate)
	case p.Speed.Unit != protocol.UnitStep && p.Speed.Unit != protocol.UnitPhase && p.Speed.Unit != "":
		t.Fatalf("%s: speed unit %q", what, p.Speed.Unit)
	case len(p.Config.Spec) > maxSpecLen:
		t.Fatalf("%s: a spec of %d bytes", what, len(p.Config.Spec))
	case p.Sample < 0:
		t.Fatalf("%s: sample %d", what, p.Sample)
	}
}

// FuzzLabParams: any query string gives settings a session can run (the
// invalid parameters left at their defaults), never a panic.
func FuzzLabParams(f *testing.F) {
	for _, q := range []string{
		"", "spec=conv(8,5,s1,p2)+relu+dense(10)&seed=3&opt=adam&lr=0.001&batch=8&data=mnist",
		"data=shapes&opt=sgd&momentum=0.9&nesterov=1&wd=1e-4&sample=3&rate=2&speed=phase",
		"lr=NaN&batch=1e9&seed=-0&beta1=1&beta2=2&eps=0&rate=-5&speed=step",
		"opt=rmsprop&alpha=0.99&momentum=0&nesterov=1&batch=0", "sample=probe&data=fashion",
		"%zz&lr=%2B1e308&batch=128&batch=129", "decay_epochs=3&decay=0.5&lr_min=1e-9",
	} {
		f.Add(q)
	}
	lim := fuzzLimits(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		p, err := ParseLabParams(q, lim)
		if err != nil && err.Error() == "" {
			t.Fatal("an empty error")
		}
		checkParams(t, raw, p, lim)
	})
}

// FuzzClientMessage: any websocket message is decoded and checked as the
// server does (conn.go's handle, the questions' parsers, "set" applied to
// a lab's settings) without a panic; a command's settings that are
// accepted are settings a session can run.
func FuzzClientMessage(f *testing.F) {
	for _, m := range []string{
		`{"type":"ping","id":1}`,
		`{"type":"cmd","cmd":"set","id":2,"args":{"speed":{"unit":"step","rate":-5}}}`,
		`{"type":"cmd","cmd":"set","lr":0.01,"batch":16,"opt":"sgd","momentum":0.9,"nesterov":true}`,
		`{"type":"cmd","cmd":"set","spec":"conv(650,1) relu maxpool(28) dense(10)","data":"mnist"}`,
		`{"type":"cmd","cmd":"reset","seed":9007199254740993}`,
		`{"type":"cmd","cmd":"test","max":0}`,
		`{"type":"subscribe","layers":"all","kinds":["output","grad_output"],"sample":3,"exact":true}`,
		`{"type":"subscribe","layers":[0,{"layer":1,"kinds":["weights"],"channels":[0,1]}],"probe":true}`,
		`{"type":"explain","layer":0,"tensor":"output","index":[0,1,2],"limit":5}`,
		`{"type":"walk","layer":0,"grad":"dx","filter":0,"channel":0}`,
		`{"type":"gradcheck","layer":0,"param":"W","index":[0,0,0,0],"h":1e-5}`,
		`{"type":"look","layer":0,"tensor":"output","index":[0,0,0]}`,
		`{"type":"cmd","v":2}`, `[]`, `{"type":"cmd","args":null,"id":{"a":[1,2]}}`, ``,
	} {
		f.Add([]byte(m))
	}
	lim := fuzzLimits(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		protocol.IDOf(b)
		m, err := protocol.DecodeClientMsg(b)
		if err != nil {
			return
		}
		switch m.Type {
		case protocol.TypeCmd:
			args := m.Arguments()
			np, _, err := DefaultLabParams().apply(&args, lim)
			if err == nil {
				checkParams(t, string(b), np, lim)
			}
		case protocol.TypeSubscribe:
			protocol.ParseSubscription(&m)
		case protocol.TypeExplain:
			protocol.ParseExplain(&m)
		case protocol.TypeWalk:
			protocol.ParseWalk(&m)
		case protocol.TypeGradCheck:
			protocol.ParseGradCheck(&m)
		case protocol.TypeLook:
			protocol.ParseLook(&m)
		}
	})
}
